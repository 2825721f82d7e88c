"""The ticket service: create, update, move along the lifecycle, assign, comment, attach.

The rules it applies (transitions, who may choose which status, the priority matrix) are in ``rules``."""

from __future__ import annotations

import hashlib

from peewee import Select

from itsm_tui.core import clock, config
from itsm_tui.core.errors import NotFound, PermissionDenied, ValidationError
from itsm_tui.core.labels import counted
from itsm_tui.core.notify import mailer
from itsm_tui.core.notify.notifications import notify
from itsm_tui.core.people.permissions import REQUESTER, is_staff, require
from itsm_tui.core.people.users import by_username, staff_member
from itsm_tui.core.store import audit, records, requests
from itsm_tui.core.store.db import is_mysql, transactional
from itsm_tui.core.store.models import (
    Attachment,
    AttachmentBlob,
    Comment,
    Peripheral,
    System,
    Ticket,
    User,
    database,
    ticket_number,
)
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import assignment, categories, sla
from itsm_tui.core.tickets.rules import (
    OWN_NUMBER_RE,
    PRIORITY_MATRIX,
    STATUS_LABELS,
    TRANSITIONS,
    parse_level,
    parse_number,
    parse_priority,
    requester_may,
)

TITLE_MAX, BODY_MAX = 200, 20_000


def _asset(system=None, peripheral=None, owner: User | None = None) -> dict:
    """Resolve a linked system/peripheral by id, asset tag or hostname/name; with ``owner``,
    among the systems assigned to them and their peripherals only."""
    values: dict = {}
    mine = None if owner is None else System.select(System.id).where(System.assigned_user == owner.id)
    if system is not None:
        among = None if mine is None else System.id.in_(mine)
        values["system"] = _find_asset(System, system, (System.asset_tag, System.hostname), "system", among)
    if peripheral is not None:
        among = None if mine is None else Peripheral.system.in_(mine)
        fields = (Peripheral.asset_tag, Peripheral.name)
        values["peripheral"] = _find_asset(Peripheral, peripheral, fields, "peripheral", among)
    return values


def _find_asset(model, value, fields, label, among=None):
    if value == "" or value is False:
        return None
    query = model.select() if among is None else model.select().where(among)
    if isinstance(value, (int, model)):
        row = query.where(model.id == getattr(value, "id", value)).first()
    else:
        row = None
        for field in fields:
            row = query.where(field == str(value).strip()).first()
            if row:
                break
    if row is None:
        raise ValidationError(f"no {label} {value!r}", label)
    return row


# ---------------------------------------------------------------- reading


def visible(actor: User, ticket: Ticket) -> bool:
    return is_staff(actor) or ticket.requester_id == actor.id


def get(actor: User, number_or_id: str | int, read: Select | None = None) -> Ticket:
    """A ticket the actor may see; others' tickets are 'not found' to requesters. ``read``: the
    query to read it with, for a caller that wants more columns in the same statement (the
    API's names a ticket points at)."""
    require(actor, "ticket.view_own")
    read = Ticket.select() if read is None else read
    if isinstance(number_or_id, str) and not OWN_NUMBER_RE.match(number_or_id.strip()):
        # Not our format: an imported ticket's source number (INC0000045) comes first.
        imported = read.where(Ticket.source_number == number_or_id.strip().upper()).first()
        if imported is not None and visible(actor, imported):
            return imported
    ticket_id = parse_number(number_or_id)
    ticket = read.where(Ticket.id == ticket_id).first()
    if ticket is None or not visible(actor, ticket):
        raise NotFound(f"ticket {ticket_number(ticket_id)} does not exist")
    return ticket


def comments(actor: User, ticket: Ticket) -> list[Comment]:
    """The ticket's comments, oldest first; internal notes only for staff."""
    get(actor, ticket.id)
    query = (
        Comment.select(Comment, User)
        .join(User)
        .where(Comment.ticket == ticket.id)
        .order_by(Comment.created_at, Comment.id)
    )
    if not is_staff(actor):
        query = query.where(~Comment.is_internal)
    return list(query)


# ---------------------------------------------------------------- writing

