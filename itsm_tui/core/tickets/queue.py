"""Ticket lists: the query language applied in SQL, sort orders and keyset pagination.

Pages never use OFFSET and never load more than one page: the next page starts after the
(sort key, id) of the last row shown, so any page costs the same at a million tickets.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from peewee import JOIN, SQL, Case, Entity, Node, Select, fn

from itsm_tui.core import clock
from itsm_tui.core.errors import QueryError
from itsm_tui.core.people.permissions import is_staff, require
from itsm_tui.core.store import fulltext, limits, records, statements
from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import (
    STATUSES,
    Category,
    Department,
    Peripheral,
    System,
    Team,
    TeamMember,
    Ticket,
    TicketTag,
    User,
    ticket_number,
)
from itsm_tui.core.tickets import sla
from itsm_tui.core.tickets.query import Query, Term, parse
from itsm_tui.core.tickets.rules import (
    OWN_NUMBER_RE,
)  # our number as ticket_number writes it; INC0000045 is not ours

SORT_RE = re.compile(r"^(?P<sign>[-+])?(?P<key>[a-z_]+)(?::(?P<dir>asc|desc))?$")
Requester = User.alias("requester")
Assignee = User.alias("assignee")

# sort name -> the SQL expression it orders by
SORTS = {
    "number": Ticket.id,
    "priority": Ticket.priority,
    "status": Case(Ticket.status, [(s, i) for i, s in enumerate(STATUSES)]),
    "title": Ticket.title,
    "requester": Requester.username_key,  # natural order (core/natural.py)
    "assignee": fn.COALESCE(Assignee.username_key, ""),
    "category": Category.name,
    "created": Ticket.created_at,
    "updated": Ticket.updated_at,
    "due": Ticket.resolution_due,
}
COLUMNS = (
    "number",
    "priority",
    "status",
    "title",
    "requester",
    "assignee",
    "category",
    "created_at",
    "updated_at",
    "response_due",
    "resolution_due",
    "first_response_at",
    "resolved_at",
    "version",
    "response_risk_at",
    "resolution_risk_at",
    "sla_paused_at",
    "source_number",
)


@dataclass(frozen=True)
class Sort:
    key: str = "updated"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        """'updated' or '+updated', '-priority' (descending), 'priority:desc', 'priority:asc'."""
        if not text:
            return cls()
        return cls(*parse_sort(text, SORTS))


def parse_sort(text: str, keys) -> tuple[str, bool]:
    """(key, descending) from 'key', '+key', '-key', 'key:asc' or 'key:desc', where the key
    must be one of ``keys``; a QueryError otherwise (shared by every list with sort keys)."""
    match = SORT_RE.match(text.strip().lower())
    if not match or match["key"] not in keys or (match["sign"] and match["dir"]):
        raise QueryError(
            f"cannot sort by {text.strip()!r}: use one of {', '.join(keys)}, "
            "with a leading '-' or ':desc' for descending",
            0,
        )
    return match["key"], match["sign"] == "-" or match["dir"] == "desc"


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


def _compile(
    actor: User, query: Query, now: datetime, walked: bool = False, scans: bool = True, lookups: bool = True
):
    """The WHERE clause for a parsed query, restricted to what the actor may see; ``walked``:
    see :func:`_among`; ``scans``: see :func:`_ids`; not ``lookups``: without the free text,
    which is not looked up (see :func:`check_filter`)."""
    clauses = [] if is_staff(actor) else [Ticket.requester == actor.id]
    for term in query.terms:
        if term.key != "text":
            clauses.append(negatable(_term(actor, term, now), term.negate))
    texts = [t for t in query.terms if t.key == "text"] if lookups else []
    return all_of(clauses + _text_clauses(actor, texts, walked, scans))


# A free-text term that matches at most this many tickets is applied as the list of their ids,
# so the database reads just those rows; a wider one is checked row by row (LIKE) while the walk
# of the sort order's index soon finds a page of them (1% of the rows or more match).
ID_LIST_LIMIT = 10_000
MATCH_SECONDS = 0.05  # a term whose ids take longer to list is taken as wide
# A term's (and on MySQL each of its words') number of tickets is estimated (fulltext.estimates)
# before the index is asked: listing a wide term's first 10,001 ids costs more than its page
# (SQLite), and InnoDB reads a common word's whole list whatever the LIMIT or time limit
# (0.5-0.8 s for a word in 1 ticket of 6 at 1M tickets; 14 s for a phrase).
# MySQL, a term whose words are all in more than ID_LIST_LIMIT tickets: in at least this share of
# the tickets, the walk of the sort order's index finds a page within 10,000 rows; a rarer one is
# looked up by all its words, as InnoDB reads their lists (0.5 s for three such words at 1M
# tickets) where the walk would read the whole table (2 s).
WALK_SHARE = 0.005


def _text_clauses(actor: User, terms: list[Term], walked: bool = False, scans: bool = True) -> list:
    """The free-text terms, through the full-text index (core/store/fulltext.py)."""
    internal = is_staff(actor)  # internal notes are searched for staff only
    ids: set[int] | None = None  # the tickets every narrow term found so far
    wide = []
    for term in (t for t in terms if not t.negate):
        found = _ids(term, internal, scans=scans)
        if found is None:
            wide.append(term)
        else:
            ids = found if ids is None else ids & found
    clauses = []
    if ids is not None:
        for term in wide:  # only among the few the narrow terms found
            found = _ids(term, internal, among=ids, scans=scans)
            if found is None:  # a common word (MySQL): checked on those few rows
                clauses.append(_holds(term, internal))
            else:
                ids = found
        clauses.append(_among(ids, walked))
    else:
        clauses += [_holds(term, internal) for term in wide]
    for term in (t for t in terms if t.negate):  # the walk finds a page of rows without it at once
        found = _ids(term, internal, scans=False)
        clauses.append(
            negatable(_holds(term, internal), True) if found is None else Ticket.id.not_in(_listed(found))
        )
    return clauses


# One page in an order an index gives: ids this many times the tickets, squared, or more are
# checked on the walk of that index (see _among)
WALK_FACTOR = 5
WALKED_SORTS = frozenset({"updated", "created", "due", "number"})  # each has an index (or is the key)


def _among(ids: set[int], walked: bool):
    """The ticket is one of ``ids``. ``walked``: the query reads one page in an order an index
    gives; many ids (their number squared at least WALK_FACTOR times the tickets) are then
    checked on the walk of that index, which finds a page of them within a few thousand
    entries, instead of each row read by its id and all sorted (a page of 6,535 ids among 1M
    tickets: SQLite 1.6 ms instead of 19.5, MariaDB 4.5 instead of 22.6; 2,000 ids on MariaDB:
    6.8 against 9.1). No index serves ``id + 0``, so the database walks the order's."""
    if walked:
        tickets = Ticket.select(fn.MAX(Ticket.id)).scalar() or 0
        if len(ids) ** 2 >= WALK_FACTOR * tickets:
            return (Ticket.id + 0).in_(_listed(ids))
    return Ticket.id.in_(_listed(ids))


