"""Ticket lists: the query language applied in SQL, sort orders and keyset pagination.

Pages never use OFFSET and never load more than one page: the next page starts after the
(sort key, id) of the last row shown, so any page costs the same at a million tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from peewee import JOIN, Case, fn

from . import clock
from .errors import QueryError
from .models import STATUSES, Category, Department, Peripheral, System, Ticket, User, ticket_number
from .permissions import is_staff, require
from .query import Query, Term, parse
from .tickets import NUMBER_RE

Requester = User.alias("requester")
Assignee = User.alias("assignee")

# sort name -> the SQL expression it orders by
SORTS = {
    "number": Ticket.id,
    "priority": Ticket.priority,
    "status": Case(Ticket.status, [(s, i) for i, s in enumerate(STATUSES)]),
    "title": Ticket.title,
    "requester": Requester.username,
    "assignee": fn.COALESCE(Assignee.username, ""),
    "category": Category.name,
    "created": Ticket.created_at,
    "updated": Ticket.updated_at,
    "due": Ticket.resolution_due,
}
COLUMNS = (
    "number", "priority", "status", "title", "requester", "assignee", "category",
    "created_at", "updated_at", "response_due", "resolution_due", "first_response_at",
    "resolved_at", "version",
)


@dataclass(frozen=True)
class Sort:
    key: str = "updated"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> "Sort":
        """'updated', '-priority' (descending) or 'priority:desc'."""
        if not text:
            return cls()
        text = text.strip().lower()
        descending = text.startswith("-") or text.endswith(":desc")
        key = text.lstrip("-+").removesuffix(":desc").removesuffix(":asc")
        if key not in SORTS:
            raise QueryError(f"cannot sort by {key!r}: choose one of {', '.join(SORTS)}", 0)
        return cls(key, descending)


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort value and id of its last (or first) row."""

    value: object
    id: int


@dataclass
class Page:
    rows: list[dict]
    has_more: bool  # more rows beyond this page in the direction it was read

    @property
    def first(self) -> Cursor | None:
        return self.rows[0]["_cursor"] if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return self.rows[-1]["_cursor"] if self.rows else None


def _compile(actor: User, query: Query, now: datetime):
    """The WHERE clause for a parsed query, restricted to what the actor may see."""
    clauses = [] if is_staff(actor) else [Ticket.requester == actor.id]
    for term in query.terms:
        clause = _term(actor, term, now)
        clauses.append(~fn.COALESCE(clause, False) if term.negate else clause)
    return reduce(lambda a, b: a & b, clauses) if clauses else None


def _term(actor: User, term: Term, now: datetime):
    key, values = term.key, term.values
    if key == "status":
        return Ticket.status.in_(values)
    if key == "priority":
        return Ticket.priority.in_(values)
    if key == "category":
        return Ticket.category.in_(_ids(Category, Category.name, term, "category"))
    if key in ("assignee", "requester"):
        column = Ticket.assignee if key == "assignee" else Ticket.requester
        parts, names = [], []
        for value, pos in zip(values, term.value_positions):
            if value == "me":
                parts.append(column == actor.id)
            elif value == "unassigned" and key == "assignee":
                parts.append(column.is_null())
            else:
                names.append((value, pos))
        if names:
            ids = _ids(User, User.username, Term(key, tuple(n for n, _ in names), False, term.position,
                                                tuple(p for _, p in names)), "user")
            parts.append(column.in_(ids))
        return reduce(lambda a, b: a | b, parts)
    if key == "department":
        depts = _ids(Department, Department.name, term, "department")
        return Ticket.requester.in_(User.select(User.id).where(User.department.in_(depts)))
    if key == "asset":
        return _asset_clause(term)
    if key in ("created", "updated"):
        column = Ticket.created_at if key == "created" else Ticket.updated_at
        (span,) = values
        parts = []
        if span.start is not None:
            parts.append(column >= span.start)
        if span.end is not None:
            parts.append(column < span.end)
        return reduce(lambda a, b: a & b, parts)
    if key == "age":
        (span,) = values
        parts = []
        if span.min is not None:
            parts.append(Ticket.created_at <= now - span.min)
        if span.max is not None:
            parts.append(Ticket.created_at > now - span.max)
        return reduce(lambda a, b: a & b, parts)
    if key == "text":
        return _text_clause(values[0])
    raise QueryError(f"unsupported filter {key!r}", term.position)