# How a ticket came in, by the channel of the process or request that made it (imports keep the
# source's own contact type).
CHANNEL_OF_ENTRY = {"tui": "app", "cli": "app", "api": "api", "mail": "e-mail"}


@transactional
def create(
    actor: User,
    title: str,
    description: str,
    category=None,
    impact=3,
    urgency=3,
    requester: str | User | None = None,
    system=None,
    peripheral=None,
    request_key: str | None = None,
    channel: str | None = None,
    read: Select | None = None,
) -> Ticket:
    """A new ticket. ``channel`` (stored as the contact type, as ServiceNow's imports have it) says
    how it came in; by default the acting channel's: the app, the API or e-mail. ``read``: the
    query the new ticket is read back with, as :func:`get`'s."""
    require(actor, "ticket.create")
    earlier = requests.claim(actor, request_key, "ticket.create")
    if earlier:
        return requests.result(Ticket, earlier.entity_id)
    values: dict = {
        "title": clean(title, "title", max_len=TITLE_MAX),
        "description": clean(description, "description", max_len=BODY_MAX, multiline=True),
        "category": categories.find(category),
        "impact": parse_level(impact, "impact"),
        "urgency": parse_level(urgency, "urgency"),
        "contact_type": channel or CHANNEL_OF_ENTRY.get(audit.current().channel),
    }
    if requester is not None and requester != actor and requester != actor.username:
        require(actor, "ticket.create_for_other")
        values["requester"] = requester if isinstance(requester, User) else by_username(requester)
    else:
        values["requester"] = actor
    if system is not None or peripheral is not None:
        # A requester names only their own devices: another's is as unknown to them as a missing one.
        values.update(_asset(system, peripheral, None if is_staff(actor) else actor))
    now = clock.now()  # the ticket's creation time, which its SLA targets count from
    values.update(
        created_at=now, updated_at=now, priority=PRIORITY_MATRIX[(values["impact"], values["urgency"])]
    )
    values.update(sla.targets(now, values["priority"]))
    values["status"] = "new"
    auto = assignment.pick(values["category"])
    if auto is not None:
        values["assignee"] = auto
    ticket = records.create(actor, Ticket, "ticket", "ticket", values)
    if auto is not None and auto.id != actor.id:
        notify(
            auto,
            ticket,
            "assigned",
            f"{ticket.number} was assigned to you automatically ({values['category'].name}): {ticket.title}",
        )
    if ticket.system_id:
        _note_link_on_systems(actor, ticket, None, ticket.system_id)
    requests.done(request_key, "ticket", ticket.id)
    return (Ticket.select() if read is None else read).where(Ticket.id == ticket.id).get()


@transactional
def update(
    actor: User, ticket_id: int, expected_version: int, request_key: str | None = None, **changes
) -> Ticket:
    """Edit title, description, category, impact, urgency, priority (an override), linked asset."""
    require(actor, "ticket.work")
    ticket = get(actor, ticket_id)
    if requests.claim(actor, request_key, "ticket.update"):
        return requests.result(Ticket, ticket.id)
    records.check_version(ticket, expected_version, "ticket", ticket.number)
    allowed = {"title", "description", "category", "impact", "urgency", "priority", "system", "peripheral"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"cannot change {', '.join(sorted(unknown))} here")
    if {"title", "description", "category"} & set(changes):
        require(actor, "ticket.edit")
    values: dict = {}
    if "title" in changes:
        values["title"] = clean(changes["title"], "title", max_len=TITLE_MAX)
    if "description" in changes:
        values["description"] = clean(changes["description"], "description", max_len=BODY_MAX, multiline=True)
    if "category" in changes:
        values["category"] = categories.find(changes["category"])
    impact = parse_level(changes.get("impact", ticket.impact), "impact")
    urgency = parse_level(changes.get("urgency", ticket.urgency), "urgency")
    values.update(impact=impact, urgency=urgency)
    matrix = PRIORITY_MATRIX[(impact, urgency)]
    if changes.get("priority") is not None:
        values["priority"] = parse_priority(changes["priority"])
        values["priority_overridden"] = values["priority"] != matrix
    elif not ticket.priority_overridden or "impact" in changes or "urgency" in changes:
        values["priority"], values["priority_overridden"] = matrix, False
    if values.get("priority", ticket.priority) != ticket.priority and ticket.status not in sla.STOPPED:
        # a resolved or closed ticket keeps the times its frozen outcome was judged by
        values.update(sla.targets(ticket.created_at, values["priority"], ticket.sla_paused_seconds or 0))
    values.update(_asset(changes.get("system"), changes.get("peripheral")))
    if "system" in changes and changes["system"] in (None, ""):
        values["system"] = None
    if "peripheral" in changes and changes["peripheral"] in (None, ""):
        values["peripheral"] = None
    old_system = ticket.system_id
    ticket = records.update(actor, ticket, expected_version, values, "ticket", ticket.number)
    if ticket.system_id != old_system:
        _note_link_on_systems(actor, ticket, old_system, ticket.system_id)
    return ticket