def _listed(ids) -> SQL:
    """A subquery of ``ids`` passed as one parameter (a JSON array): a filter holds up to
    ``ID_LIST_LIMIT`` ids, and an ``IN`` list of their own parameters costs more to build (peewee
    makes a node of each) and to bind than the read itself (55 ms for 6,500 ids)."""
    array, p = json.dumps(sorted(ids)), database.param
    if is_mysql():
        return SQL(
            f"(SELECT listed.id FROM JSON_TABLE({p}, '$[*]' COLUMNS (id BIGINT PATH '$')) AS listed)",
            (array,),
        )
    return SQL(f"(SELECT value FROM json_each({p}))", (array,))


def _matching(term: Term, internal: bool, among=None, words=None):
    """The ids of the tickets ``term`` finds (UNION ALL: a ticket may come twice), by text or
    by our number."""
    text = str(term.values[0])
    found = fulltext.matching(text, internal, among, words)
    number = own_number(text)
    if number is not None:
        found = found + Ticket.select(Ticket.id).where(Ticket.id == number)
    return found


def _holds(term: Term, internal: bool):
    """``term`` checked row by row: by text, or by our number."""
    text = str(term.values[0])
    number = own_number(text)
    clause = fulltext.holds(text, internal)
    return clause if number is None else clause | (Ticket.id == number)


