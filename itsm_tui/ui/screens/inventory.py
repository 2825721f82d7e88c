"""Screen 2: the IT inventory. Systems, peripherals, stock, departments and networks in tabs.

Each tab is a paged list read from the database (keyset pages from ``core.assets``) with its own
filter and sort. The forms, the delete question and the stock adjustment live in
``InventoryActions``, which the system screen shares.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from peewee import DatabaseError, InterfaceError
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, Static, Tab, Tabs

from ...core import assets, drafts, inventory
from ...core.errors import ConflictError, ItsmError, NotFound, QueryError
from ...core.models import ASSET_STATUSES, PERIPHERAL_KINDS, SYSTEM_TYPES, User
from ...core.permissions import allowed
from ..export_modal import EXPORTABLE_KINDS, ExportContext, ExportModal
from ..modals.base import ConfirmModal
from ..modals.draft_keeper import Draft, kept_message
from ..modals.forms import FormField, FormModal
from ..modals.panels import ConflictModal
from ..render import literal, one_line
from ..widgets.filter_bar import FilterBarKeys, FilterError, FilterInput
from ..widgets.asset_tables import TABLES, AssetTable, money
from ..widgets.footer import KeyFooter
from ..widgets.frame import Frame

REFRESH_SECONDS = 5.0
DB_ERRORS = (ItsmError, DatabaseError, InterfaceError)

KINDS = ("system", "peripheral", "stock", "department", "network")
TAB_LABELS = {"system": "Systems", "peripheral": "Peripherals", "stock": "Stock",
              "department": "Departments", "network": "Networks"}
TAB_KEYS = {"system": "f2", "peripheral": "f3", "stock": "f4", "department": "f5", "network": "f6"}
NOUNS = {"system": "system", "peripheral": "peripheral", "stock": "stock item",
         "department": "department", "network": "network"}
FILTER_HINTS = {
    "system": 'filter, e.g. dept:finance net:"office lan" type:laptop status:in_repair user:none '
              'warranty:<today ws-0',
    "peripheral": 'filter, e.g. kind:printer,router net:"office lan" dept:finance system:none PR-20',
    "stock": "filter, e.g. is:low toner",
    "department": "search departments by name",
    "network": "search networks by name or CIDR, e.g. 10.20",
}
# Sorting a new column starts with the biggest first for these; text columns go A to Z.
DESCENDING_FIRST = {"value", "quantity", "unit_price"}


# ---------------------------------------------------------------- forms, shared with SystemScreen

@dataclass
class Choices:
    """What the selects of a form offer, read once per form."""

    departments: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)


def _names(actor: User, kind: str) -> list[str]:
    """Every department or network name, in name order (there are few)."""
    names, after = [], None
    sort = assets.AssetSort("name")
    while True:
        page = assets.page(actor, kind, "", sort, after=after, limit=500)
        names += [row["name"] for row in page.rows]
        if not page.has_more or not page.rows:
            return names
        after = page.last


def read_choices(actor: User) -> Choices:
    return Choices(_names(actor, "department"), _names(actor, "network"))


def _text(value) -> str:
    return "" if value is None else str(value)


@dataclass
class Record:
    """One inventory record as the edit form shows it: strings for every field."""

    kind: str
    id: int
    version: int
    label: str
    values: dict


def read_record(actor: User, kind: str, record_id: int) -> Record:
    """The stored record (not the list's copy): its version is the one the form edits."""
    row = inventory.get(actor, kind, record_id)
    if kind == "system":
        values = {name: _text(getattr(row, name)) for name in (
            "hostname", "asset_tag", "type", "status", "ip", "mac", "manufacturer", "model_name",
            "serial", "os", "purchase_date", "warranty_end", "notes")}
        values["department"] = row.department.name if row.department_id else ""
        values["network"] = row.network.name if row.network_id else ""
        values["assigned_user"] = row.assigned_user.username if row.assigned_user_id else ""
        label = row.hostname
    elif kind == "peripheral":
        values = {name: _text(getattr(row, name)) for name in ("name", "kind", "asset_tag", "serial", "status")}
        values["system"] = row.system.hostname if row.system_id else ""
        values["department"] = row.department.name if row.department_id else ""
        values["network"] = row.network.name if row.network_id else ""
        label = f"{row.name} ({row.asset_tag})"
    elif kind == "stock":
        values = {"name": row.name, "description": _text(row.description),
                  "unit_price": f"{Decimal(row.unit_price):.2f}", "reorder_level": str(row.reorder_level),
                  "quantity": str(row.quantity)}
        label = row.name
    elif kind == "network":
        values = {"name": row.name, "cidr": row.cidr, "vlan": _text(row.vlan), "location": _text(row.location)}
        label = f"{row.name} ({row.cidr})"
    else:
        values = {"name": row.name}
        label = row.name
    return Record(kind, row.id, row.version, label, values)


def _select(options) -> list[tuple[str, str]]:
    return [(option, option) for option in options]


def form_fields(kind: str, values: dict, choices: Choices, creating: bool) -> list[FormField]:
    """The fields of the add/edit form. Each name is the service's data key, so a
    ValidationError's ``field`` lands next to the right input."""
    v = values.get
    departments = _select(choices.departments)
    networks = _select(choices.networks)
    if kind == "system":
        return [
            FormField("hostname", "Hostname", value=v("hostname", ""), required=True, placeholder="ws-042"),
            FormField("asset_tag", "Asset tag", value=v("asset_tag", ""), required=True, placeholder="AT-1042"),
            FormField("type", "Type", "select", _select(SYSTEM_TYPES), v("type", ""), required=True),
            FormField("status", "Status", "select", _select(ASSET_STATUSES), v("status", "in use"), required=True),
            FormField("ip", "IP address", value=v("ip", ""), placeholder="10.10.1.42 or 2001:db8::42"),
            FormField("mac", "MAC address", value=v("mac", ""), placeholder="aa:bb:cc:dd:ee:ff"),
            FormField("department", "Department", "select", departments, v("department", ""),
                      placeholder="(no department)"),
            FormField("network", "Network", "select", networks, v("network", ""), placeholder="(no network)"),
            FormField("assigned_user", "Assigned user (username)", value=v("assigned_user", ""),
                      placeholder="empty: nobody"),
            FormField("manufacturer", "Manufacturer", value=v("manufacturer", "")),
            FormField("model_name", "Model", value=v("model_name", "")),
            FormField("serial", "Serial number", value=v("serial", "")),
            FormField("os", "Operating system", value=v("os", "")),
            FormField("purchase_date", "Purchase date", value=v("purchase_date", ""), placeholder="YYYY-MM-DD"),
            FormField("warranty_end", "Warranty end", value=v("warranty_end", ""), placeholder="YYYY-MM-DD"),
            FormField("notes", "Notes", "multiline", value=v("notes", "")),
        ]
    if kind == "peripheral":
        return [
            FormField("name", "Name", value=v("name", ""), required=True, placeholder="Printer 3rd floor"),
            FormField("kind", "Kind", "select", _select(PERIPHERAL_KINDS), v("kind", ""), required=True),
            FormField("asset_tag", "Asset tag", value=v("asset_tag", ""), required=True, placeholder="PR-2042"),
            FormField("status", "Status", "select", _select(ASSET_STATUSES), v("status", "in use"), required=True),
            FormField("system", "Attached to system (hostname)", value=v("system", ""),
                      placeholder="empty: not attached"),
            FormField("department", "Department", "select", departments, v("department", ""),
                      placeholder="(no department)"),
            FormField("network", "Network", "select", networks, v("network", ""), placeholder="(no network)"),
            FormField("serial", "Serial number", value=v("serial", "")),
        ]
    if kind == "stock":
        fields = [FormField("name", "Item", value=v("name", ""), required=True, placeholder="Toner HP 59A")]
        if creating:  # afterwards the quantity changes only by + and -, with a reason
            fields.append(FormField("quantity", "Quantity in stock", value=v("quantity", ""), placeholder="0"))
        # numbers start empty (a "0" that typing appends to would read "012"); empty means 0
        return fields + [
            FormField("unit_price", "Unit price", value=v("unit_price", ""), placeholder="0.00"),
            FormField("reorder_level", "Reorder level (highlight at or below)", value=v("reorder_level", ""),
                      placeholder="0"),
            FormField("description", "Description", "multiline", value=v("description", "")),
        ]
    if kind == "network":
        return [
            FormField("name", "Name", value=v("name", ""), required=True, placeholder="Office LAN"),
            FormField("cidr", "CIDR", value=v("cidr", ""), required=True, placeholder="10.10.1.0/24"),
            FormField("vlan", "VLAN (1-4094)", value=v("vlan", "")),
            FormField("location", "Location", value=v("location", "")),
        ]
    return [FormField("name", "Name", value=v("name", ""), required=True, placeholder="Finance")]


def _tidy(kind: str, values: dict) -> dict:
    """Usernames and hostnames are stored in lower case: match them the way they are typed."""
    values = dict(values)
    values.pop(drafts.REQUEST_KEY, None)  # inventory writes take no request key
    if kind == "stock":
        for name in ("quantity", "unit_price", "reorder_level"):
            if name in values and not str(values[name]).strip():
                values[name] = "0"
    for name in ("assigned_user", "system"):
        if name in values:
            values[name] = values[name].strip().lower()
    return values


def _edited(kind: str, record: Record, values: dict) -> dict:
    """Only the fields the operator changed: saved on top of the stored record, so applying
    the change again after a conflict keeps what the other person changed in other fields."""
    return _tidy(kind, {name: value for name, value in values.items() if value != record.values.get(name)})


@dataclass
class Conflicted:
    """A form's save met a ConflictError: the form closes and the screen asks what to do."""

    error: ConflictError
    values: dict


def guarded(save: Callable[[dict], object]) -> Callable[[dict], object]:
    """Wrap a form's save: a conflict closes the form (ConflictModal follows), a database
    failure becomes a message at the top of the form instead of an exception in the modal."""
    def submit(values: dict):
        try:
            return save(values)
        except ConflictError as exc:
            return Conflicted(exc, values)
        except (DatabaseError, InterfaceError) as exc:
            raise ItsmError(kept_message(exc)) from None
    return submit


LINK_EFFECTS = {
    ("system", "peripherals"): "{n} peripheral{s} will be unlinked",
    ("system", "tickets"): "{n} ticket{s} keep{v} {their} history",
    ("peripheral", "tickets"): "{n} ticket{s} keep{v} {their} history",
    ("department", "systems"): "{n} system{s} will have no department",
    ("department", "peripherals"): "{n} peripheral{s} will have no department",
    ("department", "users"): "{n} user{s} will have no department",
    ("network", "systems"): "{n} system{s} will have no network",
    ("network", "peripherals"): "{n} peripheral{s} will have no network",
}


def delete_message(kind: str, label: str, linked: dict[str, int]) -> str:
    """The confirmation text: what goes, and what happens to the records that point at it."""
    parts = []
    for linked_type, n in linked.items():
        if n:
            template = LINK_EFFECTS.get((kind, linked_type), "{n} " + linked_type + " will be unlinked")
            parts.append(template.format(n=n, s="" if n == 1 else "s", v="s" if n == 1 else "",
                                         their="its" if n == 1 else "their"))
    effects = (", ".join(parts) + ".") if parts else "Nothing else is linked to it."
    return (f"Delete {NOUNS[kind]} {label}?\n\n{effects[0].upper()}{effects[1:]}\n\n"
            "The log keeps a record of it and of every change.")


def _unlinked_summary(kind: str, effects: dict[str, int]) -> str:
    parts = [f"{n} {name} unlinked" for name, n in effects.items() if n]
    return f" ({', '.join(parts)})" if parts else ""


class InventoryActions:
    """Add, edit, delete and stock adjustment for a Screen. The screen provides ``changed()``
    (re-read what it shows after a write)."""

    @property
    def user(self) -> User:
        return self.app.user

    def changed(self, record_id: int | None = None) -> None:
        raise NotImplementedError

    def can_edit(self) -> bool:
        if self.user is not None and allowed(self.user.role, "inventory.edit"):
            return True
        self.app.notify("Only agents and above can change the inventory.", severity="warning")
        return False

    async def add_record(self, kind: str):
        if not self.can_edit():
            return None
        me = self.user
        try:
            choices = await asyncio.to_thread(read_choices, me)
        except DB_ERRORS as exc:
            self.app.notify(str(exc), severity="error")
            return None
        fields = form_fields(kind, {}, choices, creating=True)
        created = await self.app.push_screen_wait(FormModal(
            f"New {NOUNS[kind]}", fields,
            submit=guarded(lambda values: inventory.create(me, kind, _tidy(kind, values))),
            draft=Draft(me.username, f"{kind}:new")))
        if created is not None:
            self.app.notify(f"Created {NOUNS[kind]} {_record_label(kind, created)}")
            self.changed(created.id)
        return created

    async def edit_record(self, kind: str, record_id: int) -> None:
        if not self.can_edit():
            return
        me = self.user
        try:
            record = await asyncio.to_thread(read_record, me, kind, record_id)
            choices = await asyncio.to_thread(read_choices, me)
        except DB_ERRORS as exc:
            self.app.notify(str(exc), severity="error")
            self.changed()
            return
        fields = form_fields(kind, record.values, choices, creating=False)
        title = f"Edit {NOUNS[kind]} {record.label}"
        if kind == "stock":
            title += f" (quantity {record.values['quantity']}: change it with + and -)"

        def save(values: dict):
            return inventory.update(me, kind, record.id, record.version, _edited(kind, record, values))

        draft = Draft(me.username, f"{kind}:{record.id}")
        outcome = await self.app.push_screen_wait(FormModal(title, fields, submit=guarded(save), draft=draft))
        if outcome is None:
            return
        if isinstance(outcome, Conflicted):
            # kept until it is applied: after a reload, e opens the form with this input again
            await asyncio.to_thread(drafts.save, draft.username, draft.key,
                                    {k: v for k, v in outcome.values.items()
                                     if k != drafts.REQUEST_KEY and v != record.values.get(k)})
            if await self._resolve_conflict(
                outcome.error, f"{NOUNS[kind]} {record.label} saved",
                lambda version: inventory.update(me, kind, record.id, version,
                                                 _edited(kind, record, outcome.values)),
                kind, record.id):
                await asyncio.to_thread(drafts.discard, draft.username, draft.key)
            return
        self.app.notify(f"Saved {NOUNS[kind]} {_record_label(kind, outcome)}")
        self.changed(record.id)

    async def delete_record(self, kind: str, record_id: int, version: int, label: str) -> bool:
        """Ask (saying what happens to linked records), then delete. True once deleted."""
        if not self.can_edit():
            return False
        me = self.user
        try:
            linked = await asyncio.to_thread(inventory.linked_records, me, kind, record_id)
        except DB_ERRORS as exc:
            self.app.notify(str(exc), severity="error")
            return False
        sure = await self.app.push_screen_wait(ConfirmModal(
            f"Delete {NOUNS[kind]}", delete_message(kind, label, linked), yes="Delete", no="Keep it",
            default=False))
        if not sure:
            return False
        try:
            effects = await asyncio.to_thread(inventory.delete, me, kind, record_id, version)
        except ConflictError as exc:
            return await self._resolve_conflict(
                exc, f"{NOUNS[kind]} {label} deleted",
                lambda fresh: inventory.delete(me, kind, record_id, fresh), kind, record_id)
        except NotFound as exc:
            self.app.notify(str(exc), severity="warning")
            self.changed()
            return True
        except DB_ERRORS as exc:
            self.app.notify(str(exc), severity="error", timeout=8)
            return False
        self.app.notify(f"Deleted {NOUNS[kind]} {label}{_unlinked_summary(kind, effects)}")
        self.changed()
        return True

    async def _resolve_conflict(self, exc: ConflictError, done: str, apply: Callable[[int], object],
                                kind: str, record_id: int) -> bool:
        """Someone saved in between: reload, or apply this change again on their version."""
        choice = await self.app.push_screen_wait(ConflictModal(str(exc)))
        if choice != "reapply":
            self.changed(record_id)
            return False
        me = self.user
        try:
            fresh = await asyncio.to_thread(inventory.get, me, kind, record_id)
            await asyncio.to_thread(apply, fresh.version)
        except DB_ERRORS as again:
            self.app.notify(str(again), severity="error", timeout=8)
            self.changed(record_id)
            return False
        self.app.notify(done[0].upper() + done[1:])
        self.changed(record_id)
        return True

    async def adjust_stock(self, row: dict, sign: int) -> None:
        """+ adds, - takes: how many and why, in one form; a refusal shows the service's words."""
        if not self.can_edit():
            return
        me = self.user
        verb = "Add to" if sign > 0 else "Take from"

        def save(values: dict):
            amount = values["quantity"].strip()
            delta = sign * abs(int(amount)) if amount.lstrip("+-").isdigit() else amount
            return inventory.adjust_stock(me, row["id"], delta, values["reason"])

        fields = [
            FormField("quantity", "How many to add" if sign > 0 else "How many to take", required=True),
            FormField("reason", "Reason (recorded in the log)", required=True,
                      placeholder="delivery PO-1234" if sign > 0 else "issued to ws-042"),
        ]
        item = await self.app.push_screen_wait(FormModal(
            f"{verb} {row['name']} ({row['quantity']:,} in stock)", fields, submit=guarded(save),
            draft=Draft(me.username, f"stock{'+' if sign > 0 else '-'}:{row['id']}")))
        if item is None:
            return
        self.app.notify(f"{item.name}: {item.quantity:,} in stock")
        self.changed(row["id"])


def _record_label(kind: str, row) -> str:
    if kind == "system":
        return row.hostname
    if kind == "peripheral":
        return f"{row.name} ({row.asset_tag})"
    return row.name


# ---------------------------------------------------------------- the screen

@dataclass
class TabState:
    kind: str
    sort: object
    text: str = ""
    total: int | None = None
    value: Decimal | None = None
    loaded: bool = False


class InventoryTabs(Tabs, can_focus=False):
    """The tab row; keys switch tabs, so it never takes the focus from the list."""


class InventoryScreen(FilterBarKeys, InventoryActions, Screen):
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
            return assets.page(self.actor, kind, state.text, state.sort, after=after, before=before, limit=limit)
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
        self.app.push_screen(ExportModal(ExportContext(
            EXPORTABLE_KINDS[self.kind], self.state.text, sort, frozenset(self.table.marks),
            tuple(c.key for c in self.table.COLUMNS))))

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

    def _measure(self, kind: str, text: str) -> tuple[int, Decimal | None]:
        """The count (and stock value) of a filter; raises QueryError for a bad one."""
        total = assets.count(self.actor, kind, text)
        value = assets.stock_value(self.actor, text) if kind == "stock" else None
        return total, value

    @work(exclusive=True, group="inventory-count", thread=True, exit_on_error=False)
    def _count(self) -> None:
        kind, text = self.kind, self.state.text
        try:
            total, value = self._measure(kind, text)
        except Exception:  # the table reports the same error
            total, value = None, None
        self.app.call_from_thread(self._show_total, kind, text, total, value)

    def _show_total(self, kind: str, text: str, total: int | None, value: Decimal | None) -> None:
        state = self.states[kind]
        if state.text != text:
            return
        state.total, state.value = total, value
        if kind == self.kind:
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
            line.append(f"  ·  {state.total:,} {singular if state.total == 1 else plural}")
        if state.value is not None:
            line.append("  ·  total value ")
            line.append(money(state.value), style="bold")
        column = next((c.header for c in table.COLUMNS if c.sort == state.sort.key), state.sort.key)
        line.append(f"  ·  sorted by {column} {'▼' if state.sort.descending else '▲'}")
        self.query_one("#status-line", Static).update(line, layout=False)  # one line: no layout

    def _auto_refresh(self) -> None:
        if self.app.screen is self and self.permitted and not self.table.read_lately():
            self.table.refresh_window()
            self._count()

    def on_screen_resume(self) -> None:
        if self.permitted:
            self.table.refresh_window()
            self._count()

    @on(AssetTable.Loaded)
    def _loaded(self) -> None:
        self._status_line()

    @on(AssetTable.LoadFailed)
    def _load_failed(self, event: AssetTable.LoadFailed) -> None:
        self.app.notify(event.error, severity="error", title="Could not load the inventory")

    @on(AssetTable.Opened)
    def _open(self, event: AssetTable.Opened) -> None:
        event.stop()
        if self.kind == "system":
            from .system import open_system

            open_system(self.app, event.row_id)
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
            await asyncio.to_thread(assets.compile_filter, self.actor, kind, text)
        except QueryError as exc:
            if kind == self.kind:
                error.point_at(exc)
            return
        except DB_ERRORS as exc:
            if kind == self.kind:
                error.say(str(exc))
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
        from ..modals.pickers import ChoicePicker

        columns = [(c.header, c.sort) for c in self.table.COLUMNS if c.sort and c.sort in assets.SORTS[self.kind]]
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
    if kind == "network":
        return f"{row['name']} ({row['cidr']})"
    return row["name"]
