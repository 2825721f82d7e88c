"""Display helpers: untrusted text becomes Rich ``Text`` (never markup), plus short formats."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

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


def sla_state(row: dict, now: datetime) -> str:
    """'breached', 'at_risk' (under 25% of the target left) or 'ok'; 'done' once resolved."""
    if row["status"] in ("resolved", "closed"):
        return "done"
    due, created = row["resolution_due"], row["created_at"]
    if due <= now:
        return "breached"
    if (due - now) < (due - created) * 0.25:
        return "at_risk"
    return "ok"


SLA_STYLES = {"breached": "bold white on red", "at_risk": "black on yellow", "ok": "", "done": "dim"}


def priority_text(priority: int) -> Text:
    return Text(PRIORITY_NAMES[priority], style=PRIORITY_STYLES[priority])


COMPACT_STATUS = {"waiting_on_user": "Wait: user", "waiting_on_vendor": "Wait: vendor"}


def status_text(status: str, compact: bool = False) -> Text:
    label = COMPACT_STATUS.get(status, STATUS_LABELS[status]) if compact else STATUS_LABELS[status]
    return Text(label, style=STATUS_STYLES[status])


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "—"
