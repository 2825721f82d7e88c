"""Forms: fields of several kinds in one dialog, and the impact/urgency/priority form."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, TextArea

from itsm_tui.core import drafts
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.core.store.models import LEVEL_NAMES, PRIORITY_NAMES
from itsm_tui.core.text import strip_controls
from itsm_tui.core.tickets.rules import PRIORITY_MATRIX
from itsm_tui.ui.failures import db_message
from itsm_tui.ui.inputs import InOrderTextArea, TypeAheadInput
from itsm_tui.ui.modals.base import ErrorLine, ModalBase, literal
from itsm_tui.ui.modals.draft_keeper import Draft, DraftKeeper, kept_message

MATRIX = 0  # the override Select's value for "no override"


class PriorityForm(ModalBase[dict | None]):
    """Impact and urgency give the matrix priority, shown live; an override may replace it."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    HINT = "tab next · enter open list · ctrl+s save · esc cancel"
    DEFAULT_CSS = """
    PriorityForm #dialog { max-width: 70; }
    PriorityForm .row { height: auto; }
    PriorityForm .row Label { width: 20; padding-top: 1; }
    PriorityForm Select { width: 1fr; }
    PriorityForm #outcome { margin-top: 1; text-style: bold; }
    """

    def __init__(self, impact: int, urgency: int, priority: int, overridden: bool, *, subject: str = ""):
        super().__init__("Impact, urgency and priority", subject)
        self.impact, self.urgency = impact, urgency
        self.override = priority if overridden else MATRIX

    def compose_body(self) -> ComposeResult:
        levels = [(f"{n} {name}", n) for n, name in LEVEL_NAMES.items()]
        priorities = [("From matrix", MATRIX)]
        priorities += [(f"{n} {name}", n) for n, name in PRIORITY_NAMES.items()]
        for field, label, options, value in (
            ("impact", "Impact", levels, self.impact),
            ("urgency", "Urgency", levels, self.urgency),
            ("override", "Priority override", priorities, self.override),
        ):
            with Horizontal(classes="row"):
                yield Label(label)
                yield Select(options, value=value, allow_blank=False, id=field)
        yield Label("", id="outcome")

    def on_mount(self) -> None:
        self.show_outcome()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.show_outcome()

    def values(self) -> dict:
        override = self.query_one("#override", Select).value
        return {
            "impact": self.query_one("#impact", Select).value,
            "urgency": self.query_one("#urgency", Select).value,
            "priority": None if override == MATRIX else override,
        }

    def show_outcome(self) -> None:
        values = self.values()
        matrix = PRIORITY_MATRIX[values["impact"], values["urgency"]]
        text = f"Matrix priority: {matrix} {PRIORITY_NAMES[matrix]}"
        if values["priority"] is not None:
            text += f"  →  overridden to {values['priority']} {PRIORITY_NAMES[values['priority']]}"
        self.query_one("#outcome", Label).update(Content(text))

    def action_submit(self) -> None:
        self.dismiss(self.values())


@dataclass
class FormField:
    name: str
    label: str
    kind: str = "text"  # "text" | "multiline" | "select" | "password"
    options: Sequence[tuple[str, str]] = ()  # (label, value) for select
    value: str = ""
    required: bool = False
    placeholder: str = ""


