"""Import incidents from a ServiceNow incident audit log export (one CSV row per change).

Rows are grouped by incident ``number``; within an incident the events are ordered by their
time (``sys_updated_at``), with ``sys_mod_count`` and then the line as tie-breakers (real exports
repeat a mod count, and a row's mod count can be out of step with its time), and the last one
gives the ticket's final state. Every event becomes one history entry of the ticket, at its
original time, with what changed since the event before it; no transition is made up.

Idempotent and resumable: a ticket remembers its last imported event, by time
(``updated_at``) and mod count (``source_mod_count``), and only events after it are applied, so
importing a file twice changes nothing the second time, a later export of the same incidents
updates them, and importing part of a file and then all of it gives what importing it once
gives. (A ticket changed here after its import has a newer ``updated_at``: source events older
than that change are not applied.) The file is streamed: read once whole to check it and to
learn who is who, then incident by incident (rows of an incident may be anywhere in the file),
in batches of incidents, each in one transaction: an interrupted import keeps the batches
before the failure and none of the failing one, and running it again completes it.

The source's facts win: a ticket has the resolve and close times the source gives or none
(``resolved_at`` missing stays missing); ``made_sla`` is the frozen resolution outcome, and our
due times for the ticket agree with it (``sla.recomputed``). An incident with no caller and no
opener gets the placeholder requester "Unknown caller" (the report says so) rather than being
dropped. A time outside the years 1970-2199 skips its row (9999-12-31 is a placeholder).

Mapping choices: ``Awaiting Problem`` waits on a third party (the problem's fix), so it maps to
``waiting_on_vendor``; ``Awaiting Evidence`` waits on the caller, so ``waiting_on_user``.
``made_sla`` is the frozen resolution outcome (``resolution_met``); the export says nothing
about the first-response target, so ``response_met`` stays unknown (NULL), and
``first_response_at`` is the first event that took the incident out of New or assigned it.
Callers become requesters; opened-by, assigned-to, resolved-by and updated-by people (the
``sys_updated_by`` of an event is its actor in our history) become agents; people not yet known
are created disabled with no password. A name maps to a username (``Caller 2403`` ->
``caller-2403``), so a person who already has that username here is that user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import NamedTuple

from itsm_tui.core.errors import ConflictError, ItsmError, ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import Ticket, User, ticket_number
from itsm_tui.core.tickets import sla
from itsm_tui.core.tickets.rules import PRIORITY_MATRIX, STATUS_LABELS, parse_level, parse_priority
from itsm_tui.core.tickets.service import BODY_MAX, TITLE_MAX
from itsm_tui.importers.common import (
    Counts,
    CsvFile,
    ImportReport,
    OutOfRange,
    Progress,
    audit_row,
    clean_cell,
    clean_cells,
    ensure_categories,
    ensure_teams,
    ensure_users,
    insert_audit,
    insert_rows,
    parse_time,
    refused,
    run_batches,
    select_in,
)

SOURCE = "ServiceNow"
BATCH_SIZE = 2500  # incidents per transaction (about 15,000 events: few commits, bounded memory)
REQUIRED_COLUMNS = ("number", "incident_state", "sys_mod_count", "sys_updated_at")
STATES = {
    "new": "new",
    "active": "in_progress",
    "awaiting user info": "waiting_on_user",
    "awaiting evidence": "waiting_on_user",
    "awaiting vendor": "waiting_on_vendor",
    "awaiting problem": "waiting_on_vendor",
    "resolved": "resolved",
    "closed": "closed",
}
DONE = ("resolved", "closed")
DEFAULT_CATEGORY = "General"
UNKNOWN_CALLER = "Unknown caller"  # the requester of an incident with no caller and no opener
PERSON_COLUMNS = {
    "caller_id": "requester",
    "opened_by": "agent",
    "assigned_to": "agent",
    "resolved_by": "agent",
    "sys_updated_by": "agent",
}
LABELS = {
    "source_state": "state",
    "assignment_group": "group",
    "assignee": "assigned to",
    "configuration_item": "CI",
    "resolution_met": "made SLA",
}
DETAILS = (
    ("location", "Location"),
    ("u_symptom", "Symptom"),
    ("problem_id", "Problem"),
    ("rfc", "Change"),
    ("caused_by", "Caused by"),
    ("vendor", "Vendor"),
    ("closed_code", "Close code"),
)
MAX_COUNT = 2_000_000_000  # the counters are INT columns
# Cells kept in columns of this size (longer ones are cut, with a warning).
LIMITS = {
    "category": 50,
    "subcategory": 100,
    "assignment_group": 100,
    "cmdb_ci": 100,
    "contact_type": 30,
    "closed_code": 100,
    **dict.fromkeys(PERSON_COLUMNS, 100),
}
TIME_COLUMNS = ("sys_updated_at", "opened_at", "sys_created_at", "resolved_at", "closed_at")
SHORTEST_LIMIT = min(LIMITS.values())
_PRIORITY_PREFIX = re.compile(r"^\s*([0-9])\s*-")


# The text cells an event keeps (cleaned, cut to LIMITS): people, grouping, and what the
# ticket's title and description show.
TEXT_COLUMNS = (
    "caller_id",
    "opened_by",
    "assigned_to",
    "resolved_by",
    "sys_updated_by",
    "assignment_group",
    "category",
    "subcategory",
    "cmdb_ci",
    "contact_type",
    "closed_code",
    "location",
    "u_symptom",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
)
CACHE_SIZE = 10_000  # distinct cells remembered per column (see _Reader): bounded memory


@dataclass(slots=True)
class Event:
    """One source row, read and checked; ``None`` means missing (or unreadable: warned). The
    fields from ``caller_id`` on are the cells of ``TEXT_COLUMNS``, by their column names."""

    line: int
    number: str
    mod_count: int
    at: datetime
    state: str | None
    source_state: str | None
    impact: int | None
    urgency: int | None
    priority: int | None
    made_sla: bool | None
    reopen_count: int | None
    reassignment_count: int | None
    opened_at: datetime | None
    sys_created_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    caller_id: str | None
    opened_by: str | None
    assigned_to: str | None
    resolved_by: str | None
    sys_updated_by: str | None
    assignment_group: str | None
    category: str | None
    subcategory: str | None
    cmdb_ci: str | None
    contact_type: str | None
    closed_code: str | None
    location: str | None
    u_symptom: str | None
    problem_id: str | None
    rfc: str | None
    vendor: str | None
    caused_by: str | None


def import_servicenow(
    actor: User,
    path: str | Path,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Import (or with ``dry_run`` only check) a ServiceNow incident export; the report lists
    what was done and every skipped row with its line number and reason. A file that cannot be
    read whole (not UTF-8, bad CSV, empty, not this kind of export) is refused before anything
    is written, and the refusal is in the log."""
    require(actor, "import.run")
    report = ImportReport("servicenow", str(path), dry_run=dry_run)
    try:
        source, last_lines, roles = _scan(path)
    except ItsmError as exc:
        refused(actor, report, exc)
        raise
    absent = [column for column in dict(_READERS.values()) if column not in source.header]
    if absent:  # an export made with fewer columns: said, as what they hold stays empty
        report.warn(1, f"no column {', '.join(absent)}: what they hold stays empty on every ticket")
    run_batches(
        actor,
        report,
        _batches(source, last_lines, report, batch_size),
        lambda batch: _import_batch(actor, batch, roles, report),
        progress,
        total=len(last_lines),
    )
    return report


