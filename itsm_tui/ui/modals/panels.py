"""Read-only panels and fixed-answer dialogs: a message, the key help, a conflict's choices."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from itsm_tui.core.text import strip_controls
from itsm_tui.ui.modals.base import ModalBase, literal


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

    def __init__(self, title: str, keys: list[tuple[str, str]], actions: list[str] | None = None):
        """``actions``: each row's action name, shown dim (what ``[keys]`` in the configuration
        file remaps)."""
        super().__init__(title)
        self.keys = keys
        self.actions = actions or []

    def compose_body(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        table.add_column(style="dim", no_wrap=True)
        for (key, description), action in zip(self.keys, self.actions or [""] * len(self.keys)):
            table.add_row(Text(strip_controls(key)), Text(strip_controls(description)), Text(action))
        with VerticalScroll(id="keys"):
            yield Static(table, id="table")
