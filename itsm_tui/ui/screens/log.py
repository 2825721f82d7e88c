"""Screen 3: the activity log. Newest first, the filter bar, quick toggles and a drill-down.

The service decides what each role sees (agents: ticket and inventory history; supervisors and
admins: everything, logins included); this screen shows what it returns, or its error.
"""

from __future__ import annotations

import asyncio
import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static

from itsm_tui.core import clock
from itsm_tui.core.audit import activity
from itsm_tui.core.errors import PermissionDenied, QueryError
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store import limits
from itsm_tui.core.store.models import User
from itsm_tui.ui.counting import BoundedCounts, shown_total
from itsm_tui.ui.export_modal import EXPORT_KEYS, ExportContext, ExportModal
from itsm_tui.ui.failures import SHOWN_ERRORS, read_failed
from itsm_tui.ui.messages import Counted, RowOpened, RowsLoaded
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.opening import reused_screen
from itsm_tui.ui.render import literal, one_line
from itsm_tui.ui.table_screen import TableScreen
from itsm_tui.ui.widgets.filter_bar import FilterError, FilterInput
from itsm_tui.ui.widgets.frame import Frame
from itsm_tui.ui.widgets.log_table import LogTable, ago

VALUE_WIDTH = 300  # a changed value longer than this is cut in the detail panel
QUICK_TERMS = {"login": "is:login", "failed": "is:failed"}


def toggle_term(text: str, term: str) -> str:
    """The filter with ``term`` removed when it is there as a whole word, else appended."""
    pattern = re.compile(rf"(?<!\S){re.escape(term)}(?!\S)", re.IGNORECASE)
    if pattern.search(text):
        return " ".join(pattern.sub(" ", text).split())
    return f"{text.strip()} {term}".strip()


def has_term(text: str, term: str) -> bool:
    return re.search(rf"(?<!\S){re.escape(term)}(?!\S)", text, re.IGNORECASE) is not None