# ---------------------------------------------------------------- reading


def _scan(path: str | Path) -> tuple[CsvFile, dict[str, int], dict[str, str]]:
    """Read the file whole once, keeping little: it is valid CSV and UTF-8 throughout (else an
    ItsmError, before anything is written), {number: the line of its last row} (to know when
    an incident is complete), and {person: role} over the whole file: anyone who ever opened,
    was assigned or resolved an incident is an agent, whichever batch meets them first. Cells
    are cleaned once per distinct value, after the read."""
    source = CsvFile(path)
    header = source.header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ItsmError(
            f"{Path(path).name} is not a ServiceNow incident export: no {', '.join(missing)} column"
        )
    width, number_at = len(header), header.index("number")
    people = [(c, r) for c, r in PERSON_COLUMNS.items() if c in header]
    names_of = _getter([header.index(c) for c, _ in people])
    last_raw: dict[str, int] = {}
    seen: list[set[str]] = [set() for _ in people]
    for line, cells in source.records():
        if len(cells) == width:
            last_raw[cells[number_at]] = line
            for names, name in zip(seen, names_of(cells)):
                names.add(name)
    last_lines: dict[str, int] = {}
    for raw, line in last_raw.items():
        number = clean_cell(raw)
        if number is not None and last_lines.get(number, 0) < line:
            last_lines[number] = line
    roles: dict[str, str] = {UNKNOWN_CALLER: "requester"}
    for (column, role), names in zip(people, seen):
        for raw in names:
            name = clean_cell(raw)
            name = name and name[: LIMITS[column]]  # cut as the events are cut
            if name and roles.get(name) != "agent":
                roles[name] = role
    return source, last_lines, roles