def _ids(model, column, term: Term, label: str) -> list[int]:
    """Resolve names case-insensitively; an unknown name is an error at its position."""
    ids = []
    for value, pos in zip(term.values, term.value_positions):
        row = model.get_or_none(fn.LOWER(column) == str(value).lower())
        if row is None:
            raise QueryError(f"no {label} named {value!r}", pos)
        ids.append(row.id)
    return ids


def _asset_clause(term: Term):
    parts = []
    for value, pos in zip(term.values, term.value_positions):
        lowered = str(value).lower()
        systems = [s.id for s in System.select(System.id).where(
            (fn.LOWER(System.asset_tag) == lowered) | (fn.LOWER(System.hostname) == lowered))]
        peripherals = [p.id for p in Peripheral.select(Peripheral.id).where(
            fn.LOWER(Peripheral.asset_tag) == lowered)]
        if not systems and not peripherals:
            raise QueryError(f"no system or peripheral {value!r}", pos)
        if systems:
            parts.append(Ticket.system.in_(systems))
        if peripherals:
            parts.append(Ticket.peripheral.in_(peripherals))
    return reduce(lambda a, b: a | b, parts)


def _text_clause(text: str):
    clause = (
        Ticket.title.contains(text)
        | Ticket.description.contains(text)
        | Ticket.source_number.contains(text)
    )
    match = NUMBER_RE.match(text)
    if match:
        clause = clause | (Ticket.id == int(match.group(1)))
    return clause


def compile_filter(actor: User, text: str | Query | None, now: datetime | None = None):
    require(actor, "ticket.view_own")
    query = text if isinstance(text, Query) else parse(text or "", now=now or clock.now())
    return _compile(actor, query, now or clock.now())


def count(actor: User, text: str | Query | None = None) -> int:
    where = compile_filter(actor, text)
    query = Ticket.select()
    if where is not None:
        query = query.where(where)
    return query.count()


def page(
    actor: User,
    text: str | Query | None = None,
    sort: Sort = Sort(),
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> Page:
    """One page of rows after ``after`` (or before ``before``, read backwards), in sort order.

    With neither cursor: the first page; ``before=END`` gives the last page.
    """
    where = compile_filter(actor, text)
    key = SORTS[sort.key]
    backwards = before is not None
    descending = sort.descending != backwards
    query = (
        Ticket.select(
            Ticket.id, Ticket.title, Ticket.status, Ticket.priority, Ticket.created_at,
            Ticket.updated_at, Ticket.response_due, Ticket.resolution_due,
            Ticket.first_response_at, Ticket.resolved_at, Ticket.version,
            Category.name.alias("category"), Requester.username.alias("requester"),
            Assignee.username.alias("assignee"), key.alias("_sort"),
        )
        .join(Category, on=(Ticket.category == Category.id))
        .join(Requester, on=(Ticket.requester == Requester.id))
        .join(Assignee, JOIN.LEFT_OUTER, on=(Ticket.assignee == Assignee.id))
    )
    if where is not None:
        query = query.where(where)
    cursor = before if backwards else after
    if cursor is not None and cursor is not END:
        if descending:
            query = query.where((key <= cursor.value) & ((key < cursor.value) | (Ticket.id < cursor.id)))
        else:
            query = query.where((key >= cursor.value) & ((key > cursor.value) | (Ticket.id > cursor.id)))
    order = (key.desc(), Ticket.id.desc()) if descending else (key.asc(), Ticket.id.asc())
    rows = list(query.order_by(*order).limit(limit + 1).dicts())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    for row in rows:
        row["number"] = ticket_number(row["id"])
        row["_cursor"] = Cursor(row.pop("_sort"), row["id"])
    return Page(rows, has_more)


END = Cursor(None, 0)  # pass as ``before`` to read the last page


def iterate(actor: User, text: str | Query | None = None, sort: Sort = Sort(), batch: int = 500):
    """Every matching row in order, one page at a time (for exports and the CLI)."""
    after = None
    while True:
        result = page(actor, text, sort, after=after, limit=batch)
        yield from result.rows
        if not result.has_more:
            return
        after = result.last
