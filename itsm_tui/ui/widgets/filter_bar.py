"""The filter bar of every list (queue, inventory, log, users): a hidden Input, its error line
and the keys and timing they share."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
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


class FilterBarKeys:
    """The filter bar's behaviour, the same on every list screen: ``/`` shows it, typing
    applies the filter after a short pause, Enter applies it and closes the bar when it is
    accepted, Escape closes it. The screen composes a :class:`FilterInput` with id ``filter``
    (and a :class:`FilterError` when its filters can be wrong), has a ``table``, and provides
    ``apply_filter(text, close)``.

    The handlers go by Textual's naming convention (``on_input_changed``), which is looked up
    along the screen's MRO, so this class needs no base of its own."""

    FILTER_DEBOUNCE = 0.3
    _debounce: Timer | None = None
    _hide_with_rows = False

    @property
    def filter_bar(self) -> Input:
        return self.query_one("#filter", Input)

    def filter_shown(self) -> bool:
        return self.filter_bar.has_class("shown")

    def action_filter(self) -> None:
        self._hide_with_rows = False
        self.filter_bar.add_class("shown")
        self.filter_bar.focus()

    def action_close_filter(self) -> None:
        self._hide_with_rows = False
        self.filter_bar.remove_class("shown")
        for error in self.query(FilterError):
            error.clear()
        self.table.focus()

    def close_filter_with_rows(self) -> None:
        """Close the bar once a filter is accepted: the list takes the keys at once, and the bar
        goes when the filtered rows arrive, so that the screen is laid out and painted once."""
        if not self.table.fetching:
            self.action_close_filter()
            return
        for error in self.query(FilterError):
            error.clear()
        self.table.focus()
        self._hide_with_rows = True
        self.table.when_loaded(self._hide_bar_with_rows)

    def _hide_bar_with_rows(self) -> None:
        if self._hide_with_rows:  # not when / opened the bar again meanwhile
            self._hide_with_rows = False
            self.filter_bar.remove_class("shown")

    def stop_debounce(self) -> None:
        if self._debounce:
            self._debounce.stop()
            self._debounce = None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        self.stop_debounce()
        value = event.value
        self._debounce = self.set_timer(self.FILTER_DEBOUNCE, lambda: self.apply_filter(value, False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        self.stop_debounce()
        self.apply_filter(event.value, True)
