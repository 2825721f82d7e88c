"""SLA alerts: a notification to the ticket's assignee and to every active supervisor when a
pending target becomes at risk or breached, once per ticket, target and state.

The ``sla_alert`` table's unique (ticket, target, state) makes "once" hold however many app
instances run the check at the same moment: the loser of the race gets an integrity error
and sends nothing. Only crossings within ``LOOKBACK`` raise an alert, so the first run on an
old or freshly imported database does not flood everyone with stale news.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import IntegrityError, fn

from itsm_tui.core import clock
from itsm_tui.core.notify.notifications import notify
from itsm_tui.core.people.users import system_actor
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import database, transactional
from itsm_tui.core.store.models import OPEN_STATUSES, SlaAlert, Ticket, User
from itsm_tui.core.tickets import sla

LOOKBACK = timedelta(hours=24)
BATCH = 200  # alerts per pass at most; the next pass takes the rest
WORDS = {"at_risk": "is at risk of breaching", "breached": "has breached"}


def _crossed(target: str, state: str, now: datetime, limit: int):
    """Open tickets whose ``target`` entered ``state`` within the look-back, not yet alerted.

    ``moment <= now`` follows from ``clause`` (a pause began in the past); said outright, it
    bounds the look-back to a short range of the moment's index on both engines."""
    due = Ticket.response_due if target == "response" else Ticket.resolution_due
    risk = Ticket.response_risk_at if target == "response" else Ticket.resolution_risk_at
    if state == "breached":
        clause, moment = sla.reached(target, "due", now), due
    else:
        clause, moment = sla.reached(target, "risk", now) & ~sla.reached(target, "due", now), risk
    already = SlaAlert.select().where(
        (SlaAlert.ticket == Ticket.id) & (SlaAlert.target == target) & (SlaAlert.state == state)
    )
    return list(
        Ticket.select(Ticket.id, Ticket.title, Ticket.assignee, due.alias("due"))
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            clause,
            moment > now - LOOKBACK,
            moment <= now,
            ~fn.EXISTS(already),
        )
        .order_by(moment)
        .limit(limit)
    )


def raise_alerts(now: datetime | None = None, limit: int = BATCH) -> int:
    """Raise every alert due now (at most ``limit``); returns how many were raised."""
    now = now or clock.now()
    raised = 0
    for state in ("breached", "at_risk"):
        for target in sla.TARGETS:
            if raised >= limit:
                return raised
            for ticket in _crossed(target, state, now, limit - raised):
                raised += _raise(ticket, target, state, now)
    return raised


@transactional
def _raise(ticket: Ticket, target: str, state: str, now: datetime) -> int:
    try:
        with database.atomic():
            SlaAlert.create(ticket=ticket.id, target=target, state=state, created_at=now)
    except IntegrityError:
        return 0  # another instance raised it first
    message = (
        f"{ticket.number} {WORDS[state]} its {target} target "
        f"(due {ticket.due:%Y-%m-%d %H:%M} UTC): {ticket.title}"
    )
    recipients = {u.id for u in User.select(User.id).where((User.role == "supervisor") & User.is_active)}
    if ticket.assignee_id:
        recipients.add(ticket.assignee_id)
    for user_id in sorted(recipients):
        notify(User.get_by_id(user_id), ticket, f"sla_{state}", message)
    audit.record(
        system_actor(),
        "sla_alert",
        "ticket",
        ticket.id,
        message,
        {"sla_alert": [None, {"target": target, "state": state, "notified": len(recipients)}]},
    )
    return 1
