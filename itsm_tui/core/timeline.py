"""A ticket's story in one list (comments, internal notes, history) and the agents' workload.

History comes from the audit log and is rendered in words: ids become usernames and category
names, statuses their labels, priorities their names. A handful of queries build the whole
timeline, however long the ticket's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, fn

from . import audit
from .models import (
    LEVEL_NAMES, OPEN_STATUSES, PRIORITY_NAMES, AuditEntry, Category, Comment,
    Peripheral, System, Ticket, User,
)
from .permissions import STAFF, is_staff, require
from .tickets import STATUS_LABELS, get
from .users import SYSTEM_USERNAME

NONE = "(none)"
ARROW = "→"
# Audit actions that record a comment or note: the comment itself is on the timeline.
COMMENT_ACTIONS = ("comment", "note")
# field -> label, in the order changes are listed; other fields are bookkeeping and left out.
SHOWN_FIELDS = {
    "status": "status",
    "assignee": "assignee",
    "priority": "priority",
    "impact": "impact",
    "urgency": "urgency",
    "category": "category",
    "requester": "requester",
    "title": "title",
    "description": "description",
    "system": "system",
    "peripheral": "peripheral",
    "resolution_note": "resolution note",
}
USER_FIELDS = ("assignee", "requester")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # "comment" | "note" | "history"
    author: str
    text: str
    id: int  # the comment's id, or the audit entry's: unique together with ``kind``


def timeline(actor: User, ticket: Ticket | int) -> list[Event]:
    """Everything that happened to ``ticket`` (a Ticket or its id), oldest first, as the actor
    may see it. Requesters get public comments and the history, never internal notes.
    """
    ticket = get(actor, ticket if isinstance(ticket, int) else ticket.id)
    return story(ticket.id, staff=is_staff(actor))


def story(ticket_id: int, staff: bool) -> list[Event]:
    """The timeline of a ticket the caller has already checked the actor may see (one check
    per screen read, not one per part of it); internal notes only for ``staff``."""
    comments = (
        Comment.select(Comment, User).join(User, on=(Comment.author == User.id))
        .where(Comment.ticket == ticket_id)
    )
    if not staff:
        comments = comments.where(~Comment.is_internal)
    entries = list(
        AuditEntry.select(AuditEntry, User)
        .join(User, JOIN.LEFT_OUTER, on=(AuditEntry.actor == User.id))
        .where(
            (AuditEntry.entity_type == "ticket")
            & (AuditEntry.entity_id == ticket_id)
            & AuditEntry.action.not_in(COMMENT_ACTIONS)
        )
    )
    names = _Names(entries)
    events: list[tuple[tuple, Event]] = []
    for entry in entries:
        author = entry.actor.username if entry.actor_id else "unknown"
        event = Event(entry.at, "history", author, _describe(entry, names), entry.id)
        events.append(((entry.at, 0, entry.id), event))
    for row in comments:
        kind = "note" if row.is_internal else "comment"
        event = Event(row.created_at, kind, row.author.username, row.body, row.id)
        events.append(((row.created_at, 1, row.id), event))
    # Within one second, a change comes before the comment written with it (e.g. on reopening).
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]


class _Names:
    """Names for the ids the entries refer to: one query per kind of record, only if needed."""

    def __init__(self, entries: list[AuditEntry]):
        wanted: dict[str, set[int]] = {"user": set(), "category": set(), "system": set(),
                                       "peripheral": set()}
        for entry in entries:
            for field, pair in audit.changes_of(entry).items():
                kind = "user" if field in USER_FIELDS else field
                if kind in wanted:
                    wanted[kind].update(v for v in pair if isinstance(v, int))
        self.users = _lookup(User, User.username, wanted["user"])
        self.categories = _lookup(Category, Category.name, wanted["category"])
        self.systems = _lookup(System, System.hostname, wanted["system"])
        self.peripherals = _lookup(Peripheral, Peripheral.name, wanted["peripheral"])

    def show(self, field: str, value) -> str:
        if value is None or value == "":
            return NONE
        if field in USER_FIELDS:
            return self.users.get(value, f"user #{value}")
        if field == "category":
            return self.categories.get(value, f"category #{value}")
        if field == "system":
            return self.systems.get(value, f"system #{value}")
        if field == "peripheral":
            return self.peripherals.get(value, f"peripheral #{value}")
        if field == "status":
            return STATUS_LABELS.get(value, str(value))
        if field == "priority":
            return PRIORITY_NAMES.get(value, str(value))
        if field in ("impact", "urgency"):
            return LEVEL_NAMES.get(value, str(value))
        return str(value)


def _lookup(model, column, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row_id: name for row_id, name in model.select(model.id, column)
            .where(model.id.in_(sorted(ids))).tuples()}


def _describe(entry: AuditEntry, names: _Names) -> str:
    changes = audit.changes_of(entry)
    if entry.action == "create":
        return "created the ticket"
    if entry.action == "attach":
        attachment = (changes.get("attachment") or [None, None])[1]
        if isinstance(attachment, dict) and attachment.get("name"):
            return f"attached {attachment['name']}"
    parts = []
    for field, label in SHOWN_FIELDS.items():
        if field not in changes:
            continue
        before, after = changes[field]
        if field == "description":
            parts.append("description edited")
        elif field == "resolution_note":
            if after:
                parts.append(f"resolution note: {after}")
        else:
            parts.append(f"{label}: {names.show(field, before)} {ARROW} {names.show(field, after)}")
    return "; ".join(parts) if parts else entry.summary


def agent_load(actor: User) -> list[tuple[User, int]]:
    """Active agents, supervisors and admins with their number of open assigned tickets,
    lightest load first (then by username). One query."""
    require(actor, "user.view")
    open_tickets = fn.COUNT(Ticket.id)
    query = (
        User.select(User, open_tickets.alias("open_tickets"))
        .join(Ticket, JOIN.LEFT_OUTER,
              on=((Ticket.assignee == User.id) & Ticket.status.in_(OPEN_STATUSES)))
        .where(User.role.in_(sorted(STAFF)) & User.is_active
               & (User.username != SYSTEM_USERNAME))
        .group_by(User.id)
        .order_by(open_tickets, User.username)
    )
    return [(user, user.open_tickets) for user in query]