def _getter(indexes: list[int]):
    """A function giving the cells at ``indexes`` of a row, as a tuple."""
    if len(indexes) == 1:
        return lambda cells: (cells[indexes[0]],)
    return itemgetter(*indexes) if indexes else lambda cells: ()


def _batches(
    source: CsvFile, last_lines: dict[str, int], report: ImportReport, size: int
) -> Iterator[dict[str, list[Event]]]:
    """The incidents, ``size`` at a time ({number: events in order}), each as soon as its
    last row is read: memory holds one batch and the incidents still being read."""
    width = len(source.header)
    read = _Reader(source.header, report).event
    pending: dict[str, list[Event]] = {}
    batch: dict[str, list[Event]] = {}
    for line, cells in source.records():
        if not cells:
            continue
        report.rows += 1
        if len(cells) != width:
            report.skip(line, f"has {len(cells)} fields, the header has {width}")
            continue
        number, event = read(line, cells)
        if event is not None:
            pending.setdefault(number, []).append(event)
        if last_lines.get(number) == line and number in pending:
            batch[number] = sorted(pending.pop(number), key=_ORDER)
            if len(batch) >= size:
                yield batch
                batch = {}
    for number, events in pending.items():  # only if the file changed since the scan
        batch[number] = sorted(events, key=_ORDER)
    if batch:
        yield batch


_ORDER = attrgetter("at", "mod_count", "line")
_BAD = object()


class _NeedsWords(Exception):
    """A cell the fast path cannot read without a word in the report."""


class _Column(dict):
    """{raw cell: its value} of one column, filled as cells are met (up to CACHE_SIZE)."""

    def __init__(self, read):
        super().__init__()
        self.read = read

    def __missing__(self, raw: str):
        value = self.read(raw)
        if value is _BAD:
            raise _NeedsWords
        if len(self) >= CACHE_SIZE:
            self.clear()
        self[raw] = value
        return value


class _Reader:
    """Rows to events. Exports repeat the same few values in a column, so each distinct cell
    of a column is cleaned, checked and converted once and remembered: a row costs a lookup
    per cell. A cell that needs a word in the report (cut, unreadable, out of range, missing
    where it is needed) sends its row to :func:`_event`, which reads it cell by cell, in the
    order the report expects."""

    def __init__(self, header: list[str], report: ImportReport):
        self.header, self.report = header, report
        plan = [_READERS[f.name] for f in fields(Event)[1:]]
        width = len(header)
        # A column the file does not have reads an empty cell put after the last one.
        indexes = [header.index(c) if c in header else width for c, _ in plan]
        self.pad = width in indexes
        self.cells_of = _getter(indexes)
        self.columns = [_Column(read) for _, read in plan]

    def event(self, line: int, cells: list[str]) -> tuple[str | None, Event | None]:
        """The row's incident number, and its event or None (skipped into the report)."""
        raws = self.cells_of(cells + [""] if self.pad else cells)
        try:
            values = list(map(dict.__getitem__, self.columns, raws))
        except _NeedsWords:
            row = dict(zip(self.header, clean_cells(cells)))
            return row.get("number"), _event(line, row, self.report)
        return values[0], Event(line, *values)


# Each cell's reading on the fast path: its value, or _BAD when the row needs _event.


def _number(raw: str):
    number = clean_cell(raw)
    return _BAD if number is None or len(number) > 40 else number


def _mod_count(raw: str):
    count = _count_of(clean_cell(raw))
    return _BAD if count is None else count


def _updated_at(raw: str):
    try:
        value = _time_of(clean_cell(raw))
    except ValueError:
        return _BAD
    return _BAD if value is None else value


def _state(raw: str):
    return STATES.get((clean_cell(raw) or "").lower(), _BAD)


