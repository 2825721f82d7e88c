"""Import incidents from a ServiceNow incident audit log export (one CSV row per change).

Rows are grouped by incident ``number``; within an incident the events are ordered by
``sys_mod_count`` (ties, which real exports contain, by ``sys_updated_at`` and then file order),
and the last one gives the ticket's final state. Every event becomes one history entry of the
ticket, at its original time, with what changed since the event before it.

Idempotent and resumable: a ticket remembers the highest ``sys_mod_count`` imported
(``source_mod_count``), and only events above it are applied, so importing a file twice changes
nothing the second time and a later export of the same incidents updates them. Incidents are
written in batches, each batch in one transaction: an interrupted import keeps the batches
before the failure and none of the failing one, and running it again completes it.

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

from ..core.db import transactional
from ..core.errors import ConflictError, ItsmError, ValidationError
from ..core.models import Ticket, User, ticket_number
from ..core.permissions import require
from ..core.tickets import (
    BODY_MAX, PRIORITY_MATRIX, STATUS_LABELS, TITLE_MAX, due_times, parse_level, parse_priority,
)
from .common import (
    Counts, ImportReport, Progress, audit_row, cell, ensure_categories, ensure_users,
    field_count_problem, insert_audit, insert_row, parse_time, read_csv, run_batches,
)

SOURCE = "ServiceNow"
BATCH_SIZE = 200  # incidents per transaction
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
_PRIORITY_PREFIX = re.compile(r"^\s*([0-9])\s*-")


@dataclass
class Event:
    """One source row, read and checked; ``None`` means missing (or unreadable: warned)."""

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
        return cell(self.row, column)


def import_servicenow(actor: User, path: str | Path, dry_run: bool = False,
                      batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> ImportReport:
    """Import (or with ``dry_run`` only check) a ServiceNow incident export; the report lists
    what was done and every skipped row with its line number and reason."""
    require(actor, "import.run")
    report = ImportReport("servicenow", str(path), dry_run=dry_run)
    incidents = read_events(path, report)
    roles = _people_roles(incidents)
    numbers = list(incidents)
    batches = [numbers[i:i + batch_size] for i in range(0, len(numbers), batch_size)]
    run_batches(actor, report, batches,
                lambda batch: _import_batch(actor, {n: incidents[n] for n in batch}, roles, report),
                progress)
    return report


# ---------------------------------------------------------------- reading

def read_events(path: str | Path, report: ImportReport) -> dict[str, list[Event]]:
    """{number: events in order}; bad rows are skipped into the report."""
    header, rows = read_csv(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ItsmError(f"{Path(path).name} is not a ServiceNow incident export: no "
                        f"{', '.join(missing)} column")
    incidents: dict[str, list[Event]] = {}
    for line, row in rows:
        report.rows += 1
        event = _event(line, row, header, report)
        if event is not None:
            incidents.setdefault(event.number, []).append(event)
    for events in incidents.values():
        events.sort(key=lambda e: (e.mod_count, e.at, e.line))
    return incidents


def _event(line: int, row: dict, header: list[str], report: ImportReport) -> Event | None:
    problem = field_count_problem(row, header)
    if problem:
        report.skip(line, problem)
        return None
    number = cell(row, "number")
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
    at = _time(row, "sys_updated_at", line, report)
    if at is None:
        report.skip(line, f"{number}: no readable sys_updated_at (the time of the change)")
        return None
    for column, limit in LIMITS.items():
        value = row.get(column)
        if value and len(value) > limit:
            report.warn(line, f"{number}: {column} longer than {limit} characters: cut")
            row[column] = value[:limit]
    source_state = cell(row, "incident_state")
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
        opened_at=_time(row, "opened_at", line, report) or _time(row, "sys_created_at", line, report),
        resolved_at=_time(row, "resolved_at", line, report),
        closed_at=_time(row, "closed_at", line, report),
    )


def _time(row: dict, column: str, line: int, report: ImportReport) -> datetime | None:
    text = cell(row, column)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        report.warn(line, f"{column}: {exc}: taken as missing")
        return None


def _level(row: dict, column: str, line: int, report: ImportReport) -> int | None:
    text = cell(row, column)
    if text is None:
        return None
    try:
        return parse_level(text, column)
    except ValidationError as exc:
        report.warn(line, f"{exc}: the previous value is kept")
        return None


def _priority(row: dict, line: int, report: ImportReport) -> int | None:
    text = cell(row, "priority")
    if text is None:
        return None
    prefix = _PRIORITY_PREFIX.match(text)  # '3 - Moderate': ServiceNow's names differ from ours
    try:
        return parse_priority(int(prefix.group(1)) if prefix else text)
    except ValidationError:
        report.warn(line, f"priority {text!r} is not one of 1 - Critical .. 4 - Low: "
                          "the previous value is kept")
        return None


def _flag(row: dict, column: str, line: int, report: ImportReport) -> bool | None:
    text = (cell(row, column) or "").lower()
    if text in ("true", "false"):
        return text == "true"
    if text:
        report.warn(line, f"{column} {text!r} is neither true nor false: taken as missing")
    return None


def _count(row: dict, column: str, line: int, report: ImportReport | None) -> int | None:
    """A whole number from 0 up; anything else is missing (warned when ``report`` is given)."""
    text = cell(row, column)
    if text is None:
        return None
    if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT:
        return int(text)
    if report is not None:
        report.warn(line, f"{column} {text!r} is not a whole number: taken as missing")
    return None


def _person(event: Event, column: str) -> str | None:
    return event.text(column)


def _people_roles(incidents: dict[str, list[Event]]) -> dict[str, str]:
    """{person: role} over the whole file: anyone who ever opened, was assigned or resolved an
    incident is an agent, so a role does not depend on which batch met them first."""
    roles: dict[str, str] = {}
    for events in incidents.values():
        for event in events:
            for column, role in PERSON_COLUMNS.items():
                name = _person(event, column)
                if name and roles.get(name) != "agent":
                    roles[name] = role
    return roles


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
    for column, label in (("caller_id", "Caller"), ("opened_by", "Opened by"),
                          ("contact_type", "Contact type")):
        if event.text(column):
            lines.append(f"{label}: {event.text(column)}")
    lines += [f"{label}: {event.text(column)}" for column, label in DETAILS if event.text(column)]
    return "\n".join(lines)[:BODY_MAX]  # the cells are clean already


def _ticket_values(events: list[Event], states: list[dict], people: dict[str, int],
                   categories: dict[str, int]) -> dict:
    last, final = events[-1], states[-1]
    status = final["status"]
    impact, urgency = final["impact"] or 3, final["urgency"] or 3
    matrix = PRIORITY_MATRIX[(impact, urgency)]
    priority = final["priority"] or matrix
    created_at = last.opened_at or events[0].at
    response_due, resolution_due = due_times(created_at, priority)
    resolved_at = closed_at = None
    if status in DONE:
        resolved_at = last.resolved_at or _entered(events, "resolved") or last.closed_at or last.at
    if status == "closed":
        closed_at = last.closed_at or last.at
    touched = [e.at for e, s in zip(events, states) if s["status"] != "new" or s["assignee"]]
    code = last.text("closed_code")
    return {
        "title": _title(last),
        "description": _description(last),
        "category": final["category"] or categories[DEFAULT_CATEGORY],
        "impact": impact, "urgency": urgency, "priority": priority,
        "priority_overridden": priority != matrix,
        "status": status,
        "requester": people[_person(last, "caller_id") or _person(last, "opened_by")],
        "assignee": final["assignee"],
        "created_at": created_at,
        "updated_at": max(e.at for e in events),
        "first_response_at": min(touched) if touched else None,
        "resolved_at": resolved_at, "closed_at": closed_at,
        "response_due": response_due, "resolution_due": resolution_due,
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
    }


def _entered(events: list[Event], status: str) -> datetime | None:
    """When the incident last entered ``status`` (the first event of its last run there)."""
    entered = None
    for previous, event in zip([None] + events[:-1], events):
        if event.state == status and (previous is None or previous.state != status):
            entered = event.at
    return entered


# ---------------------------------------------------------------- writing

def _floor(ticket: Ticket | None) -> int:
    """The highest source change already imported into ``ticket`` (-1: none)."""
    if ticket is None or ticket.source_mod_count is None:
        return -1
    return ticket.source_mod_count


@transactional
def _import_batch(actor: User, incidents: dict[str, list[Event]], roles: dict[str, str],
                  report: ImportReport) -> Counts:
    """Write one batch of incidents: the users and categories they need, tickets, history."""
    done = Counts()
    existing = {t.source_number: t for t in
                Ticket.select().where(Ticket.source_number.in_(list(incidents)))}
    wanted: dict[str, list[Event]] = {}
    for number, events in incidents.items():
        last = events[-1]
        if last.mod_count <= _floor(existing.get(number)):
            done.unchanged += 1
        elif not (_person(last, "caller_id") or _person(last, "opened_by")):
            report.skip(last.line, f"{number}: no caller_id or opened_by (a ticket needs a "
                                   f"requester): lines {', '.join(str(e.line) for e in events)} "
                                   "not imported")
        else:
            wanted[number] = events
    if not wanted:
        return done
    everyone = [e for events in wanted.values() for e in events]
    names = {n for e in everyone for n in (_person(e, c) for c in PERSON_COLUMNS) if n}
    people = ensure_users(actor, {n: roles[n] for n in names}, SOURCE)
    categories = ensure_categories(
        actor, sorted({e.text("category") for e in everyone} - {None} | {DEFAULT_CATEGORY}), SOURCE)
    names_by_id = {"assignee": {i: n for n, i in people.items()},
                   "category": {i: n for n, i in categories.items()}}
    history: list[dict] = []
    for number, events in wanted.items():
        states = _states(events, people, categories)
        values = _ticket_values(events, states, people, categories)
        known = existing.get(number)
        if known is None:
            ticket_id, version, first, before = insert_row(Ticket, {**values, "version": 1}), 1, 0, {}
            done.created += 1
        else:
            first = next(i for i, e in enumerate(events) if e.mod_count > _floor(known))
            before = states[first - 1] if first else _ticket_state(known)
            ticket_id, version = known.id, known.version + 1
            updated = (Ticket.update(**values, version=version)
                       .where((Ticket.id == known.id) & (Ticket.version == known.version)).execute())
            if not updated:
                raise ConflictError(f"{ticket_number(known.id)} ({number}) was changed during the import")
            done.updated += 1
        for index in range(first, len(events)):
            created = known is None and index == 0
            history.append(_history_row(ticket_id, version, events[index], before, states[index],
                                        people, names_by_id, created))
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
