"""Display helpers: untrusted text becomes Rich ``Text`` (never markup), plus short formats."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from types import SimpleNamespace

from rich.text import Text

from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES
from itsm_tui.core.text import strip_controls
from itsm_tui.core.tickets import sla
from itsm_tui.core.tickets.rules import STATUS_LABELS

PRIORITY_STYLES = {1: "bold red", 2: "dark_orange", 3: "", 4: "dim"}
STATUS_STYLES = {
    "new": "bold cyan",
    "in_progress": "green",
    "waiting_on_user": "yellow",
    "waiting_on_vendor": "yellow",
    "resolved": "dim",
    "closed": "dim",
}


def literal(value: object, style: str = "") -> Text:
    """Any stored or typed value, shown exactly as written, minus terminal controls."""
    return Text(strip_controls("" if value is None else str(value), multiline=True), style=style)


def one_line(value: object) -> str:
    return strip_controls("" if value is None else str(value))


_JOINERS = re.compile("[\u200d\ufe0e\ufe0f]")  # zero-width joiner, text/emoji presentation selectors


def cell(value: object, style: str = "") -> Text:
    """A value for one table cell, on one line, in characters whose width every terminal agrees
    on: emoji joined by zero-width joiners are shown side by side (terminals draw a joined
    sequence 2 to 8 cells wide, Rich counts each part) and a character keeps at most two
    combining marks (terminals stack or drop the rest differently), so columns stay aligned."""
    text = _JOINERS.sub("", one_line(value))
    kept, marks = [], 0
    for char in text:
        marks = marks + 1 if unicodedata.combining(char) else 0
        if marks <= 2:
            kept.append(char)
    return Text("".join(kept), style=style)


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


def pending_target(ticket) -> str:
    """The target an open ticket is measured against now: the response until the first
    response, then the resolution."""
    first = ticket["first_response_at"] if isinstance(ticket, dict) else ticket.first_response_at
    return "response" if first is None else "resolution"


TARGET_SHORT = {"response": "resp", "resolution": "res"}


def sla_due(ticket, now: datetime) -> Text:
    """The pending target and its state, coloured by SLA state: 'resp breached', 'res at risk',
    'res in 2d' (on track), 'paused' while the clock stands, '—' once resolved."""
    state = sla_state(ticket, now)
    if state in ("done", "paused"):
        return Text({"done": "—", "paused": "paused"}[state], style=SLA_STYLES[state])
    get = ticket.get if isinstance(ticket, dict) else lambda name: getattr(ticket, name)
    target = pending_target(ticket)
    if target == "response":  # the response is pending; show the resolution if that is worse
        limit = get("response_due") if state == "breached" else get("response_risk_at") or get("response_due")
        if state != "ok" and not limit < now:
            target = "resolution"
    due = get(f"{target}_due")
    word = {"breached": "breached", "at_risk": "at risk"}.get(state) or relative(due, now)
    return Text(f"{TARGET_SHORT[target]} {word}", style=SLA_STYLES[state])


def outcome(ticket, target: str, now: datetime) -> str:
    """A target's outcome in words for the ticket screen: 'met', 'breached' (even while the
    ticket is open: a response made after its due time is breached), 'in 3h'/'3h ago' while
    pending, 'paused', or '' when it no longer counts."""
    due = getattr(ticket, f"{target}_due")
    if target == "response":
        if ticket.first_response_at is not None:
            return "met" if ticket.first_response_at <= due else "breached"
        if ticket.status not in OPEN_STATUSES:
            return "breached" if ticket.response_met is False else ""
        return "breached" if due < now else relative(due, now)
    if ticket.status not in OPEN_STATUSES:
        return {True: "met", False: "breached"}.get(ticket.resolution_met, "")
    if ticket.sla_paused_at is not None:
        return "breached" if due < ticket.sla_paused_at else "paused"
    return "breached" if due < now else relative(due, now)


SLA_STYLES = {
    "breached": "bold white on red",
    "at_risk": "black on yellow",
    "ok": "",
    "done": "dim",
    "paused": "italic",
}


def priority_text(priority: int) -> Text:
    return Text(PRIORITY_NAMES[priority], style=PRIORITY_STYLES[priority])


COMPACT_STATUS = {"waiting_on_user": "Wait: user", "waiting_on_vendor": "Wait: vendor"}


def status_text(status: str, compact: bool = False) -> Text:
    label = COMPACT_STATUS.get(status, STATUS_LABELS[status]) if compact else STATUS_LABELS[status]
    return Text(label, style=STATUS_STYLES[status])


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "—"
