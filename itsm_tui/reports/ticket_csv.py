"""The ticket list as CSV at the speed of the rows (issue 22: a million tickets).

The same rows, order and cells as the generic path (the queue's rows through the columns'
``value`` and :func:`.csv_export.cell`), with the per-row and per-cell Python work taken out:

- one SELECT of only what the chosen columns are made from, in the list's order (the tickets a
  word names exactly first, as the queue lists them), read as plain tuples in batches; on MySQL
  through an unbuffered cursor, so memory holds one batch, not the whole result;
- people, categories and teams by id from tables read once per export, labels (priority,
  status) from the core's tables, each made CSV-safe once; no joins but the sort's;
- the SLA state in words by the database (:func:`.lists.sla_case`), not from seven times;
- times read as text (``CAST ... AS CHAR``: MySQL's driver would otherwise parse every one)
  and given their ISO 8601 T per batch (:func:`.csv_export.moments`);
- free text checked for formula and control characters once per batch
  (:func:`.csv_export.cells`).

Each batch is converted column by column; tests/reports compare every column with the
generic path's on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from itsm_tui.core import clock
from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import PRIORITY_NAMES, Category, Team, Ticket, User, ticket_number
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets.rules import STATUS_LABELS
from itsm_tui.reports.csv_export import cell, cells, moments
from itsm_tui.reports.lists import sla_case

BATCH = 2000

_TIMES = ("created_at", "updated_at", "response_due", "resolution_due", "resolved_at")
# what a batch reads: name -> its SQL (the times as text; "sla": lists.sla_case, per export)
_READS = {
    "id": Ticket.id,
    "priority": Ticket.priority,
    "status": Ticket.status,
    "title": Ticket.title,
    "source_number": Ticket.source_number,
    "requester_id": Ticket.requester,
    "assignee_id": Ticket.assignee,
    "category_id": Ticket.category,
    "team_id": Ticket.team,
    **{name: getattr(Ticket, name).cast("CHAR") for name in _TIMES},
}


@dataclass(frozen=True)
class _Tables:
    """What one export looks up: CSV-safe labels and names."""

    priorities: dict
    statuses: dict
    users: dict
    categories: dict
    teams: dict

    @classmethod
    def read(cls, keys) -> _Tables:
        def safe(pairs):
            return {key: cell(text) for key, text in pairs}

        people = "requester" in keys or "assignee" in keys
        return cls(
            safe(PRIORITY_NAMES.items()),
            safe(STATUS_LABELS.items()),
            safe(User.select(User.id, User.username).tuples()) if people else {},
            safe(Category.select(Category.id, Category.name).tuples()) if "category" in keys else {},
            safe(Team.select(Team.id, Team.name).tuples()) if "team" in keys else {},
        )


# column key -> (what it reads, its cells from a batch read column by column)
_COLUMNS = {
    "number": (("id",), lambda b, t: list(map(ticket_number, b["id"]))),
    "priority": (("priority",), lambda b, t: list(map(t.priorities.__getitem__, b["priority"]))),
    "status": (("status",), lambda b, t: list(map(t.statuses.__getitem__, b["status"]))),
    "sla": (("sla",), lambda b, t: b["sla"]),
    "title": (("title",), lambda b, t: cells(b["title"])),
    "requester": (("requester_id",), lambda b, t: list(map(t.users.__getitem__, b["requester_id"]))),
    "assignee": (("assignee_id",), lambda b, t: list(map(t.users.get, b["assignee_id"]))),
    "category": (("category_id",), lambda b, t: list(map(t.categories.__getitem__, b["category_id"]))),
    "team": (("team_id",), lambda b, t: list(map(t.teams.get, b["team_id"]))),
    "created": (("created_at",), lambda b, t: b["created_at"]),
    "updated": (("updated_at",), lambda b, t: b["updated_at"]),
    "due": (("resolution_due",), lambda b, t: b["resolution_due"]),
    "response_due": (("response_due",), lambda b, t: b["response_due"]),
    "resolved": (("resolved_at",), lambda b, t: b["resolved_at"]),
    "source_number": (("source_number",), lambda b, t: cells(b["source_number"])),
}


def batches(actor: User, text: str, sort: str | None, keys, marked=None) -> Iterator[list[tuple]]:
    """The rows of the ticket list ``text`` sorted by ``sort``, as tuples of the cells of the
    columns ``keys``, in batches; ``marked``: only these ticket ids."""
    where, exact, _ = queue.plan(actor, text)
    order_by = queue.Sort.parse(sort)
    names = list(dict.fromkeys(name for key in keys for name in _COLUMNS[key][0]))
    times = [name for name in names if name in _TIMES]
    makers = [_COLUMNS[key][1] for key in keys]
    tables = _Tables.read(keys)
    reads = {**_READS, "sla": sla_case(clock.now())}
    only = [Ticket.id.in_(marked)] if marked is not None else []
    named = [Ticket.id.in_(exact)] if exact else []  # first, as the queue lists them
    others = [where] if where is not None else []
    others += [Ticket.id.not_in(exact)] if exact else []
    for clauses in ([named + only] if exact else []) + [others + only]:
        for rows in _stream(_select(reads, names, order_by, queue.all_of(clauses))):
            batch = dict(zip(names, zip(*rows)))
            for name in times:
                batch[name] = moments(batch[name])
            yield list(zip(*(make(batch, tables) for make in makers)))


def _select(reads: dict, names, sort: queue.Sort, where):
    key = queue.SORTS[sort.key]
    query = Ticket.select(*(reads[name] for name in names))
    if sort.key in queue.SORT_JOINS:
        model, join_type, on = queue.SORT_JOINS[sort.key]
        query = query.join(model, join_type, on=on)
    if where is not None:
        query = query.where(where)
    return query.order_by(*((key.desc(), Ticket.id.desc()) if sort.descending else (key, Ticket.id)))


def _stream(query) -> Iterator[list[tuple]]:
    """The query's rows as the driver gives them, a batch at a time."""
    sql, params = query.sql()
    connection = database.connection()
    if is_mysql():
        from pymysql.cursors import SSCursor

        cursor = connection.cursor(SSCursor)  # rows as they arrive, not all first
    else:
        cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()
