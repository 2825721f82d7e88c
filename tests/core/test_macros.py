"""Macros (issue 21): canned replies with placeholders that also set fields, global or per team,
applied all or nothing per ticket."""

import pytest

from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.store.models import Comment, Macro, Notification, Ticket
from itsm_tui.core.tickets import assignment, macros, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.macros import Fields


def _ticket(people):
    return tickets.create(people["requester"], "VPN down", "since 9", impact=2, urgency=2)


def test_a_macro_replies_and_sets_fields_in_one_go(people):
    admin, agent = people["admin"], people["supervisor"]  # assigning to another: supervisors
    teams.add(admin, "Network")
    macro = macros.create(
        people["supervisor"],
        "Escalate to network",
        "Hello {requester_first}, {number} ({title}) is now with team {team}, status {status}. {agent}",
        fields=Fields(status="in_progress", priority="high", team="Network", assignee="agent2"),
    )
    ticket = _ticket(people)
    done = macros.apply(agent, macro.name, ticket.id, ticket.version)
    assert (done.status, done.priority, done.team.name, done.assignee.username) == (
        "in_progress",
        2,
        "Network",
        "agent2",
    )
    (reply,) = Comment.select().where(Comment.ticket == ticket.id)
    full = people["requester"].full_name
    assert reply.body == (
        f"Hello {full.split()[0]}, {ticket.number} (VPN down) is now with team Network, "
        f"status In progress. {agent.full_name}"
    )
    assert not reply.is_internal
    ticket = _ticket(people)
    with pytest.raises(PermissionDenied, match="assign a ticket to another"):  # the same role rules
        macros.apply(people["agent"], macro.name, ticket.id, ticket.version)
    assert Ticket.get_by_id(ticket.id).team_id is None  # all or nothing


def test_resolving_macro_uses_its_reply_as_the_note_and_refusals_change_nothing(people):
    macro = macros.create(people["admin"], "Fixed", "Fixed, {requester}.", fields=Fields(status="resolved"))
    ticket = _ticket(people)
    done = macros.apply(people["agent"], "fixed", ticket.id, ticket.version)
    assert done.status == "resolved" and done.resolution_note == f"Fixed, {people['requester'].full_name}."
    closed = tickets.change_status(people["agent"], done.id, done.version, "closed")
    with pytest.raises(ValidationError, match="cannot go from Closed"):
        macros.apply(people["agent"], macro.id, closed.id, closed.version)
    assert Ticket.get_by_id(closed.id).version == closed.version


def test_team_macros_are_for_the_team_and_managers(people):
    admin = people["admin"]
    teams.add(admin, "Network")
    teams.add_member(admin, "Network", "agent")
    macros.create(admin, "Global", "Thanks")
    macros.create(admin, "Network only", "Looking", team="Network", internal=True)
    names = {
        role: [m.name for m in macros.available(people[role])] for role in ("agent", "agent2", "supervisor")
    }
    assert names == {
        "agent": ["Network only", "Global"],
        "agent2": ["Global"],
        "supervisor": ["Network only", "Global"],
    }
    ticket = _ticket(people)
    with pytest.raises(PermissionDenied, match="for team Network"):
        macros.apply(people["agent2"], "Network only", ticket.id, ticket.version)
    with pytest.raises(PermissionDenied):
        macros.available(people["requester"])


def test_who_manages_macros_and_what_is_refused(people):
    for role in ("agent", "requester"):
        with pytest.raises(PermissionDenied):
            macros.create(people[role], "Mine", "text")
    supervisor = people["supervisor"]
    with pytest.raises(ValidationError, match="unknown placeholder"):
        macros.create(supervisor, "Typo", "Hi {requestor}")
    with pytest.raises(ValidationError, match="needs a reply or a field"):
        macros.create(supervisor, "Empty", "")
    row = macros.create(supervisor, "Ack", "Got it")
    row = macros.update(supervisor, row, row.version, "Acknowledge", "Got it, {requester}")
    assert macros.find("acknowledge").body == "Got it, {requester}"
    macros.delete(people["admin"], "Acknowledge")
    assert macros.available(supervisor) == []


def test_a_macro_can_assign_to_whoever_applies_it(people):
    macros.create(people["admin"], "Take and ask", "Looking at it", fields=Fields(assignee="ME"))
    assert "assignee → me" in macros.describe(macros.find("Take and ask"))
    for agent in ("agent", "agent2"):
        ticket = _ticket(people)
        done = macros.apply(people[agent], "Take and ask", ticket.id, ticket.version)
        assert done.assignee_id == people[agent].id  # an agent may assign to themselves


def test_an_internal_note_is_never_made_the_resolution_note_the_requester_reads(people):
    supervisor = people["supervisor"]
    with pytest.raises(ValidationError, match="cannot reply with an internal note"):
        macros.create(
            supervisor,
            "Close quietly",
            "Between us: a user error",
            internal=True,
            fields=Fields(status="resolved"),
        )
    row = macros.create(supervisor, "Close quietly", "Between us: a user error", internal=True)
    with pytest.raises(ValidationError, match="cannot reply with an internal note"):
        macros.update(
            supervisor, row, row.version, row.name, row.body, internal=True, fields=Fields(status="resolved")
        )
    Macro.update(set_status="resolved").where(Macro.id == row.id).execute()  # saved before the rule
    ticket = _ticket(people)
    with pytest.raises(ValidationError, match="macro Close quietly: .* the requester reads"):
        macros.apply(people["agent"], "Close quietly", ticket.id, ticket.version)
    after = Ticket.get_by_id(ticket.id)
    assert (after.status, after.resolution_note, after.version) == ("new", None, ticket.version)
    assert not Comment.select().where(Comment.ticket == ticket.id).exists()


def test_a_macro_naming_team_and_assignee_leaves_the_team_s_rotation_alone(people):
    """A team that assigns its tickets itself picked someone (notified, the rotation moved on)
    just before the macro's own assignee replaced them."""
    admin = people["admin"]
    teams.add(admin, "Network")
    for member in ("agent", "agent2"):
        teams.add_member(admin, "Network", member)
    teams.configure(admin, "Network", "round_robin")
    assignment.set_enabled(admin, True)
    macro = macros.create(
        people["supervisor"], "To Network, agent2", fields=Fields(team="Network", assignee="agent2")
    )
    ticket = _ticket(people)
    done = macros.apply(people["supervisor"], macro.name, ticket.id, ticket.version)
    assert (done.team.name, done.assignee.username) == ("Network", "agent2")
    assert not Notification.select().where(Notification.user == people["agent"].id).exists()
    ticket = _ticket(people)  # the rotation starts where it would have: with its first member
    moved = teams.set_team(people["supervisor"], ticket.id, ticket.version, "Network")
    assert moved.assignee.username == "agent"
