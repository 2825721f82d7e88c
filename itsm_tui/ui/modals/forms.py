"""Modal dialogs shared by every screen: prompts, pickers, forms and read-only panels.

Every caller-supplied string (titles, labels, names, messages, paths) is shown through
``literal()``: a ``Content`` object, never markup, with terminal control characters stripped.
A plain ``str`` given to a Textual widget would be parsed as markup (``[/]`` crashes,
``[@click=...]`` becomes a live action).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import (
    Button, DirectoryTree, Input, Label, OptionList, Select, Static, TextArea,
)
from textual.widgets.option_list import Option

from ..core import drafts, files
from ..core.db_errors import may_have_been_written, reason
from ..core.errors import ItsmError
from ..core.models import LEVEL_NAMES, PRIORITY_NAMES
from ..core.text import strip_controls
from ..core.tickets import PRIORITY_MATRIX
from .failures import DB_ERRORS, db_message
from .inputs import InOrderInput, InOrderTextArea, TypeAheadInput

ResultType = TypeVar("ResultType")


def literal(text: str, multiline: bool = False) -> Content:
    """Untrusted text as displayable content: no markup, no control characters."""
    return Content(strip_controls(str(text), multiline=multiline))


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal cells, so CJK and emoji columns line up."""
    return text + " " * max(0, width - cell_len(text))


def kept_message(exc: BaseException) -> str:
    """A failed save, in one line: why, and that the text waits for another ctrl+s."""
    if may_have_been_written(exc):
        return (f"{reason(exc)}; it may have been saved: what you typed is kept, press ctrl+s to try "
                "again (it will not be saved twice)")
    return f"{reason(exc)}; what you typed is kept: press ctrl+s to try again"


@dataclass(frozen=True)
class Draft:
    """Where a form keeps what is typed into it (see ``core.drafts``): the operator and a key
    naming the form and its record ("comment:12", "system:new")."""

    username: str
    key: str


class DraftKeeper:
    """Writes a form's fields to its draft a moment after the last key, in a thread, in order;
    nothing when the form has no draft. ``pending`` tells which write is the newest."""

    DELAY = 0.4
    _lock = threading.Lock()  # one writer at a time: an older write never lands after a newer one

    def __init__(self, owner, draft: Draft | None, read: Callable[[], dict]):
        self.owner, self.draft, self.read = owner, draft, read
        self.timer: Timer | None = None
        self.sequence = 0
        self.written = 0

    def load(self) -> dict:
        return (drafts.load(self.draft.username, self.draft.key) or {}) if self.draft else {}

    def changed(self) -> None:
        if self.draft is None:
            return
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.owner.set_timer(self.DELAY, self._write_later)

    def _write_later(self) -> None:
        self.timer = None
        self.sequence += 1
        self.owner.run_worker(partial(self._write, self.sequence, self.read()), thread=True,
                              group="draft", exit_on_error=False)

    def _write(self, sequence: int, fields: dict | None) -> None:
        """Keep ``fields``; None (nothing changed, or changed back): no draft."""
        with self._lock:
            if sequence <= self.written:
                return
            self.written = sequence
            try:
                if fields:
                    drafts.save(self.draft.username, self.draft.key, fields)
                else:
                    drafts.discard(self.draft.username, self.draft.key)
            except OSError:  # a full or read-only disk: the form itself still holds the text
                pass

    def request_key(self) -> str | None:
        """The draft written now (as it stands), and its request key: a retry sends the same."""
        if self.draft is None:
            return None
        self._stop()
        with self._lock:
            self.sequence += 1
            self.written = self.sequence
            try:
                drafts.save(self.draft.username, self.draft.key, self.read() or {})
                return drafts.request_key(self.draft.username, self.draft.key)
            except OSError:
                return None

    def discard(self) -> None:
        if self.draft is None:
            return
        self._stop()
        with self._lock:
            self.sequence += 1
            self.written = self.sequence  # a write still waiting for the lock is skipped
            try:
                drafts.discard(self.draft.username, self.draft.key)
            except OSError:
                pass

    def _stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None


