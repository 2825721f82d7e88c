"""Macros: named canned replies with placeholders that may also set status, priority, team and
assignee (issue 21).

A macro is global (``team`` None) or belongs to a team: a team's macros are offered to its
members, and to supervisors and admins. Applying one is a single transaction per ticket: the
fields it sets, its reply, then its status; any refusal (a transition not allowed from the
ticket's status, say) leaves that ticket untouched.

Placeholders are ``{name}`` words, checked when the macro is saved; the rest of the text is
kept literally (it is a comment, shown and exported as plain text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import JOIN

from itsm_tui.core.errors import NotFound, PermissionDenied, ValidationError
from itsm_tui.core.people.permissions import ADMIN, SUPERVISOR, require
from itsm_tui.core.people.users import staff_member
from itsm_tui.core.store import records, requests
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import PRIORITY_NAMES, Macro, Team, Ticket, User
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import service, teams
from itsm_tui.core.tickets.rules import STATUS_LABELS, parse_priority

NAME_MAX, BODY_MAX = 60, 20_000
# placeholder -> what it stands for (shown in the help of the macro form and the README)
PLACEHOLDERS = {
    "requester": "the requester's full name",
    "requester_first": "the requester's first name",
    "number": "the ticket number",
    "title": "the ticket's title",
    "agent": "your full name (who applies the macro)",
    "team": "the ticket's team after the macro",
    "status": "the ticket's status after the macro",
}
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]+)\}")
SEES_EVERY_TEAM = frozenset({SUPERVISOR, ADMIN})
_RESOLVES_PUBLICLY = (
    "a macro that resolves cannot reply with an internal note: its reply is the resolution note, "
    "which the requester reads"
)


@dataclass(frozen=True)
class Fields:
    """What a macro sets besides its reply; None leaves the ticket's value as it is."""

    status: str | None = None
    priority: int | None = None
    team: str | None = None
    assignee: str | None = None  # a username, or "me": whoever applies the macro


def find(name_or_id) -> Macro:
    if isinstance(name_or_id, Macro):
        return name_or_id
    if isinstance(name_or_id, int):
        row = Macro.get_or_none(Macro.id == name_or_id)
    else:
        name = clean(name_or_id, "macro", max_len=NAME_MAX)
        row = Macro.get_or_none(records.same_name(Macro.name, name))
    if row is None:
        raise NotFound(f"no macro named {name_or_id!r}")
    return row


def available(actor: User, team_id: int | None = None) -> list[Macro]:
    """The macros ``actor`` may apply: the team ``team_id``'s first (a ticket's team), then the
    other teams' they may use, then the global ones; by name within each."""
    require(actor, "macro.apply")
    query = Macro.select(Macro, Team).join(Team, on=(Macro.team == Team.id), join_type=JOIN.LEFT_OUTER)
    if actor.role not in SEES_EVERY_TEAM:
        mine = teams.team_ids_of(actor)
        query = query.where(Macro.team.is_null() | Macro.team.in_(mine or [0]))
    rows = list(query.order_by(Macro.name))
    return sorted(rows, key=lambda m: (m.team_id is None, m.team_id != team_id))


def assignee_word(macro: Macro) -> str | None:
    """Whom ``macro`` assigns to, as its ``Fields`` take it: "me", a username, or None."""
    if macro.assign_to_me:
        return "me"
    return macro.set_assignee.username if macro.set_assignee_id else None


def describe(macro: Macro) -> str:
    """What a macro does, in a line: "reply; status → Resolved; team → Network"."""
    parts = ["internal note" if macro.internal else "public reply"] if macro.body else []
    if macro.set_status:
        parts.append(f"status → {STATUS_LABELS[macro.set_status]}")
    if macro.set_priority:
        parts.append(f"priority → {PRIORITY_NAMES[macro.set_priority]}")
    if macro.set_team_id:
        parts.append(f"team → {Team.get_by_id(macro.set_team_id).name}")
    if macro.assign_to_me:
        parts.append("assignee → me")
    elif macro.set_assignee_id:
        parts.append(f"assignee → {User.get_by_id(macro.set_assignee_id).username}")
    scope = f"team {macro.team.name}" if macro.team_id else "everyone"
    return f"{'; '.join(parts) or 'nothing'} (for {scope})"


@transactional
def create(
    actor: User, name: str, body: str = "", team=None, internal: bool = False, fields: Fields = Fields()
) -> Macro:
    require(actor, "macro.manage")
    values = {
        "name": records.new_name(Macro, "macro", name, NAME_MAX),
        **_values(body, team, internal, fields),
    }
    return records.create(actor, Macro, "macro", f"macro {values['name']}", values)


