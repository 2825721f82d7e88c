"""Screen 1: the ticket queue. Views, the filter bar, sorting, marks and triage keys."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from itsm_tui.core.errors import ItsmError, QueryError
from itsm_tui.core.store import limits
from itsm_tui.core.tickets import queue, tags, views
from itsm_tui.ui.counting import BoundedCounts, shown_total
from itsm_tui.ui.export_modal import EXPORT_KEYS, ExportContext, ExportModal
from itsm_tui.ui.failures import SHOWN_ERRORS, SaysFailedWorkers, read_failed
from itsm_tui.ui.messages import Counted, LoadFailed, RowOpened, RowsLoaded
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import saved_name
from itsm_tui.ui.render import literal
from itsm_tui.ui.triage import TRIAGE_BINDINGS, Target, Triage
from itsm_tui.ui.view_picker import ViewPicker
from itsm_tui.ui.widgets.filter_bar import FilterBarKeys, FilterError, FilterInput
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame
from itsm_tui.ui.widgets.ticket_table import COLUMNS, SORT_CHOICES, TicketTable

REFRESH_SECONDS = 5.0


class QueueScreen(SaysFailedWorkers, FilterBarKeys, BoundedCounts, Triage, Screen):
    DEFAULT_CSS = """
    QueueScreen #status-line { height: 1; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("v", "views", "Views"),
        Binding("ctrl+s", "save_view", "Save view", show=False),
        Binding("o", "sort", "Sort", show=False),
        Binding("O", "reverse", "Reverse", show=False),
        Binding(EXPORT_KEYS, "export", "Export", key_display="e"),
        *TRIAGE_BINDINGS,
        Binding("asterisk", "mark_all", "Mark all", show=False),
        Binding("escape", "escape", "Close filter / clear marks", show=False),
    ]
    MARK_ALL_MAX = 1000  # a bulk action over more tickets is a job for the CLI

    AUTO_FOCUS = "#table"  # not the (hidden) filter bar, which would swallow j/k/space

    def __init__(self) -> None:
        super().__init__()
        self.view_name = ""
        self.filter_text = ""
        self.sort = queue.Sort()
        self.total: int | None = None
        self._bounded = False  # the total is a lower bound ("10,000+")
        self.marked: dict[int, dict] = {}  # rows marked by "mark all", also outside the window
        self._status_shown: Text | None = None
        self._toasted = ""  # the read failure last said in a toast, see _load_failed
        self._plans = queue.PagePlans()  # the windows paged to reuse the first page's lookups

    def compose(self) -> ComposeResult:
        yield Frame()
        yield FilterInput(
            placeholder='filter, e.g. status:open prio:high assignee:me "vpn"  '
            "(Enter applies, Escape closes)",
            id="filter",
        )
        yield FilterError(id="filter-error")
        yield Static("", id="status-line")
        yield TicketTable(self._load_page, id="table")
        yield KeyFooter()

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def on_mount(self) -> None:
        view = views.default_view(self.user)
        self.apply_view(view.name, view.query, view.sort)
        self.set_interval(REFRESH_SECONDS, self._periodic_refresh)
        self.table.focus()

    # ------------------------------------------------------------ data

    def _load_page(self, after, before, limit):
        """Runs in the table's worker thread."""
        page = self._plans.page(self.user, self.filter_text, self.sort, after, before, limit)
        return tags.tagged(page)  # issue 21: shown after the title

    def apply_view(self, name: str, query: str, sort: str) -> None:
        self.view_name = name
        self.sort = queue.Sort.parse(sort)
        self.query_one("#filter", Input).value = query
        self._apply_filter(query)

    def _apply_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.total = None  # the last filter's count is not this one's
        self.filter_text = text
        self.table.sort = self.sort
        self.table.marks.clear()  # a bulk action must never reach tickets no longer in view
        self.marked.clear()
        self.table.reload()
        self._status_line()
        self._count()

    def _count(self, timed: bool = False) -> None:
        self.start_count(self.filter_text, timed)

    def read_count(self, key: str, stopper: limits.Stopper) -> Counted:
        total = queue.count_bounded(self.user, key, stopper)
        return Counted(key, total.value, bounded=not total.exact)

    def uncounted(self, key: str) -> Counted:
        return Counted(key, None)

    def count_stamp(self, key: str) -> tuple | None:
        return queue.stamp(key)

    def stamp_moved(self, key: str) -> None:
        self.app.call_from_thread(self.table.refresh_window)

    @on(Counted)
    def _show_total(self, event: Counted) -> None:
        if event.text != self.filter_text:
            return
        self.total = event.total
        self._bounded = event.bounded
        self._status_line()

    def _status_line(self) -> None:
        line = Text()
        line.append(self.view_name or "Custom filter", style="bold")
        if self.filter_text:
            line.append("  ")
            line.append_text(literal(self.filter_text, "italic"))
        if self.total is not None:
            total, more = shown_total(self.total, self._bounded, self.table)
            line.append(f"  ·  {total:,}{more} ticket{'s' if total != 1 or more else ''}")
        column = next((name for name, key in SORT_CHOICES if key == self.sort.key), self.sort.key)
        line.append(f"  ·  sorted by {column} {'▼' if self.sort.descending else '▲'}")
        marks = len(self.table.marks)
        if marks:
            line.append(f"  ·  {marks} marked", style="bold magenta")
        if line != self._status_shown:  # a timed refresh that changed nothing writes nothing
            self._status_shown = line
            self.query_one("#status-line", Static).update(line, layout=False)  # one line: no layout

    def on_screen_resume(self) -> None:
        """Back from a ticket edited, merged or moved there: the rows as they are now, not at
        the next timed refresh."""
        if self.table.rows and not self.table.read_lately():
            self.table.refresh_window(keep_id=(self.table.current or {}).get("id"), force=True)

    def _periodic_refresh(self) -> None:
        if self.app.screen is self and not self.table.read_lately():
            self._count(timed=True)

    @on(RowsLoaded)
    def _loaded(self) -> None:
        self._toasted = ""
        self._status_line()

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        # Rows kept are marked stale with the reason, and so is an empty list: a toast for the
        # first failure with nothing on screen, not one every 5 s (a filter on the clock reads
        # again each time)
        if not self.table.rows and event.error != self._toasted:
            self._toasted = event.error
            self.app.notify(event.error, severity="error", title="Could not load tickets")

    @on(RowOpened)
    def _open(self, event: RowOpened) -> None:
        self.app.open_ticket(event.row_id)

    # ------------------------------------------------------------ filter bar

    @work(exclusive=True, group="queue-filter", exit_on_error=False)
    async def apply_filter(self, text: str, close: bool) -> None:
        """Apply the filter if it compiles (off the UI thread: unknown names are errors too, and
        names are looked up); otherwise show where it is wrong."""
        error = self.query_one(FilterError)
        try:
            await asyncio.to_thread(queue.check_filter, self.user, text)
        except QueryError as exc:
            error.point_at(exc)
            return
        except SHOWN_ERRORS as exc:
            error.say(read_failed(exc, "the filter is not applied"))
            return
        error.clear()
        if text != self.filter_text:
            self.view_name = ""
            self._apply_filter(text)
        if close:
            self.close_filter_with_rows()

    # ------------------------------------------------------------ views and sort

    @work(exclusive=True, group="views", exit_on_error=False)
    async def action_views(self) -> None:
        while True:  # back to the list after a rename or a delete
            available = await asyncio.to_thread(views.views_for, self.user)
            choice = await self.app.push_screen_wait(ViewPicker(available))
            if not isinstance(choice, tuple):
                break
            await self._manage_view(*choice)
        if choice is not None:
            self.use_view(choice)

    async def _manage_view(self, what: str, view) -> None:
        """Rename (asks the new name) or delete (asks to confirm) one of the user's saved views."""
        try:
            if what == "rename":
                user = self.user
                renamed = await saved_name(
                    self.app,
                    f"Rename view {view.name!r}",
                    "New name",
                    lambda name: views.rename_view(user, view.id, name),
                    view.name,
                )
                if renamed is None:
                    return
                if self.view_name == view.name:
                    self.view_name = renamed.name
                    self._status_line()
                self.app.notify(f"View renamed to {renamed.name!r}")
            elif await self.app.push_screen_wait(
                ConfirmModal(
                    "Delete view?",
                    f"Delete the saved view {view.name!r}? Its tickets are not touched.",
                    yes="Delete",
                    no="Keep",
                )
            ):
                await asyncio.to_thread(views.delete_view, self.user, view.id)
                self.app.notify(f"View {view.name!r} deleted")
        except ItsmError as exc:
            self.app.notify(str(exc), severity="error")

    def use_view(self, view) -> None:
        self.apply_view(view.name, view.query, view.sort)
        views.remember_view(self.user, view.name)

    @work(exclusive=True, group="views", exit_on_error=False)
    async def action_save_view(self) -> None:
        """A name refused (built in, too long) or a filter that no longer parses keeps the
        prompt open with the name typed and says why."""
        user, text = self.user, self.filter_text
        sort = f"{'-' if self.sort.descending else ''}{self.sort.key}"
        view = await saved_name(
            self.app,
            "Save the current filter as a view",
            "Name of the view",
            lambda name: views.save_view(user, name, text, sort),
            self.view_name or "",
        )
        if view is None:
            return
        self.view_name = view.name
        await asyncio.to_thread(views.remember_view, self.user, view.name)
        self._status_line()
        self.app.notify(f"View '{view.name}' saved")

    @work(exclusive=True, group="views", exit_on_error=False)
    async def action_sort(self) -> None:
        choice = await self.app.push_screen_wait(ChoicePicker("Sort by", list(SORT_CHOICES)))
        if choice is not None:
            descending = (
                self.sort.descending
                if choice == self.sort.key
                else choice in ("updated", "created", "number")
            )
            self._set_sort(queue.Sort(choice, descending))

    def action_reverse(self) -> None:
        self._set_sort(queue.Sort(self.sort.key, not self.sort.descending))

    def _set_sort(self, sort: queue.Sort) -> None:
        self.sort = sort
        keep = (self.table.current or {}).get("id")
        self.table.sort = sort
        self.table.reload(keep_id=keep)
        self._status_line()

    def action_export(self) -> None:
        sort = f"{'-' if self.sort.descending else ''}{self.sort.key}"
        self.app.push_screen(
            ExportModal(
                ExportContext(
                    "tickets",
                    self.filter_text,
                    sort,
                    frozenset(self.table.marks),
                    tuple(c.key for c in COLUMNS),
                )
            )
        )

    # ------------------------------------------------------------ triage plumbing

    def triage_targets(self) -> list[Target]:
        """The marked tickets (those outside the window as marked), else the one under the cursor."""
        loaded = {r["id"]: r for r in self.table.marked_rows()}
        rows = [loaded.get(i) or self.marked.get(i) for i in sorted(self.table.marks)]
        rows = [r for r in rows if r] or ([self.table.current] if self.table.current else [])
        return [Target(r["id"], r["version"], r["number"], r["status"]) for r in rows]

    def action_escape(self) -> None:
        """Escape closes the filter bar; on the list it clears the marks."""
        if self.filter_shown() or self.focused is self.filter_bar:
            self.action_close_filter()
        elif self.table.marks:
            self.clear_marks(list(self.table.marks))
            self.app.notify("Marks cleared")

    @work(exclusive=True, group="mark-all", exit_on_error=False)
    async def action_mark_all(self) -> None:
        """Mark every ticket under the filter (up to MARK_ALL_MAX)."""
        user, text, sort, limit = self.user, self.filter_text, self.sort, self.MARK_ALL_MAX

        def read() -> list[dict]:
            rows = []
            for row in queue.iterate(user, text, sort):
                rows.append(row)
                if len(rows) > limit:
                    break
            return rows

        rows = await asyncio.to_thread(read)
        if len(rows) > limit:
            self.app.notify(
                f"More than {limit:,} tickets match: narrow the filter to mark them all "
                "(or use the command line's tickets commands).",
                severity="warning",
            )
            return
        self.marked = {r["id"]: r for r in rows}
        self.table.marks = set(self.marked)
        self.table.refresh()
        self._status_line()
        self.app.notify(f"{len(rows):,} ticket{'s' if len(rows) != 1 else ''} marked (Esc clears the marks)")

    def after_change(self, ticket_ids: list[int]) -> None:
        keep = (self.table.current or {}).get("id")
        self.table.refresh_window(keep_id=keep, force=True)
        self._count()
        self.app.changed()

    def clear_marks(self, ids) -> None:
        ids = set(ids)
        self.table.marks -= ids
        for ticket_id in ids:
            self.marked.pop(ticket_id, None)
        self.table.refresh()
        self._status_line()
