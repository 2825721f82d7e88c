"""Display helpers: untrusted text becomes Rich ``Text`` (never markup), plus short formats."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from rich.text import Text

from ..core import sla
from ..core.models import PRIORITY_NAMES
from ..core.text import strip_controls
from ..core.tickets import STATUS_LABELS

PRIORITY_STYLES = {1: "bold red", 2: "dark_orange", 3: "", 4: "dim"}
STATUS_STYLES = {
    "new": "bold cyan", "in_progress": "green", "waiting_on_user": "yellow",
    "waiting_on_vendor": "yellow", "resolved": "dim", "closed": "dim",
}


def literal(value: object, style: str = "") -> Text:
    """Any stored or typed value, shown exactly as written, minus terminal controls."""
    return Text(strip_controls("" if value is None else str(value), multiline=True), style=style)


def one_line(value: object) -> str:
    return strip_controls("" if value is None else str(value))


def age(created: datetime, now: datetime) -> str:
    """Compact age: 45m, 5h, 3d, 6w."""
    minutes = max(0, int((now - created).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 60 * 24:
        return f"{minutes // 60}h"
    if minutes < 60 * 24 * 14:
        return f"{minutes // (60 * 24)}d"
    return f"{minutes // (60 * 24 * 7)}w"


def relative(moment: datetime | None, now: datetime) -> str:
    """'in 3h', '2d ago' or '' for no moment."""
    if moment is None:
        return ""
    delta = moment - now
    text = age(now - abs(delta), now) if delta >= timedelta(0) else age(moment, now)
    return f"in {text}" if delta >= timedelta(0) else f"{text} ago"


def sla_state(ticket, now: datetime) -> str:
    """The SLA engine's state of a ticket (a row dict or a Ticket): 'breached', 'at_risk',
    'ok', 'paused' while it waits on the user or a vendor, or 'done' once resolved."""
    if isinstance(ticket, dict):
        ticket = SimpleNamespace(**ticket)
    state = sla.state_of(ticket, now)
    if state == "on_track":
        return "paused" if ticket.sla_paused_at is not None else "ok"
    return state


def sla_due(ticket, now: datetime) -> Text:
    """The resolution due time relative to now, coloured by SLA state ('paused' while paused)."""
    state = sla_state(ticket, now)
    due = ticket["resolution_due"] if isinstance(ticket, dict) else ticket.resolution_due
    label = {"done": "—", "paused": "paused"}.get(state) or relative(due, now)
    return Text(label, style=SLA_STYLES[state])


SLA_STYLES = {"breached": "bold white on red", "at_risk": "black on yellow", "ok": "", "done": "dim",
              "paused": "italic"}


def priority_text(priority: int) -> Text:
    return Text(PRIORITY_NAMES[priority], style=PRIORITY_STYLES[priority])


COMPACT_STATUS = {"waiting_on_user": "Wait: user", "waiting_on_vendor": "Wait: vendor"}


def status_text(status: str, compact: bool = False) -> Text:
    label = COMPACT_STATUS.get(status, STATUS_LABELS[status]) if compact else STATUS_LABELS[status]
    return Text(label, style=STATUS_STYLES[status])


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "—"
