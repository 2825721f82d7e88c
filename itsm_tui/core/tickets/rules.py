"""The ticket rules: statuses and their transitions, who may choose which, the priority matrix,
impact/urgency/priority values, and the ticket number format. Services and the UI both ask here."""

from __future__ import annotations

import re

from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.people.permissions import REQUESTER
from itsm_tui.core.store.models import PRIORITY_NAMES

# Impact x urgency (1 high .. 3 low) -> priority (1 Critical .. 4 Low), the usual ITIL matrix.
PRIORITY_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 4,
}
TRANSITIONS = {
    "new": {"in_progress", "waiting_on_user", "waiting_on_vendor", "resolved"},
    "in_progress": {"waiting_on_user", "waiting_on_vendor", "resolved"},
    "waiting_on_user": {"in_progress", "resolved"},
    "waiting_on_vendor": {"in_progress", "resolved"},
    "resolved": {"closed", "in_progress"},
    "closed": {"in_progress"},
}
STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting_on_user": "Waiting on user",
    "waiting_on_vendor": "Waiting on vendor",
    "resolved": "Resolved",
    "closed": "Closed",
}
LEVELS = {"high": 1, "medium": 2, "low": 3}
NUMBER_RE = re.compile(r"^INC0*([0-9]{1,12})$", re.IGNORECASE)
OWN_NUMBER_RE = re.compile(r"^INC([0-9]{6}|[1-9][0-9]{6,11})$", re.IGNORECASE)  # as ticket_number writes


def requester_may(current: str, status: str) -> bool:
    """A requester may only reopen their own resolved or closed ticket, or close a resolved one."""
    return (current in ("resolved", "closed") and status == "in_progress") or (
        current == "resolved" and status == "closed"
    )


def choosable(role: str, current: list[str]) -> list[str]:
    """The statuses an actor of ``role`` may move tickets now in the ``current`` statuses to,
    in lifecycle order (any of the tickets may take the step)."""
    targets = [s for s in STATUS_LABELS if any(s in TRANSITIONS[c] for c in current)]
    if role == REQUESTER:
        targets = [s for s in targets if any(requester_may(c, s) for c in current)]
    return targets


def parse_level(value, field: str) -> int:
    """Impact or urgency: 1..3 or high/medium/low (also '1 - High' as other tools write it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, 2, 3):
        return value
    text = str(value).strip().lower()
    if text in LEVELS:
        return LEVELS[text]
    if text[:1] in "123" and (len(text) == 1 or text[1:].strip(" -") in LEVELS):
        return int(text[0])
    raise ValidationError(f"{field} must be high, medium or low (1 to 3), not {value!r}", field)


def parse_priority(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITY_NAMES:
        return value
    text = str(value).strip().lower()
    for number, name in PRIORITY_NAMES.items():
        if text in (str(number), name.lower()):
            return number
    raise ValidationError(
        f"priority must be critical, high, medium or low (1 to 4), not {value!r}", "priority"
    )


def typed_number(text: str) -> str:
    """A ticket as an operator types it in the app or at the command line: ``131`` means
    INC000131. (The API takes bare digits as a source system's number instead.)"""
    text = text.strip()
    return f"INC{int(text):06d}" if text.isdigit() and text.isascii() else text


def parse_number(number: str | int) -> int:
    if isinstance(number, int):
        if not 0 <= number < 10**12:  # as many digits as a number has (SQLite refuses a larger int)
            raise NotFound(f"{number!r} is not a ticket number (like INC000123)")
        return number
    match = NUMBER_RE.match(str(number).strip())
    if not match:
        raise NotFound(f"{number!r} is not a ticket number (like INC000123)")
    return int(match.group(1))
