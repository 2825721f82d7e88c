"""Inventory lists: systems, peripherals, stock, departments and networks, filtered, sorted and
read a page at a time (the inventory screen and the CLI call these).

Every list is a deferred join read by keyset like the ticket queue (:func:`queue.keyset_page`):
the inner query finds a page of ids on the kind's own table by (sort value, id), the outer one
fetches the names for just those rows. Names sort naturally ("ws-9" before "ws-10"), by their
stored keys (core/natural.py). A sort on an indexed column (hostname, asset tag, name, IP)
reads one page of its index, so it costs the same at 100,000 systems as at 100; the other sorts
have no index of their own (the schema has none for them) and sort the matching ids, which takes
tens of milliseconds at 100,000 systems.

The filter language has the syntax of the ticket language (terms, ``key:a,b``, quotes, a
leading ``-`` to negate, errors with the 0-based position of the culprit) and its own keys::

    dept:finance net:"office lan" type:laptop,"virtual machine" status:in_use user:none
    kind:printer system:none warranty:<today is:low ws-01

Which keys apply depends on the list (:data:`FILTERS`); any other key is an error naming it.
Free text looks in the names, asset tags, serials, IPs and MACs (through the full-text index for
systems, peripherals and stock, core/store/fulltext.py); a bare MAC address such as
``aa:bb:cc:dd:ee:ff`` is text, not a key, even though it holds colons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import Any

from peewee import JOIN, Case, fn

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, QueryError, ValidationError
from itsm_tui.core.inventory.service import MAC_RE, mac_address
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit, fulltext, limits
from itsm_tui.core.store.models import (
    ASSET_STATUSES,
    PERIPHERAL_KINDS,
    SYSTEM_TYPES,
    AuditEntry,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    Ticket,
    User,
    ticket_number,
)
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets.query import DateRange, RawTerm, Term, choose, date_range, show, single, tokenize
from itsm_tui.core.tickets.queue import (
    END,
    ID_LIST_LIMIT,
    MATCH_SECONDS,
    Count,
    Cursor,
    Page,
    all_of,
    keyset_page,
    name_ids,
    names_or_none,
    negatable,
    parse_sort,
)

__all__ = [
    "KINDS",
    "SORTS",
    "FILTERS",
    "AssetSort",
    "SystemDetail",
    "page",
    "count",
    "count_bounded",
    "Count",
    "stamp",
    "iterate",
    "stock_value",
    "system_detail",
    "Cursor",
    "Page",
    "END",
]

KINDS = ("system", "peripheral", "stock", "department", "network")
PLURALS = {
    "system": "systems",
    "peripheral": "peripherals",
    "stock": "stock items",
    "department": "departments",
    "network": "networks",
}
MODELS = {
    "system": System,
    "peripheral": Peripheral,
    "stock": StockItem,
    "department": Department,
    "network": Network,
}

SystemDepartment = Department.alias("system_department")
SystemNetwork = Network.alias("system_network")
AssignedUser = User.alias("assigned_user")
PeripheralSystem = System.alias("peripheral_system")
PeripheralDepartment = Department.alias("peripheral_department")
PeripheralNetwork = Network.alias("peripheral_network")


def _lifecycle(column):
    """Asset statuses in their natural order (in use, in stock, in repair, retired)."""
    return Case(column, [(status, i) for i, status in enumerate(ASSET_STATUSES)])


# kind -> {sort name: SQL expression}; the first key is the kind's default sort
SORTS: dict[str, dict[str, Any]] = {
    "system": {
        "hostname": System.hostname_key,
        "asset_tag": System.asset_tag_key,
        "type": System.type,
        "ip": System.ip,  # as text (the ip index serves it): 10.0.0.10 sorts before 10.0.0.9
        "department": SystemDepartment.name_key,
        "network": SystemNetwork.name_key,
        "assigned_user": AssignedUser.username_key,
        "status": _lifecycle(System.status),
        "warranty_end": System.warranty_end,
    },
    "peripheral": {
        "name": Peripheral.name_key,
        "kind": Peripheral.kind,
        "asset_tag": Peripheral.asset_tag_key,
        "system": PeripheralSystem.hostname_key,
        "department": PeripheralDepartment.name_key,
        "network": PeripheralNetwork.name_key,
        "status": _lifecycle(Peripheral.status),
    },
    "stock": {
        "name": StockItem.name_key,
        "quantity": StockItem.quantity,
        "unit_price": StockItem.unit_price,
        "reorder_level": StockItem.reorder_level,
        # in cents: exact on SQLite too, which stores prices as floating point
        "value": StockItem.quantity * fn.ROUND(StockItem.unit_price * 100),
    },
    "department": {"name": Department.name_key},
    "network": {"name": Network.name_key, "cidr": Network.cidr, "vlan": Network.vlan},
}

# (kind, sort) -> the join the inner query needs to reach the sort column
_SORT_JOINS = {
    ("system", "department"): (SystemDepartment, System.department == SystemDepartment.id),
    ("system", "network"): (SystemNetwork, System.network == SystemNetwork.id),
    ("system", "assigned_user"): (AssignedUser, System.assigned_user == AssignedUser.id),
    ("peripheral", "system"): (PeripheralSystem, Peripheral.system == PeripheralSystem.id),
    ("peripheral", "department"): (PeripheralDepartment, Peripheral.department == PeripheralDepartment.id),
    ("peripheral", "network"): (PeripheralNetwork, Peripheral.network == PeripheralNetwork.id),
}
# sorts whose value may be NULL (keyset paging treats NULLs as the smallest values)
_NULLABLE = {
    ("system", "ip"),
    ("system", "department"),
    ("system", "network"),
    ("system", "assigned_user"),
    ("system", "warranty_end"),
    ("peripheral", "system"),
    ("peripheral", "department"),
    ("peripheral", "network"),
    ("network", "vlan"),
}


@dataclass(frozen=True)
class AssetSort:
    key: str
    descending: bool = False

    @classmethod
    def parse(cls, kind: str, text: str | None) -> AssetSort:
        """'hostname' or '+hostname', '-quantity' or 'quantity:desc'; None or '' gives the
        kind's default (its first sort key, ascending). Unknown keys: QueryError."""
        sorts = SORTS[_kind(kind)]
        if not text or not text.strip():
            return cls(next(iter(sorts)))
        return cls(*parse_sort(text, sorts))


