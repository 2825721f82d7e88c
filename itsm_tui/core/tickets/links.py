"""Links between tickets (related, parent/child, duplicate of, caused by) and merging a
duplicate into another ticket.

A link is stored once, read from its ``source`` (``LINK_KINDS`` in the models); each side shows
it in its own words ("Parent of INC000012" on one, "Child of INC000010" on the other). Linking,
unlinking and merging are written in the log of both tickets."""

from __future__ import annotations

from dataclasses import dataclass

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.labels import counted
from itsm_tui.core.notify.notifications import notify
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import OPEN_STATUSES, Attachment, Comment, Ticket, TicketLink, User
from itsm_tui.core.tickets import sla
from itsm_tui.core.tickets.service import get, visible

# kind -> (words from the source's side, words from the target's side)
WORDS = {
    "related": ("related to", "related to"),
    "parent": ("parent of", "child of"),
    "duplicate": ("duplicate of", "duplicated by"),
    "caused_by": ("caused by", "cause of"),
    "merged": ("merged into", "merged from"),
}
# What an operator types for a kind, from the ticket they are on: (kind, this ticket is the source)
CHOICES = {
    "related": ("related", True),
    "parent": ("parent", True),  # this ticket is the parent of the other
    "child": ("parent", False),  # this ticket is a child of the other
    "duplicate": ("duplicate", True),
    "caused_by": ("caused_by", True),
    "causes": ("caused_by", False),
}
# Kinds that point one way along a chain: a ticket may not end up its own ancestor, duplicate or cause.
DIRECTED = ("parent", "duplicate", "caused_by")


@dataclass(frozen=True)
class Link:
    id: int
    kind: str  # as stored (LINK_KINDS)
    outgoing: bool  # the ticket asked about is the link's source
    words: str  # "parent of", from the ticket asked about
    other_id: int
    other_number: str
    other_title: str
    other_status: str

    @property
    def merged_into(self) -> bool:
        """This ticket was merged into the other."""
        return self.kind == "merged" and self.outgoing


def links_of(actor: User, ticket_id: int) -> list[Link]:
    """The ticket's links, seen from it; links to tickets the actor may not see are left out."""
    ticket = get(actor, ticket_id)
    return _links(ticket.id, actor)


def _links(ticket_id: int, actor: User | None = None) -> list[Link]:
    """Two queries: the links, then the tickets at their other ends."""
    rows = list(
        TicketLink.select()
        .where((TicketLink.source == ticket_id) | (TicketLink.target == ticket_id))
        .order_by(TicketLink.id)
    )
    ends = [(row, row.source_id == ticket_id) for row in rows]
    wanted = [row.target_id if outgoing else row.source_id for row, outgoing in ends]
    others = {t.id: t for t in Ticket.select().where(Ticket.id.in_(wanted))} if wanted else {}
    found = []
    for (row, outgoing), other_id in zip(ends, wanted):
        other = others[other_id]
        if actor is not None and not visible(actor, other):
            continue
        words = WORDS[row.kind][0 if outgoing else 1]
        found.append(
            Link(row.id, row.kind, outgoing, words, other.id, other.number, other.title, other.status)
        )
    return found


def merged_into(ticket_id: int) -> Ticket | None:
    """The ticket this one was merged into, if it was."""
    row = TicketLink.get_or_none((TicketLink.source == ticket_id) & (TicketLink.kind == "merged"))
    return Ticket.get_by_id(row.target_id) if row else None


def open_children(actor: User, ticket_id: int) -> list[Ticket]:
    """The children of ``ticket_id`` that are still open (resolving a parent offers them)."""
    get(actor, ticket_id)
    children = TicketLink.select(TicketLink.target).where(
        (TicketLink.source == ticket_id) & (TicketLink.kind == "parent")
    )
    found = Ticket.select().where(Ticket.id.in_(children) & Ticket.status.in_(OPEN_STATUSES))
    return [child for child in found.order_by(Ticket.id) if visible(actor, child)]


@transactional
def link(actor: User, ticket_id: int, other, choice: str) -> Link:
    """Link ``ticket_id`` to ``other`` (a number or id) as ``choice`` (see ``CHOICES``)."""
    require(actor, "ticket.link")
    if choice not in CHOICES:
        raise ValidationError(f"unknown link {choice!r}: choose one of {', '.join(CHOICES)}", "kind")
    this, that = get(actor, ticket_id), other_ticket(actor, other)
    if this.id == that.id:
        raise ValidationError("a ticket cannot be linked to itself", "ticket")
    kind, outgoing = CHOICES[choice]
    source, target = (this, that) if outgoing else (that, this)
    existing = TicketLink.select().where(
        ((TicketLink.source == this.id) & (TicketLink.target == that.id))
        | ((TicketLink.source == that.id) & (TicketLink.target == this.id))
    )
    for row in existing:
        if row.kind == kind and (kind not in DIRECTED or row.source_id == source.id):
            raise ValidationError(f"{this.number} and {that.number} are already linked so", "ticket")
    if kind in DIRECTED and _reaches(target.id, source.id, kind):
        raise ValidationError(
            f"{source.number} cannot be {WORDS[kind][0]} {target.number}: "
            f"{target.number} is already {WORDS[kind][0]} {source.number}, directly or through others",
            "kind",
        )
    row = TicketLink.create(source=source, target=target, kind=kind, created_by=actor, created_at=clock.now())
    _both_logs(actor, "link", row, f"{source.number} {WORDS[kind][0]} {target.number}")
    return next(link for link in _links(this.id) if link.id == row.id)


