"""The filter bar of every list (queue, inventory, log, users): a hidden Input, its error line
and the keys and timing they share."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Input, Static

from itsm_tui.core.errors import QueryError
from itsm_tui.ui.inputs import InOrderInput
from itsm_tui.ui.render import literal


class FilterInput(InOrderInput):
    """Shown by ``/`` (class ``shown``) in the status line's place; hidden otherwise. One line
    with no border, as the status line is, so that opening and closing it leaves the list's
    size alone (see ``FilterBarKeys.show_bar``)."""

    DEFAULT_CSS = """
    FilterInput { display: none; height: 1; border: none; padding: 0 1; background: $accent 30%; }
    FilterInput:focus { border: none; background: $accent 45%; }
    FilterInput.shown { display: block; }
    """
    TEXT_COLUMN = 1  # the screen column of the first character typed (the padding)


class FilterError(Static):
    """Says what is wrong with the filter, with a caret under the culprit."""

    DEFAULT_CSS = """
    FilterError { display: none; color: $error; height: auto; }
    FilterError.shown { display: block; }
    """
    said = 0  # how many times it said something: a filter refused after Enter (see ItsmApp.on_event)

    def point_at(self, exc: QueryError) -> None:
        pointer = Text(" " * (exc.position + FilterInput.TEXT_COLUMN) + "^ ", style="bold")
        pointer.append_text(literal(str(exc)))
        self.say(pointer)

    def say(self, message: str | Text) -> None:
        self.said += 1
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

    def show_bar(self, shown: bool) -> None:
        """The bar takes the place of the screen's status line (``#status-line``): the list
        keeps its size, as resizing it costs a second layout and paint of the whole screen."""
        self.filter_bar.set_class(shown, "shown")
        self.query_one("#status-line").display = not shown

    def action_filter(self) -> None:
        self._hide_with_rows = False
        self.show_bar(True)
        bar = self.filter_bar
        bar.focus()
        if hasattr(self.app, "hold_keys"):  # the keys typed after / are the filter's
            self.app.hold_keys(lambda: self.app.screen is self and self.focused is bar)

    def action_close_filter(self) -> None:
        self._hide_with_rows = False
        self.show_bar(False)
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
            self.show_bar(False)

    def stop_debounce(self) -> None:
        if self._debounce:
            self._debounce.stop()
            self._debounce = None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        self.stop_debounce()
        value = event.value
        self._debounce = self.set_timer(self.FILTER_DEBOUNCE, lambda: self._debounced(value))

    def _debounced(self, value: str) -> None:
        if self.app.user is not None:  # not after the session ended (log-out, idle lock)
            self.apply_filter(value, False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        self.stop_debounce()
        self.apply_filter(event.value, True)