def _checked(parse, *args):
    """The cell cleaned then parsed by ``parse`` (None stays None); _BAD where it fails."""

    def read(raw: str):
        text = clean_cell(raw)
        if text is None:
            return None
        try:
            value = parse(text, *args)
        except (ValueError, ValidationError):
            return _BAD
        return _BAD if value is None else value

    return read


def _text(limit: int | None):
    def read(raw: str):
        text = clean_cell(raw)
        return _BAD if limit and text and len(text) > limit else text

    return read


def _time_of(text: str | None) -> datetime | None:
    return None if text is None else parse_time(text)


def _level_of(text: str, column: str) -> int:
    return parse_level(text, column)


def _priority_of(text: str) -> int:
    prefix = _PRIORITY_PREFIX.match(text)  # '3 - Moderate': ServiceNow's names differ from ours
    return parse_priority(int(prefix.group(1)) if prefix else text)


def _flag_of(text: str) -> bool | None:
    text = text.lower()
    return text == "true" if text in ("true", "false") else None


def _count_of(text: str | None) -> int | None:
    """A whole number from 0 up, or None."""
    if text is not None and text.isascii() and text.isdigit() and int(text) <= MAX_COUNT:
        return int(text)
    return None


# {Event field: (the column it is read from, its reading on the fast path)}
_READERS = {
    "number": ("number", _number),
    "mod_count": ("sys_mod_count", _mod_count),
    "at": ("sys_updated_at", _updated_at),
    "state": ("incident_state", _state),
    "source_state": ("incident_state", clean_cell),
    "impact": ("impact", _checked(_level_of, "impact")),
    "urgency": ("urgency", _checked(_level_of, "urgency")),
    "priority": ("priority", _checked(_priority_of)),
    "made_sla": ("made_sla", _checked(_flag_of)),
    "reopen_count": ("reopen_count", _checked(_count_of)),
    "reassignment_count": ("reassignment_count", _checked(_count_of)),
    **{c: (c, _checked(_time_of)) for c in TIME_COLUMNS[1:]},
    **{c: (c, _text(LIMITS.get(c))) for c in TEXT_COLUMNS},
}


def _event(line: int, row: dict, report: ImportReport) -> Event | None:
    """The row (its cells cleaned) as an event, or None: skipped into the report, with every
    doubt about its cells warned."""
    number = row.get("number")
    if number is None:
        report.skip(line, "no incident number")
        return None
    if len(number) > 40:
        report.skip(line, f"incident number longer than 40 characters: {number[:40]}...")
        return None
    mod_count = _count_of(row.get("sys_mod_count"))
    if mod_count is None:
        report.skip(line, f"{number}: sys_mod_count {row.get('sys_mod_count')!r} is not a whole number")
        return None
    times = {}
    for column in TIME_COLUMNS:
        try:
            times[column] = _time(row, column, line, report)
        except OutOfRange as exc:
            report.skip(line, f"{number}: {column} {exc}")
            return None
    at = times["sys_updated_at"]
    if at is None:
        report.skip(line, f"{number}: no readable sys_updated_at (the time of the change)")
        return None
    for column, limit in LIMITS.items():
        value = row.get(column)
        if value and len(value) > limit:
            report.warn(line, f"{number}: {column} longer than {limit} characters: cut")
            row[column] = value[:limit]
    source_state = row.get("incident_state")
    state = STATES.get((source_state or "").lower())
    if state is None:
        report.warn(line, f"{number}: unknown incident_state {source_state!r}: the previous state is kept")
    return Event(
        line,
        number,
        mod_count,
        at,
        state,
        source_state if state else None,
        _level(row, "impact", line, report),
        _level(row, "urgency", line, report),
        _priority(row, line, report),
        _flag(row, "made_sla", line, report),
        _count(row, "reopen_count", line, report),
        _count(row, "reassignment_count", line, report),
        *(times[c] for c in TIME_COLUMNS[1:]),
        *(row.get(c) for c in TEXT_COLUMNS),
    )


def _time(row: dict, column: str, line: int, report: ImportReport) -> datetime | None:
    """The time in ``column``; None (warned) when unreadable; OutOfRange for an impossible year."""
    text = row.get(column)
    if text is None:
        return None
    try:
        return parse_time(text)
    except OutOfRange:
        raise
    except ValueError as exc:
        if column != "sys_updated_at":
            report.warn(line, f"{column}: {exc}: taken as missing")
        return None