def _ids(term: Term, internal: bool, among: set[int] | None = None, scans: bool = True) -> set[int] | None:
    """The ids ``term`` finds (among ``among``), or None when there are more than
    ``ID_LIST_LIMIT`` (or, MySQL, when its words are all in more tickets than that and the walk
    finds it sooner). MariaDB asks for a phrase's word pairs (``fulltext.pairs``) instead of
    its words, and walks for one in more than ``WALK_SHARE`` of the tickets (a pair's list of
    6,535 tickets costs InnoDB 50 ms), and a term of two characters in its index of them
    (``fulltext.grams``). MySQL, a term the index cannot serve (an emoji; on MySQL, two
    letters) that the sample of a desk of more than ``ID_LIST_LIMIT`` tickets did not find is
    listed by a scan, which finds its few tickets sooner than the walk looks for a page of them
    (an absent one among 1,000,000 tickets: 1.0-1.5 s against 3.9-6.9 s); unless not ``scans``
    (a count that must end in time): then as any lookup, within ``MATCH_SECONDS``. Such a term
    negated is not looked up at all: the walk finds a page of tickets without it at once."""
    text = str(term.values[0])
    pairs = fulltext.pairs(text) if is_mysql() else None
    keys = pairs or (fulltext.index_words(text) if is_mysql() else [])  # what the index is asked for
    if fulltext.grams(Ticket, text):
        keys = [text]  # MariaDB: two characters, in their own index
    if term.negate and is_mysql() and not keys:
        return None  # its lookup is a scan; the walk leaves its rows out as it goes
    sampled = [text] if keys == [text] else [text, *keys]  # two characters: the key is the text
    tickets, (holding, *each_key) = fulltext.estimates(Ticket, sampled, ID_LIST_LIMIT)
    each_key = each_key or [holding] * len(keys)
    if among is None and (holding > ID_LIST_LIMIT or (pairs and holding >= WALK_SHARE * tickets)):
        return None
    rare = _asked(keys, each_key, holding, bool(pairs))
    limited = True  # MySQL: a key more common than the sample showed gives up early
    if keys and not rare:  # InnoDB would read every key's whole list
        if among is not None or holding >= WALK_SHARE * tickets:
            return None
        rare, limited = keys, False  # rarer than that: the walk would read the whole table
    scanned = scans and not keys and holding == 0 and tickets > ID_LIST_LIMIT
    found = _matching(term, internal, _listed(among) if among is not None else None, rare or None)
    found = found.limit(ID_LIST_LIMIT + 1)
    try:
        if is_mysql() and limited and not scanned:
            rows = limits.rows_within(found, MATCH_SECONDS)
        else:  # the driver's rows: peewee's own handling of 10,000 costs 10 ms
            rows = database.execute_sql(*found.sql()).fetchall()
    except limits.Stopped:
        return None
    return {row[0] for row in rows} if len(rows) <= ID_LIST_LIMIT else None  # rows: a ticket twice


# MariaDB reads a word pair's list of tickets at about 0.6 µs an entry, and each ticket the
# lookup finds at about 5: a phrase's further pair, common as it may be, is asked for too while
# its list costs less than the tickets it leaves out (at 1M tickets, '+vpn_printer' alone found
# 6,723 tickets in 33-50 ms; with '+printer_laptop', 236 in 8-10 ms).
LIST_PER_FOUND = 8


def _asked(keys: list[str], each_key: list[int], holding: int, pairs: bool) -> list[str]:
    """The keys to ask the index for: those in at most ``ID_LIST_LIMIT`` tickets; a phrase's
    pairs (``pairs``) also while their lists are worth reading (``LIST_PER_FOUND``), given the
    rarest one and the phrase's own estimate (``holding``)."""
    rare = [each for each in each_key if each <= ID_LIST_LIMIT]
    bound = ID_LIST_LIMIT
    if pairs and rare:
        bound = max(bound, LIST_PER_FOUND * (min(rare) - holding))
    return [key for key, each in zip(keys, each_key) if each <= bound]


def negatable(clause, negate: bool):
    """``clause``, or its negation where NULL (an absent value) counts as 'does not match', so
    ``-assignee:agent`` keeps the unassigned tickets."""
    return ~fn.COALESCE(clause, False) if negate else clause


def all_of(clauses):
    """The AND of ``clauses``, or None when there are none."""
    return reduce(lambda a, b: a & b, clauses) if clauses else None


# date key -> its column; a ticket never resolved (NULL) matches no resolved: term, every -resolved:
_DATE_COLUMNS = {"created": Ticket.created_at, "updated": Ticket.updated_at, "resolved": Ticket.resolved_at}


