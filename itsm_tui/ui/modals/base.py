"""What every modal dialog shares: the centred box (``ModalBase``), the inline error line, the
yes/no question (``ConfirmModal``, also the base's own "discard your changes?") and ``literal()``.

Every caller-supplied string (titles, labels, names, messages, paths) is shown through
``literal()``: a ``Content`` object, never markup, with terminal control characters stripped.
A plain ``str`` given to a Textual widget would be parsed as markup (``[/]`` crashes,
``[@click=...]`` becomes a live action).
"""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from itsm_tui.core.text import strip_controls
from itsm_tui.ui.failures import SaysFailedWorkers

ResultType = TypeVar("ResultType")


def literal(text: str, multiline: bool = False) -> Content:
    """Untrusted text as displayable content: no markup, no control characters."""
    return Content(strip_controls(str(text), multiline=multiline))


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


class ModalBase(SaysFailedWorkers, ModalScreen[ResultType]):
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
        self.app.push_screen(
            ConfirmModal(
                "Discard your changes?",
                "What you typed in this form will be lost.",
                yes="Discard",
                no="Keep editing",
                default=False,
            ),
            self._discard_answered,
        )

    def _discard_answered(self, discard: bool | None) -> None:
        if discard:
            self.discard_draft()
            self.dismiss(None)


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