# --- the filter language ----------------------------------------------------------------

_ALIASES = {
    "department": "department",
    "dept": "department",
    "network": "network",
    "net": "network",
    "type": "type",
    "kind": "kind",
    "status": "status",
    "user": "user",
    "system": "system",
    "warranty": "warranty",
    "is": "is",
}
# kind -> the keys its list understands (free text works everywhere)
FILTERS: dict[str, tuple[str, ...]] = {
    "system": ("department", "network", "type", "status", "user", "warranty"),
    "peripheral": ("department", "network", "kind", "status", "system"),
    "stock": ("is",),
    "department": (),
    "network": (),
}
# kind -> the columns free text looks in (a case-insensitive substring): through the full-text
# index where there is one (core/store/fulltext.py), else a scan
_TEXT_COLUMNS = {
    "system": fulltext.TEXT_COLUMNS[System],
    "peripheral": fulltext.TEXT_COLUMNS[Peripheral],
    "stock": fulltext.TEXT_COLUMNS[StockItem],
    "department": (Department.name,),
    "network": (Network.name, Network.cidr),
}
_IS_WORDS = ("low",)
# Hex groups joined by colons (a MAC address, or part of one) are text to look for, not a key:
# no key of this language is made of the letters a-f alone.
_MAC_LIKE = re.compile(r"[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4})+")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError(f"unknown inventory list {kind!r}: one of {', '.join(KINDS)}", "kind")
    return kind


def _applies(kind: str, raw: RawTerm) -> None:
    """A key the list does not have is an error at the key, naming the list."""
    if raw.key == "text" or raw.key in FILTERS[kind]:
        return
    where = raw.position + (1 if raw.negate else 0)
    keys = FILTERS[kind]
    hint = (
        f"filters for {PLURALS[kind]}: {', '.join(keys)}"
        if keys
        else f"{PLURALS[kind]} have no filters, only text to search"
    )
    raise QueryError(f"filter {show(raw.key)} does not apply to {PLURALS[kind]} ({hint})", where)


def compile_filter(
    actor: User, kind: str, text: str | None, now: datetime | None = None, lookups: bool = True
):
    """The WHERE clause (or None) of ``text`` for the ``kind`` list; not ``lookups``: without
    its free text, which is not looked up (see :func:`check_filter`)."""
    require(actor, "inventory.view")
    kind = _kind(kind)
    now = now or clock.now()
    keys = FILTERS[kind] or ("none, only text to search",)
    clauses = []
    for raw in tokenize(text or "", _ALIASES, keys, _MAC_LIKE):  # lazily: the leftmost error wins
        _applies(kind, raw)
        if lookups or raw.key != "text":
            clauses.append(negatable(_clause(kind, raw, now), raw.negate))
    return all_of(clauses)


