"""Monitoring alerts in: one ticket per alert (source and dedupe key), not a flood.

A firing alert opens a ticket (contact type "alert"); while it keeps firing, repeats only count
(``AlertTicket.repeats``, ``last_seen_at``): no comment each. "Resolved" adds one comment and
resolves the ticket when no person has worked it (nobody but the monitoring account and the
desk's own ``system`` account, whose SLA alerts are no work, wrote to it; configurable), else
leaves it to them. A delivery that tells nothing new (a second "resolved", a late copy of an
occurrence already closed) changes nothing. Severity maps to impact and urgency; each source's
category and requester are desk settings (``configure``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from peewee import IntegrityError

from itsm_tui.core import clock
from itsm_tui.core.errors import ConflictError, ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.people.users import by_username, system_actor
from itsm_tui.core.settings import get_setting, put_setting
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import AlertTicket, AuditEntry, Ticket, User
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import categories
from itsm_tui.core.tickets import service as tickets

SETTING = "monitoring"
CHANNEL = "alert"  # the contact type of the tickets alerts open
DONE = ("resolved", "closed")
# severity word (Alertmanager's ``severity`` label, Zabbix's names, syslog's) -> (impact, urgency)
SEVERITIES = {
    "critical": (1, 1),
    "disaster": (1, 1),
    "emergency": (1, 1),
    "high": (1, 2),
    "error": (1, 2),
    "major": (1, 2),
    "average": (2, 2),
    "warning": (2, 2),
    "minor": (2, 3),
    "low": (3, 3),
    "info": (3, 3),
    "information": (3, 3),
    "not classified": (3, 3),
}
DEFAULT_SEVERITY = "warning"


@dataclass(frozen=True)
class Alert:
    source: str
    dedupe_key: str
    status: str  # firing or resolved
    summary: str
    severity: str = DEFAULT_SEVERITY
    details: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    dedupe_key: str
    outcome: str  # opened, repeated, resolved, commented (resolved, left to a person), ignored
    ticket: str | None  # its number


def settings() -> dict:
    """{"resolve_untouched": bool, "sources": {source: {"category": ..., "requester": ...}}}"""
    stored = get_setting(SETTING, {}) or {}
    return {"resolve_untouched": stored.get("resolve_untouched", True), "sources": stored.get("sources", {})}


@transactional
def configure(
    actor: User,
    source: str,
    category: str | None = None,
    requester: str | None = None,
    resolve_untouched: bool | None = None,
) -> dict:
    """Set a source's category and requester (None: General, and the account that posts the
    alerts), and whether "resolved" resolves tickets nobody worked (for every source)."""
    require(actor, "settings.manage")
    name = _source(source)
    current = settings()
    entry = {}
    if category:
        entry["category"] = categories.find(category).name
    if requester:
        entry["requester"] = by_username(requester).username
    new = {**current, "sources": {**current["sources"], name: entry}}
    if resolve_untouched is not None:
        new["resolve_untouched"] = bool(resolve_untouched)
    put_setting(SETTING, new)
    audit.record(
        actor,
        "update",
        "setting",
        None,
        f"monitoring source {name}",
        {name: [current["sources"].get(name), entry]},
    )
    return new


def _source(value: str) -> str:
    return clean(value, "source", max_len=60).lower()


def severity_levels(severity: str | None) -> tuple[int, int]:
    return SEVERITIES.get((severity or DEFAULT_SEVERITY).strip().lower(), SEVERITIES[DEFAULT_SEVERITY])


def receive(actor: User, alerts: list[Alert]) -> list[Outcome]:
    """Apply each alert in order (each in its own transaction)."""
    require(actor, "ticket.work")
    return [_one(actor, alert) for alert in alerts]


@transactional
def _one(actor: User, alert: Alert) -> Outcome:
    source, key = _source(alert.source), clean(alert.dedupe_key, "dedupe_key", max_len=200)
    if alert.status not in ("firing", "resolved"):
        raise ValidationError(f"status must be firing or resolved, not {alert.status!r}", "status")
    row = AlertTicket.get_or_none((AlertTicket.source == source) & (AlertTicket.dedupe_key == key))
    now = clock.now()
    if alert.status == "resolved":
        if row is None or row.state == "resolved":
            return Outcome(key, "ignored", row.ticket.number if row else None)
        return _resolve(actor, row, alert, now)
    if row is not None:
        ticket = Ticket.get_by_id(row.ticket_id)
        late_copy = (
            row.state == "resolved" and alert.started_at is not None and alert.started_at == row.started_at
        )
        if late_copy:
            return Outcome(key, "ignored", ticket.number)
        if row.state == "firing" or ticket.status not in DONE:
            AlertTicket.update(
                repeats=AlertTicket.repeats + 1, last_seen_at=now, state="firing", resolved_at=None
            ).where(AlertTicket.id == row.id).execute()
            return Outcome(key, "repeated", ticket.number)
    ticket = _open(actor, source, key, alert)
    values = dict(
        ticket=ticket,
        state="firing",
        started_at=alert.started_at,
        repeats=0,
        last_seen_at=now,
        resolved_at=None,
    )
    if row is None:
        try:
            AlertTicket.create(source=source, dedupe_key=key, first_seen_at=now, **values)
        except IntegrityError:  # the same alert, delivered twice at once: the other one opened it
            raise ConflictError(
                f"alert {key} of {source} is being opened by another delivery; retry"
            ) from None
    else:
        AlertTicket.update(first_seen_at=now, **values).where(AlertTicket.id == row.id).execute()
    return Outcome(key, "opened", ticket.number)


def _open(actor: User, source: str, key: str, alert: Alert) -> Ticket:
    config = settings()["sources"].get(source, {})
    impact, urgency = severity_levels(alert.severity)
    labels = "\n".join(f"  {name}={value}" for name, value in sorted(alert.labels.items()))
    description = "\n\n".join(
        part
        for part in (
            f"Alert from {source} (key {key}, severity {alert.severity or DEFAULT_SEVERITY}).",
            alert.details.strip(),
            f"Labels:\n{labels}" if labels else "",
        )
        if part
    )
    return tickets.create(
        actor,
        (alert.summary or key).strip()[: tickets.TITLE_MAX] or key,
        description[: tickets.BODY_MAX],
        category=config.get("category"),
        impact=impact,
        urgency=urgency,
        requester=config.get("requester"),
        channel=CHANNEL,
    )


def _resolve(actor: User, row: AlertTicket, alert: Alert, now: datetime) -> Outcome:
    ticket = Ticket.get_by_id(row.ticket_id)
    AlertTicket.update(state="resolved", resolved_at=now, last_seen_at=now).where(
        AlertTicket.id == row.id
    ).execute()
    repeats = f"{row.repeats} repeat{'s' if row.repeats != 1 else ''}"
    note = f"The alert was resolved at {now:%Y-%m-%d %H:%M} UTC ({repeats} while firing)."
    if ticket.status in DONE:
        return Outcome(row.dedupe_key, "ignored", ticket.number)
    worked = (
        AuditEntry.select()
        .where(
            (AuditEntry.entity_type == "ticket")
            & (AuditEntry.entity_id == ticket.id)
            & AuditEntry.actor.not_in([actor.id, system_actor().id])
        )
        .exists()
    )
    if settings()["resolve_untouched"] and not worked:
        tickets.change_status(actor, ticket.id, ticket.version, "resolved", note)
        tickets.comment(actor, ticket.id, note)
        return Outcome(row.dedupe_key, "resolved", ticket.number)
    tickets.comment(actor, ticket.id, note + " Someone has worked this ticket, so it stays open for them.")
    return Outcome(row.dedupe_key, "commented", ticket.number)