def format_value(value) -> str:
    """A before or after value of the log, on one line."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = one_line(str(value).replace("\r\n", " ⏎ ").replace("\n", " ⏎ "))
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def entry_lines(entry, changes: dict, row: dict | None) -> list[str]:
    """What the detail panel says about one entry (runs in a thread: may read the actor)."""
    actor = (row or {}).get("actor")
    if actor is None and getattr(entry, "actor_id", None):
        found = User.get_or_none(User.id == entry.actor_id)
        actor = found.username if found else f"user {entry.actor_id}"
    if row is None:
        row = {"entity_type": entry.entity_type, "entity_id": entry.entity_id}
        activity.name_entities([row])
    label = one_line(activity.entity_label(entry.entity_type, entry.entity_id, row.get("entity_name")))
    if entry.entity_type == "ticket" and entry.entity_id is not None:
        label = f"ticket {label}"
    if entry.entity_version is not None:
        label += f", version {entry.entity_version}"
    lines = [
        f"When     {entry.at:%Y-%m-%d %H:%M:%S} UTC  ({ago(entry.at, clock.now())})",
        f"Who      {one_line(actor) if actor else '— (no user: an unknown login name, or the system)'}",
        f"Action   {one_line(activity.action_label(entry.action))}",
        f"Entity   {label}",
        f"Summary  {one_line(entry.summary)}",
    ]
    if changes:
        width = min(24, max(len(one_line(name)) for name in changes))
        lines += ["", "Changes (before → after)"]
        for name, pair in changes.items():
            before, after = (
                (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
            )
            lines.append(f"  {one_line(name):<{width}}  {format_value(before)}  →  {format_value(after)}")
    else:
        lines += ["", "No field changes recorded."]
    return lines


class EntryModal(MessageModal):
    """The detail of one log entry; ``o`` opens what it is about."""

    BINDINGS = [Binding("o", "open", show=False)]

    def __init__(self, title: str, lines: list[str], can_open: bool):
        super().__init__(title, lines)
        self.can_open = can_open
        self.HINT = self._hint()

    def _hint(self) -> str:
        return ("o open it · " if self.can_open else "") + "↑↓ scroll · enter/q/esc close"

    def showing(self, title: str, lines: list[str], can_open: bool) -> EntryModal:
        """This modal, set to show another entry (it is reused: see reused_screen)."""
        self.heading, self.lines, self.can_open = title, lines, can_open
        self.HINT = self._hint()
        if self.is_mounted:
            self.query_one("#title", Label).update(literal(title))
            self.query_one("#body", Static).update(self.body())
            self.query_one("#hint", Label).update(Content(self.HINT))
            self.query_one("#lines", VerticalScroll).scroll_home(animate=False)
        return self

    def forget(self) -> None:
        self.showing("", [], False)

    def action_open(self) -> None:
        if self.can_open:
            self.dismiss("open")


class LogScreen(BoundedCounts, TableScreen):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("L", "toggle('login')", "Logins"),
        Binding("F", "toggle('failed')", "Failed"),
        Binding("o", "open_entity", "Open"),
        Binding("r", "reload", "Refresh"),
        Binding(EXPORT_KEYS, "export", "Export", key_display="e"),
        Binding("escape", "back", "Back", show=False),
    ]

    frame_title = "Activity log"
    LOAD_FAILED = "Could not load the log"

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self.total: int | None = None
        self._bounded = False  # the total is a lower bound ("10,000+")
        self._started = False

    def compose(self) -> ComposeResult:
        yield Frame()
        yield FilterInput(
            placeholder="filter, e.g. actor:agent1 action:update type:ticket at:today is:failed "
            '"vpn"  (Enter applies, Escape closes)',
            id="filter",
        )
        yield FilterError(id="filter-error")
        yield from self.compose_table(LogTable(self._load_page, id="table"))

    # ------------------------------------------------------------ data

    def _load_page(self, after, before, limit):
        """Runs in the table's worker thread."""
        return activity.page(self.user, self.filter_text, after=after, before=before, limit=limit)

    @work(exclusive=True, group="log-start", exit_on_error=False)
    async def _start(self) -> None:
        """Ask the service first: a role that may not read the log gets its message, not a list."""
        try:
            total = await asyncio.to_thread(activity.count_bounded, self.user, self.filter_text)
        except PermissionDenied as exc:
            self.app.notify(str(exc), title="The activity log is not for you", severity="error")
            self._leave()
            return
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), title="Could not read the log", severity="error")
            return
        self._started = True
        self.total, self._bounded = total.value, not total.exact
        self.table.reload()
        self._status_line()

    def _count(self, timed: bool = False) -> None:
        self.start_count(self.filter_text, timed)

    def read_count(self, key: str, stopper: limits.Stopper) -> Counted:
        total = activity.count_bounded(self.user, key, stopper)
        return Counted(key, total.value, bounded=not total.exact)

    def uncounted(self, key: str) -> Counted:
        return Counted(key, None)

    def count_stamp(self, key: str) -> int | None:
        return activity.stamp(key)

    def stamp_moved(self, key: str) -> None:
        self.app.call_from_thread(self.table.refresh_window)

    @on(Counted)
    def _show_total(self, event: Counted) -> None:
        if event.text == self.filter_text:
            self.total, self._bounded = event.total, event.bounded
            self._status_line()

    def _sees_logins(self) -> bool:
        """Supervisors and admins: the others' log is ticket and inventory history, no logins."""
        return self.user is not None and allowed(self.user.role, "audit.view_all")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "toggle":  # L and F show logins: never in an agent's log
            return self._sees_logins()
        return True

    def _status_line(self) -> None:
        line = Text()
        line.append("Activity log", style="bold")
        line.append("  ·  newest first")
        if self.filter_text:
            line.append("  ·  ")
            line.append_text(literal(one_line(self.filter_text), "italic"))
        if self.total is not None:
            total, more = shown_total(self.total, self._bounded, self.table)
            line.append(f"  ·  {total:,}{more} entr{'ies' if total != 1 or more else 'y'}")
        sees_logins = self._sees_logins()
        if not sees_logins:  # after the count, which stays in sight at 80 columns
            line.append("  ·  ticket and inventory history only", style="dim")
        quick = (("L", ("logins", QUICK_TERMS["login"])), ("F", ("failed", QUICK_TERMS["failed"])))
        for key, (name, term) in quick if sees_logins else ():
            on_ = has_term(self.filter_text, term)
            line.append(f"  ·  {key} {name} ")
            line.append("on" if on_ else "off", style="bold green" if on_ else "dim")
        self.query_one("#status-line", Static).update(line, layout=False)  # one line: no layout

    def _selected_line(self, row: dict | None) -> None:
        line = Text()
        if row is None:
            line.append("No entry selected.", style="dim")
        else:
            line.append(f"{row['at']:%Y-%m-%d %H:%M:%S} UTC", style="bold")
            line.append(f"  ·  entry #{row['id']}  ·  ")
            label = one_line(
                activity.entity_label(row["entity_type"], row["entity_id"], row.get("entity_name"))
            )
            if row["entity_type"] == "ticket" and row["entity_id"] is not None:
                label = f"ticket {label}"
            if row.get("entity_version") is not None:
                label += f" (version {row['entity_version']})"
            line.append_text(literal(label))
            if row.get("failed"):
                line.append("  ·  FAILED", style="bold red")
            line.append("  ·  enter details", style="dim")
            if row["entity_id"] is not None:
                line.append("  ·  o open", style="dim")
        self.query_one("#selected", Static).update(line, layout=False)  # one line: no layout

    def _periodic_refresh(self) -> None:
        if self.app.screen is self and self._started and not self.table.read_lately():
            self._count(timed=True)  # the rows too, once a log entry was written (stamp_moved)

    def action_reload(self) -> None:
        if not self._started:
            self._start()
            return
        keep = (self.table.current or {}).get("id")
        self.table.refresh_window(keep_id=keep, force=True)
        self._count()

    @on(RowsLoaded)
    def _loaded(self) -> None:
        self._selected_line(self.table.current)
        self._status_line()  # a count cut short shows at least the rows read

    # ------------------------------------------------------------ filter bar

    def action_export(self) -> None:
        columns = tuple(c.key for c in self.table.COLUMNS)
        self.app.push_screen(ExportModal(ExportContext("log", self.filter_text, columns=columns)))

    def action_toggle(self, which: str) -> None:
        text = toggle_term(self.filter_text, QUICK_TERMS[which])
        with self.filter_bar.prevent(Input.Changed):
            self.filter_bar.value = text
        self.apply_filter(text, False)

    @work(exclusive=True, group="log-filter", exit_on_error=False)
    async def apply_filter(self, text: str, close: bool) -> None:
        """Apply the filter if the service accepts it; otherwise show where it is wrong."""
        error = self.query_one(FilterError)
        try:
            await asyncio.to_thread(activity.check_filter, self.user, text)  # names are checked too
        except QueryError as exc:
            error.point_at(exc)
            self.show_bar(True)  # a quick key (L, F) can make a mistake in the filter: show it
            return
        except SHOWN_ERRORS as exc:
            error.say(read_failed(exc, "the filter is not applied"))
            self.show_bar(True)
            return
        error.clear()
        if text != self.filter_text:
            self.filter_text = text
            self.total = None
            self.table.reload()
            self._count()
        self._status_line()
        if close:
            self.close_filter_with_rows()

    # ------------------------------------------------------------ drill-down

    @on(RowOpened)
    def _opened(self, event: RowOpened) -> None:
        self.show_entry(event.row_id)

    @work(exclusive=True, group="log-entry", exit_on_error=False)
    async def show_entry(self, entry_id: int) -> None:
        row = next((r for r in self.table.rows if r["id"] == entry_id), None)
        try:
            entry, changes, lines = await asyncio.to_thread(self._read_entry, entry_id, row)
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error", title="Could not read the entry")
            return
        can_open = entry.entity_id is not None
        title = f"Log entry #{entry.id}"
        choice = await self.app.push_screen_wait(reused_screen(self.app, EntryModal, title, lines, can_open))
        if choice == "open":
            self.open_entity(entry.entity_type, entry.entity_id)

    def _read_entry(self, entry_id: int, row: dict | None):
        entry, changes = activity.entry(self.user, entry_id)
        return entry, changes, entry_lines(entry, changes or {}, row)

    def action_open_entity(self) -> None:
        row = self.table.current
        if row is None:
            return
        self.open_entity(row["entity_type"], row["entity_id"])

    def open_entity(self, entity_type: str, entity_id: int | None) -> None:
        if entity_id is None:
            self.app.notify("This entry is not about a record that can be opened.")
            return
        if entity_type == "ticket":
            self.app.open_ticket(entity_id)
            return
        opener = getattr(self.app, "open_entity", None)
        if callable(opener):
            opener(entity_type, entity_id)
        else:
            self.app.notify(
                f"There is no screen for {one_line(entity_type)} records yet "
                f"({one_line(activity.entity_label(entity_type, entity_id))}); Enter shows the entry."
            )