@transactional
def update(
    actor: User,
    macro,
    expected_version: int,
    name: str,
    body: str = "",
    team=None,
    internal: bool = False,
    fields: Fields = Fields(),
) -> Macro:
    """Replace every part of a macro (the form shows them all)."""
    require(actor, "macro.manage")
    row = find(macro)
    values = {
        "name": records.new_name(Macro, "macro", name, NAME_MAX, row),
        **_values(body, team, internal, fields),
    }
    return records.update(actor, row, expected_version, values, "macro", f"macro {row.name}")


@transactional
def delete(actor: User, macro) -> None:
    require(actor, "macro.manage")
    row = find(macro)
    records.delete(actor, row, "macro", f"macro {row.name}")


def _values(body: str, team, internal: bool, fields: Fields) -> dict:
    text = clean(body, "reply", max_len=BODY_MAX, required=False, multiline=True)
    unknown = sorted({m.group(1) for m in _PLACEHOLDER_RE.finditer(text)} - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError(
            f"unknown placeholder {{{unknown[0]}}}: use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            "body",
        )
    status = fields.status or None
    if status is not None and status not in STATUS_LABELS:
        raise ValidationError(
            f"unknown status {status!r}: choose one of {', '.join(STATUS_LABELS)}", "status"
        )
    if status == "resolved" and not text:
        raise ValidationError("a macro that resolves needs a reply: it is the resolution note", "body")
    if status == "resolved" and internal:
        raise ValidationError(_RESOLVES_PUBLICLY, "internal")
    me = (fields.assignee or "").strip().lower() == "me"
    values = {
        "body": text,
        "internal": bool(internal),
        "team": teams.find(team) if team else None,
        "set_status": status,
        "set_priority": parse_priority(fields.priority) if fields.priority else None,
        "set_team": teams.find(fields.team) if fields.team else None,
        "set_assignee": staff_member(fields.assignee) if fields.assignee and not me else None,
        "assign_to_me": me,
    }
    if not text and not any(
        values[k] for k in ("set_status", "set_priority", "set_team", "set_assignee", "assign_to_me")
    ):
        raise ValidationError("a macro needs a reply or a field to set", "body")
    return values


def render(text: str, ticket: Ticket, actor: User) -> str:
    """``text`` with its placeholders filled in for ``ticket``."""
    requester = User.get_by_id(ticket.requester_id)
    values = {
        "requester": requester.full_name,
        "requester_first": (requester.full_name.split() or [requester.username])[0],
        "number": ticket.number,
        "title": ticket.title,
        "agent": actor.full_name,
        "team": Team.get_by_id(ticket.team_id).name if ticket.team_id else "",
        "status": STATUS_LABELS[ticket.status],
    }
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@transactional
def apply(
    actor: User, macro, ticket_id: int, expected_version: int, request_key: str | None = None
) -> Ticket:
    """Apply ``macro`` to one ticket, seen at ``expected_version``: team, assignee, priority, the
    reply, then the status, each with its own history entry, all or nothing."""
    require(actor, "macro.apply")
    row = find(macro)
    if row.team_id and actor.role not in SEES_EVERY_TEAM and row.team_id not in teams.team_ids_of(actor):
        raise PermissionDenied(f"macro {row.name} is for team {Team.get_by_id(row.team_id).name}")
    ticket = service.get(actor, ticket_id)
    if requests.claim(actor, request_key, "ticket.macro"):
        return requests.result(Ticket, ticket.id)
    records.check_version(ticket, expected_version, "ticket", ticket.number)
    assignee = actor.id if row.assign_to_me else row.set_assignee_id
    if row.set_team_id and row.set_team_id != ticket.team_id:  # the team picks none if it names one
        team = Team.get_by_id(row.set_team_id)
        ticket = teams.set_team(actor, ticket.id, ticket.version, team, auto_assign=not assignee)
    if assignee and assignee != ticket.assignee_id:
        ticket = service.assign(actor, ticket.id, ticket.version, User.get_by_id(assignee))
    if row.set_priority and row.set_priority != ticket.priority:
        ticket = service.update(actor, ticket.id, ticket.version, priority=row.set_priority)
    status = row.set_status if row.set_status and row.set_status != ticket.status else None
    if status == "resolved" and row.internal and row.body:  # saved before this was refused
        raise ValidationError(f"macro {row.name}: {_RESOLVES_PUBLICLY}", "internal")
    after = Ticket(**{**ticket.__data__, "status": status or ticket.status})
    text = render(row.body, after, actor) if row.body else ""
    if text and status != "resolved":  # resolving: the reply is the resolution note
        service.comment(actor, ticket.id, text, internal=row.internal)
    if status is not None:
        ticket = service.change_status(actor, ticket.id, ticket.version, status, text or None)
    return Ticket.get_by_id(ticket.id)