def _term(actor: User, term: Term, now: datetime):
    key, values = term.key, term.values
    # Requesters get no "no such name" errors: they would reveal which users, departments and
    # assets exist. An unknown name simply matches nothing for them.
    strict = is_staff(actor)
    if key == "status":
        return Ticket.status.in_(values)
    if key == "priority":
        return Ticket.priority.in_(values)
    if key == "category":
        return Ticket.category.in_(name_ids(Category, Category.name, term, "category", strict))
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
            ids = name_ids(
                User,
                User.username,
                Term(key, tuple(n for n, _ in names), False, term.position, tuple(p for _, p in names)),
                "user",
                strict,
            )
            parts.append(column.in_(ids))
        return reduce(lambda a, b: a | b, parts)
    if key == "team":  # issue 21: a team's name, mine (the actor's teams), or none
        return _team_clause(actor, term, strict)
    if key == "department":
        depts = name_ids(Department, Department.name, term, "department", strict)
        return Ticket.requester.in_(User.select(User.id).where(User.department.in_(depts)))
    if key == "asset":
        return _asset_clause(term, strict)
    if key in _DATE_COLUMNS:
        column = _DATE_COLUMNS[key]
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
            parts.append(Ticket.created_at <= _ago(now, span.min))
        if span.max is not None:
            parts.append(Ticket.created_at > _ago(now, span.max))
        return reduce(lambda a, b: a & b, parts)
    if key == "sla":
        return reduce(lambda a, b: a | b, (sla.state_clause(state, now) for state in values))
    if key == "sla_outcome":
        met = {
            "met": Ticket.resolution_met == True,
            "breached": Ticket.resolution_met == False,  # noqa: E712
            "unknown": Ticket.resolution_met.is_null(),
        }
        return Ticket.status.in_(sla.STOPPED) & reduce(lambda a, b: a | b, (met[v] for v in values))
    if key == "reopened":
        return reduce(
            lambda a, b: a | b,
            ((Ticket.reopen_count > 0) if v == "yes" else (Ticket.reopen_count == 0) for v in values),
        )
    if key == "source":
        return Ticket.source_number.in_(_spellings(values))
    if key == "tag":  # issue 21
        wanted = [value.lower().lstrip("#") for value in values]
        return Ticket.id.in_(TicketTag.select(TicketTag.ticket).where(TicketTag.tag.in_(wanted)))
    raise QueryError(f"unsupported filter {key!r}", term.position)


def _team_clause(actor: User, term: Term, strict: bool):
    parts, named = (
        [],
        [(v, p) for v, p in zip(term.values, term.value_positions) if v not in ("mine", "none")],
    )
    if "mine" in term.values:
        parts.append(Ticket.team.in_(TeamMember.select(TeamMember.team).where(TeamMember.user == actor.id)))
    if "none" in term.values:
        parts.append(Ticket.team.is_null())
    if named:
        names = Term(term.key, tuple(v for v, _ in named), False, term.position, tuple(p for _, p in named))
        parts.append(Ticket.team.in_(name_ids(Team, Team.name, names, "team", strict)))
    return reduce(lambda a, b: a | b, parts)


def _ago(now: datetime, span) -> datetime:
    """``now - span``, or the dawn of time for an age longer than the calendar holds."""
    try:
        return now - span
    except OverflowError:
        return datetime.min


def name_ids(model, column, term: Term, label: str, strict: bool = True) -> list[int]:
    """Resolve names case-insensitively; an unknown name is an error at its position
    (``strict``) or matches nothing."""
    ids = []
    for value, pos in zip(term.values, term.value_positions):
        found = statements.dicts(
            lambda clauses: model.select(model.id).where(*clauses).limit(1),
            [records.same_name(column, str(value))],
            (model,),
        )
        if found:
            ids.append(found[0]["id"])
        elif strict:
            raise QueryError(f"no {label} named {value!r}", pos)
    return ids


def names_or_none(raw, column, model, name_column, label: str):
    """``column`` points at one of the records named in ``raw``'s values (a ``query.RawTerm``,
    names resolved like :func:`name_ids`, strictly), or is empty for the word ``none``."""
    named = [item for item in raw.items if item.text.lower() != "none"]
    parts = [column.is_null()] if len(named) < len(raw.items) else []
    if named:
        term = Term(
            raw.key, tuple(i.text for i in named), raw.negate, raw.position, tuple(i.position for i in named)
        )
        parts.append(column.in_(name_ids(model, name_column, term, label)))
    return reduce(lambda a, b: a | b, parts)


def _asset_clause(term: Term, strict: bool):
    parts = [Ticket.system.in_([])]  # matches nothing; the base of the OR
    for value, pos in zip(term.values, term.value_positions):
        lowered = str(value).lower()
        systems = [
            s.id
            for s in System.select(System.id).where(
                (fn.LOWER(System.asset_tag) == lowered) | (fn.LOWER(System.hostname) == lowered)
            )
        ]
        peripherals = [
            p.id for p in Peripheral.select(Peripheral.id).where(fn.LOWER(Peripheral.asset_tag) == lowered)
        ]
        if not systems and not peripherals and strict:
            raise QueryError(f"no system or peripheral {value!r}", pos)
        if systems:
            parts.append(Ticket.system.in_(systems))
        if peripherals:
            parts.append(Ticket.peripheral.in_(peripherals))
    return reduce(lambda a, b: a | b, parts)