def check_filter(actor: User, kind: str, text: str) -> None:
    """Raise what :func:`compile_filter` would (a QueryError for a wrong term or an unknown
    name) without looking the free text up: the filter bar checks a filter before its list is
    read, which looks it up."""
    compile_filter(actor, kind, text, lookups=False)


def _term(raw: RawTerm) -> Term:
    """The ticket language's Term for a raw term (what queue.name_ids resolves)."""
    return Term(
        raw.key,
        tuple(item.text for item in raw.items),
        raw.negate,
        raw.position,
        tuple(item.position for item in raw.items),
    )


def _clause(kind: str, raw: RawTerm, now: datetime):
    model = MODELS[kind]
    key = raw.key
    if key == "text":
        text = raw.items[0].text
        if kind == "system" and MAC_RE.match(text.lower()):  # as stored: aa-bb-... finds aa:bb:...
            text = mac_address(text) or text
        ids = (
            fulltext.text_ids(model, text, ID_LIST_LIMIT, MATCH_SECONDS)
            if model in fulltext.TEXT_COLUMNS
            else None
        )
        return fulltext.contains_text(_TEXT_COLUMNS[kind], text) if ids is None else model.id.in_(ids)
    if key == "department":
        return model.department.in_(name_ids(Department, Department.name, _term(raw), "department"))
    if key == "network":
        return model.network.in_(name_ids(Network, Network.name, _term(raw), "network"))
    if key == "type":
        return System.type.in_([choose(item, SYSTEM_TYPES, "system type") for item in raw.items])
    if key == "kind":
        return Peripheral.kind.in_([choose(item, PERIPHERAL_KINDS, "peripheral kind") for item in raw.items])
    if key == "status":
        return model.status.in_([choose(item, ASSET_STATUSES, "status") for item in raw.items])
    if key == "user":
        return names_or_none(raw, System.assigned_user, User, User.username, "user")
    if key == "system":
        return names_or_none(raw, Peripheral.system, System, System.hostname, "system")
    if key == "warranty":
        return _within(System.warranty_end, date_range(single(raw), now))
    if key == "is":
        for item in raw.items:
            choose(item, _IS_WORDS, "'is' value")
        return StockItem.quantity <= StockItem.reorder_level
    raise QueryError(f"unsupported filter {key!r}", raw.position)


def _first_day_from(moment: datetime) -> date:
    """The first whole day at or after ``moment``."""
    return moment.date() if moment.time() == time() else moment.date() + timedelta(days=1)


def _within(column, span: DateRange):
    """A date column inside the half-open range of moments (a day counts from its midnight)."""
    parts = []
    if span.start is not None:
        parts.append(column >= _first_day_from(span.start))
    if span.end is not None:
        parts.append(column < _first_day_from(span.end))
    return all_of(parts)


# --- lists ------------------------------------------------------------------------------


def _system_rows(ids):
    return (
        System.select(
            System.id,
            System.version,
            System.hostname,
            System.asset_tag,
            System.type,
            System.ip,
            System.mac,
            System.manufacturer,
            System.model_name,
            System.serial,
            System.os,
            Department.name.alias("department"),
            Network.name.alias("network"),
            User.username.alias("assigned_user"),
            System.status,
            System.purchase_date,
            System.warranty_end,
            System.notes,
            ids.c.sort_value.alias("_sort"),
        )
        .join(ids, on=(System.id == ids.c.page_id))
        .switch(System)
        .join(Department, JOIN.LEFT_OUTER, on=(System.department == Department.id))
        .switch(System)
        .join(Network, JOIN.LEFT_OUTER, on=(System.network == Network.id))
        .switch(System)
        .join(User, JOIN.LEFT_OUTER, on=(System.assigned_user == User.id))
    )


def _peripheral_rows(ids):
    return (
        Peripheral.select(
            Peripheral.id,
            Peripheral.version,
            Peripheral.name,
            Peripheral.kind,
            Peripheral.asset_tag,
            Peripheral.serial,
            System.hostname.alias("system"),
            Peripheral.system.alias("system_id"),
            Department.name.alias("department"),
            Network.name.alias("network"),
            Peripheral.status,
            ids.c.sort_value.alias("_sort"),
        )
        .join(ids, on=(Peripheral.id == ids.c.page_id))
        .switch(Peripheral)
        .join(System, JOIN.LEFT_OUTER, on=(Peripheral.system == System.id))
        .switch(Peripheral)
        .join(Department, JOIN.LEFT_OUTER, on=(Peripheral.department == Department.id))
        .switch(Peripheral)
        .join(Network, JOIN.LEFT_OUTER, on=(Peripheral.network == Network.id))
    )


