"""Screen 2: the IT inventory. Systems, peripherals, stock, departments and networks in tabs.

Each tab is a paged list read from the database (keyset pages from ``core.assets``) with its own
filter and sort. The forms and the delete question (``inventory_forms``) and the writes
(``InventoryActions``) are shared with the system screen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, Static, Tab, Tabs

from itsm_tui.core.errors import QueryError
from itsm_tui.core.inventory import lists as assets
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store import limits
from itsm_tui.core.store.models import User
from itsm_tui.ui.counting import BoundedCounts, shown_total
from itsm_tui.ui.export_modal import EXPORTABLE_KINDS, ExportContext, ExportModal
from itsm_tui.ui.failures import SHOWN_ERRORS, SaysFailedWorkers, read_failed
from itsm_tui.ui.inventory_actions import InventoryActions
from itsm_tui.ui.messages import Counted, LoadFailed, RowOpened, RowsLoaded
from itsm_tui.ui.render import literal, one_line
from itsm_tui.ui.widgets.asset_tables import TABLES, AssetTable, money
from itsm_tui.ui.widgets.filter_bar import FilterBarKeys, FilterError, FilterInput
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame

REFRESH_SECONDS = 5.0

KINDS = ("system", "peripheral", "stock", "department", "network")
TAB_LABELS = {
    "system": "Systems",
    "peripheral": "Peripherals",
    "stock": "Stock",
    "department": "Departments",
    "network": "Networks",
}
TAB_KEYS = {"system": "f2", "peripheral": "f3", "stock": "f4", "department": "f5", "network": "f6"}
FILTER_HINTS = {
    "system": 'filter, e.g. dept:finance net:"office lan" type:laptop status:in_repair user:none '
    "warranty:<today ws-0",
    "peripheral": 'filter, e.g. kind:printer,router net:"office lan" dept:finance system:none PR-20',
    "stock": "filter, e.g. is:low toner",
    "department": "search departments by name",
    "network": "search networks by name or CIDR, e.g. 10.20",
}
# Sorting a new column starts with the biggest first for these; text columns go A to Z.
DESCENDING_FIRST = {"value", "quantity", "unit_price"}

# ---------------------------------------------------------------- the screen


@dataclass
class TabState:
    kind: str
    sort: object
    text: str = ""
    total: int | None = None
    value: Decimal | None = None
    bounded: bool = False  # the total is a lower bound ("10,000+")
    loaded: bool = False


class InventoryTabs(Tabs, can_focus=False):
    """The tab row; keys switch tabs, so it never takes the focus from the list."""


class InventoryScreen(SaysFailedWorkers, FilterBarKeys, InventoryActions, BoundedCounts, Screen):
    DEFAULT_CSS = """
    InventoryScreen #tab-row { height: 2; }
    InventoryScreen InventoryTabs { width: 1fr; }
    InventoryScreen #tab-hint { width: auto; color: $text-muted; padding: 0 1; }
    InventoryScreen #status-line { height: 1; padding: 0 1; background: $boost; }
    InventoryScreen ContentSwitcher { height: 1fr; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "next_tab(1)", "Next tab", key_display="]"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", key_display="[", show=False),
        *(Binding(key, f"tab('{kind}')", TAB_LABELS[kind], show=False) for kind, key in TAB_KEYS.items()),
        Binding("slash", "filter", "Filter"),
        Binding("n", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("plus", "adjust(1)", "Add stock", key_display="+"),
        Binding("minus", "adjust(-1)", "Take stock", key_display="-"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse", show=False),
        Binding("r", "reload", "Refresh"),
        Binding("E", "export", "Export"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    frame_title = "Inventory"

    def __init__(self, kind: str = "system") -> None:
        super().__init__()
        self.kind = kind
        self.AUTO_FOCUS = f"#table-{kind}"  # the list, never the (hidden) filter bar
        self.states = {k: TabState(k, assets.AssetSort.parse(k, "")) for k in KINDS}
        self.permitted = False
        self.actor: User | None = None

    def compose(self) -> ComposeResult:
        yield Frame()
        with Horizontal(id="tab-row"):
            yield InventoryTabs(*(Tab(Content(TAB_LABELS[k]), id=k) for k in KINDS), active=self.kind)
            yield Static(Content("[ ] or F2–F6 switch"), id="tab-hint")
        yield FilterInput(placeholder=FILTER_HINTS[self.kind], id="filter")
        yield FilterError(id="filter-error")
        yield Static("", id="status-line")
        with ContentSwitcher(initial=f"table-{self.kind}"):
            for kind in KINDS:
                yield TABLES[kind](self._loader(kind), id=f"table-{kind}")
        yield KeyFooter()

    # ------------------------------------------------------------ set-up and tabs

    def on_mount(self) -> None:
        user = self.user
        if user is None or not allowed(user.role, "inventory.view"):
            message = "The inventory is for agents, supervisors and admins."
            self.query_one("#status-line", Static).update(Text(message, style="bold"))
            self.app.notify(message, severity="warning")
            self.set_timer(0.05, self._leave)
            return
        self.permitted = True
        self.actor = user  # for the worker threads, which have no active app to ask
        self._show_tab(self.kind)
        self.set_interval(REFRESH_SECONDS, self._auto_refresh)

    def _leave(self) -> None:
        """Back to the screen below, when there is one (never to an empty stack)."""
        if self.app.screen is self and len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def _loader(self, kind: str):
        def load(after, before, limit):
            """Runs in the table's worker thread."""
            state = self.states[kind]
            return assets.page(
                self.actor, kind, state.text, state.sort, after=after, before=before, limit=limit
            )

        return load

    @property
    def table(self) -> AssetTable:
        return self.query_one(f"#table-{self.kind}", AssetTable)

    @property
    def state(self) -> TabState:
        return self.states[self.kind]

    def action_export(self) -> None:
        if self.kind not in EXPORTABLE_KINDS:
            self.app.notify(f"The {TAB_LABELS[self.kind].lower()} list has no export.", severity="warning")
            return
        sort = f"{'-' if self.state.sort.descending else ''}{self.state.sort.key}"
        self.app.push_screen(
            ExportModal(
                ExportContext(
                    EXPORTABLE_KINDS[self.kind],
                    self.state.text,
                    sort,
                    frozenset(self.table.marks),
                    tuple(c.key for c in self.table.COLUMNS),
                )
            )
        )

    def action_next_tab(self, step: int) -> None:
        self.action_tab(KINDS[(KINDS.index(self.kind) + step) % len(KINDS)])

    def action_tab(self, kind: str) -> None:
        self.query_one(InventoryTabs).active = kind  # TabActivated does the rest

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id in KINDS and event.tab.id != self.kind:
            self._show_tab(event.tab.id)

    def _show_tab(self, kind: str) -> None:
        if not self.permitted:
            return
        self.stop_debounce()  # text typed for the tab being left is not this tab's filter
        self.kind = kind
        state = self.states[kind]
        self.query_one(ContentSwitcher).current = f"table-{kind}"
        bar = self.query_one("#filter", Input)
        bar.placeholder = FILTER_HINTS[kind]
        with bar.prevent(Input.Changed):
            bar.value = state.text
        self.query_one(FilterError).clear()
        table = self.table
        table.sort = state.sort
        if state.loaded:
            table.refresh_window()
        else:
            state.loaded = True
            table.reload()
        self._count()
        self.refresh_bindings()
        self._status_line()
        if not bar.has_focus:
            table.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "adjust":
            return self.kind == "stock"
        if action == "export":  # offered only where there is one
            return self.kind in EXPORTABLE_KINDS
        return True

    # ------------------------------------------------------------ totals and the status line

    def _count(self, timed: bool = False) -> None:
        self.start_count((self.kind, self.state.text), timed)

    def read_count(self, key: tuple[str, str], stopper: limits.Stopper) -> Counted:
        """The count (and stock value: a sum over a small table) of a filter."""
        kind, text = key
        total = assets.count_bounded(self.actor, kind, text, stopper)
        value = assets.stock_value(self.actor, text) if kind == "stock" else None
        return Counted(text, total.value, value, kind, bounded=not total.exact)

    def uncounted(self, key: tuple[str, str]) -> Counted:
        kind, text = key
        return Counted(text, None, None, kind)

    def count_stamp(self, key: tuple[str, str]) -> int | None:
        return assets.stamp(*key)

    @on(Counted)
    def _show_total(self, event: Counted) -> None:
        state = self.states[event.kind]
        if state.text != event.text:
            return
        state.total, state.value, state.bounded = event.total, event.value, event.bounded
        if event.kind == self.kind:
            self._status_line()

    def _status_line(self) -> None:
        if not self.permitted:
            return
        state, table = self.state, self.table
        line = Text()
        line.append(TAB_LABELS[self.kind], style="bold")
        if state.text:
            line.append("  ")
            line.append_text(literal(one_line(state.text), "italic"))
        if state.total is not None:
            singular, plural = table.NOUN
            total, more = shown_total(state.total, state.bounded, table)
            line.append(f"  ·  {total:,}{more} {singular if total == 1 and not more else plural}")
        if state.value is not None:
            line.append("  ·  total value ")
            line.append(money(state.value), style="bold")
        column = next((c.header for c in table.COLUMNS if c.sort == state.sort.key), state.sort.key)
        line.append(f"  ·  sorted by {column} {'▼' if state.sort.descending else '▲'}")
        self.query_one("#status-line", Static).update(line, layout=False)  # one line: no layout

    def _auto_refresh(self) -> None:
        if self.app.screen is self and self.permitted and not self.table.read_lately():
            self.table.refresh_window()
            self._count(timed=True)

    def on_screen_resume(self) -> None:
        if self.permitted:
            self.table.refresh_window()
            self._count()

    @on(RowsLoaded)
    def _loaded(self) -> None:
        self._status_line()

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self.app.notify(event.error, severity="error", title="Could not load the inventory")

    @on(RowOpened)
    def _open(self, event: RowOpened) -> None:
        event.stop()
        if self.kind == "system":
            self.app.open_system(event.row_id)
        else:
            self.action_edit()

    # ------------------------------------------------------------ filter bar

    @work(exclusive=True, group="inventory-filter", exit_on_error=False)
    async def apply_filter(self, text: str, close: bool) -> None:
        """Apply the filter if it compiles (off the UI thread: names are looked up); otherwise
        show where it is wrong. The rows and the count are then read side by side."""
        kind = self.kind
        error = self.query_one(FilterError)
        try:
            await asyncio.to_thread(assets.check_filter, self.actor, kind, text)
        except QueryError as exc:
            if kind == self.kind:
                error.point_at(exc)
            return
        except SHOWN_ERRORS as exc:
            if kind == self.kind:
                error.say(read_failed(exc, "the filter is not applied"))
            return
        if kind != self.kind:
            return
        error.clear()
        state = self.state
        if text != state.text:
            state.text, state.total, state.value = text, None, None
            self.table.reload()
            self._count()
        self._status_line()
        if close:
            self.close_filter_with_rows()

    # ------------------------------------------------------------ sort

    @work(exclusive=True, group="inventory-sort", exit_on_error=False)
    async def action_sort(self) -> None:
        from itsm_tui.ui.modals.pickers import ChoicePicker

        columns = [
            (c.header, c.sort) for c in self.table.COLUMNS if c.sort and c.sort in assets.SORTS[self.kind]
        ]
        choice = await self.app.push_screen_wait(ChoicePicker("Sort by", columns))
        if choice is not None:
            state = self.state
            descending = state.sort.descending if choice == state.sort.key else choice in DESCENDING_FIRST
            self._set_sort(assets.AssetSort(choice, descending))

    def action_reverse(self) -> None:
        self._set_sort(assets.AssetSort(self.state.sort.key, not self.state.sort.descending))

    def _set_sort(self, sort) -> None:
        self.state.sort = sort
        table = self.table
        keep = (table.current or {}).get("id")
        table.sort = sort
        table.reload(keep_id=keep)
        self._status_line()

    # ------------------------------------------------------------ writes

    def changed(self, record_id: int | None = None) -> None:
        keep = record_id if record_id is not None else (self.table.current or {}).get("id")
        self.table.refresh_window(keep_id=keep, force=True)
        self._count()
        changed = getattr(self.app, "changed", None)  # the app looks for new notifications
        if changed:
            changed()

    def action_reload(self) -> None:
        self.changed()

    @work(exclusive=True, group="inventory-write", exit_on_error=False)
    async def action_add(self) -> None:
        await self.add_record(self.kind)

    @work(exclusive=True, group="inventory-write", exit_on_error=False)
    async def action_edit(self) -> None:
        row = self.table.current
        if row is None:
            return
        await self.edit_record(self.kind, row["id"])

    @work(exclusive=True, group="inventory-write", exit_on_error=False)
    async def action_delete(self) -> None:
        row = self.table.current
        if row is None:
            return
        await self.delete_record(self.kind, row["id"], row["version"], _row_label(self.kind, row))

    @work(exclusive=True, group="inventory-write", exit_on_error=False)
    async def action_adjust(self, sign: int) -> None:
        row = self.table.current
        if self.kind != "stock" or row is None:
            return
        await self.adjust_stock(row, sign)


def _row_label(kind: str, row: dict) -> str:
    if kind == "system":
        return f"{row['hostname']} ({row['asset_tag']})"
    if kind == "peripheral":
        return f"{row['name']} ({row['asset_tag']})"