@transactional
def delete(actor: User, ticket_id: int, expected_version: int) -> str:
    """Delete a ticket with its comments, attachments, links and tags (admins). The log keeps a
    deletion entry with its number, title and requester; the summary of what went is returned."""
    require(actor, "ticket.delete")
    ticket = get(actor, ticket_id)
    goes = what_goes(ticket.id)
    requester = User.get_by_id(ticket.requester_id).username
    digests = [a.blob_id for a in Attachment.select(Attachment.blob).where(Attachment.ticket == ticket.id)]
    label = f"{ticket.number} {ticket.title!r} requested by {requester} ({goes})"
    records.delete(actor, ticket, "ticket", label, expected_version)
    # a file's content is kept once for every ticket it is attached to: drop what none uses now
    used = Attachment.select(Attachment.blob).where(Attachment.blob.in_(digests))
    AttachmentBlob.delete().where(
        AttachmentBlob.sha256.in_(digests) & AttachmentBlob.sha256.not_in(used)
    ).execute()
    return label


def what_goes(ticket_id: int) -> str:
    """'3 comments, 1 attachment': what deleting the ticket deletes with it."""
    n_comments = Comment.select().where(Comment.ticket == ticket_id).count()
    n_files = Attachment.select().where(Attachment.ticket == ticket_id).count()
    return f"{counted(n_comments, 'comment')}, {counted(n_files, 'attachment')}"


def _note_link_on_systems(actor: User, ticket: Ticket, old: int | None, new: int | None) -> None:
    """Record a link change on the systems too, so a system's screen finds every ticket ever
    linked to it through the log's (entity_type, entity_id) index."""
    for system_id, verb in ((old, "unlinked"), (new, "linked")):
        if system_id:
            audit.record(
                actor,
                f"ticket_{verb}",
                "system",
                system_id,
                f"{ticket.number} {verb}",
                {"ticket": [None, ticket.id]},
            )


@transactional
def change_status(
    actor: User,
    ticket_id: int | str,
    expected_version: int,
    status: str,
    note: str | None = None,
    request_key: str | None = None,
) -> Ticket:
    """Move along the lifecycle. Resolving needs a note; requesters may only reopen or close
    their own resolved ticket."""
    ticket = get(actor, ticket_id)
    if requests.claim(actor, request_key, "ticket.status"):
        return requests.result(Ticket, ticket.id)
    records.check_version(ticket, expected_version, "ticket", ticket.number)
    if status not in STATUS_LABELS:
        raise ValidationError(
            f"unknown status {status!r}: choose one of {', '.join(STATUS_LABELS)}", "status"
        )
    if status not in TRANSITIONS[ticket.status]:
        allowed = ", ".join(sorted(TRANSITIONS[ticket.status])) or "none"
        raise ValidationError(
            f"{ticket.number} cannot go from {STATUS_LABELS[ticket.status]} to "
            f"{STATUS_LABELS[status]} (allowed: {allowed})",
            "status",
        )
    reopening = ticket.status in ("resolved", "closed") and status == "in_progress"
    if actor.role == REQUESTER:
        if not requester_may(ticket.status, status):
            raise PermissionDenied("a requester may only reopen or close their own resolved ticket")
        require(actor, "ticket.reopen_own")
    else:
        require(actor, "ticket.work")
    now = clock.now()
    values: dict = {"status": status}
    if status == "resolved":
        values["resolution_note"] = clean(note, "resolution note", max_len=BODY_MAX, multiline=True)
        values["resolved_at"] = now
    elif status == "closed":
        values["closed_at"] = now
    elif reopening:
        values.update(resolved_at=None, closed_at=None, reopen_count=ticket.reopen_count + 1)
    if is_staff(actor) and ticket.first_response_at is None and ticket.requester_id != actor.id:
        values["first_response_at"] = now
    values.update(
        sla.on_status(ticket, status, now, values.get("first_response_at", ticket.first_response_at))
    )
    ticket = records.update(
        actor,
        ticket,
        expected_version,
        values,
        "ticket",
        ticket.number,
        summary=f"{ticket.number}: {STATUS_LABELS[ticket.status]} -> {STATUS_LABELS[status]}",
    )
    if reopening and note:
        _add_comment(actor, ticket, note, internal=False)
    if status == "resolved":
        mailer.thread_mail(ticket, actor, "resolved", values["resolution_note"])
    return ticket


