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

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from itsm_tui.core.tickets import sla
from itsm_tui.core.store.db import transactional
from itsm_tui.core.errors import ConflictError, ItsmError, ValidationError
from itsm_tui.core.store.models import Ticket, User, ticket_number
from itsm_tui.core.people.permissions import require
from itsm_tui.core.tickets.service import BODY_MAX, TITLE_MAX
from itsm_tui.core.tickets.rules import PRIORITY_MATRIX, STATUS_LABELS, parse_level, parse_priority
from itsm_tui.importers.common import (
    CHUNK, Counts, CsvFile, ImportReport, OutOfRange, Progress, audit_row, clean_cells, ensure_categories,
    ensure_users, insert_audit, insert_rows, parse_time, refused, run_batches,
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
PERSON_COLUMNS = {"caller_id": "requester", "opened_by": "agent", "assigned_to": "agent",
                  "resolved_by": "agent", "sys_updated_by": "agent"}
# The fields whose changes an event's history entry records, in the order the summary names them.
TRACKED = ("status", "source_state", "assignment_group", "assignee", "priority", "impact",
           "urgency", "category", "subcategory", "configuration_item", "reassignment_count",
           "reopen_count", "resolution_met")
LABELS = {"source_state": "state", "assignment_group": "group", "assignee": "assigned to",
          "configuration_item": "CI", "resolution_met": "made SLA"}
DETAILS = (("location", "Location"), ("u_symptom", "Symptom"), ("problem_id", "Problem"),
           ("rfc", "Change"), ("caused_by", "Caused by"), ("vendor", "Vendor"),
           ("closed_code", "Close code"))
MAX_COUNT = 2_000_000_000  # the counters are INT columns
# Cells kept in columns of this size (longer ones are cut, with a warning).
LIMITS = {"category": 50, "subcategory": 100, "assignment_group": 100, "cmdb_ci": 100,
          "contact_type": 30, "closed_code": 100, **dict.fromkeys(PERSON_COLUMNS, 100)}
TIME_COLUMNS = ("sys_updated_at", "opened_at", "sys_created_at", "resolved_at", "closed_at")
SHORTEST_LIMIT = min(LIMITS.values())
_levels: dict[tuple[str, str], int] = {}  # (column, text) -> level or priority, as read before
_PRIORITY_PREFIX = re.compile(r"^\s*([0-9])\s*-")


@dataclass(slots=True)
class Event:
    """One source row, read and checked; ``None`` means missing (or unreadable: warned).
    ``row`` holds its cells cleaned (see ``common.clean_cells``)."""

    line: int
    number: str
    mod_count: int
    at: datetime
    row: dict
    state: str | None
    source_state: str | None
    impact: int | None
    urgency: int | None
    priority: int | None
    made_sla: bool | None
    reopen_count: int | None
    reassignment_count: int | None
    opened_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None

    def text(self, column: str) -> str | None:
        return self.row.get(column)  # the row's cells are clean already


def import_servicenow(actor: User, path: str | Path, dry_run: bool = False,
                      batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> ImportReport:
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
    run_batches(actor, report, _batches(source, last_lines, report, batch_size),
                lambda batch: _import_batch(actor, batch, roles, report), progress,
                total=len(last_lines))
    return report


# ---------------------------------------------------------------- reading

def _scan(path: str | Path) -> tuple[CsvFile, dict[str, int], dict[str, str]]:
    """Read the file whole once, keeping little: it is valid CSV and UTF-8 throughout (else an
    ItsmError, before anything is written), {number: the line of its last row} (to know when
    an incident is complete), and {person: role} over the whole file: anyone who ever opened,
    was assigned or resolved an incident is an agent, whichever batch meets them first."""
    source = CsvFile(path)
    header = source.header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ItsmError(f"{Path(path).name} is not a ServiceNow incident export: no "
                        f"{', '.join(missing)} column")
    last_lines: dict[str, int] = {}
    roles: dict[str, str] = {UNKNOWN_CALLER: "requester"}
    wanted = [("number", 0, None)] + [(c, LIMITS[c], r) for c, r in PERSON_COLUMNS.items() if c in header]
    columns = [header.index(c) for c, _, _ in wanted]
    for line, cells in source.records():
        if len(cells) != len(header):
            continue
        number, *names = clean_cells([cells[i] for i in columns])
        if number is not None:
            last_lines[number] = line
        for name, (_, limit, role) in zip(names, wanted[1:]):
            name = name and name[:limit]  # cut as _event cuts
            if name and roles.get(name) != "agent":
                roles[name] = role
    return source, last_lines, roles


def _batches(source: CsvFile, last_lines: dict[str, int], report: ImportReport,
             size: int) -> Iterator[dict[str, list[Event]]]:
    """The incidents, ``size`` at a time ({number: events in order}), each as soon as its
    last row is read: memory holds one batch and the incidents still being read."""
    header, width = source.header, len(source.header)
    pending: dict[str, list[Event]] = {}
    batch: dict[str, list[Event]] = {}
    for line, cells in source.records():
        if not cells:
            continue
        report.rows += 1
        if len(cells) != width:
            report.skip(line, f"has {len(cells)} fields, the header has {width}")
            continue
        row = dict(zip(header, clean_cells(cells)))
        event = _event(line, row, report, max(map(len, cells)) > SHORTEST_LIMIT)
        if event is not None:
            pending.setdefault(event.number, []).append(event)
        number = row.get("number")
        if last_lines.get(number) == line and number in pending:
            batch[number] = sorted(pending.pop(number), key=_order)
            if len(batch) >= size:
                yield batch
                batch = {}
    for number, events in pending.items():  # only if the file changed since the scan
        batch[number] = sorted(events, key=_order)
    if batch:
        yield batch


def _order(event: Event) -> tuple:
    return event.at, event.mod_count, event.line


def _event(line: int, row: dict, report: ImportReport, long_cells: bool = True) -> Event | None:
    """The row (its cells cleaned) as an event, or None: skipped into the report.
    ``long_cells`` False: no cell is longer than ``SHORTEST_LIMIT`` (none to cut)."""
    number = row.get("number")
    if number is None:
        report.skip(line, "no incident number")
        return None
    if len(number) > 40:
        report.skip(line, f"incident number longer than 40 characters: {number[:40]}...")
        return None
    mod_count = _count(row, "sys_mod_count", line, None)
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
    for column, limit in LIMITS.items() if long_cells else ():
        value = row.get(column)
        if value and len(value) > limit:
            report.warn(line, f"{number}: {column} longer than {limit} characters: cut")
            row[column] = value[:limit]
    source_state = row.get("incident_state")
    state = STATES.get((source_state or "").lower())
    if state is None:
        report.warn(line, f"{number}: unknown incident_state {source_state!r}: the previous state is kept")
    return Event(
        line=line, number=number, mod_count=mod_count, at=at, row=row,
        state=state, source_state=source_state if state else None,
        impact=_level(row, "impact", line, report), urgency=_level(row, "urgency", line, report),
        priority=_priority(row, line, report),
        made_sla=_flag(row, "made_sla", line, report),
        reopen_count=_count(row, "reopen_count", line, report),
        reassignment_count=_count(row, "reassignment_count", line, report),
        opened_at=times["opened_at"] or times["sys_created_at"],
        resolved_at=times["resolved_at"], closed_at=times["closed_at"],
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
    known = _levels.get((column, text))
    if known is not None:
        return known
    try:
        return _levels.setdefault((column, text), parse_level(text, column))
    except ValidationError as exc:
        report.warn(line, f"{exc}: the previous value is kept")
        return None


def _priority(row: dict, line: int, report: ImportReport) -> int | None:
    text = row.get("priority")
    if text is None:
        return None
    known = _levels.get(("priority", text))
    if known is not None:
        return known
    prefix = _PRIORITY_PREFIX.match(text)  # '3 - Moderate': ServiceNow's names differ from ours
    try:
        return _levels.setdefault(("priority", text), parse_priority(int(prefix.group(1)) if prefix else text))
    except ValidationError:
        report.warn(line, f"priority {text!r} is not one of 1 - Critical .. 4 - Low: "
                          "the previous value is kept")
        return None


def _flag(row: dict, column: str, line: int, report: ImportReport) -> bool | None:
    text = (row.get(column) or "").lower()
    if text in ("true", "false"):
        return text == "true"
    if text:
        report.warn(line, f"{column} {text!r} is neither true nor false: taken as missing")
    return None


def _count(row: dict, column: str, line: int, report: ImportReport | None) -> int | None:
    """A whole number from 0 up; anything else is missing (warned when ``report`` is given)."""
    text = row.get(column)
    if text is None:
        return None
    if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT:
        return int(text)
    if report is not None:
        report.warn(line, f"{column} {text!r} is not a whole number: taken as missing")
    return None


def _person(event: Event, column: str) -> str | None:
    return event.text(column)


def _requester(event: Event) -> str:
    return _person(event, "caller_id") or _person(event, "opened_by") or UNKNOWN_CALLER


# ---------------------------------------------------------------- one incident's story

def _states(events: list[Event], people: dict[str, int], categories: dict[str, int]) -> list[dict]:
    """The tracked fields after each event (people and categories by id); unreadable values
    carry the previous one over."""
    states, previous = [], {}
    for event in events:
        state = {
            "status": event.state or previous.get("status", "new"),
            "source_state": event.source_state or previous.get("source_state"),
            "assignment_group": event.text("assignment_group"),
            "assignee": people.get(_person(event, "assigned_to")),
            "priority": event.priority or previous.get("priority"),
            "impact": event.impact or previous.get("impact"),
            "urgency": event.urgency or previous.get("urgency"),
            "category": categories.get(event.text("category")),
            "subcategory": event.text("subcategory"),
            "configuration_item": event.text("cmdb_ci"),
            "reassignment_count": _or(event.reassignment_count, previous.get("reassignment_count")),
            "reopen_count": _or(event.reopen_count, previous.get("reopen_count")),
            "resolution_met": _or(event.made_sla, previous.get("resolution_met")),
        }
        states.append(state)
        previous = state
    return states


def _or(value, fallback):
    return fallback if value is None else value


def _ticket_state(ticket: Ticket) -> dict:
    """The tracked fields as the ticket holds them now, to diff the first new event against
    when the export no longer contains the event before it."""
    return {
        "status": ticket.status, "source_state": None,
        "assignment_group": ticket.assignment_group, "assignee": ticket.assignee_id,
        "priority": ticket.priority, "impact": ticket.impact, "urgency": ticket.urgency,
        "category": ticket.category_id, "subcategory": ticket.subcategory,
        "configuration_item": ticket.configuration_item,
        "reassignment_count": ticket.reassignment_count, "reopen_count": ticket.reopen_count,
        "resolution_met": ticket.resolution_met,
    }


def _title(event: Event) -> str:
    where = " / ".join(v for v in (event.text("category"), event.text("subcategory")) if v)
    symptom = event.text("u_symptom")
    title = f"{where}: {symptom}" if where and symptom else (where or symptom)
    return (title or f"{SOURCE} incident {event.number}")[:TITLE_MAX]


def _description(event: Event) -> str:
    lines = [f"Imported from {SOURCE} incident {event.number}."]
    if _requester(event) == UNKNOWN_CALLER:
        lines.append("Caller: unknown (the export names no caller and no opener)")
    for column, label in (("caller_id", "Caller"), ("opened_by", "Opened by"),
                          ("contact_type", "Contact type")):
        if event.text(column):
            lines.append(f"{label}: {event.text(column)}")
    lines += [f"{label}: {event.text(column)}" for column, label in DETAILS if event.text(column)]
    return "\n".join(lines)[:BODY_MAX]  # the cells are clean already


def _ticket_values(events: list[Event], states: list[dict], people: dict[str, int],
                   categories: dict[str, int], cal: sla.Calendar, pols: dict) -> dict:
    last, final = events[-1], states[-1]
    status = final["status"]
    impact, urgency = final["impact"] or 3, final["urgency"] or 3
    matrix = PRIORITY_MATRIX[(impact, urgency)]
    priority = final["priority"] or matrix
    touched = [e.at for e, s in zip(events, states) if s["status"] != "new" or s["assignee"]]
    code = last.text("closed_code")
    values = {
        "title": _title(last),
        "description": _description(last),
        "category": final["category"] or categories[DEFAULT_CATEGORY],
        "impact": impact, "urgency": urgency, "priority": priority,
        "priority_overridden": priority != matrix,
        "status": status,
        "requester": people[_requester(last)],
        "assignee": final["assignee"],
        "created_at": last.opened_at or events[0].at,
        "updated_at": last.at,
        "first_response_at": min(touched) if touched else None,
        # The source's times or none: an incident resolved without a resolved_at has none.
        "resolved_at": last.resolved_at if status in DONE else None,
        "closed_at": last.closed_at if status == "closed" else None,
        "resolution_note": (f"Resolved in {SOURCE}" + (f" with {code}" if code else ""))
        if status in DONE else None,
        "reopen_count": final["reopen_count"] or 0,
        "reassignment_count": final["reassignment_count"] or 0,
        "source_number": last.number, "source_mod_count": last.mod_count,
        "response_met": None, "resolution_met": final["resolution_met"],
        "subcategory": final["subcategory"],
        "assignment_group": final["assignment_group"],
        "contact_type": last.text("contact_type"),
        "configuration_item": final["configuration_item"],
        "opened_by": people.get(_person(last, "opened_by")),
        "resolved_by": people.get(_person(last, "resolved_by")) if status in DONE else None,
        "sla_paused_seconds": 0, "sla_paused_at": None,
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
def _import_batch(actor: User, incidents: dict[str, list[Event]], roles: dict[str, str],
                  report: ImportReport) -> Counts:
    """Write one batch of incidents: the users and categories they need, tickets (new ones in
    multi-row inserts), history entries (in multi-row inserts). The SLA policies and calendar
    are read once for the batch."""
    done = Counts()
    existing: dict[str, Ticket] = {}
    numbers = list(incidents)
    for start in range(0, len(numbers), CHUNK):
        for ticket in Ticket.select().where(Ticket.source_number.in_(numbers[start:start + CHUNK])):
            existing[ticket.source_number] = ticket
    wanted: dict[str, tuple[list[Event], int]] = {}
    for number, events in incidents.items():
        first = _first_new(events, existing.get(number))
        if first is None:
            done.unchanged += 1
            continue
        wanted[number] = (events, first)
        if _requester(events[-1]) == UNKNOWN_CALLER:
            report.warn(events[-1].line, f"{number}: no caller_id or opened_by: the requester is "
                                         f"the placeholder user {UNKNOWN_CALLER!r}")
    if not wanted:
        return done
    everyone = [e for events, _ in wanted.values() for e in events]
    names = {n for e in everyone for n in (_person(e, c) for c in PERSON_COLUMNS) if n}
    names |= {_requester(events[-1]) for events, _ in wanted.values()}
    people = ensure_users(actor, {n: roles.get(n, "agent") for n in names}, SOURCE)
    categories = ensure_categories(
        actor, sorted({e.text("category") for e in everyone} - {None} | {DEFAULT_CATEGORY}), SOURCE)
    names_by_id = {"assignee": {i: n for n, i in people.items()},
                   "category": {i: n for n, i in categories.items()}}
    cal, pols = sla.calendar(), sla.policies()
    stories, new_rows = {}, []
    for number, (events, first) in wanted.items():
        states = _states(events, people, categories)
        values = _ticket_values(events, states, people, categories, cal, pols)
        stories[number] = (events, first, states)
        known = existing.get(number)
        if known is None:
            new_rows.append({**values, "version": 1})
            done.created += 1
            continue
        updated = (Ticket.update(**values, version=known.version + 1)
                   .where((Ticket.id == known.id) & (Ticket.version == known.version)).execute())
        if not updated:
            raise ConflictError(f"{ticket_number(known.id)} ({number}) was changed during the import")
        done.updated += 1
    insert_rows(Ticket, new_rows)
    ids = {number: (t.id, t.version) for number, t in existing.items()}
    created = [row["source_number"] for row in new_rows]
    for start in range(0, len(created), CHUNK):
        query = Ticket.select(Ticket.id, Ticket.source_number).where(
            Ticket.source_number.in_(created[start:start + CHUNK]))
        ids.update({number: (ticket_id, 0) for ticket_id, number in query.tuples()})
    history: list[dict] = []
    for number, (events, first, states) in stories.items():
        known = existing.get(number)
        ticket_id, version = ids[number][0], ids[number][1] + 1
        before = states[first - 1] if first else _ticket_state(known) if known else {}
        for index in range(first, len(events)):
            history.append(_history_row(ticket_id, version, events[index], before, states[index],
                                        people, names_by_id, known is None and index == 0))
            before = states[index]
        done.events += len(events) - first
    insert_audit(history)
    return done


def _history_row(ticket_id: int, version: int, event: Event, before: dict, after: dict,
                 people: dict[str, int], names: dict[str, dict], created: bool) -> dict:
    changed = [f for f in TRACKED if before.get(f) != after[f] and not (created and after[f] is None)]
    changes = {f: [before.get(f), after[f]] for f in changed}
    number, updater = ticket_number(ticket_id), _person(event, "sys_updated_by")
    by = f" by {updater}" if updater else ""
    if created:
        summary = (f"{number} created from {SOURCE} {event.number}{by}: "
                   f"{_show('status', after['status'], names)}")
    else:
        said = "; ".join(f"{LABELS.get(f, f.replace('_', ' '))} {_show(f, before.get(f), names)} → "
                         f"{_show(f, after[f], names)}" for f in changed)
        summary = f"{number} ({event.number}) changed in {SOURCE}{by}: {said or 'no tracked field changed'}"
    return audit_row(people.get(updater), "create" if created else "update", "ticket", ticket_id,
                     summary, changes or None, entity_version=version, at=event.at)


def _show(field: str, value, names: dict[str, dict]) -> str:
    if value is None or value == "":
        return "(none)"
    if field in names:
        return names[field].get(value, f"#{value}")
    if field == "status":
        return STATUS_LABELS[value]
    if field == "resolution_met":
        return "yes" if value else "no"
    return str(value)
