"""Audit entries: written by the services inside the transaction of the change they record.

Each entry also says through which channel the change came (``CHANNELS``), when the CLI
acts ``--as`` someone, who really acted, and for a write through the HTTP API, the name of the
token it came with. That "acting context" is set once by each entry point
(``enter`` for the whole process: the CLI's main, the terminal app; ``acting`` for a stretch of
work: an import) instead of being passed through every service.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from itsm_tui.core import clock
from itsm_tui.core.store.models import (
    AuditEntry,
    Category,
    Department,
    Network,
    Peripheral,
    System,
    Team,
    User,
)

# Fields that hold a record's id, and the column that names the record. The names are stored
# with the change when it is written (under NAMES_KEY), so history keeps the names it had then,
# after a rename or a delete; readers get them from names_of, never as a change.
NAMED_FIELDS = {
    "system": System.hostname,
    "peripheral": Peripheral.name,
    "category": Category.name,
    "assignee": User.username,
    "requester": User.username,
    "assigned_user": User.username,
    "department": Department.name,
    "network": Network.name,
    "team": Team.name,
}
NAMES_KEY = "_names"

CHANNELS = ("tui", "cli", "import", "api", "mail", "worker")  # worker: the jobs `serve` runs


@dataclass(frozen=True)
class Acting:
    channel: str = "cli"
    real_actor_id: int | None = None  # who really acted when the actor is impersonated
    token_name: str | None = None  # the API token a request came with


# The process's entry point sets the default (threads, workers included, see it); ``acting``
# overrides it for the current thread or task only.
_process = Acting()
_current: ContextVar[Acting | None] = ContextVar("itsm_acting", default=None)


def _check(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"unknown audit channel {channel!r}")
    return channel


def enter(channel: str, real_actor: User | None = None) -> None:
    """Set the process's channel (and the real actor behind an impersonation) once, at start."""
    global _process
    _process = Acting(_check(channel), real_actor.id if real_actor else None)


def enter_request(channel: str, token_name: str | None = None) -> None:
    """Set the channel and token for the rest of the current task: an API request, which runs
    in a task of its own (the threads its handlers run in copy the task's context)."""
    _current.set(Acting(_check(channel), None, token_name))


def current() -> Acting:
    return _current.get() or _process


@contextmanager
def acting(channel: str, real_actor: User | None = None):
    """Within the block, entries carry ``channel`` (the real actor is kept unless given)."""
    outer = current()
    token = _current.set(Acting(_check(channel), real_actor.id if real_actor else outer.real_actor_id))
    try:
        yield
    finally:
        _current.reset(token)


def actor_text(actor: str | None, real_actor: str | None) -> str | None:
    """How the log shows who acted: 'agent1', or 'system as agent1' for an impersonation."""
    return f"{real_actor} as {actor}" if real_actor and real_actor != actor else actor


def plain(value):
    """A JSON-safe form of a field value; model instances are recorded by id."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "_meta") and hasattr(value, "id"):
        return value.id
    return value


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        key: [plain(before.get(key)), plain(value)]
        for key, value in after.items()
        if not _same(before.get(key), value)
    }


def _same(old, new) -> bool:
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return old == new  # 12.5 (as SQLite returns it) is the same amount as 12.50
    return plain(old) == plain(new)


def record(
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str,
    changes: dict | None = None,
    entity_version: int | None = None,
    rows: dict | None = None,
) -> AuditEntry:
    """One entry; ``rows`` (a field's record itself, as a create's values hold it) names what
    ``changes`` refers to without reading it again."""
    return AuditEntry.create(
        **_entry(actor, action, entity_type, summary, changes, rows),
        entity_id=entity_id,
        entity_version=entity_version,
    )


def record_many(
    actor: User, action: str, entity_type: str, versions: dict[int, int], summary: str, changes: dict
) -> None:
    """The same change made to many records at once (a category merge moves its tickets): one
    entry each, ``versions`` giving each record's id and its version after the change."""
    entry = _entry(actor, action, entity_type, summary, changes)
    rows = [{**entry, "entity_id": i, "entity_version": v} for i, v in versions.items()]
    for start in range(0, len(rows), 500):
        AuditEntry.insert_many(rows[start : start + 500]).execute()


def _entry(
    actor: User | None,
    action: str,
    entity_type: str,
    summary: str,
    changes: dict | None,
    rows: dict | None = None,
) -> dict:
    context = current()
    return {
        "at": clock.now(),
        "actor": actor,
        "real_actor": context.real_actor_id,
        "channel": context.channel,
        "token_name": context.token_name,
        "action": action,
        "entity_type": entity_type,
        "summary": summary[:500],
        "changes": json.dumps(with_names(changes, rows), ensure_ascii=False, sort_keys=True)
        if changes
        else None,
    }


def with_names(changes: dict, rows: dict | None = None) -> dict:
    """``changes`` plus the names of the records its reference fields point at (one query per
    such field, unless ``rows`` holds the one record it names; most changes have none)."""
    names = {}
    for field, pair in changes.items():
        column = NAMED_FIELDS.get(field)
        ids = [v for v in pair if type(v) is int] if column is not None and isinstance(pair, list) else []
        if ids and column is not None:
            model, row = column.model, (rows or {}).get(field)
            known = getattr(row, column.name, None) if isinstance(row, model) and ids == [row.id] else None
            if known is not None:
                found = {ids[0]: known}
            else:
                found = dict(model.select(model.id, column).where(model.id.in_(ids)).tuples())
            names[field] = [found.get(v) if type(v) is int else None for v in pair]
    return {**changes, NAMES_KEY: names} if names else changes


def changes_of(entry: AuditEntry) -> dict:
    """{field: [before, after]}: the ids of referenced records, as stored."""
    changes = json.loads(entry.changes) if entry.changes else {}
    changes.pop(NAMES_KEY, None)
    return changes


def names_of(entry: AuditEntry) -> dict:
    """{field: [name before, name after]} of the reference fields, as named when the change was
    written (empty for entries written before names were kept)."""
    return (json.loads(entry.changes).get(NAMES_KEY) or {}) if entry.changes else {}


# The entity types agents may read in the log (ticket and inventory history, see audit/activity.py);
# supervisors and admins read everything, logins and user administration included.
WORK_ENTITIES = ("ticket", "department", "network", "system", "peripheral", "stock")