def _stock_rows(ids):
    return StockItem.select(
        StockItem.id,
        StockItem.version,
        StockItem.name,
        StockItem.description,
        StockItem.quantity,
        StockItem.unit_price,
        StockItem.reorder_level,
        ids.c.sort_value.alias("_sort"),
    ).join(ids, on=(StockItem.id == ids.c.page_id))


def _count_of(model, column, owner):
    """A correlated count of ``model`` rows whose ``column`` points at ``owner`` (small tables)."""
    return model.select(fn.COUNT(model.id)).where(column == owner.id)


def _department_rows(ids):
    return Department.select(
        Department.id,
        Department.version,
        Department.name,
        _count_of(System, System.department, Department).alias("systems"),
        _count_of(Peripheral, Peripheral.department, Department).alias("peripherals"),
        _count_of(User, User.department, Department).alias("users"),
        ids.c.sort_value.alias("_sort"),
    ).join(ids, on=(Department.id == ids.c.page_id))


def _network_rows(ids):
    return Network.select(
        Network.id,
        Network.version,
        Network.name,
        Network.cidr,
        Network.vlan,
        Network.location,
        _count_of(System, System.network, Network).alias("systems"),
        ids.c.sort_value.alias("_sort"),
    ).join(ids, on=(Network.id == ids.c.page_id))


_ROWS = {
    "system": _system_rows,
    "peripheral": _peripheral_rows,
    "stock": _stock_rows,
    "department": _department_rows,
    "network": _network_rows,
}
CENT = Decimal("0.01")


def _finish(kind: str, row: dict) -> dict:
    if kind == "stock":
        price = Decimal(row["unit_price"]).quantize(CENT)
        cursor = row.pop("_cursor")
        row["unit_price"] = price
        row["low"] = row["quantity"] <= row["reorder_level"]
        row["value"] = (price * row["quantity"]).quantize(CENT)
        row["_cursor"] = cursor
    elif kind in ("department", "network"):
        counts = {name: int(row.pop(name) or 0) for name in _COUNTS[kind]}
        cursor = row.pop("_cursor")
        row.update(counts)  # after the record's own columns, as the row keys are documented
        row["_cursor"] = cursor
    return row


_COUNTS = {"department": ("systems", "peripherals", "users"), "network": ("systems",)}


