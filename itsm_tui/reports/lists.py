"""What each exportable list holds: its columns, where its rows come from, how a filter reads.

The rows come from the same core functions the screens page through (``queue.iterate``,
``assets.iterate``, ``activity.iterate``), with the same filter and sort, so an export holds
exactly what the operator sees, in the same order. A ticket CSV reads the same rows its own
faster way (:mod:`.ticket_csv`); tests compare the two column by column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

from peewee import Case, fn

from itsm_tui.core import clock
from itsm_tui.core.audit import activity
from itsm_tui.core.inventory import lists as assets
from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES, Ticket, User
from itsm_tui.core.tickets import queue, sla
from itsm_tui.core.tickets.query import parse, tokenize
from itsm_tui.core.tickets.rules import STATUS_LABELS


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: int  # in characters, about; 0 takes the room left
    value: Callable[[dict], object]
    look: str = ""  # "status", "priority" (coloured), "number" (right-aligned) or ""
    shown: Callable[[dict], object] | None = None  # what a PDF prints, when not ``value``

    def printed(self, row: dict):
        """The value as a PDF prints it (a CSV keeps ``value``: usernames, times)."""
        return (self.shown or self.value)(row)


def _get(key: str) -> Callable[[dict], object]:
    return lambda row: row.get(key)


def _entity(row: dict) -> str:
    return activity.entity_label(row.get("entity_type"), row.get("entity_id"), row.get("entity_name"))


@dataclass(frozen=True)
class ListKind:
    name: str  # as on the command line: tickets, systems, ...
    noun: str  # one row: "ticket"
    columns: tuple[Col, ...]
    defaults: tuple[str, ...]  # the columns the screen shows
    rows: Callable[..., Iterator[dict]]  # (actor, filter, sort, column keys or None: all)
    count: Callable[[User, str], int]
    sort: Callable[[str | None], tuple[str, bool]] | None  # text -> (key, descending)
    aliases: dict  # the screen's column keys that differ from ours
    language: tuple = (None, None, None)  # tokenize's aliases, keys, bare word (None: tickets)

    def column(self, key: str) -> Col:
        key = self.aliases.get(key, key)
        return next(c for c in self.columns if c.key == key)

    def has_column(self, key: str) -> bool:
        return any(c.key == self.aliases.get(key, key) for c in self.columns)


_SLA_FIELDS = (
    "status",
    "response_due",
    "resolution_due",
    "first_response_at",
    "resolved_at",
    "response_risk_at",
    "resolution_risk_at",
    "sla_paused_at",
)
# a ticket column -> the queue's row fields it is made from (a column not named: its own key)
_TICKET_FIELDS = {
    "number": (),
    "sla": _SLA_FIELDS,
    "due": ("resolution_due", "sla_paused_at", "status"),
    "created": ("created_at",),
    "updated": ("updated_at",),
    "resolved": ("resolved_at",),
}


def _ticket_rows(actor, text, sort, keys=None):
    """The queue's rows, each with its SLA state in words (``sla``) and the full names of its
    requester and assignee (``requester_name``, ``assignee_name``). ``keys``: the columns
    wanted; only the fields they are made from are read (an export of a million rows)."""
    fields = queue.FIELDS
    if keys is not None:
        fields = frozenset(f for k in keys for f in _TICKET_FIELDS.get(k, (k,)))
    now = clock.now()
    names = dict(User.select(User.username, User.full_name).tuples())
    for row in queue.iterate(actor, text, queue.Sort.parse(sort), fields=fields):
        if keys is None or "sla" in keys:
            row["sla"] = sla_word(row, now)
        if "requester" in fields:
            row["requester_name"] = names.get(row["requester"]) or row["requester"]
        if "assignee" in fields:
            assignee = row["assignee"]
            row["assignee_name"] = (names.get(assignee) or assignee) if assignee else "Unassigned"
        yield row


SLA_WORDS = {"breached": "breached", "at_risk": "at risk", "on_track": "on track"}


def sla_word(row: dict, now: datetime) -> str:
    """'breached', 'at risk', 'on track' or 'paused' for an open ticket (sla.state_of's rule);
    'met' or 'breached' for a resolved one (the rule that freezes the outcome on resolving)."""
    if row["status"] in OPEN_STATUSES:
        state = sla.state_of(SimpleNamespace(**row), now)
        return "paused" if state == "on_track" and row.get("sla_paused_at") else SLA_WORDS[state]
    if row.get("resolved_at") is None:
        return ""
    stopped = row.get("sla_paused_at") or row["resolved_at"]
    responded = row.get("first_response_at")
    met = stopped <= row["resolution_due"] and responded is not None and responded <= row["response_due"]
    return "met" if met else "breached"


def sla_case(now: datetime):
    """:func:`sla_word` in SQL, for a read of many rows (tests compare the two on both engines):
    an open ticket's states by :func:`sla.level` (the core's rule of ``state_of`` in SQL)."""
    open_ = Ticket.status.in_(OPEN_STATUSES)
    levels = (sla.level("response", now), sla.level("resolution", now))
    stopped = fn.COALESCE(Ticket.sla_paused_at, Ticket.resolved_at)
    met = (stopped <= Ticket.resolution_due) & (Ticket.first_response_at <= Ticket.response_due)
    return Case(
        None,
        [
            (open_ & ((levels[0] == 2) | (levels[1] == 2)), SLA_WORDS["breached"]),
            (open_ & ((levels[0] == 1) | (levels[1] == 1)), SLA_WORDS["at_risk"]),
            (open_ & Ticket.sla_paused_at.is_null(False), "paused"),
            (open_, SLA_WORDS["on_track"]),
            (Ticket.resolved_at.is_null(), ""),
            (met, "met"),  # NULL (no first response) is not met
        ],
        "breached",
    )


def _resolution_due(row: dict):
    """The resolution due time, or 'paused' while the clock stands (the time will move)."""
    if row.get("sla_paused_at") and row["status"] in OPEN_STATUSES:
        return "paused"
    return row.get("resolution_due")


def _asset_rows(kind):
    def rows(actor, text, sort, keys=None):
        return assets.iterate(actor, kind, text, assets.AssetSort.parse(kind, sort))

    return rows


def _log_rows(actor, text, sort, keys=None):
    return activity.iterate(actor, text)


def _ticket_sort(text):
    sort = queue.Sort.parse(text)
    return sort.key, sort.descending


def _asset_sort(kind):
    def parse_sort(text):
        sort = assets.AssetSort.parse(kind, text)
        return sort.key, sort.descending

    return parse_sort


_ASSET_LANGUAGE = (assets._ALIASES, None, assets._MAC_LIKE)


TICKET_COLUMNS = (
    Col("number", "Number", 10, _get("number")),
    Col("priority", "Priority", 8, lambda r: PRIORITY_NAMES[r["priority"]], "priority"),
    Col("status", "Status", 18, lambda r: STATUS_LABELS[r["status"]], "status"),
    Col("sla", "SLA", 9, _get("sla"), "status"),
    Col("title", "Title", 0, _get("title")),
    Col("requester", "Requester", 14, _get("requester"), shown=_get("requester_name")),
    Col("assignee", "Assignee", 14, _get("assignee"), shown=_get("assignee_name")),
    Col("category", "Category", 10, _get("category")),
    Col("team", "Team", 14, _get("team")),
    Col("created", "Created", 17, _get("created_at")),
    Col("updated", "Updated", 17, _get("updated_at")),
    Col("due", "Resolution due", 17, _get("resolution_due"), shown=_resolution_due),
    Col("response_due", "Response due", 17, _get("response_due")),
    Col("resolved", "Resolved", 17, _get("resolved_at")),
    Col("source_number", "Source number", 12, _get("source_number")),
)
SYSTEM_COLUMNS = (
    Col("hostname", "Hostname", 0, _get("hostname")),
    Col("asset_tag", "Asset tag", 11, _get("asset_tag")),
    Col("type", "Type", 9, _get("type")),
    Col("ip", "IP", 14, _get("ip")),
    Col("mac", "MAC", 16, _get("mac")),
    Col("manufacturer", "Manufacturer", 12, _get("manufacturer")),
    Col("model_name", "Model", 12, _get("model_name")),
    Col("serial", "Serial", 12, _get("serial")),
    Col("os", "OS", 12, _get("os")),
    Col("department", "Department", 13, _get("department")),
    Col("network", "Network", 13, _get("network")),
    Col("assigned_user", "User", 11, _get("assigned_user")),
    Col("status", "Status", 9, _get("status"), "status"),
    Col("purchase_date", "Purchased", 10, _get("purchase_date")),
    Col("warranty_end", "Warranty end", 10, _get("warranty_end")),
)
PERIPHERAL_COLUMNS = (
    Col("name", "Name", 0, _get("name")),
    Col("kind", "Kind", 13, _get("kind")),
    Col("asset_tag", "Asset tag", 11, _get("asset_tag")),
    Col("serial", "Serial", 12, _get("serial")),
    Col("system", "Attached to", 14, _get("system")),
    Col("department", "Department", 13, _get("department")),
    Col("network", "Network", 13, _get("network")),
    Col("status", "Status", 9, _get("status"), "status"),
)
STOCK_COLUMNS = (
    Col("name", "Item", 24, _get("name")),
    Col("quantity", "Quantity", 8, _get("quantity"), "number"),
    Col("reorder_level", "Reorder at", 9, _get("reorder_level"), "number"),
    Col("unit_price", "Unit price", 10, _get("unit_price"), "number"),
    Col("value", "Value", 12, _get("value"), "number"),
    Col("low", "Low", 4, lambda r: "low" if r["low"] else "", "status"),
    Col("description", "Description", 0, _get("description")),
)
LOG_COLUMNS = (
    Col("at", "When", 17, _get("at")),
    Col("actor", "Who", 13, lambda r: r.get("actor") or "(unknown)"),
    Col("action", "Action", 14, lambda r: activity.action_label(r.get("action"))),
    Col("entity", "Entity", 14, _entity),
    Col("summary", "Summary", 0, _get("summary")),
)

LISTS: dict[str, ListKind] = {
    "tickets": ListKind(
        "tickets",
        "ticket",
        TICKET_COLUMNS,
        (
            "number",
            "priority",
            "status",
            "sla",
            "title",
            "requester",
            "assignee",
            "category",
            "created",
            "due",
        ),
        _ticket_rows,
        queue.count,
        _ticket_sort,
        {"age": "created"},
    ),
    "systems": ListKind(
        "systems",
        "system",
        SYSTEM_COLUMNS,
        ("hostname", "asset_tag", "type", "ip", "department", "network", "assigned_user", "status"),
        _asset_rows("system"),
        lambda a, t: assets.count(a, "system", t),
        _asset_sort("system"),
        {},
        _ASSET_LANGUAGE,
    ),
    "peripherals": ListKind(
        "peripherals",
        "peripheral",
        PERIPHERAL_COLUMNS,
        ("name", "kind", "asset_tag", "system", "department", "network", "status"),
        _asset_rows("peripheral"),
        lambda a, t: assets.count(a, "peripheral", t),
        _asset_sort("peripheral"),
        {},
        _ASSET_LANGUAGE,
    ),
    "stock": ListKind(
        "stock",
        "stock item",
        STOCK_COLUMNS,
        ("name", "quantity", "reorder_level", "unit_price", "value", "description"),
        _asset_rows("stock"),
        lambda a, t: assets.count(a, "stock", t),
        _asset_sort("stock"),
        {},
        _ASSET_LANGUAGE,
    ),
    "log": ListKind(
        "log",
        "log entry",
        LOG_COLUMNS,
        ("at", "actor", "action", "entity", "summary"),
        _log_rows,
        activity.count,
        None,
        {"when": "at"},
        (activity._ALIASES, activity._KEYS, None),
    ),
}


def display(value) -> str:
    """A cell as a PDF shows it: minutes for moments, the empty string for nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe_filter(kind: ListKind, text: str) -> str:
    """The filter in words ('status is new or in progress; priority is High'), or 'none'."""
    text = (text or "").strip()
    if not text:
        return "none (everything you may see)"
    if kind.name == "tickets":
        return parse(text).describe()
    parts = []
    for raw in tokenize(text, *kind.language):
        words = " or ".join(f'"{item.text}"' for item in raw.items)
        if raw.key == "text":
            parts.append(f"{'does not contain' if raw.negate else 'contains'} {words}")
        else:
            parts.append(f"{raw.key} {'is not' if raw.negate else 'is'} {words}")
    return "; ".join(parts)


def describe_sort(kind: ListKind, sort: str | None) -> str:
    if kind.sort is None:
        return "newest first"
    key, descending = kind.sort(sort)
    name = next((c.header for c in kind.columns if c.key == key), key.replace("_", " "))
    return f"{name}, {'descending' if descending else 'ascending'}"