class FormModal(ModalBase[object | None]):
    """A generic validated form. ctrl+s calls ``submit(values)``; a ValidationError is shown
    next to its field (or at the top) and everything typed stays.

    With ``draft``, what is typed (passwords excepted) is kept in the operator's draft as it is
    typed and fills the form the next time it opens, until it is saved or discarded on Escape;
    ``values[drafts.REQUEST_KEY]`` then carries the form's request key for the save."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    HINT = "tab next field · ctrl+s save · esc cancel"
    DEFAULT_CSS = """
    FormModal #fields { height: auto; max-height: 65vh; }
    FormModal #fields > .field-label:first-child { margin-top: 0; }
    FormModal TextArea { height: 5; }
    """

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        submit: Callable[[dict], object],
        *,
        draft: Draft | None = None,
    ):
        super().__init__(title)
        self.submit = submit
        self.keeper = DraftKeeper(self, draft, self.draft_values)
        self.pristine = {f.name: self._shown(f, f.value) for f in fields}
        kept = self.keeper.load()
        self.restored = any(
            f.name in kept
            and f.kind != "password"
            and self._shown(f, kept[f.name]) != self._shown(f, f.value)
            for f in fields
        )
        self.fields = [
            FormField(**{**f.__dict__, "value": kept[f.name]})
            if f.kind != "password" and isinstance(kept.get(f.name), str)
            else f
            for f in fields
        ]

    @staticmethod
    def _shown(field: FormField, value: str) -> str:
        """What the field's widget holds for ``value`` (an unknown choice shows as none)."""
        if field.kind == "select":
            return value if value in {v for _, v in field.options} else ""
        return strip_controls(str(value), multiline=field.kind == "multiline")

    def compose_body(self) -> ComposeResult:
        yield ErrorLine(id="form-error")
        with VerticalScroll(id="fields", can_focus=False):
            for index, field in enumerate(self.fields):
                mark = " *" if field.required else ""
                yield Label(literal(field.label + mark), classes="field-label")
                yield self._editor(field, f"field-{index}")
                yield ErrorLine(id=f"error-{index}")

    def on_mount(self) -> None:
        for area in self.query(TextArea):
            area.move_cursor(area.document.end)
        # The first field is focused before the fields have their height, which scrolls its
        # label out of sight on a short terminal (80x24): once laid out, start at the top.
        self.call_after_refresh(self.query_one("#fields").scroll_home, animate=False)
        if self.restored:
            self.query_one("#form-error", ErrorLine).show(
                "Your unsaved input from last time is back (esc, then Discard, to drop it)."
            )

    @staticmethod
    def _editor(field: FormField, id: str):
        if field.kind == "multiline":
            return InOrderTextArea(
                strip_controls(field.value, multiline=True), id=id, placeholder=literal(field.placeholder)
            )
        if field.kind == "select":
            options = [(literal(label), value) for label, value in field.options]
            known = field.value in {value for _, value in field.options}
            return Select(
                options,
                value=field.value if known else Select.NULL,
                prompt=strip_controls(field.placeholder) or "Select",
                id=id,
                allow_blank=not (field.required and known),
            )
        if field.kind in ("text", "password"):
            return TypeAheadInput(
                strip_controls(field.value),
                placeholder=strip_controls(field.placeholder),
                password=field.kind == "password",
                select_on_focus=False,
                id=id,
                enter_advances=True,
            )
        raise ValueError(f"unknown form field kind {field.kind!r}")

    def _widget(self, index: int):
        return self.query_one(f"#field-{index}")

    def values(self) -> dict:
        values = {}
        for index, field in enumerate(self.fields):
            widget = self._widget(index)
            if isinstance(widget, TextArea):
                values[field.name] = widget.text
            elif isinstance(widget, Select):
                values[field.name] = widget.selection or ""
            else:
                values[field.name] = widget.value
        return values

    def draft_values(self) -> dict | None:
        """What the draft keeps: the fields changed from what the form opened with, passwords
        excepted (never written to a file); None when nothing changed. Only changes: restored
        over a record that someone changed meanwhile, they do not bring its old values back."""
        secret = {f.name for f in self.fields if f.kind == "password"}
        changed = {
            name: value
            for name, value in self.values().items()
            if name not in secret and value != self.pristine.get(name)
        }
        return changed or None

    def is_changed(self) -> bool:
        return self.values() != self.pristine

    def discard_draft(self) -> None:
        self.keeper.discard()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.keeper.changed()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.keeper.changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.keeper.changed()

    def checked_values(self) -> dict | None:
        """The values with the request key, once required fields are filled; else None (and
        the error shown)."""
        for error in self.query(ErrorLine):
            error.clear()
        values = self.values()
        for field in self.fields:
            if field.required and not str(values[field.name]).strip():
                self.show_error(f"{field.label} is required.", field.name)
                return None
        key = self.keeper.request_key()
        if key:
            values[drafts.REQUEST_KEY] = key
        return values

    def action_submit(self) -> None:
        values = self.checked_values()
        if values is None:
            return
        try:
            result = self.submit(values)
        except ItsmError as err:
            self.show_error(str(err), getattr(err, "field", None))
            return
        except DATABASE_ERRORS as err:  # the form stays open with everything typed
            self.show_error(kept_message(err) if self.keeper.draft else db_message(err), None)
            return
        self.saved(result)

    def saved(self, result) -> None:
        self.keeper.discard()
        self.dismiss(result)

    def show_error(self, message: str, field_name: str | None) -> None:
        names = [field.name for field in self.fields]
        if field_name in names:
            index = names.index(field_name)
            error = self.query_one(f"#error-{index}", ErrorLine)
            error.show(message)
            widget = self._widget(index)
            widget.focus(scroll_visible=False)
            # once laid out (the error line has a size): the field and its error, in view
            self.call_after_refresh(self._reveal, widget, error)
        else:
            error = self.query_one("#form-error", ErrorLine)
            error.show(message)
            self.call_after_refresh(self.query_one("#fields").scroll_home, animate=False)

    def _reveal(self, widget, error) -> None:
        scroller = self.query_one("#fields", VerticalScroll)
        scroller.scroll_to_widget(widget, animate=False, top=False)
        scroller.scroll_to_widget(error, animate=False)


class ThreadedFormModal(FormModal):
    """A FormModal whose ``submit`` runs in a thread: hashing a password takes ~0.3 s, and the
    screen keeps drawing meanwhile. Errors land next to their field, as in FormModal."""

    busy = False

    async def action_submit(self) -> None:
        if self.busy:
            return
        values = self.checked_values()
        if values is None:
            return
        self.busy = True
        try:
            result = await asyncio.to_thread(self.submit, values)
        except ItsmError as err:
            self.show_error(str(err), getattr(err, "field", None))
            return
        except DATABASE_ERRORS as err:
            self.show_error(kept_message(err) if self.keeper.draft else db_message(err), None)
            return
        finally:
            self.busy = False
        self.saved(result)

    def action_cancel(self) -> None:
        """Not while saving: the change would happen with nobody told."""
        if not self.busy:
            super().action_cancel()
