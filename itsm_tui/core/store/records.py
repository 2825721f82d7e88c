"""Create, update and delete for versioned records, each with its audit entry.

Callers run these inside their own ``@transactional`` service function, so the change and its
audit entry commit together.
"""

from __future__ import annotations

import unicodedata

from peewee import JOIN, IntegrityError, fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ConflictError, NotFound, ValidationError
from itsm_tui.core.labels import field_label
from itsm_tui.core.store import audit, natural
from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import AuditEntry, BaseModel, User
from itsm_tui.core.text import clean


def _raw(row: BaseModel, name: str):
    """A field's stored value (an id for foreign keys), without loading related rows."""
    return row.__data__.get(name)


def get(model: type[BaseModel], record_id: int, label: str) -> BaseModel:
    row = model.get_or_none(model.id == record_id)
    if row is None:
        raise NotFound(f"{label} {record_id} does not exist")
    return row


def create(actor: User, model: type[BaseModel], entity_type: str, label: str, values: dict):
    now = clock.now()
    stamped = natural.keyed(model, values)
    if "created_at" in model._meta.fields:
        stamped.setdefault("created_at", now)
    if "updated_at" in model._meta.fields:
        stamped.setdefault("updated_at", now)
    try:
        row = model.create(**stamped)
    except IntegrityError as exc:
        raise ValidationError(f"cannot create {label}: {integrity_message(exc)}") from None
    audit.record(
        actor,
        "create",
        entity_type,
        row.id,
        f"created {label}",
        audit.diff({}, values),
        entity_version=getattr(row, "version", None),
        rows=values,
    )
    return row


def update(
    actor: User,
    row: BaseModel,
    expected_version: int,
    values: dict,
    entity_type: str,
    label: str,
    action: str = "update",
    summary: str | None = None,
) -> BaseModel:
    """Apply ``values`` if nobody changed ``row`` since ``expected_version``; return the fresh row."""
    model = type(row)
    check_version(row, expected_version, entity_type, label)
    changes = audit.diff({name: _raw(row, name) for name in values}, values)
    if not changes:
        return row
    stamped = {**natural.keyed(model, values), "version": model.version + 1}
    if "updated_at" in model._meta.fields:
        stamped["updated_at"] = clock.now()
    try:
        updated = (
            model.update(**stamped)
            .where((model.id == row.id) & (model.version == expected_version))
            .execute()
        )
    except IntegrityError as exc:
        raise ValidationError(f"cannot update {label}: {integrity_message(exc)}") from None
    if updated == 0:
        raise conflict(entity_type, row.id, label, expected_version)
    audit.record(
        actor,
        action,
        entity_type,
        row.id,
        summary or f"updated {label}: {', '.join(field_label(f) for f in sorted(changes))}",
        changes,
        entity_version=expected_version + 1,
    )
    return model.get_by_id(row.id)


def delete(actor: User, row: BaseModel, entity_type: str, label: str, expected_version: int | None = None):
    model = type(row)
    if expected_version is not None and row.version != expected_version:
        raise conflict(entity_type, row.id, label, expected_version)
    before = {name: _raw(row, name) for name in model._meta.sorted_field_names if name != "id"}
    condition = model.id == row.id
    if expected_version is not None:
        condition &= model.version == expected_version  # a save in between makes this a conflict
    try:
        deleted = model.delete().where(condition).execute()
    except IntegrityError as exc:
        raise ValidationError(f"cannot delete {label}: {integrity_message(exc)}") from None
    if deleted == 0:
        if expected_version is not None and model.get_or_none(model.id == row.id):
            raise conflict(entity_type, row.id, label, expected_version)
        raise NotFound(f"{label} was already deleted")
    audit.record(
        actor,
        "delete",
        entity_type,
        row.id,
        f"deleted {label}",
        {k: [audit.plain(v), None] for k, v in before.items() if v is not None},
    )


def new_name(model: type[BaseModel], entity_type: str, name: str, max_len: int, renamed=None) -> str:
    """``name`` cleaned for a new or ``renamed`` row of ``model``: refused while another row has
    it in any case (a team, a macro)."""
    name = clean(name, f"{entity_type} name", max_len=max_len)
    clash = model.get_or_none(same_name(model.name, name))
    if clash is not None and (renamed is None or clash.id != renamed.id):
        raise ValidationError(f"{entity_type} {clash.name!r} already exists", "name")
    return name


def same_name(column, name: str):
    """``column`` holds ``name`` in any case (a team, a category, "ÉDITION" for "édition").
    MySQL's collation compares so; SQLite's LOWER() folds ASCII letters only, so a name beyond
    ASCII is compared through Python's casefold of its composed form (the ``itsm_casefold`` SQL
    function, registered on this connection): a scan, as LOWER()'s is."""
    if is_mysql() or name.isascii():
        return fn.LOWER(column) == name.lower()
    database.obj.register_function(_folded, "itsm_casefold", 1, deterministic=True)
    return fn.itsm_casefold(column) == _folded(name)


def _folded(value):
    return None if value is None else unicodedata.normalize("NFC", str(value)).casefold()


def check_version(row: BaseModel, expected_version: int, entity_type: str, label: str) -> None:
    """A stale edit is a conflict before anything else: checked ahead of the lifecycle and
    validation rules, so the operator sees who changed what, not a rule the change now breaks."""
    if row.version != expected_version:
        raise conflict(entity_type, row.id, label, expected_version)


def conflict(entity_type: str, entity_id: int, label: str, expected_version: int) -> ConflictError:
    """Name who changed what, and when, since the version the caller read."""
    query = (
        AuditEntry.select(AuditEntry, User)
        .join(User, on=(AuditEntry.actor == User.id), join_type=JOIN.LEFT_OUTER)
        .where(
            (AuditEntry.entity_type == entity_type)
            & (AuditEntry.entity_id == entity_id)
            & (AuditEntry.entity_version > expected_version)
        )
        .order_by(AuditEntry.id)
    )
    if is_mysql():
        # InnoDB's snapshot was taken at the transaction's first read, before the winning
        # commit; a locking read sees the latest committed entries, as the failed UPDATE did.
        query = query.for_update("LOCK IN SHARE MODE")
    entries = list(query)
    if not entries:
        return ConflictError(f"{label} was changed by someone else; reload it and try again")
    parts = []
    for entry in entries:
        who = entry.actor.username if entry.actor_id else "unknown"
        fields = ", ".join(sorted(audit.changes_of(entry))) or entry.action
        parts.append(f"{who} changed {fields} at {entry.at:%Y-%m-%d %H:%M} UTC")
    return ConflictError(
        f"{label} was changed after you opened it: {'; '.join(parts)}. Reload to see the changes.",
        changes=entries,
    )


def integrity_message(exc: IntegrityError) -> str:
    """Turn a constraint violation into words (the services validate first; this is the net)."""
    text = str(exc.args[-1] if exc.args else exc)
    if "UNIQUE" in text or "Duplicate" in text:
        return "a record with that value already exists"
    if "FOREIGN KEY" in text or "foreign key" in text:
        return "it is still referenced by other records"
    if "CHECK" in text:
        return "a value is out of range"
    return text