def _spellings(values) -> list[str]:
    """Source numbers as typed and upper-cased (exports write them upper case), for an exact,
    indexed match."""
    return sorted({str(v) for v in values} | {str(v).upper() for v in values})


def own_number(text: str) -> int | None:
    """The ticket id ``text`` names in our own number format, else None."""
    match = OWN_NUMBER_RE.match(text.strip())
    return int(match.group(1)) if match else None


def _exact(query: Query, where) -> list[int]:
    """The ids of the tickets that a free-text term names exactly, by our number or by the
    source's, among those the filter finds: they are listed first."""
    words = [t.values[0] for t in query.terms if t.key == "text" and not t.negate]
    if not words:
        return []
    by_source = Ticket.select(Ticket.id).where(Ticket.source_number.in_(_spellings(words))).limit(20)
    named = [row.id for row in by_source] + [n for n in map(own_number, words) if n is not None]
    if not named:
        return []
    # the few named first, then the filter on them alone: one query with both may walk the
    # whole table (an OR of two indexes, or a common word's row-by-row check)
    found = Ticket.select(Ticket.id).where(Ticket.id.in_(named))
    return [row.id for row in (found.where(where) if where is not None else found)]


def compile_filter(
    actor: User,
    text: str | Query | None,
    now: datetime | None = None,
    walked: bool = False,
    scans: bool = True,
):
    """The filter's WHERE clause; ``walked``: for one page in an order an index gives (see
    :func:`_among`); ``scans``: see :func:`_ids`."""
    require(actor, "ticket.view_own")
    now = now or clock.now()  # one reading, so 'today' and 'age' agree
    query = text if isinstance(text, Query) else parse(text or "", now=now)
    return _compile(actor, query, now, walked, scans)


def check_filter(actor: User, text: str) -> None:
    """Raise what :func:`compile_filter` would (a QueryError for a wrong term or an unknown
    name) without looking the free text up: the filter bar checks a filter before its list
    is read, and an absent two-letter term costs MariaDB a scan."""
    require(actor, "ticket.view_own")
    now = clock.now()
    _compile(actor, parse(text or "", now=now), now, lookups=False)


def count(actor: User, text: str | Query | None = None) -> int:
    where = compile_filter(actor, text)
    query = Ticket.select()
    if where is not None:
        query = query.where(where)
    return query.count()


COUNT_BOUND = 10_000
# A count reads for at most this long in all (its word lookups too), then says how many it
# found by then ("10,000+", or fewer with a "+": at least that many); what is left of it after
# the first 10,001 matches goes to making a count beyond them exact.
COUNT_SECONDS = 0.09


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool  # False: at least ``value`` ("10,000+")

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"{self.value:,}+"


def count_bounded(
    actor: User, text: str | Query | None = None, stopper: limits.Stopper | None = None
) -> Count:
    """The number of matching tickets: exact up to ``COUNT_BOUND``, and beyond it when counting
    them all fits in ``COUNT_SECONDS``; otherwise a lower bound: the bound ("10,000+"), or the
    matches found in that time. ``stopper`` lets another thread stop it (``limits.Stopped``)
    when the filter changes."""
    deadline = time.monotonic() + COUNT_SECONDS
    where = compile_filter(actor, text, scans=False)
    query = Ticket.select(Ticket.id)
    if where is not None:
        query = query.where(where)
    return Count(*limits.bounded_count(query, COUNT_BOUND, deadline, stopper))


# Filters whose result changes with the clock alone, without any write.
_TIMELY = ("age", "sla", "created", "updated", "resolved")


def stamp(text: str | Query | None) -> tuple | None:
    """What changed in the tickets lately (their newest update and id, the newest comment, and the
    newest log entry, which every write through a service makes: a delete, a merge, a tag), read
    from indexes at once: a timed refresh that finds the same stamp as its last read need not
    read again. None when the filter depends on the clock: read again every time."""
    query = text if isinstance(text, Query) else parse(text or "")
    if any(term.key in _TIMELY for term in query.terms):
        return None
    row = database.execute_sql(
        "SELECT (SELECT MAX(updated_at) FROM ticket), (SELECT MAX(id) FROM ticket), "
        "(SELECT MAX(id) FROM comment), (SELECT MAX(id) FROM audit_log)"
    ).fetchone()
    return tuple(row)


# sort name -> how the inner query reaches a sort column that lives in another table
SORT_JOINS = {
    "requester": (Requester, JOIN.INNER, Ticket.requester == Requester.id),
    "assignee": (Assignee, JOIN.LEFT_OUTER, Ticket.assignee == Assignee.id),
    "category": (Category, JOIN.INNER, Ticket.category == Category.id),
}


