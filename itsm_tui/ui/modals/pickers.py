"""Pickers: choose a status, an agent or one entry of a (searchable) list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from itsm_tui.core.errors import ItsmError
from itsm_tui.core.text import strip_controls
from itsm_tui.ui.inputs import InOrderInput, InOrderTextArea
from itsm_tui.ui.modals.base import ErrorLine, ModalBase, literal


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal cells, so CJK and emoji columns line up."""
    return text + " " * max(0, width - cell_len(text))


class StatusPicker(ModalBase[tuple[str, str | None] | None]):
    """Pick the next status; statuses that take a note reveal a TextArea for it."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    HINT = "↑↓ move · enter choose · ctrl+s save · esc cancel"
    NOTE_HINT = "ctrl+s save · esc cancel"
    DEFAULT_CSS = """
    StatusPicker #note-box { height: auto; display: none; }
    StatusPicker #note-box.-shown { display: block; }
    StatusPicker.-noting #statuses { display: none; }
    StatusPicker TextArea { height: 6; }
    """

    def __init__(
        self,
        current: str,
        allowed: list[str],
        labels: dict[str, str],
        note_required: set[str],
        note_optional: set[str],
        note: str = "",
        *,
        subject: str = "",
        current_label: str = "",
    ):
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
        yield Label(
            literal(f"Current status: {self.current_label or self._label(self.current)}"), id="current"
        )
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
        self.query_one("#note-label", Label).update(literal(f"{heading} — new status: {self._label(status)}"))
        self.query_one("#note-box").add_class("-shown")
        self.add_class("-noting")  # the list gives way: at 80x24 it pushed the hint out of the box
        self.query_one("#hint", Label).update(self.NOTE_HINT)
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


class _FilterInput(InOrderInput):
    """A picker's filter: ↑↓ move in the list as they arrive, so that an Enter read with them
    takes the row they moved to (as the dialog's own keys they ran only after that Enter)."""

    BINDINGS = [
        Binding("up", "screen.move(-1)", show=False),
        Binding("down", "screen.move(1)", show=False),
    ]


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
        yield _FilterInput(placeholder=self.placeholder, id="filter")
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
        options.set_options(
            [Option(label) for label, _ in rows] or [Option(Content("No matches"), disabled=True)]
        )
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
    """Pick an agent by username; "(unassign)" returns "". Each agent is (username, full name,
    open tickets) or, with a fourth item true, a member of the ticket's team (marked "team")."""

    NAME_COLUMN = 24  # longer names push their own "N open" right rather than every row's

    def __init__(self, agents: list[tuple], *, allow_unassign: bool = True, subject: str = ""):
        super().__init__("Assign to", "Filter by username or name", subject)
        self.agents = [(strip_controls(u), strip_controls(n), count) for u, n, count, *_ in agents]
        self.in_team = {strip_controls(a[0]) for a in agents if a[3:] and a[3]}
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
                team = "  team" if username in self.in_team else ""
                rows.append((Content(f"{columns[0]}  {columns[1]}  {count} open{team}"), username))
        return rows

    def first_highlight(self, query: str) -> int:
        """Start on the first agent rather than on "(unassign)"."""
        return 1 if self.allow_unassign and not query.strip() and self.agents else 0


class ChoicePicker(_ListPicker):
    """Filter ``choices`` by label, or, with ``search``, show search(text) after a pause."""

    DEBOUNCE = 0.15

    def __init__(
        self,
        title: str,
        choices: list[tuple[str, object]],
        *,
        search: Callable[[str], list[tuple[str, object]]] | None = None,
    ):
        super().__init__(title, "Type to search" if search else "Type to filter")
        self.choices = choices
        self.search = search
        self.pending: Timer | None = None

    def rows(self, query: str) -> list[tuple[Content, Any]]:
        if self.search is not None and query.strip():
            found = self.search(query)
        else:
            needle = query.strip().casefold()
            found = [
                (label, value) for label, value in self.choices if needle in strip_controls(label).casefold()
            ]
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