def _level(row: dict, column: str, line: int, report: ImportReport) -> int | None:
    text = row.get(column)
    if text is None:
        return None
    try:
        return _level_of(text, column)
    except ValidationError as exc:
        report.warn(line, f"{exc}: the previous value is kept")
        return None


def _priority(row: dict, line: int, report: ImportReport) -> int | None:
    text = row.get("priority")
    if text is None:
        return None
    try:
        return _priority_of(text)
    except ValidationError:
        report.warn(
            line, f"priority {text!r} is not one of 1 - Critical .. 4 - Low: the previous value is kept"
        )
        return None


def _flag(row: dict, column: str, line: int, report: ImportReport) -> bool | None:
    text = row.get(column)
    value = None if text is None else _flag_of(text)
    if value is None and text:
        report.warn(line, f"{column} {text.lower()!r} is neither true nor false: taken as missing")
    return value


def _count(row: dict, column: str, line: int, report: ImportReport) -> int | None:
    """A whole number from 0 up; anything else is missing (warned)."""
    text = row.get(column)
    value = _count_of(text)
    if value is None and text is not None:
        report.warn(line, f"{column} {text!r} is not a whole number: taken as missing")
    return value


def _requester(event: Event) -> str:
    return event.caller_id or event.opened_by or UNKNOWN_CALLER


# ---------------------------------------------------------------- one incident's story


class State(NamedTuple):
    """The tracked fields after an event (people and categories by id), in the order a history
    entry's summary names them."""

    status: str
    source_state: str | None
    assignment_group: str | None
    assignee: int | None
    priority: int | None
    impact: int | None
    urgency: int | None
    category: int | None
    subcategory: str | None
    configuration_item: str | None
    reassignment_count: int | None
    reopen_count: int | None
    resolution_met: bool | None


TRACKED = State._fields
_NOTHING = State("new", *(None,) * (len(TRACKED) - 1))  # before the first event


def _states(events: list[Event], people: dict[str, int], categories: dict[str, int]) -> list[State]:
    """The tracked fields after each event; unreadable values carry the previous one over."""
    states, previous = [], _NOTHING
    for event in events:
        previous = State(
            event.state or previous.status,
            event.source_state or previous.source_state,
            event.assignment_group,
            people.get(event.assigned_to),
            event.priority or previous.priority,
            event.impact or previous.impact,
            event.urgency or previous.urgency,
            categories.get(event.category),
            event.subcategory,
            event.cmdb_ci,
            _or(event.reassignment_count, previous.reassignment_count),
            _or(event.reopen_count, previous.reopen_count),
            _or(event.made_sla, previous.resolution_met),
        )
        states.append(previous)
    return states


def _or(value, fallback):
    return fallback if value is None else value


def _ticket_state(ticket: Ticket) -> State:
    """The tracked fields as the ticket holds them now, to diff the first new event against
    when the export no longer contains the event before it."""
    return State(
        ticket.status,
        None,
        ticket.assignment_group,
        ticket.assignee_id,
        ticket.priority,
        ticket.impact,
        ticket.urgency,
        ticket.category_id,
        ticket.subcategory,
        ticket.configuration_item,
        ticket.reassignment_count,
        ticket.reopen_count,
        ticket.resolution_met,
    )


def _title(event: Event) -> str:
    where = " / ".join(v for v in (event.category, event.subcategory) if v)
    symptom = event.u_symptom
    title = f"{where}: {symptom}" if where and symptom else (where or symptom)
    return (title or f"{SOURCE} incident {event.number}")[:TITLE_MAX]


def _description(event: Event) -> str:
    lines = [f"Imported from {SOURCE} incident {event.number}."]
    if _requester(event) == UNKNOWN_CALLER:
        lines.append("Caller: unknown (the export names no caller and no opener)")
    for column, label in (
        ("caller_id", "Caller"),
        ("opened_by", "Opened by"),
        ("contact_type", "Contact type"),
        *DETAILS,
    ):
        if getattr(event, column):
            lines.append(f"{label}: {getattr(event, column)}")
    return "\n".join(lines)[:BODY_MAX]  # the cells are clean already