def page(
    actor: User,
    text: str | Query | None = None,
    sort: Sort = Sort(),
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 50,
    fields: frozenset[str] | None = None,
) -> Page:
    """One page of rows after ``after`` (or before ``before``, read backwards), in sort order.

    With neither cursor: the first page; ``before=END`` gives the last page. ``fields``: the
    row fields to read (a subset of :data:`FIELDS`; all of them by default).

    A deferred join: the inner query finds the page's ids on the ticket table alone (so the
    planner walks the sort key's index and stops after one page), the outer one fetches the
    names for just those rows. Joining first lets MariaDB start from the small tables and sort
    every match.

    A free-text word that names tickets exactly (our number, or the number their source gave
    them) lists those first, at the top of the first page (or of the last page read backwards).
    """
    planned = plan(actor, text, walked=sort.key in WALKED_SORTS)
    return _page(planned, sort, after, before, limit, FIELDS if fields is None else fields)


def _page(planned: tuple, sort: Sort, after, before, limit: int, fields: frozenset[str]) -> Page:
    """:func:`page` once its filter is planned (:func:`plan`)."""
    where, exact, query = planned
    parts, index = _reads(query, sort)
    return _read(where, exact, sort, after, before, limit, fields, parts, index)


class PagePlans:
    """The pages of one list read with one plan of its filter while nothing changed: the app's
    queue looks the filter's text up for its first page, not again for each window paged to
    (MariaDB lists a rare two-letter term by a scan of the table). The plan is made again when
    the filter, the sort key or the actor's role changed, or some ticket did (:func:`stamp`,
    read before the plan, so a write meanwhile moves it); a filter on the clock is planned for
    every page. Several threads may read pages at once: a race costs one plan more."""

    def __init__(self) -> None:
        self._kept: tuple = ((), None)  # (what the plan is for, the plan)

    def page(
        self, actor: User, text: str, sort: Sort, after: Cursor | None, before: Cursor | None, limit: int
    ) -> Page:
        require(actor, "ticket.view_own")  # the role as it is now: what the plan may show
        changes = stamp(text)
        key = (actor.id, actor.role, text, sort.key, changes)
        kept_for, planned = self._kept
        if changes is None or kept_for != key:
            planned = plan(actor, text, walked=sort.key in WALKED_SORTS)
            self._kept = (key, planned)
        return _page(planned, sort, after, before, limit, FIELDS)


def plan(actor: User, text: str | Query | None, walked: bool = False) -> tuple:
    """The filter's WHERE clause, the ids it names exactly (its word lookups run here, once
    per list however many pages are read) and the parsed query; ``walked``: see
    :func:`_among` (one page, not every page of an export)."""
    now = clock.now()
    query = text if isinstance(text, Query) else parse(text or "", now=now)
    where = compile_filter(actor, query, now, walked)
    return where, _exact(query, where), query


PARTS_LIMIT = 4  # at most this many ordered reads for one page


def _reads(query: Query, sort: Sort) -> tuple[list | None, str | None]:
    """How a page of ``query`` reads the ticket table: (parts, index).

    ``parts``: clauses that split the filter into one part per priority, for several
    priorities (``prio:critical,high``) behind one category, when an index then gives the
    sort order (category, priority, updated): each part is read in order from that index and
    stops after a page, where the whole filter would read and sort every match. None
    otherwise: a filter without such a column soon finds a page by walking the sort key's
    index (measured at 1M tickets: splitting ``status:open`` or several categories costs more
    than it saves).

    ``index``: on MySQL/MariaDB, that index, forced, for a filter of nothing but status,
    priority and category. MariaDB walks the sort key's own index for ORDER BY ... LIMIT once
    ``status:open`` joins ``cat:network prio:high``: 30-95 ms at 1M tickets for what the
    ordering index gives in 2 ms. With any other term (a rare word, an assignee) the
    optimizer's choice stands."""
    found = _ordering_index(query, sort)
    if found is None:
        return None, None
    name, priorities = found
    parts = [Ticket.priority == priority for priority in priorities] if len(priorities) > 1 else None
    forced = is_mysql() and all(t.key in PINNING for t in query.terms)
    return parts, name if forced else None


PINNING = frozenset({"status", "priority", "category"})  # the terms a forced index serves alone


