"""The filter bar of every list (queue, inventory, log): a hidden Input and its error line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, Static

from ...core.errors import QueryError
from ..render import literal


class FilterInput(Input):
    """Shown by ``/`` (class ``shown``); hidden otherwise."""

    DEFAULT_CSS = """
    FilterInput { display: none; border: tall $accent; height: 3; }
    FilterInput.shown { display: block; }
    """


class FilterError(Static):
    """Says what is wrong with the filter, with a caret under the culprit."""

    DEFAULT_CSS = """
    FilterError { display: none; color: $error; height: auto; }
    FilterError.shown { display: block; }
    """

    def point_at(self, exc: QueryError) -> None:
        # The Input's border and padding put its first character in column 3.
        pointer = Text(" " * (exc.position + 3) + "^ ", style="bold")
        pointer.append_text(literal(str(exc)))
        self.say(pointer)

    def say(self, message: str | Text) -> None:
        self.update(message if isinstance(message, Text) else literal(message))
        self.add_class("shown")

    def clear(self) -> None:
        self.remove_class("shown")