class ErrorLine(Label):
    """An inline error message, hidden while empty."""

    DEFAULT_CSS = """
    ErrorLine { color: $text-error; display: none; width: 1fr; }
    ErrorLine.-shown { display: block; }
    """

    def show(self, message: str) -> None:
        self.update(literal(message, multiline=True))
        self.set_class(bool(message), "-shown")

    def clear(self) -> None:
        self.show("")


class ModalBase(ModalScreen[ResultType]):
    """A centred box with a title, a body (``compose_body``) and a one-line key hint."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    HINT = "esc cancel"
    DEFAULT_CSS = """
    ModalBase { align: center middle; }
    ModalBase #dialog {
        width: 80%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ModalBase #title { text-style: bold; width: 1fr; margin-bottom: 1; }
    ModalBase #subject { width: 1fr; margin-bottom: 1; text-style: bold; color: $accent; }
    ModalBase #hint { color: $text-muted; width: 1fr; margin-top: 1; }
    ModalBase .field-label { margin-top: 1; }
    ModalBase OptionList { height: auto; max-height: 50vh; }
    """

    def __init__(self, heading: str, subject: str = ""):
        super().__init__()
        self.heading = heading
        self.subject = subject  # what the dialog acts on ("3 marked tickets: INC000001, ...")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(literal(self.heading), id="title")
            if self.subject:
                yield Label(literal(self.subject), id="subject")
            yield from self.compose_body()
            yield Label(Content(self.HINT), id="hint")

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def is_changed(self) -> bool:
        """Something typed that Escape would throw away (forms say; other dialogs hold nothing)."""
        return False

    def discard_draft(self) -> None:
        """Forget the form's draft (forms with one override this)."""

    def action_cancel(self) -> None:
        if not self.is_changed():
            self.discard_draft()
            self.dismiss(None)
            return
        self.app.push_screen(ConfirmModal("Discard your changes?", "What you typed in this form will be lost.",
                                          yes="Discard", no="Keep editing", default=False),
                             self._discard_answered)

    def _discard_answered(self, discard: bool | None) -> None:
        if discard:
            self.discard_draft()
            self.dismiss(None)