def _ordering_index(query: Query, sort: Sort) -> tuple[str, list[int]] | None:
    """The index (its name) whose leading columns are the filter's one category and its
    priorities (one to PARTS_LIMIT), followed by the sort key, with those priorities; None when
    there is none."""
    sort_column = getattr(SORTS[sort.key], "name", None)
    terms = {t.key: t for t in query.terms if t.key in ("priority", "category") and not t.negate}
    priorities = sorted(set(terms["priority"].values)) if "priority" in terms else []
    if not 0 < len(priorities) <= PARTS_LIMIT or "category" not in terms:
        return None
    values = {key: _values(term) for key, term in terms.items()}
    for name, columns in TICKET_INDEXES:
        prefix = columns[: columns.index(sort_column)] if sort_column in columns else []
        others = [column for column in prefix if column != "priority"]
        if "priority" in prefix and others:
            if all(len(values.get(column, ())) == 1 for column in others):
                return name, priorities
    return None


TICKET_INDEXES = [(i._name, [c.name for c in i._expressions]) for i in Ticket._meta.fields_to_index()]


def _values(term: Term) -> list:
    """The distinct values a priority or category term names (category names case folded: the
    filter resolved them already, and one name is one category)."""
    if term.key == "category":
        return sorted({str(value).casefold() for value in term.values})
    return sorted(set(term.values))


# row field -> what it selects (the sort value and the id always come); FIELDS, all of them
_FIELDS = {
    "title": Ticket.title,
    "status": Ticket.status,
    "priority": Ticket.priority,
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "response_due": Ticket.response_due,
    "resolution_due": Ticket.resolution_due,
    "first_response_at": Ticket.first_response_at,
    "resolved_at": Ticket.resolved_at,
    "version": Ticket.version,
    "response_risk_at": Ticket.response_risk_at,
    "resolution_risk_at": Ticket.resolution_risk_at,
    "sla_paused_at": Ticket.sla_paused_at,
    "source_number": Ticket.source_number,
    "category": Category.name.alias("category"),
    "requester": Requester.username.alias("requester"),
    "assignee": Assignee.username.alias("assignee"),
    "team": Team.name.alias("team"),
}
FIELDS = frozenset(_FIELDS)
# field -> the join that reads it (the sort joins, and the team)
FIELD_JOINS = {**SORT_JOINS, "team": (Team, JOIN.LEFT_OUTER, Ticket.team == Team.id)}


def _read(
    where, exact: list[int], sort: Sort, after, before, limit: int, fields=FIELDS, parts=None, index=None
) -> Page:
    """:func:`page` once the filter is planned; rows hold ``fields`` (and ``id``, ``number``);
    ``parts`` and ``index``: see :func:`_reads`."""
    key = SORTS[sort.key]
    if exact:  # named exactly: first, and not again among the others
        where = all_of([where, Ticket.id.not_in(exact)])

    inner = Ticket.select(Ticket.id.alias("page_id"), key.alias("sort_value"))
    if sort.key in SORT_JOINS:
        model, join_type, on = SORT_JOINS[sort.key]
        inner = inner.join(model, join_type, on=on)
    shape = ("ticket", sort.key, frozenset(fields))

    def names(ids):
        query = Ticket.select(
            Ticket.id, *(_FIELDS[f] for f in _FIELDS if f in fields), ids.c.sort_value.alias("_sort")
        ).join(ids, on=(Ticket.id == ids.c.page_id))
        for field, (model, join_type, on) in FIELD_JOINS.items():
            if field in fields:
                query = query.switch(Ticket).join(model, join_type, on=on)
        return query

    top = after is None and before is None
    result = keyset_page(
        inner,
        key,
        Ticket.id,
        names,
        where=where,
        descending=sort.descending,
        after=after,
        before=before,
        limit=max(1, limit - len(exact)) if top else limit,
        parts=parts,
        index=index,
        shape=(*shape, index),
    )
    if exact and (top or (before is not None and not result.has_more)):
        first = keyset_page(
            inner,
            key,
            Ticket.id,
            names,
            where=Ticket.id.in_(exact),
            descending=sort.descending,
            limit=len(exact),
            shape=shape,
        )
        result = Page(first.rows + result.rows, result.has_more)
    for row in result.rows:
        row["number"] = ticket_number(row["id"])
    return result