@transactional
def assign(
    actor: User,
    ticket_id: int | str,
    expected_version: int,
    assignee: str | User | None,
    request_key: str | None = None,
) -> Ticket:
    """Assign to oneself (agents) or to any agent (supervisors, admins); None unassigns."""
    ticket = get(actor, ticket_id)
    if requests.claim(actor, request_key, "ticket.assign"):
        return requests.result(Ticket, ticket.id)
    target = None
    if assignee not in (None, ""):
        target = assignee if isinstance(assignee, User) else by_username(assignee)
    own = target.id == actor.id if target else ticket.assignee_id == actor.id
    require(actor, "ticket.assign_self" if own else "ticket.assign_other")
    if target is not None:
        staff_member(target)
    values = {"assignee": target}
    if ticket.assignee_id and target and target.id != ticket.assignee_id:
        values["reassignment_count"] = ticket.reassignment_count + 1
    who = target.username if target else "nobody"
    updated = records.update(
        actor,
        ticket,
        expected_version,
        values,
        "ticket",
        ticket.number,
        action="assign",
        summary=f"{ticket.number} assigned to {who}",
    )
    changed, ticket = updated.version != ticket.version, updated
    if changed and target and target.id != actor.id:
        notify(
            target,
            ticket,
            "assigned",
            f"{ticket.number} was assigned to you by {actor.username}: {ticket.title}",
        )
    return ticket


@transactional
def comment(
    actor: User, ticket_id: int | str, body: str, internal: bool = False, request_key: str | None = None
) -> Comment:
    """A public comment, or an internal note (staff only). Comments never conflict: they append.
    ``ticket_id``: an id, or a number as :func:`get` takes it (the API's ref: one read, not two)."""
    ticket = get(actor, ticket_id)
    require(actor, "ticket.note" if internal else "ticket.comment")
    earlier = requests.claim(actor, request_key, "ticket.comment")
    if earlier:
        return requests.result(Comment, earlier.entity_id)
    row = _add_comment(actor, ticket, body, internal)
    requests.done(request_key, "comment", row.id)
    return row


@transactional
def comment_from_mail(author: User, ticket_id: int, body: str) -> Comment:
    """A public comment that the e-mail intake matched to the ticket's thread (by the Message-IDs
    it quotes, or by the number from the requester, a Cc or staff): a Cc may write to the thread
    without being able to open the ticket here."""
    require(author, "ticket.comment")
    return _add_comment(author, Ticket.get_by_id(ticket_id), body, internal=False)


def _add_comment(actor: User, ticket: Ticket, body: str, internal: bool) -> Comment:
    text = clean(body, "comment", max_len=BODY_MAX, multiline=True)
    now = clock.now()
    row = Comment.create(ticket=ticket, author=actor, body=text, is_internal=internal, created_at=now)
    changes = {"comment": [None, row.id]}
    if not internal:  # an internal note must not show a requester that something happened
        stamp = {"updated_at": now}
        if is_staff(actor) and ticket.first_response_at is None and ticket.requester_id != actor.id:
            stamp["first_response_at"] = now
            changes["first_response_at"] = [None, audit.plain(now)]
        Ticket.update(**stamp).where(Ticket.id == ticket.id).execute()
    kind = "note" if internal else "comment"
    audit.record(actor, kind, "ticket", ticket.id, f"{kind} on {ticket.number}", changes)
    if not internal:
        for user_id in {ticket.requester_id, ticket.assignee_id} - {None, actor.id}:
            notify(
                User.get_by_id(user_id),
                ticket,
                "comment",
                f"{actor.username} commented on {ticket.number}: {ticket.title}",
            )
        mailer.thread_mail(ticket, actor, "comment", text)
    return row