class TextPrompt(ModalBase[Any]):
    """Ask for one piece of text: a TextArea (ctrl+s submits) or a single-line Input (Enter).

    With ``submit``, the prompt saves the text itself (``submit(text, request_key)`` in a
    thread) and closes with its result only once saved: a failed save keeps it open with the
    text and says why. With ``draft``, the text is kept as typed and comes back next time."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    DEFAULT_CSS = "TextPrompt TextArea { height: 10; max-height: 40vh; }"

    def __init__(self, title: str, label: str, *, multiline: bool = True, initial: str = "",
                 required: bool = True, max_length: int | None = None,
                 draft: Draft | None = None, submit: Callable[[str, str | None], object] | None = None):
        super().__init__(title)
        self.label_text = label
        self.multiline = multiline
        self.pristine = strip_controls(initial, multiline=multiline)
        self.required = required
        self.max_length = max_length
        self.submit = submit
        self.busy = False
        self.keeper = DraftKeeper(self, draft, lambda: {"text": self.value()} if self.value() != self.pristine else None)
        kept = self.keeper.load().get("text")
        self.initial = strip_controls(kept, multiline=multiline) if isinstance(kept, str) else self.pristine
        self.HINT = ("ctrl+s save · " if multiline else "enter save · ") + "esc cancel"

    def compose_body(self) -> ComposeResult:
        yield Label(literal(self.label_text), id="label")
        if self.multiline:
            yield InOrderTextArea(self.initial, id="value")
        else:
            yield InOrderInput(self.initial, id="value", max_length=self.max_length or 0,
                        select_on_focus=False)
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        widget = self.query_one("#value")
        if isinstance(widget, TextArea):
            widget.move_cursor(widget.document.end)  # typing goes on where the text ends
        if self.initial != self.pristine:
            self.query_one(ErrorLine).show("Your unsaved text from last time is back.")

    def value(self) -> str:
        widget = self.query_one("#value")
        return widget.text if isinstance(widget, TextArea) else widget.value

    def is_changed(self) -> bool:
        """Only a prompt that keeps a draft (a comment) asks: a command or a name is one line."""
        return self.keeper.draft is not None and self.value() != self.pristine

    def discard_draft(self) -> None:
        self.keeper.discard()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.keeper.changed()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.keeper.changed()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_submit()

    async def action_submit(self) -> None:
        if self.busy:
            return
        value = self.value()
        error = self.query_one(ErrorLine)
        if self.required and not value.strip():
            error.show("This cannot be empty.")
            return
        if self.max_length is not None and len(value) > self.max_length:
            error.show(f"Too long: {len(value)} characters, at most {self.max_length}.")
            return
        if self.submit is None:
            self.keeper.discard()
            self.dismiss(value)
            return
        error.clear()
        self.busy = True
        try:
            key = await asyncio.to_thread(self.keeper.request_key)
            result = await asyncio.to_thread(self.submit, value, key)
        except ItsmError as err:
            error.show(str(err))
            return
        except DB_ERRORS as err:
            error.show(kept_message(err))
            return
        finally:
            self.busy = False
        await asyncio.to_thread(self.keeper.discard)
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self.busy:  # not while saving: the text would be saved with nobody told
            super().action_cancel()


class ConfirmModal(ModalBase[bool]):
    """Yes/no question; Enter presses the focused button: Yes at first, or No with
    ``default=False`` (a delete or a discard must never follow from one Enter)."""

    BINDINGS = [
        Binding("y", "answer(True)", show=False),
        Binding("n", "answer(False)", show=False),
        Binding("enter", "press_focused", show=False),
    ]
    HINT = "y yes · n no · enter the focused button · esc no"
    DEFAULT_CSS = """
    ConfirmModal #dialog { max-width: 70; }
    ConfirmModal #buttons { height: auto; margin-top: 1; }
    ConfirmModal Button { margin-right: 2; }
    """

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "No", default: bool = True):
        super().__init__(title)
        self.message = message
        self.yes, self.no = yes, no
        self.AUTO_FOCUS = "#yes" if default else "#no"

    def compose_body(self) -> ComposeResult:
        yield Static(literal(self.message, multiline=True), id="message")
        with Horizontal(id="buttons"):
            yield Button(literal(self.yes), variant="primary", id="yes")
            yield Button(literal(self.no), id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "yes")

    def action_press_focused(self) -> None:
        focused = self.focused
        self.action_answer(focused is not None and focused.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(False)


class StatusPicker(ModalBase[tuple[str, str | None] | None]):
    """Pick the next status; statuses that take a note reveal a TextArea for it."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    HINT = "↑↓ move · enter choose · ctrl+s save · esc cancel"
    DEFAULT_CSS = """
    StatusPicker #note-box { height: auto; display: none; }
    StatusPicker #note-box.-shown { display: block; }
    StatusPicker TextArea { height: 6; }
    """

    def __init__(self, current: str, allowed: list[str], labels: dict[str, str],
                 note_required: set[str], note_optional: set[str], note: str = "", *,
                 subject: str = "", current_label: str = ""):
        super().__init__("Change status", subject)
        self.current_label = current_label  # several tickets: each status and how many
        self.note = note  # a draft kept from an attempt that met a conflict
        self.current = current
        self.allowed = list(allowed)
        self.labels = labels
        self.note_required = note_required
        self.note_optional = note_optional
        self.chosen: str | None = None

    def _label(self, status: str) -> str:
        return self.labels.get(status, status)

    def compose_body(self) -> ComposeResult:
        yield Label(literal(f"Current status: {self.current_label or self._label(self.current)}"), id="current")
        if not self.allowed:
            yield Label("No status change is possible from here.")
        yield OptionList(*(Option(literal(self._label(s))) for s in self.allowed), id="statuses")
        with Vertical(id="note-box"):
            yield Label("", id="note-label", classes="field-label")
            yield InOrderTextArea(self.note, id="note")
            yield ErrorLine(id="error")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(self.allowed[event.option_index])

    def _choose(self, status: str) -> None:
        self.chosen = status
        self.query_one(ErrorLine).clear()
        if status not in self.note_required | self.note_optional:
            self.dismiss((status, None))
            return
        heading = "Resolution note" if status in self.note_required else "Comment (optional)"
        self.query_one("#note-label", Label).update(
            literal(f"{heading} — new status: {self._label(status)}")
        )
        self.query_one("#note-box").add_class("-shown")
        self.query_one("#note", TextArea).focus()

    def action_submit(self) -> None:
        if self.chosen is None:
            index = self.query_one(OptionList).highlighted
            if index is not None:
                self._choose(self.allowed[index])
            return
        note = self.query_one("#note", TextArea).text.strip()
        if self.chosen in self.note_required and not note:
            self.query_one(ErrorLine).show("A resolution note is required.")
            return
        self.dismiss((self.chosen, note or None))