def keyset_page(
    inner,
    key,
    id_column,
    outer,
    *,
    where=None,
    descending: bool,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 50,
    nullable: bool = False,
    unique: bool = False,
    parts: list | None = None,
    index: str | None = None,
    shape: tuple | None = None,
) -> Page:
    """One page of a deferred join read by keyset (shared by every paged list).

    ``inner`` selects ``page_id`` (``id_column``) and ``sort_value`` (``key``) from the main
    table, with the joins the key needs; ``where`` filters it (or the caller already did).
    It gets the keyset condition, the order and the limit here, so the planner can walk the
    key's index and stop after a page. ``outer(ids)`` builds the query that joins the page's
    ids to the row columns and names and selects ``ids.c.sort_value.alias("_sort")``.
    ``nullable``: the key may be NULL (NULLs sort first ascending and last descending on SQLite
    and MySQL alike), so the cursor handles them. ``unique``: the key is a unique, non-null
    column, so it orders alone; MariaDB does not see that a unique index ends in the primary
    key and would sort the whole table for (key, id). ``parts``: clauses that split ``inner``
    into disjoint parts; each is read in order up to the limit (from an index that orders it),
    and the page is the first rows of their UNION ALL. ``index``: the index each read is told
    to use (MySQL's FORCE INDEX). ``shape``: names everything ``inner``
    and ``outer`` hold (but ``where``), so the page's SQL is compiled once per shape
    (:func:`statements.dicts`); None compiles it every time.
    """
    backwards = before is not None
    desc = descending != backwards
    cursor = before if backwards else after
    beyond = None
    if cursor is not None and cursor != END:
        if unique:
            beyond = key < cursor.value if desc else key > cursor.value
        else:
            beyond = _beyond(key, id_column, cursor, desc, nullable)
    both = (key.desc(), id_column.desc()) if desc else (key.asc(), id_column.asc())
    order = both[:1] if unique else both

    source = inner.from_(_Forced(inner.model, index)) if index else inner

    def build(clauses):
        selects = [source.where(clause) if clause is not None else source for clause in clauses]
        if parts:
            ids = _merged(selects, order, limit + 1, descending=desc)
        else:
            ids = selects[0].order_by(*order).limit(limit + 1).alias("page_ids")
        sort_value = ids.c.sort_value
        return outer(ids).order_by(
            *((sort_value.desc(), id_column.desc()) if desc else (sort_value.asc(), id_column.asc()))
        )

    clauses = [all_of([c for c in (where, beyond, part) if c is not None]) for part in parts or [None]]
    if shape is None:
        rows = list(build(clauses).dicts())
    else:
        rows = statements.dicts(build, clauses, (*shape, desc, unique, nullable, limit))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    for row in rows:
        row["_cursor"] = Cursor(row.pop("_sort"), row["id"])
    return Page(rows, has_more)


class _Forced(Node):
    """A table in FROM with MySQL's FORCE INDEX."""

    def __init__(self, model, index: str):
        self.model, self.index = model, index

    def __sql__(self, ctx):
        return ctx.sql(self.model).literal(" FORCE INDEX (").sql(Entity(self.index)).literal(")")


def _merged(inners: list, order, limit: int, *, descending: bool):
    """The first ``limit`` rows of ``inners`` (each read in ``order`` up to ``limit``), in order."""
    selects = [
        Select([inner.order_by(*order).limit(limit).alias(f"part{i}")], [SQL("*")])
        for i, inner in enumerate(inners)
    ]
    merged = reduce(lambda a, b: a + b, selects)  # UNION ALL
    outer = (SQL("sort_value"), SQL("page_id"))
    return (
        merged.order_by(*(c.desc() if descending else c.asc() for c in outer)).limit(limit).alias("page_ids")
    )


def _beyond(key, id_column, cursor: Cursor, descending: bool, nullable: bool):
    """Rows after ``cursor`` in (key, id) order; written as a range on the key so that an index
    on it (which ends in the primary key on both engines) serves the scan."""
    value, last_id = cursor.value, cursor.id
    if nullable and value is None:  # the cursor is among the NULLs
        if descending:  # NULLs come last: only NULLs with a smaller id remain
            return key.is_null() & (id_column < last_id)
        return (key.is_null() & (id_column > last_id)) | key.is_null(False)
    if descending:
        clause = (key <= value) & ((key < value) | (id_column < last_id))
        return (clause | key.is_null()) if nullable else clause
    return (key >= value) & ((key > value) | (id_column > last_id))


END = Cursor(None, 0)  # pass as ``before`` to read the last page


def iterate(
    actor: User, text: str | Query | None = None, sort: Sort = Sort(), batch: int = 500, fields=FIELDS
):
    """Every matching row in order, one page at a time (for exports and the CLI); ``fields``:
    the row fields to read (a subset of :data:`FIELDS`), so an export reads only its columns."""
    where, exact, query = plan(actor, text)
    (parts, index), after = _reads(query, sort), None
    while True:
        result = _read(where, exact, sort, after, None, batch, fields, parts, index)
        yield from result.rows
        if not result.has_more:
            return
        after = result.last
