"""A user's own notifications (assignments, comments on their tickets): read, poll, mark read.

The ticket service and the SLA alerts write them (``notify``); nobody reads another user's.
"""

from __future__ import annotations

from peewee import fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.notify import mailer
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import Notification, Ticket, User

MAX_LIMIT = 500


def _own(actor: User):
    require(actor, "ticket.view_own")
    return Notification.select().where(Notification.user == actor.id)


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}", "limit")
    return limit


def unread_count(actor: User) -> int:
    return _own(actor).where(Notification.read_at.is_null()).count()


def recent(actor: User, limit: int = 50) -> list[Notification]:
    """The actor's latest notifications, newest (highest id) first, read or not: the first
    one's id is where ``since`` polling starts."""
    return list(_own(actor).order_by(Notification.id.desc()).limit(_limit(limit)))


def since(actor: User, after_id: int, limit: int = MAX_LIMIT) -> list[Notification]:
    """The actor's notifications with an id above ``after_id``, oldest first (for polling:
    pass the last id seen). At most ``limit``: poll again from the last one for more."""
    return list(
        _own(actor).where(Notification.id > int(after_id)).order_by(Notification.id).limit(_limit(limit))
    )


@transactional
def mark_all_read(actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many were unread."""
    require(actor, "ticket.view_own")
    changed = (
        Notification.update(read_at=clock.now())
        .where((Notification.user == actor.id) & Notification.read_at.is_null())
        .execute()
    )
    if not changed:
        return 0
    audit.record(
        actor,
        "read_notifications",
        "notification",
        None,
        f"marked {changed} notification{'s' if changed != 1 else ''} read",
    )
    return changed


def notify(user: User, ticket: Ticket | None, kind: str, message: str) -> Notification:
    """A notification, and its e-mail in the outbox when e-mail is configured."""
    row = Notification.create(
        user=user, ticket=ticket, kind=kind, message=message[:500], created_at=clock.now()
    )
    mailer.queue(user, row)
    return row


def unread_by_kind(actor: User) -> dict[str, int]:
    """How many unread notifications the actor has, by kind ("breached": 4, ...)."""
    query = (
        _own(actor)
        .select(Notification.kind, fn.COUNT(Notification.id).alias("n"))
        .where(Notification.read_at.is_null())
        .group_by(Notification.kind)
        .dicts()
    )
    return {row["kind"]: row["n"] for row in query}


def newest(actor: User, limit: int = 100) -> list[Notification]:
    """The actor's notifications, newest by time first (imported and seeded ones are not in id
    order), read or not."""
    return list(
        _own(actor).order_by(Notification.created_at.desc(), Notification.id.desc()).limit(_limit(limit))
    )