@transactional
def attach(
    actor: User, ticket_id: int, filename: str, content: bytes, request_key: str | None = None
) -> Attachment:
    """Store a file with the ticket; content is kept once per SHA-256."""
    ticket = get(actor, ticket_id)
    require(actor, "ticket.comment")
    earlier = requests.claim(actor, request_key, "ticket.attach")
    if earlier:
        return requests.result(Attachment, earlier.entity_id)
    name = clean(filename, "file name", max_len=255).replace("/", "_").replace("\\", "_")
    refusal = attachment_refusal(len(content))
    if refusal:
        raise ValidationError(f"{name} is {_size(len(content))}; {refusal}", "file")
    digest = hashlib.sha256(content).hexdigest()
    # Ignore, not check-then-insert: two uploads of the same file at once must both succeed.
    AttachmentBlob.insert(sha256=digest, content=content).on_conflict_ignore().execute()
    row = Attachment.create(
        ticket=ticket,
        uploaded_by=actor,
        filename=name,
        size=len(content),
        blob=digest,
        created_at=clock.now(),
    )
    audit.record(
        actor,
        "attach",
        "ticket",
        ticket.id,
        f"attached {name} to {ticket.number}",
        {"attachment": [None, {"name": name, "size": len(content), "sha256": digest}]},
    )
    requests.done(request_key, "attachment", row.id)
    return row


def attachment_content(actor: User, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment of a ticket the actor may see; another's is as missing as one that is
    (the answer must not name the ticket it is on)."""
    require(actor, "ticket.view_own")
    row = Attachment.get_or_none(Attachment.id == attachment_id)
    if row is None or not visible(actor, Ticket.get_by_id(row.ticket_id)):
        raise NotFound(f"attachment {attachment_id} does not exist")
    return row, bytes(AttachmentBlob.get_by_id(row.blob_id).content)


PACKET_MARGIN = 4096  # bytes of a MySQL statement that are not the attachment (the INSERT around it)


def attachment_refusal(size: int) -> str | None:
    """Why a file of ``size`` bytes cannot be attached, or None: over the desk's limit, or on
    MySQL too large for one statement the server takes (``max_allowed_packet``; the file goes
    escaped, up to twice its size), which would fail the write on every try."""
    limit = config.settings().attachment_max_bytes
    if size > limit:
        return f"attachments are limited to {_size(limit)}"
    if is_mysql():
        packet = int(database.execute_sql("SELECT @@max_allowed_packet").fetchone()[0])
        if 2 * size + PACKET_MARGIN > packet:
            return (
                f"the database server takes files of up to {_size((packet - PACKET_MARGIN) // 2)} "
                f"(its max_allowed_packet is {_size(packet)})"
            )
    return None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def assigned_to_others(ticket_ids: list[int], actor: User) -> list[tuple[str, str]]:
    """(number, username) of the tickets among ``ticket_ids`` that someone other than ``actor``
    has: taking them over is asked first."""
    query = (
        Ticket.select(Ticket.id, User.username.alias("who"))
        .join(User, on=(Ticket.assignee == User.id))
        .where(Ticket.id.in_(ticket_ids), Ticket.assignee != actor.id)
        .order_by(Ticket.id)
        .dicts()
    )
    return [(ticket_number(row["id"]), row["who"]) for row in query]


def attachments_of(ticket_id: int) -> list[Attachment]:
    """A ticket's attachments with who uploaded each, in one query; the caller checked that the
    actor may see the ticket."""
    return list(
        Attachment.select(Attachment, User)
        .join(User)
        .where(Attachment.ticket == ticket_id)
        .order_by(Attachment.id)
    )
