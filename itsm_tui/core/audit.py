"""Audit entries: written by the services inside the transaction of the change they record."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from . import clock
from .models import AuditEntry, User


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
) -> AuditEntry:
    return AuditEntry.create(
        at=clock.now(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=entity_version,
        summary=summary[:500],
        changes=json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else None,
    )


def changes_of(entry: AuditEntry) -> dict:
    return json.loads(entry.changes) if entry.changes else {}


# The entity types agents may read in the log (ticket and inventory history, see activity.py);
# supervisors and admins read everything, logins and user administration included.
WORK_ENTITIES = ("ticket", "department", "network", "system", "peripheral", "stock")