def _ticket_values(
    events: list[Event],
    states: list[State],
    people: dict[str, int],
    categories: dict[str, int],
    cal: sla.Calendar,
    pols: dict,
) -> dict:
    last, final = events[-1], states[-1]
    status = final.status
    impact, urgency = final.impact or 3, final.urgency or 3
    matrix = PRIORITY_MATRIX[(impact, urgency)]
    priority = final.priority or matrix
    touched = [e.at for e, s in zip(events, states) if s.status != "new" or s.assignee]
    code = last.closed_code
    values = {
        "title": _title(last),
        "description": _description(last),
        "category": final.category or categories[DEFAULT_CATEGORY],
        "impact": impact,
        "urgency": urgency,
        "priority": priority,
        "priority_overridden": priority != matrix,
        "status": status,
        "requester": people[_requester(last)],
        "assignee": final.assignee,
        "created_at": last.opened_at or last.sys_created_at or events[0].at,
        "updated_at": last.at,
        "first_response_at": min(touched) if touched else None,
        # The source's times or none: an incident resolved without a resolved_at has none.
        "resolved_at": last.resolved_at if status in DONE else None,
        "closed_at": last.closed_at if status == "closed" else None,
        "resolution_note": (f"Resolved in {SOURCE}" + (f" with {code}" if code else ""))
        if status in DONE
        else None,
        "reopen_count": final.reopen_count or 0,
        "reassignment_count": final.reassignment_count or 0,
        "source_number": last.number,
        "source_mod_count": last.mod_count,
        "response_met": None,
        "resolution_met": final.resolution_met,
        "subcategory": final.subcategory,
        "assignment_group": final.assignment_group,
        "contact_type": last.contact_type,
        "configuration_item": final.configuration_item,
        "opened_by": people.get(last.opened_by),
        "resolved_by": people.get(last.resolved_by) if status in DONE else None,
        "sla_paused_seconds": 0,
        "sla_paused_at": None,
    }
    values.update(sla.recomputed(values, cal, pols))  # due times that agree with made_sla
    return values


# ---------------------------------------------------------------- writing


def _first_new(events: list[Event], ticket: Ticket | None) -> int | None:
    """The index of the first event after the last one imported into ``ticket`` (its time, then
    its mod count), or None when there is none: a mod count alone says nothing, real exports
    repeat one or number an event out of step with its time."""
    if ticket is None:
        return 0
    mark = (ticket.updated_at, -1 if ticket.source_mod_count is None else ticket.source_mod_count)
    return next((i for i, e in enumerate(events) if (e.at, e.mod_count) > mark), None)


@transactional
def _import_batch(
    actor: User, incidents: dict[str, list[Event]], roles: dict[str, str], report: ImportReport
) -> Counts:
    """Write one batch of incidents: the users and categories they need, tickets (new ones in
    multi-row inserts), history entries (in multi-row inserts). The SLA policies and calendar
    are read once for the batch."""
    done = Counts()
    existing = {t.source_number: t for t in select_in(Ticket, "source_number", list(incidents))}
    wanted: dict[str, tuple[list[Event], int]] = {}
    for number, events in incidents.items():
        first = _first_new(events, existing.get(number))
        if first is None:
            done.unchanged += 1
            continue
        wanted[number] = (events, first)
        if _requester(events[-1]) == UNKNOWN_CALLER:
            report.warn(
                events[-1].line,
                f"{number}: no caller_id or opened_by: the requester is "
                f"the placeholder user {UNKNOWN_CALLER!r}",
            )
    if not wanted:
        return done
    names, category_names = {_requester(events[-1]) for events, _ in wanted.values()}, {DEFAULT_CATEGORY}
    groups = set()
    for events, _ in wanted.values():
        for event in events:
            names.update(_PEOPLE_OF(event))
            category_names.add(event.category)
            groups.add(event.assignment_group)
    names.discard(None)
    category_names.discard(None)
    groups.discard(None)
    people = ensure_users(actor, {n: roles.get(n, "agent") for n in names}, SOURCE)
    categories = ensure_categories(actor, sorted(category_names), SOURCE)
    teams = ensure_teams(actor, sorted(groups), SOURCE)  # issue 21: the assignment group's team
    shown = _Shown(people, categories)
    cal, pols = sla.calendar(), sla.policies()
    stories, new_rows = {}, []
    for number, (events, first) in wanted.items():
        states = _states(events, people, categories)
        values = _ticket_values(events, states, people, categories, cal, pols)
        values["team"] = teams.get(values["assignment_group"])
        stories[number] = (events, first, states)
        known = existing.get(number)
        if known is None:
            new_rows.append({**values, "version": 1})
            done.created += 1
            continue
        updated = (
            Ticket.update(**values, version=known.version + 1)
            .where((Ticket.id == known.id) & (Ticket.version == known.version))
            .execute()
        )
        if not updated:
            raise ConflictError(f"{ticket_number(known.id)} ({number}) was changed during the import")
        done.updated += 1
    if new_rows:
        keys = list(new_rows[0])
        insert_rows(Ticket, keys, list(map(itemgetter(*keys), new_rows)))
    ids = {number: (t.id, t.version) for number, t in existing.items()}
    created = [row["source_number"] for row in new_rows]
    found = select_in(Ticket, "source_number", created, ("id", "source_number"))
    ids.update({number: (ticket_id, 0) for ticket_id, number in found})
    history: list[tuple] = []
    for number, (events, first, states) in stories.items():
        known = existing.get(number)
        ticket_id, version = ids[number][0], ids[number][1] + 1
        before = states[first - 1] if first else _ticket_state(known) if known else None
        history += _history_rows(ticket_id, version, events[first:], before, states[first:], people, shown)
        done.events += len(events) - first
    insert_audit(history)
    return done


