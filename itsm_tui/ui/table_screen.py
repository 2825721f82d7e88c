"""The frame the activity log and the user list share: the filter bar, a status line above one
highlighting paged table (``#table``), the highlighted row's line below it, the footer.

A screen says how it starts (``_start``: ask the service first), what the two lines say
(``_status_line``, ``_selected_line``) and what its timer refreshes (``_periodic_refresh``).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from itsm_tui.core.store.models import User
from itsm_tui.ui.failures import SaysFailedWorkers
from itsm_tui.ui.messages import LoadFailed, RowHighlighted
from itsm_tui.ui.widgets.filter_bar import FilterBarKeys
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.log_table import HighlightingTable

REFRESH_SECONDS = 5.0


class TableScreen(SaysFailedWorkers, FilterBarKeys, Screen):
    DEFAULT_CSS = """
    TableScreen #status-line { height: 1; padding: 0 1; background: $boost; }
    TableScreen #selected { height: 1; padding: 0 1; background: $boost; }
    """
    AUTO_FOCUS = "#table"
    LOAD_FAILED = "Could not load the list"  # the title of a failed read's notice

    @property
    def user(self) -> User:
        return self.app.user

    @property
    def table(self) -> HighlightingTable:
        return self.query_one("#table", HighlightingTable)

    def compose_table(self, table: HighlightingTable) -> ComposeResult:
        """What follows the filter bar: ``table`` (id ``table``) between its two lines."""
        yield Static("", id="status-line")
        yield table
        yield Static("", id="selected")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._status_line()
        self._start()
        self.set_interval(REFRESH_SECONDS, self._periodic_refresh)
        self.table.focus()

    def _start(self) -> None:
        raise NotImplementedError

    def _status_line(self) -> None:
        raise NotImplementedError

    def _selected_line(self, row: dict | None) -> None:
        raise NotImplementedError

    def _periodic_refresh(self) -> None:
        raise NotImplementedError

    def _leave(self) -> None:
        """Back to the screen below (a role the list is not for), never to an empty stack."""
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @on(RowHighlighted)
    def _highlighted(self, event: RowHighlighted) -> None:
        self._selected_line(event.row)

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.app.notify(event.error, severity="error", title=self.LOAD_FAILED)

    def action_back(self) -> None:
        if self.filter_shown():
            self.action_close_filter()
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()
