"""A ticket's story in one list (comments, internal notes, history) and the agents' workload.

History comes from the audit log and is rendered in words: ids become usernames and category
names, statuses their labels, priorities their names. A handful of queries build the whole
timeline, however long the ticket's life.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, fn

from itsm_tui.core.people.permissions import STAFF, allowed, is_staff, require
from itsm_tui.core.people.users import SYSTEM_USERNAME
from itsm_tui.core.store import audit
from itsm_tui.core.store.models import (
    LEVEL_NAMES,
    OPEN_STATUSES,
    PRIORITY_NAMES,
    AuditEntry,
    Category,
    Comment,
    Department,
    Network,
    Peripheral,
    System,
    Team,
    Ticket,
    User,
)
from itsm_tui.core.tickets.rules import STATUS_LABELS
from itsm_tui.core.tickets.service import get

NONE = "(none)"
ARROW = "→"
# Audit actions that record a comment or note: the comment itself is on the timeline.
COMMENT_ACTIONS = ("comment", "note")
# Audit actions whose summary says it best (issue 21: links, merges, tags).
SUMMARY_ACTIONS = ("link", "unlink", "merge", "tag")
# field -> label, in the order changes are listed; other fields are bookkeeping and left out.
SHOWN_FIELDS = {
    "status": "status",
    "assignee": "assignee",
    "priority": "priority",
    "impact": "impact",
    "urgency": "urgency",
    "category": "category",
    "team": "team",
    "requester": "requester",
    "title": "title",
    "description": "description",
    "system": "system",
    "peripheral": "peripheral",
    "resolution_note": "resolution note",
}


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
        Comment.select(Comment, User)
        .join(User, on=(Comment.author == User.id))
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
    names = Names(entries)
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


TICKET_VALUE_NAMES: dict[str, dict] = {
    "status": STATUS_LABELS,
    "priority": PRIORITY_NAMES,
    "impact": LEVEL_NAMES,
    "urgency": LEVEL_NAMES,
}
# Each kind of record a reference field points at: its entity type in the log, and the column
# that names it.
_ENTITY_TYPE = {
    System: "system",
    Peripheral: "peripheral",
    Category: "category",
    User: "user",
    Department: "department",
    Network: "network",
    Team: "team",
}
_NAMING = {column.model: column for column in audit.NAMED_FIELDS.values()}


class Names:
    """Names for the ids the entries refer to: the name stored with the change when it was
    written; for older entries the record's current name, or for a record deleted since, its
    name in the log entry of its delete. One query per kind of record, only if needed."""

    def __init__(self, entries: list[AuditEntry]):
        self.stored = {entry.id: audit.names_of(entry) for entry in entries}
        wanted: dict[type, set[int]] = defaultdict(set)  # model -> ids without a stored name
        for entry in entries:
            stored = self.stored[entry.id]
            for field, pair in audit.changes_of(entry).items():
                if field in audit.NAMED_FIELDS and isinstance(pair, list):
                    names = stored.get(field) or [None, None]
                    wanted[audit.NAMED_FIELDS[field].model].update(
                        v for v, name in zip(pair, names) if type(v) is int and name is None
                    )
        self.current: dict[type, dict[int, str]] = {}
        for model, ids in wanted.items():
            column = _NAMING[model]
            found = _lookup(model, column, ids)
            missing = ids - set(found)
            if missing:
                found.update(_deleted_names(column, missing))
            self.current[model] = found

    def show(
        self, field: str, value, entry_id: int | None = None, index: int = 0, ticket: bool = True
    ) -> str:
        """``value`` of ``field`` in words; ``index`` 0 for the before value, 1 for the after."""
        if value is None or value == "":
            return NONE
        if field in audit.NAMED_FIELDS and type(value) is int:
            stored = (self.stored.get(entry_id) or {}).get(field) or [None, None]
            if index < len(stored) and stored[index]:
                return stored[index]
            model = audit.NAMED_FIELDS[field].model
            return self.current.get(model, {}).get(value, f"{_ENTITY_TYPE[model]} #{value}")
        names = TICKET_VALUE_NAMES.get(field) if ticket else None
        if names is not None:
            return names.get(value, str(value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)


def _deleted_names(column, ids: set[int]) -> dict[int, str]:
    """{id: name} of deleted records, from the before values their delete entry recorded."""
    kind = _ENTITY_TYPE[column.model]
    found = {}
    query = AuditEntry.select(AuditEntry.entity_id, AuditEntry.changes).where(
        (AuditEntry.entity_type == kind)
        & (AuditEntry.action == "delete")
        & AuditEntry.entity_id.in_(sorted(ids))
    )
    for entry in query:
        before = audit.changes_of(entry).get(column.name) or [None]
        if before[0]:
            found[entry.entity_id] = before[0]
    return found


def _lookup(model, column, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        row_id: name
        for row_id, name in model.select(model.id, column).where(model.id.in_(sorted(ids))).tuples()
    }


def _describe(entry: AuditEntry, names: Names) -> str:
    changes = audit.changes_of(entry)
    if entry.action == "create":
        return "created the ticket"
    if entry.action in SUMMARY_ACTIONS:
        return entry.summary
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
            parts.append(
                f"{label}: {names.show(field, before, entry.id, 0)} {ARROW} "
                f"{names.show(field, after, entry.id, 1)}"
            )
    return "; ".join(parts) if parts else entry.summary


def agent_load(actor: User) -> list[tuple[User, int]]:
    """Active agents, supervisors and admins with their number of open assigned tickets,
    lightest load first (then by username). One query."""
    require(actor, "user.view")
    open_tickets = fn.COUNT(Ticket.id)
    query = (
        User.select(User, open_tickets.alias("open_tickets"))
        .join(Ticket, JOIN.LEFT_OUTER, on=((Ticket.assignee == User.id) & Ticket.status.in_(OPEN_STATUSES)))
        .where(User.role.in_(sorted(STAFF)) & User.is_active & (User.username != SYSTEM_USERNAME))
        .group_by(User.id)
        .order_by(open_tickets, User.username)
    )
    return [(user, user.open_tickets) for user in query]


def ticket_with_names(actor: User, ticket_id: int) -> Ticket:
    """One permission check, then the ticket with the names a ticket page shows (requester,
    category, assignee) in one query: a name read lazily while painting would be a query on the
    UI thread."""
    ticket_id = get(actor, ticket_id).id
    assignee = User.alias()
    return (
        Ticket.select(Ticket, User, Category, assignee, Team)
        .join(User, on=(Ticket.requester == User.id), attr="requester")
        .switch(Ticket)
        .join(Category, on=(Ticket.category == Category.id), attr="category")
        .switch(Ticket)
        .join(assignee, JOIN.LEFT_OUTER, on=(Ticket.assignee == assignee.id), attr="assignee")
        .switch(Ticket)
        .join(Team, JOIN.LEFT_OUTER, on=(Ticket.team == Team.id), attr="team")
        .where(Ticket.id == ticket_id)
        .get()
    )


def linked_asset(actor: User, ticket: Ticket) -> str:
    """The ticket's linked asset in a line, with its department and network; requesters, who
    have no inventory rights, see only that something is linked and its asset tag."""
    if not allowed(actor.role, "inventory.view"):
        if ticket.system_id:
            return f"a system, asset tag {System.get_by_id(ticket.system_id).asset_tag}"
        if ticket.peripheral_id:
            return f"a peripheral, asset tag {Peripheral.get_by_id(ticket.peripheral_id).asset_tag}"
        return "—"
    if ticket.system_id:
        asset = _with_place(System, ticket.system_id)
        parts = [f"{asset.hostname} · {asset.asset_tag} · {asset.type} · {asset.ip or 'no IP'}"]
    elif ticket.peripheral_id:
        asset = _with_place(Peripheral, ticket.peripheral_id)
        parts = [f"{asset.name} · {asset.asset_tag} · {asset.kind}"]
    else:
        return "—"
    if asset.department_id:
        parts.append(f"department {asset.department.name}")
    if asset.network_id:
        parts.append(f"network {asset.network.name} ({asset.network.cidr})")
    return " · ".join(parts)


def _with_place(model, asset_id: int):
    """A system or peripheral with its department and network, in one query."""
    return (
        model.select(model, Department, Network)
        .join(Department, JOIN.LEFT_OUTER, on=(model.department == Department.id), attr="department")
        .switch(model)
        .join(Network, JOIN.LEFT_OUTER, on=(model.network == Network.id), attr="network")
        .where(model.id == asset_id)
        .get()
    )