def page(
    actor: User,
    kind: str,
    text: str = "",
    sort: AssetSort | None = None,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> Page:
    """One page of the ``kind`` list after ``after`` (or before ``before``, read backwards).

    With neither cursor: the first page; ``before=END`` gives the last page. Rows are dicts
    (see the module's row keys) with ``_cursor`` to pass back as ``after``/``before``.
    """
    where = compile_filter(actor, kind, text)
    sort = sort or AssetSort.parse(kind, None)
    if sort.key not in SORTS[kind]:
        raise QueryError(
            f"cannot sort {PLURALS[kind]} by {sort.key!r}: use one of {', '.join(SORTS[kind])}", 0
        )
    model = MODELS[kind]
    key = SORTS[kind][sort.key]
    inner = model.select(model.id.alias("page_id"), key.alias("sort_value"))
    if (kind, sort.key) in _SORT_JOINS:
        joined, on = _SORT_JOINS[(kind, sort.key)]
        inner = inner.join(joined, JOIN.LEFT_OUTER, on=on)
    if where is not None:
        inner = inner.where(where)
    result = keyset_page(
        inner,
        key,
        model.id,
        _ROWS[kind],
        descending=sort.descending,
        after=after,
        before=before,
        limit=limit,
        nullable=(kind, sort.key) in _NULLABLE,
    )
    for row in result.rows:
        _finish(kind, row)
    return result


def count(actor: User, kind: str, text: str = "") -> int:
    """The exact number of ``kind`` rows ``text`` selects (the CLI, exports)."""
    return _selected(actor, kind, text).count()


def count_bounded(actor: User, kind: str, text: str = "", stopper: limits.Stopper | None = None) -> Count:
    """The number of ``kind`` rows ``text`` selects as the inventory screen shows it: exact up
    to ``queue.COUNT_BOUND``, else a lower bound ("10,000+") when counting takes longer than
    ``queue.COUNT_SECONDS`` (limits.bounded_count). ``stopper``: see limits.Stopper."""
    deadline = monotonic() + queue.COUNT_SECONDS  # the word lookups count too
    return Count(*limits.bounded_count(_selected(actor, kind, text), queue.COUNT_BOUND, deadline, stopper))


def stamp(kind: str, text: str) -> int | None:
    """What changes when the count of ``text`` in the ``kind`` list may have changed (the
    newest log entry: limits.written); None for a filter that follows the clock
    (``warranty:``): count again every time."""
    terms = tokenize(text or "", _ALIASES, FILTERS[_kind(kind)], _MAC_LIKE)
    return None if any(raw.key == "warranty" for raw in terms) else limits.written()


def _selected(actor: User, kind: str, text: str):
    where = compile_filter(actor, kind, text)
    model = MODELS[kind]
    query = model.select(model.id)
    return query if where is None else query.where(where)


def iterate(actor: User, kind: str, text: str = "", sort: AssetSort | None = None, batch: int = 500):
    """Every matching row in order, one page at a time (for exports and the CLI)."""
    after = None
    while True:
        result = page(actor, kind, text, sort, after=after, limit=batch)
        yield from result.rows
        if not result.has_more:
            return
        after = result.last


def stock_value(actor: User, text: str = "") -> Decimal:
    """The value (quantity x unit price) of the stock items ``text`` selects, summed in SQL."""
    where = compile_filter(actor, "stock", text)
    cents = fn.SUM(StockItem.quantity * fn.ROUND(StockItem.unit_price * 100))
    query = StockItem.select(cents)
    if where is not None:
        query = query.where(where)
    total = query.scalar()
    if total is None:
        return Decimal("0.00")
    return (Decimal(str(total)).to_integral_value() / 100).quantize(CENT)


# --- one system with everything around it -----------------------------------------------


@dataclass
class SystemDetail:
    system: dict  # the same keys as a row of the system list
    peripherals: list[dict] = field(default_factory=list)  # rows of the peripheral list
    tickets: list[dict] = field(default_factory=list)  # id, number, title, status, priority, created_at
    history: list = field(default_factory=list)  # AuditEntry rows (actor joined), oldest first


def system_detail(actor: User, system_id: int) -> SystemDetail:
    """A system's row, its attached peripherals, its tickets (newest first) and its history.

    ``tickets`` are every ticket ever linked to the system: those linked now, and those the
    log's ``ticket_linked`` entries on this system name (written by ``tickets.update``).
    """
    require(actor, "inventory.view")
    if not isinstance(system_id, int) or isinstance(system_id, bool):
        raise NotFound(f"system {system_id!r} does not exist")
    one = (
        System.select(System.id.alias("page_id"), System.hostname.alias("sort_value"))
        .where(System.id == system_id)
        .alias("page_ids")
    )
    rows = list(_system_rows(one).dicts())
    if not rows:
        raise NotFound(f"system {system_id} does not exist")
    system = rows[0]
    system["_cursor"] = Cursor(system.pop("_sort"), system["id"])
    attached = (
        Peripheral.select(Peripheral.id.alias("page_id"), Peripheral.name.alias("sort_value"))
        .where(Peripheral.system == system_id)
        .alias("page_ids")
    )
    peripherals = list(_peripheral_rows(attached).order_by(Peripheral.name_key, Peripheral.id).dicts())
    for row in peripherals:
        row["_cursor"] = Cursor(row.pop("_sort"), row["id"])
    history = list(
        AuditEntry.select(AuditEntry, User)
        .join(User, JOIN.LEFT_OUTER, on=(AuditEntry.actor == User.id))
        .where((AuditEntry.entity_type == "system") & (AuditEntry.entity_id == system_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    # Two index lookups, then the tickets by id: "system_id = ? OR id IN (...)" would make
    # SQLite walk the created_at index through every ticket to serve the ORDER BY.
    linked = {audit.changes_of(e)["ticket"][1] for e in history if e.action == "ticket_linked"}
    linked.update(t for (t,) in Ticket.select(Ticket.id).where(Ticket.system == system_id).tuples())
    tickets = (
        [
            {
                "id": t.id,
                "number": ticket_number(t.id),
                "title": t.title,
                "status": t.status,
                "priority": t.priority,
                "created_at": t.created_at,
            }
            for t in Ticket.select(Ticket.id, Ticket.title, Ticket.status, Ticket.priority, Ticket.created_at)
            .where(Ticket.id.in_(sorted(linked)))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        ]
        if linked
        else []
    )
    return SystemDetail(system, peripherals, tickets, history)