_PEOPLE_OF = attrgetter(*PERSON_COLUMNS)


def _history_rows(
    ticket_id: int,
    version: int,
    events: list[Event],
    before: State | None,
    states: list[State],
    people: dict[str, int],
    shown: _Shown,
) -> list[tuple]:
    """The history entries of a ticket's new events, each with what changed since the state
    ``before`` it (None: the first event created the ticket)."""
    ours, rows, known = ticket_number(ticket_id), [], shown.known
    for event, after in zip(events, states):
        updater = event.sys_updated_by
        by = f" by {updater}" if updater else ""
        if before is None:
            keys = [(i, None, new) for i, new in zip(_FIELDS, after) if new is not None]
            changes = [known.get(key) or shown(key) for key in keys]
            summary = f"{ours} created from {SOURCE} {event.number}{by}: {STATUS_LABELS[after.status]}"
            action = "create"
        else:
            keys = [(i, old, new) for i, old, new in zip(_FIELDS, before, after) if old != new]
            changes = [known.get(key) or shown(key) for key in keys]
            said = "; ".join([change[0] for change in changes]) or "no tracked field changed"
            summary = f"{ours} ({event.number}) changed in {SOURCE}{by}: {said}"
            action = "update"
        # {field: [before, after]} as JSON, keys sorted: each part starts with its key.
        text = "{" + ", ".join(sorted([change[1] for change in changes])) + "}" if changes else None
        rows.append(
            audit_row(
                people.get(updater),
                action,
                "ticket",
                ticket_id,
                summary,
                text,
                entity_version=version,
                at=event.at,
            )
        )
        before = after
    return rows


_FIELDS = range(len(TRACKED))
_LABELS = [LABELS.get(f, f.replace("_", " ")) for f in TRACKED]


class _Shown:
    """A batch's changes of one field, as a history entry shows them: the summary's words
    (people and categories by name) and the JSON ``json.dumps(..., ensure_ascii=False,
    sort_keys=True)`` writes for them; each distinct change worked out once (a field's values
    are of one type, so ``(field, before, after)`` tells them apart)."""

    def __init__(self, people: dict[str, int], categories: dict[str, int]):
        self.names = {
            TRACKED.index("assignee"): {i: n for n, i in people.items()},
            TRACKED.index("category"): {i: n for n, i in categories.items()},
        }
        self.known: dict[tuple, tuple[str, str]] = {}

    def __call__(self, change: tuple) -> tuple[str, str]:
        """(words, JSON) of ``change`` (field, before, after), remembered in ``known``."""
        field, before, after = change
        dumps = partial(json.dumps, ensure_ascii=False)
        shown = self.known[change] = (
            f"{_LABELS[field]} {self._show(field, before)} → {self._show(field, after)}",
            f'"{TRACKED[field]}": [{dumps(before)}, {dumps(after)}]',
        )
        return shown

    def _show(self, field: int, value) -> str:
        if value is None or value == "":
            return "(none)"
        if field in self.names:
            return self.names[field].get(value, f"#{value}")
        if TRACKED[field] == "status":
            return STATUS_LABELS[value]
        if TRACKED[field] == "resolution_met":
            return "yes" if value else "no"
        return str(value)