class _ListPicker(ModalBase[Any]):
    """An Input that filters the OptionList below it; Enter returns the highlighted value."""

    BINDINGS = [
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
    ]
    HINT = "type to filter · ↑↓ move · enter choose · esc cancel"

    def __init__(self, heading: str, placeholder: str, subject: str = ""):
        super().__init__(heading, subject)
        self.placeholder = placeholder
        self.values: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield InOrderInput(placeholder=self.placeholder, id="filter")
        yield OptionList(id="choices")
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        self.show_rows(self.rows(""))

    def rows(self, query: str) -> list[tuple[Content, Any]]:
        """(label, value) pairs to show for the filter text."""
        raise NotImplementedError

    def first_highlight(self, query: str) -> int:
        return 0

    def show_rows(self, rows: list[tuple[Content, Any]], query: str = "") -> None:
        options = self.query_one(OptionList)
        options.set_options([Option(label) for label, _ in rows]
                            or [Option(Content("No matches"), disabled=True)])
        self.values = [value for _, value in rows]
        options.highlighted = min(self.first_highlight(query), len(rows) - 1) if rows else None

    # Textual calls a message handler in every class of the MRO, so subclasses override
    # these plain methods rather than the handlers.
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_changed(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.pick_highlighted()

    def filter_changed(self, query: str) -> None:
        self.show_rows(self.rows(query), query)

    def pick_highlighted(self) -> None:
        self.pick(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.pick(event.option_index)

    def pick(self, index: int | None) -> None:
        if index is not None and index < len(self.values):
            self.dismiss(self.values[index])

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if delta > 0 else options.action_cursor_up()


class AgentPicker(_ListPicker):
    """Pick an agent by username; "(unassign)" returns ""."""

    NAME_COLUMN = 24  # longer names push their own "N open" right rather than every row's

    def __init__(self, agents: list[tuple[str, str, int]], *, allow_unassign: bool = True, subject: str = ""):
        super().__init__("Assign to", "Filter by username or name", subject)
        self.agents = [(strip_controls(u), strip_controls(n), count) for u, n, count in agents]
        self.allow_unassign = allow_unassign
        self.user_width = max((cell_len(u) for u, _, _ in self.agents), default=0)
        widest = max((cell_len(n) for _, n, _ in self.agents), default=0)
        self.name_width = min(self.NAME_COLUMN, widest)

    def rows(self, query: str) -> list[tuple[Content, Any]]:
        needle = query.strip().casefold()
        rows: list[tuple[Content, Any]] = []
        if self.allow_unassign and needle in "(unassign)":
            rows.append((Content("(unassign)"), ""))
        for username, name, count in self.agents:
            if needle in username.casefold() or needle in name.casefold():
                columns = (_pad(username, self.user_width), _pad(name, self.name_width))
                rows.append((Content(f"{columns[0]}  {columns[1]}  {count} open"), username))
        return rows

    def first_highlight(self, query: str) -> int:
        """Start on the first agent rather than on "(unassign)"."""
        return 1 if self.allow_unassign and not query.strip() and self.agents else 0


class ChoicePicker(_ListPicker):
    """Filter ``choices`` by label, or, with ``search``, show search(text) after a pause."""

    DEBOUNCE = 0.15

    def __init__(self, title: str, choices: list[tuple[str, object]], *,
                 search: Callable[[str], list[tuple[str, object]]] | None = None):
        super().__init__(title, "Type to search" if search else "Type to filter")
        self.choices = choices
        self.search = search
        self.pending: Timer | None = None

    def rows(self, query: str) -> list[tuple[Content, Any]]:
        if self.search is not None and query.strip():
            found = self.search(query)
        else:
            needle = query.strip().casefold()
            found = [(label, value) for label, value in self.choices
                     if needle in strip_controls(label).casefold()]
        return [(literal(label), value) for label, value in found]

    def filter_changed(self, query: str) -> None:
        if self.search is None:
            self.show_rows(self.rows(query))
            return
        if self.pending is not None:
            self.pending.stop()
        self.pending = self.set_timer(self.DEBOUNCE, self.run_search)

    def run_search(self) -> None:
        self.pending = None
        error = self.query_one(ErrorLine)
        try:
            rows = self.rows(self.query_one(Input).value)
        except ItsmError as err:
            error.show(str(err))
            return
        error.clear()
        self.show_rows(rows)

    def pick_highlighted(self) -> None:
        """A search still waiting for its pause runs now, so Enter picks from fresh results."""
        if self.pending is not None:
            self.pending.stop()
            self.run_search()
        super().pick_highlighted()


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

    def __init__(self, title: str, fields: list[FormField], submit: Callable[[dict], object], *,
                 draft: Draft | None = None):
        super().__init__(title)
        self.submit = submit
        self.keeper = DraftKeeper(self, draft, self.draft_values)
        self.pristine = {f.name: self._shown(f, f.value) for f in fields}
        kept = self.keeper.load()
        self.restored = any(f.name in kept and f.kind != "password" and self._shown(f, kept[f.name]) != self._shown(f, f.value)
                            for f in fields)
        self.fields = [FormField(**{**f.__dict__, "value": kept[f.name]})
                       if f.kind != "password" and isinstance(kept.get(f.name), str) else f for f in fields]

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
        if self.restored:
            self.query_one("#form-error", ErrorLine).show(
                "Your unsaved input from last time is back (esc, then Discard, to drop it).")

    @staticmethod
    def _editor(field: FormField, id: str):
        if field.kind == "multiline":
            return InOrderTextArea(strip_controls(field.value, multiline=True), id=id,
                            placeholder=literal(field.placeholder))
        if field.kind == "select":
            options = [(literal(label), value) for label, value in field.options]
            known = field.value in {value for _, value in field.options}
            return Select(options, value=field.value if known else Select.NULL,
                          prompt=strip_controls(field.placeholder) or "Select", id=id,
                          allow_blank=not (field.required and known))
        if field.kind in ("text", "password"):
            return TypeAheadInput(strip_controls(field.value), placeholder=strip_controls(field.placeholder),
                                  password=field.kind == "password", select_on_focus=False, id=id,
                                  enter_advances=True)
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
        changed = {name: value for name, value in self.values().items()
                   if name not in secret and value != self.pristine.get(name)}
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
        except DB_ERRORS as err:  # the form stays open with everything typed
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


class ConflictModal(ModalBase[str | None]):
    """Someone else changed the record: reload it, or apply this change on top."""

    AUTO_FOCUS = "#reload"
    BINDINGS = [
        Binding("r", "choose('reload')", show=False),
        Binding("a", "choose('reapply')", show=False),
    ]
    HINT = "r reload · a apply my change again · esc cancel"
    DEFAULT_CSS = """
    ConflictModal #buttons { height: auto; margin-top: 1; }
    ConflictModal Button { margin-right: 2; }
    """

    def __init__(self, message: str):
        super().__init__("Changed by someone else")
        self.message = message

    def compose_body(self) -> ComposeResult:
        yield Static(literal(self.message, multiline=True), id="message")
        with Horizontal(id="buttons"):
            yield Button("Reload", variant="primary", id="reload")
            yield Button("Apply my change again", id="reapply")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class MessageModal(ModalBase[None]):
    """Read-only, scrollable lines of text."""

    BINDINGS = [Binding("enter,q", "cancel", show=False)]
    HINT = "↑↓ scroll · enter/q/esc close"
    DEFAULT_CSS = "MessageModal #lines { height: auto; max-height: 65vh; }"

    def __init__(self, title: str, lines: list[str]):
        super().__init__(title)
        self.lines = lines

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="lines"):
            yield Static(self.body(), id="body")

    def body(self) -> Content:
        text = "\n".join(strip_controls(line, multiline=True) for line in self.lines)
        return Content(text or "(nothing to show)")


class HelpModal(ModalBase[None]):
    """Key bindings as a two-column table."""

    BINDINGS = [Binding("question_mark,q", "cancel", show=False)]
    HINT = "↑↓ scroll · ?/q/esc close"
    DEFAULT_CSS = "HelpModal #keys { height: auto; max-height: 65vh; }"

    def __init__(self, title: str, keys: list[tuple[str, str]]):
        super().__init__(title)
        self.keys = keys

    def compose_body(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for key, description in self.keys:
            table.add_row(Text(strip_controls(key)), Text(strip_controls(description)))
        with VerticalScroll(id="keys"):
            yield Static(table, id="table")


class SafeDirectoryTree(DirectoryTree):
    """A DirectoryTree that strips control characters (ESC sequences too) from file names."""

    def process_label(self, label: str | Text) -> Text:
        if isinstance(label, str):
            label = Text(strip_controls(label))
        return super().process_label(label)


def _existing_folder(path: Path) -> Path:
    """The nearest folder that exists, so the tree always has a root to show."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


class PathPrompt(ModalBase[Path | None]):
    """Type a path, or browse to a file in the tree; Enter on the path checks and returns it.

    The rules are :mod:`..core.files`': in served mode the prompt starts in, and never leaves,
    the operator's own folder (uploads to read from, exports to write to)."""

    HINT = "enter use this path · tab browse files · esc cancel"
    DEFAULT_CSS = "PathPrompt DirectoryTree { height: 12; max-height: 40vh; margin-top: 1; }"

    def __init__(self, title: str, *, start: Path, must_exist: bool, initial_name: str = "",
                 username: str = ""):
        super().__init__(title)
        self.username = username
        self.kind = files.UPLOADS if must_exist else files.EXPORTS
        self.confined = files.served()
        self.start = files.own_folder(self.kind, username) if self.confined else Path(start).expanduser()
        self.must_exist = must_exist
        self.initial_name = initial_name
        self.picked: Path | None = None  # the file last chosen in the tree

    def compose_body(self) -> ComposeResult:
        if self.confined:
            initial = self.initial_name
        elif self.initial_name:
            initial = str(self.start / self.initial_name)
        else:
            initial = str(self.start) + os.sep
        yield InOrderInput(strip_controls(initial), select_on_focus=False, id="path")
        yield ErrorLine(id="error")
        yield SafeDirectoryTree(self.start if self.confined else _existing_folder(self.start), id="tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.picked = event.path
        field = self.query_one("#path", Input)
        field.value = strip_controls(str(event.path))
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one(ErrorLine)
        error.clear()
        path, problem = self.check(event.value)
        if problem:
            error.show(problem)
        elif not self.must_exist and os.path.lexists(path):
            question = ConfirmModal("Overwrite file?", f"{path} already exists. Replace it?",
                                    yes="Overwrite", no="Cancel")
            self.app.push_screen(question, partial(self._overwrite, path))
        else:
            self.dismiss(path)

    def _overwrite(self, path: Path, confirmed: bool) -> None:
        # A named method, not a lambda: a callback that returns dismiss()'s awaitable gets
        # awaited by Textual, which raises ScreenError from inside this screen's handler.
        if confirmed:
            self.dismiss(path)

    def typed_path(self, text: str) -> str:
        """The path in the Input. A file name may hold control characters, which the Input
        never shows, so an unchanged pick from the tree maps back to its file."""
        if self.picked is not None and text == strip_controls(str(self.picked)):
            return str(self.picked)
        return text

    def check(self, text: str) -> tuple[Path | None, str]:
        """The path meant and what is wrong with it, if anything."""
        if not text.strip():
            return None, "Enter a file name."
        try:
            if self.must_exist:
                return files.source(self.typed_path(text), self.username, base=self.start), ""
            return files.target(self.typed_path(text), self.username, base=self.start,
                                overwrite=True), ""
        except ItsmError as exc:
            return None, str(exc)
