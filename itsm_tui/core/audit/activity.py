"""The activity log (the audit entries) as a list: filtered, newest first, a page at a time.

Supervisors and admins read everything, logins and user administration included; agents read
the history of tickets and inventory (:data:`WORK_ENTITIES`); requesters read nothing.

Pages are a deferred join read by keyset on (at, id), newest first, like the ticket queue: the
inner query walks the ``at`` index (or the actor, action or entity index when a filter names
one) and stops after a page; the outer one fetches the actors' names for just those rows.

The filter language has the syntax of the ticket language::

    actor:agent1,none action:update,delete type:system entity:INC000123 at:>2026-03-01
    is:login is:failed "printer"

``actor:`` usernames, or ``none`` for failed logins under unknown names; ``action:`` action
codes or the words the log shows for them (``"stock adjusted"``); ``type:`` entity types;
``entity:`` a record id or a ticket number (which implies ``type:ticket``); ``at:`` (``date:``)
a date or range like the ticket language's ``created:``; ``is:login`` logins and failed logins,
``is:failed`` failed logins; free text is looked for in the summary (through the full-text
index, core/store/fulltext.py, when the term is long enough for it).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime

from peewee import JOIN, SQL, NodeList

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, QueryError
from itsm_tui.core.labels import ACTION_LABELS, action_label, field_label
from itsm_tui.core.people.permissions import allowed, require
from itsm_tui.core.store import audit, fulltext, limits
from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import (
    AuditEntry,
    Category,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    User,
    ticket_number,
)
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets.query import RawTerm, choose, date_range, show, single, tokenize
from itsm_tui.core.tickets.queue import (
    END,
    ID_LIST_LIMIT,
    MATCH_SECONDS,
    Count,
    Cursor,
    Page,
    all_of,
    keyset_page,
    names_or_none,
    negatable,
)
from itsm_tui.core.tickets.rules import NUMBER_RE
from itsm_tui.core.tickets.timeline import Names

__all__ = [
    "WORK_ENTITIES",
    "page",
    "count",
    "count_bounded",
    "Count",
    "stamp",
    "entry",
    "iterate",
    "entity_label",
    "name_entities",
    "action_label",
    "field_label",
    "changes_in_words",
    "Cursor",
    "Page",
    "END",
]

WORK_ENTITIES = audit.WORK_ENTITIES
LOGIN_ACTIONS = ("login", "login_failed")
MAX_ID = 2**31 - 1  # the column is an INT on MySQL

_ALIASES = {
    "actor": "actor",
    "action": "action",
    "type": "type",
    "entity": "entity",
    "at": "at",
    "date": "at",
    "is": "is",
}
_KEYS = ("actor", "action", "type", "entity", "at", "is")
_IS_WORDS = ("login", "failed")


def _sees_everything(actor: User) -> bool:
    """Require the right to read the log at all; True when the actor may read all of it."""
    require(actor, "audit.view_work")  # refreshes the actor's role from the database
    return allowed(actor.role, "audit.view_all")


def compile_filter(actor: User, text: str | None, now: datetime | None = None):
    """The WHERE clause (or None) for ``text``, restricted to what ``actor`` may read."""
    return _compile(actor, text, now)[0]


def check_filter(actor: User, text: str) -> None:
    """Raise what :func:`compile_filter` would (a QueryError for a wrong term or an unknown
    name) without looking the free text up: the filter bar checks a filter before its list is
    read, which looks it up."""
    _compile(actor, text, lookups=False)


def _compile(actor: User, text: str | None, now: datetime | None = None, lookups: bool = True):
    """The WHERE clause, and the entity types of each ``type:`` term that is not negated; not
    ``lookups``: without the free text, which is not looked up."""
    everything = _sees_everything(actor)
    now = now or clock.now()
    clauses = [] if everything else [AuditEntry.entity_type.in_(WORK_ENTITIES)]
    type_terms = []
    for raw in tokenize(text or "", _ALIASES, _KEYS):  # lazily: the leftmost error wins
        if raw.key == "text" and not lookups:
            continue
        clause = _clause(raw, now)
        if raw.key == "is" and not everything:
            # Logins are entries about users, which agents do not see: say so to the planner,
            # or MariaDB reads every failed login of the year to find none it may show.
            clause = SQL("1 = 0")
        if raw.key == "type" and not raw.negate:
            type_terms.append(sorted({item.text.lower() for item in raw.items}))
        clauses.append(negatable(clause, raw.negate))
    return all_of(clauses), type_terms


def _clause(raw: RawTerm, now: datetime):
    key, items = raw.key, raw.items
    if key == "text":
        ids = fulltext.text_ids(AuditEntry, items[0].text, ID_LIST_LIMIT, MATCH_SECONDS)
        return (
            fulltext.contains_text(fulltext.TEXT_COLUMNS[AuditEntry], items[0].text)
            if ids is None
            else AuditEntry.id.in_(ids)
        )
    if key == "actor":
        return names_or_none(raw, AuditEntry.actor, User, User.username, "user")
    if key == "action":
        return AuditEntry.action.in_(sorted({_action_code(item.text) for item in items}))
    if key == "type":
        return AuditEntry.entity_type.in_(sorted({item.text.lower() for item in items}))
    if key == "entity":
        return _entity_clause(raw)
    if key == "at":
        span = date_range(single(raw), now)
        parts = []
        if span.start is not None:
            parts.append(AuditEntry.at >= span.start)
        if span.end is not None:
            parts.append(AuditEntry.at < span.end)
        return all_of(parts)
    if key == "is":
        words = {choose(item, _IS_WORDS, "'is' value") for item in items}
        return AuditEntry.action.in_(LOGIN_ACTIONS if "login" in words else ("login_failed",))
    raise QueryError(f"unsupported filter {key!r}", raw.position)


_BY_LABEL = {label.lower(): code for code, label in ACTION_LABELS.items()}


def _action_code(text: str) -> str:
    """The action code a filter names: the code itself (``stock_adjust``) or the words the log
    shows for it (``"stock adjusted"``, ``stock_adjusted``), in any case."""
    text = text.strip().lower()
    return _BY_LABEL.get(text.replace("_", " ").replace("-", " "), text)


def _entity_clause(raw: RawTerm):
    tickets: set[int] = set()
    ids: set[int] = set()
    for item in raw.items:
        text = item.text.strip()
        match = NUMBER_RE.match(text)
        if match:
            number, target = int(match.group(1)), tickets
        elif text.isascii() and text.isdigit():
            number, target = int(text), ids
        else:
            raise QueryError(
                f"entity: needs a record id like 42 or a ticket number like INC000123, not {show(item.text)}",
                item.position,
            )
        if number > MAX_ID:
            raise QueryError(f"entity: {show(item.text)} is larger than any record id", item.position)
        target.add(number)
    parts = []
    if tickets:
        parts.append((AuditEntry.entity_type == "ticket") & AuditEntry.entity_id.in_(sorted(tickets)))
    if ids:
        # "entity_type IN (every type)" lets the (entity_type, entity_id, at) index serve an id
        # of any type: a few index ranges instead of reading the whole log.
        parts.append(AuditEntry.entity_type.in_(_entity_types()) & AuditEntry.entity_id.in_(sorted(ids)))
    return parts[0] if len(parts) == 1 else parts[0] | parts[1]


def _entity_types() -> list[str]:
    """The distinct entity types in the log, read with one index seek per type rather than a
    read of every entry: MariaDB's optimizer does that skip scan for DISTINCT on an index
    prefix; SQLite needs it spelled out as a recursive query."""
    table = AuditEntry._meta.table_name  # a plain name: no quoting needed on either engine
    if is_mysql():
        sql = f"SELECT DISTINCT entity_type FROM {table}"
    else:
        sql = (
            f"WITH RECURSIVE types(v) AS ("
            f"SELECT MIN(entity_type) FROM {table} "
            f"UNION ALL SELECT (SELECT MIN(entity_type) FROM {table} WHERE entity_type > types.v) "
            f"FROM types WHERE types.v IS NOT NULL) "
            f"SELECT v FROM types WHERE v IS NOT NULL"
        )
    return [row[0] for row in database.execute_sql(sql).fetchall()]


# A type with at most this many entries is read through the entity index and sorted.
FEW = 5000


def _few(types: list[str]) -> bool:
    """True when the log holds at most FEW entries of ``types`` (counted on the index, so it
    costs at most FEW index entries).

    SQLite plans without knowing how many entries a type has: it walks the ``at`` index and
    filters, which reads the whole log for a rare type (a department's history). For a rare
    type the caller orders by ``+at``, which SQLite cannot serve from the ``at`` index, so it
    reads the type's entries from the entity index and sorts those few instead. MariaDB
    estimates from the index itself and needs no help."""
    probe = AuditEntry.select(SQL("1")).where(AuditEntry.entity_type.in_(types)).limit(FEW + 1)
    return probe.count() <= FEW


def _rows(ids):
    real = User.alias("real_user")
    return (
        AuditEntry.select(
            AuditEntry.id,
            AuditEntry.at,
            User.username.alias("actor"),
            AuditEntry.action,
            AuditEntry.entity_type,
            AuditEntry.entity_id,
            AuditEntry.entity_version,
            AuditEntry.summary,
            ids.c.sort_value.alias("_sort"),
            real.username.alias("real_actor"),
        )
        .join(ids, on=(AuditEntry.id == ids.c.page_id))
        .switch(AuditEntry)
        .join(User, JOIN.LEFT_OUTER, on=(AuditEntry.actor == User.id))
        .switch(AuditEntry)
        .join(real, JOIN.LEFT_OUTER, on=(AuditEntry.real_actor == real.id))
    )


# entity type -> the column that names its records in the Entity column
_NAMES = {
    "system": System.hostname,
    "peripheral": Peripheral.name,
    "stock": StockItem.name,
    "department": Department.name,
    "network": Network.name,
    "user": User.username,
    "category": Category.name,
}


def name_entities(rows: list[dict]) -> None:
    """Give each row its record's current name (``entity_name``; None once deleted): one
    query per entity type on the page, by primary key."""
    wanted = defaultdict(set)
    for row in rows:
        if row["entity_type"] in _NAMES and row["entity_id"] is not None:
            wanted[row["entity_type"]].add(row["entity_id"])
    names = {}
    for kind, ids in wanted.items():
        column = _NAMES[kind]
        model = column.model
        for record_id, name in model.select(model.id, column).where(model.id.in_(sorted(ids))).tuples():
            names[(kind, record_id)] = name
    for row in rows:
        row["entity_name"] = names.get((row["entity_type"], row["entity_id"]))


def entity_label(entity_type: str | None, entity_id: int | None, name: str | None = None) -> str:
    """'INC000123' for a ticket, 'system web-0042' when the record's name is known, 'system #42'
    when it is not (deleted since), or the bare type when there is no id."""
    kind = entity_type or ""
    if entity_id is None:
        return kind or "—"
    if kind == "ticket":
        return ticket_number(entity_id)
    return f"{kind} {name}" if name else f"{kind} #{entity_id}"


def page(
    actor: User, text: str = "", after: Cursor | None = None, before: Cursor | None = None, limit: int = 50
) -> Page:
    """One page of entries, newest first (at, then id, descending), after ``after`` (older) or
    before ``before`` (newer, read backwards). ``before=END`` gives the oldest entries."""
    where, type_terms = _compile(actor, text)
    key = AuditEntry.at
    if not is_mysql() and any(_few(types) for types in type_terms):
        key = NodeList((SQL("+"), AuditEntry.at), glue="")
    inner = AuditEntry.select(AuditEntry.id.alias("page_id"), key.alias("sort_value"))
    if where is not None:
        inner = inner.where(where)
    result = keyset_page(
        inner, key, AuditEntry.id, _rows, descending=True, after=after, before=before, limit=limit
    )
    for row in result.rows:
        cursor = row.pop("_cursor")
        row["failed"] = row["action"] == "login_failed"
        row["actor"] = audit.actor_text(row["actor"], row.pop("real_actor"))  # "system as agent1"
        row["_cursor"] = cursor
    name_entities(result.rows)
    return result


def count(actor: User, text: str = "") -> int:
    """The exact number of entries ``text`` selects (the CLI, exports)."""
    return _selected(actor, text).count()


def count_bounded(actor: User, text: str = "", stopper: limits.Stopper | None = None) -> Count:
    """The number of entries ``text`` selects as the log screen shows it: exact up to
    ``queue.COUNT_BOUND``, else a lower bound ("10,000+") when counting takes longer than
    ``queue.COUNT_SECONDS`` (limits.bounded_count). ``stopper``: see limits.Stopper."""
    deadline = time.monotonic() + queue.COUNT_SECONDS  # the word lookups count too
    return Count(*limits.bounded_count(_selected(actor, text), queue.COUNT_BOUND, deadline, stopper))


def stamp(text: str | None) -> int | None:
    """What changes when the count of ``text`` may have changed (limits.written); None for a
    filter that follows the clock (``at:``): count again every time."""
    if any(raw.key == "at" for raw in tokenize(text or "", _ALIASES, _KEYS)):
        return None
    return limits.written()


def _selected(actor: User, text: str):
    where = compile_filter(actor, text)
    query = AuditEntry.select(SQL("1"))
    return query if where is None else query.where(where)


def iterate(actor: User, text: str = "", batch: int = 500):
    """Every matching entry, newest first, one page at a time (for exports)."""
    after = None
    while True:
        result = page(actor, text, after=after, limit=batch)
        yield from result.rows
        if not result.has_more:
            return
        after = result.last


def entry(actor: User, entry_id: int) -> tuple[AuditEntry, dict]:
    """One entry (with ``.actor`` joined) and its changes in words (see changes_in_words).

    An entry the actor may not read is "not found", like one that does not exist."""
    everything = _sees_everything(actor)
    found = None
    if isinstance(entry_id, int) and not isinstance(entry_id, bool) and 0 < entry_id <= MAX_ID:
        found = (
            AuditEntry.select(AuditEntry, User)
            .join(User, JOIN.LEFT_OUTER, on=(AuditEntry.actor == User.id))
            .where(AuditEntry.id == entry_id)
            .first()
        )
    if found is None or not (everything or found.entity_type in WORK_ENTITIES):
        raise NotFound(f"log entry {entry_id} does not exist")
    return found, changes_in_words(found)


def changes_in_words(found: AuditEntry) -> dict[str, list]:
    """{field in words: [before, after]}: a referenced record by the name it had when the change
    was written, a ticket's status, priority, impact and urgency by their labels, yes/no for a
    flag, a file by its name; None for no value. Internal fields are named in words too."""
    names = Names([found])
    ticket = found.entity_type == "ticket"

    def word(field: str, value, index: int):
        if value is None or value == "":
            return None
        if isinstance(value, dict):
            return value.get("name") or ", ".join(f"{k} {v}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or None
        return names.show(field, value, found.id, index, ticket=ticket)

    shown = {}
    for field, pair in audit.changes_of(found).items():
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
        shown[field_label(field)] = [word(field, before, 0), word(field, after, 1)]
    return shown
