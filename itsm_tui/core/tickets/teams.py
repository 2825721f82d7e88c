"""Teams: groups of agents that tickets belong to (issue 21).

Admins create and rename teams and choose their members (``team.manage``); staff put a ticket
in a team (``ticket.work``). A team's queue is the filter ``team:NAME``, and ``team:mine`` is
every team the user is a member of. A team may assign its new tickets automatically among its
members (round-robin or least-loaded, as categories do: ``assignment``).
"""

from __future__ import annotations

from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.notify.notifications import notify
from itsm_tui.core.people.permissions import require
from itsm_tui.core.people.users import by_username, staff_member
from itsm_tui.core.store import audit, records, requests
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import AUTO_ASSIGN_MODES, Team, TeamMember, Ticket, User
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import assignment, timeline, views
from itsm_tui.core.tickets.service import get

NAME_MAX = 100


def find(value) -> Team:
    """A team by name (any case), or the row itself."""
    if isinstance(value, Team):
        return value
    name = clean(value, "team", max_len=NAME_MAX)
    team = Team.get_or_none(records.same_name(Team.name, name))
    if team is None:
        known = ", ".join(t.name for t in Team.select(Team.name).order_by(Team.name)) or "none yet"
        raise NotFound(f"no team named {name!r} (teams: {known})")
    return team


def listing(actor: User) -> list[tuple[Team, list[str]]]:
    """Every team with its members' usernames, by name (staff: it names agents)."""
    require(actor, "user.view")
    members: dict[int, list[str]] = {}
    for team_id, username in (
        TeamMember.select(TeamMember.team, User.username).join(User).order_by(User.username).tuples()
    ):
        members.setdefault(team_id, []).append(username)
    return [(team, members.get(team.id, [])) for team in Team.select().order_by(Team.name)]


def team_ids_of(user: User) -> list[int]:
    return [row[0] for row in TeamMember.select(TeamMember.team).where(TeamMember.user == user.id).tuples()]


@transactional
def add(actor: User, name: str) -> Team:
    require(actor, "team.manage")
    name = records.new_name(Team, "team", name, NAME_MAX)
    return records.create(actor, Team, "team", f"team {name}", {"name": name})


@transactional
def rename(actor: User, team, new_name: str) -> Team:
    require(actor, "team.manage")
    row = find(team)
    name = records.new_name(Team, "team", new_name, NAME_MAX, row)
    renamed = records.update(actor, row, row.version, {"name": name}, "team", f"team {row.name}")
    views.follow_rename(actor, "team", row.name, name)
    return renamed


@transactional
def add_member(actor: User, team, username: str) -> None:
    require(actor, "team.manage")
    row, person = find(team), staff_member(username)
    if TeamMember.get_or_none(team=row.id, user=person.id) is None:
        TeamMember.create(team=row.id, user=person.id)
        audit.record(
            actor,
            "update",
            "team",
            row.id,
            f"{person.username} joined {row.name}",
            {"members": [None, person.username]},
        )


@transactional
def remove_member(actor: User, team, username: str) -> None:
    require(actor, "team.manage")
    row, person = find(team), by_username(username)
    if TeamMember.delete().where((TeamMember.team == row.id) & (TeamMember.user == person.id)).execute():
        audit.record(
            actor,
            "update",
            "team",
            row.id,
            f"{person.username} left {row.name}",
            {"members": [person.username, None]},
        )
    else:
        raise NotFound(f"{person.username} is not a member of {row.name}")


@transactional
def configure(actor: User, team, mode: str | None) -> Team:
    """A team's automatic assignment: round_robin, least_loaded, or None (off); it takes
    effect while the desk-wide switch (``assignment on``) is on."""
    require(actor, "team.manage")
    row = find(team)
    if mode is not None and mode not in AUTO_ASSIGN_MODES:
        raise ValidationError(f"mode must be {', '.join(AUTO_ASSIGN_MODES)} or off, not {mode!r}", "mode")
    return records.update(
        actor,
        row,
        row.version,
        {"auto_assign": mode},
        "team",
        f"team {row.name}",
        summary=f"automatic assignment for {row.name}: {mode or 'off'}",
    )


def members(team: Team) -> list[User]:
    return list(User.select().join(TeamMember).where(TeamMember.team == team.id).order_by(User.id))


def pick(team: Team) -> User | None:
    """The member a ticket put in ``team`` goes to (None: off, or nobody available); the choice
    is recorded on the team so that round-robin continues after it."""
    team = Team.get_by_id(team.id)
    if team.auto_assign is None or not assignment.enabled():
        return None
    chosen = assignment.next_agent(members(team), team.last_assignee_id, team.auto_assign)
    if chosen is not None:
        Team.update(last_assignee=chosen.id).where(Team.id == team.id).execute()
    return chosen


@transactional
def set_team(
    actor: User,
    ticket_id: int,
    expected_version: int,
    team,
    request_key: str | None = None,
    auto_assign: bool = True,
) -> Ticket:
    """Put a ticket in a team (``None`` or "": in none). An unassigned ticket put in a team with
    automatic assignment goes to one of its members, unless not ``auto_assign`` (the caller
    assigns it next: a macro that names the assignee)."""
    require(actor, "ticket.work")
    ticket = get(actor, ticket_id)
    if requests.claim(actor, request_key, "ticket.team"):
        return requests.result(Ticket, ticket.id)
    records.check_version(ticket, expected_version, "ticket", ticket.number)
    row = find(team) if team not in (None, "") else None
    values: dict = {"team": row}
    picks = auto_assign and ticket.assignee_id is None
    auto = pick(row) if picks and row is not None and ticket.team_id != row.id else None
    if auto is not None:
        values["assignee"] = auto
    name = row.name if row else "(none)"
    summary = f"{ticket.number} moved to team {name}" + (f", assigned to {auto.username}" if auto else "")
    updated = records.update(
        actor, ticket, expected_version, values, "ticket", ticket.number, summary=summary
    )
    if auto is not None and auto.id != actor.id:
        notify(
            auto, updated, "assigned", f"{updated.number} was assigned to you by team {name}: {updated.title}"
        )
    return updated


def agent_load(actor: User, team_id: int | None = None) -> list[tuple[User, int, bool]]:
    """``timeline.agent_load`` (active staff and their open tickets, lightest first) with each
    one's membership of team ``team_id``: the team's members first, then everyone else."""
    load = timeline.agent_load(actor)
    in_team = set()
    if team_id is not None:
        in_team = {
            r[0] for r in TeamMember.select(TeamMember.user).where(TeamMember.team == team_id).tuples()
        }
    rows = [(user, count, user.id in in_team) for user, count in load]
    return sorted(rows, key=lambda row: not row[2])  # stable: the load order stays within each part