def _reaches(start: int, goal: int, kind: str) -> bool:
    """``goal`` is reached from ``start`` along links of ``kind``, source to target (a child,
    its children, ...): a link from ``goal`` to ``start`` would close a cycle. One query a level."""
    seen, level = {start}, {start}
    while level:
        if goal in level:
            return True
        rows = TicketLink.select(TicketLink.target).where(
            TicketLink.source.in_(sorted(level)) & (TicketLink.kind == kind)
        )
        level = {target_id for (target_id,) in rows.tuples()} - seen
        seen |= level
    return False


def other_ticket(actor: User, ref) -> Ticket:
    """The other ticket, by number, id, or the number's digits as typed ("57" for INC000057)."""
    if isinstance(ref, str) and ref.strip().lstrip("#").isdigit():
        ref = int(ref.strip().lstrip("#"))
    return get(actor, ref)


@transactional
def unlink(actor: User, ticket_id: int, link_id: int) -> None:
    require(actor, "ticket.link")
    get(actor, ticket_id)
    row = TicketLink.get_or_none(
        (TicketLink.id == link_id) & ((TicketLink.source == ticket_id) | (TicketLink.target == ticket_id))
    )
    if row is None:
        raise NotFound("that link does not exist any more")
    if row.kind == "merged":
        raise ValidationError("a merge cannot be undone by removing its link", "kind")
    source, target = Ticket.get_by_id(row.source_id), Ticket.get_by_id(row.target_id)
    TicketLink.delete().where(TicketLink.id == row.id).execute()
    _both_logs(actor, "unlink", row, f"{source.number} no longer {WORDS[row.kind][0]} {target.number}")


def _both_logs(actor: User, action: str, row: TicketLink, summary: str) -> None:
    for ticket_id, other in ((row.source_id, row.target_id), (row.target_id, row.source_id)):
        audit.record(
            actor, action, "ticket", ticket_id, summary, {"link": [None, {"kind": row.kind, "ticket": other}]}
        )


@transactional
def merge(actor: User, duplicate_id: int, expected_version: int, into) -> Ticket:
    """Merge the duplicate into ``into``: its comments and attachments move there, it is
    closed with a pointer, both logs say so and its requester is told. Returns the duplicate."""
    require(actor, "ticket.merge")
    duplicate, target = get(actor, duplicate_id), other_ticket(actor, into)
    records.check_version(duplicate, expected_version, "ticket", duplicate.number)
    if duplicate.id == target.id:
        raise ValidationError("a ticket cannot be merged into itself", "ticket")
    for ticket in (duplicate, target):
        earlier = merged_into(ticket.id)
        if earlier is not None:
            raise ValidationError(f"{ticket.number} was already merged into {earlier.number}", "ticket")
    # The summary is on both tickets' history, which requesters read: it counts the public
    # comments only, or it would tell them that internal notes exist.
    moved_comments = (
        Comment.update(ticket=target).where((Comment.ticket == duplicate.id) & ~Comment.is_internal).execute()
    )
    Comment.update(ticket=target).where(Comment.ticket == duplicate.id).execute()  # the internal notes
    moved_files = Attachment.update(ticket=target).where(Attachment.ticket == duplicate.id).execute()
    now = clock.now()
    note = f"Merged into {target.number}"  # not its title: the requester may not see that ticket
    values: dict = {"status": "closed", "closed_at": now, "resolution_note": note}
    if duplicate.status in OPEN_STATUSES:
        values.update(sla.on_status(duplicate, "resolved", now, duplicate.first_response_at))
        values["resolved_at"] = now
    moved = f"{counted(moved_comments, 'comment')} and {counted(moved_files, 'attachment')} moved"
    summary = f"{duplicate.number} merged into {target.number} ({moved})"
    records.update(actor, duplicate, expected_version, values, "ticket", duplicate.number, "merge", summary)
    row = TicketLink.create(source=duplicate, target=target, kind="merged", created_by=actor, created_at=now)
    audit.record(
        actor,
        "merge",
        "ticket",
        target.id,
        summary,
        {"link": [None, {"kind": row.kind, "ticket": duplicate.id}]},
    )
    Ticket.update(updated_at=now).where(Ticket.id == target.id).execute()
    if duplicate.requester_id != actor.id:
        notify(  # on their own ticket: the other may be someone else's, which they cannot open
            User.get_by_id(duplicate.requester_id),
            duplicate,
            "merged",
            f"Your ticket {duplicate.number} was merged into {target.number}, where it is followed up",
        )
    return Ticket.get_by_id(duplicate.id)
