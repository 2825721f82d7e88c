"""Automatic assignment per category: off by default, round-robin and least-loaded, away and
disabled agents skipped, admins only."""

import pytest

from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.people import users
from itsm_tui.core.store.models import AuditEntry, Notification, Ticket
from itsm_tui.core.tickets import assignment
from itsm_tui.core.tickets import service as tickets


def _new(people, category="Network"):
    return tickets.create(people["requester"], "Cannot print", "d", category=category)


@pytest.fixture
def team(people):
    people["agent3"] = users.create_user(people["admin"], "agent3", "agent")
    return people


def test_off_by_default_even_with_agents_listed(team):
    assignment.configure(team["admin"], "Network", None, ["agent", "agent2"])
    assert _new(team).assignee_id is None
    assignment.set_enabled(team["admin"], True)
    assert _new(team).assignee_id is None  # the category itself is still off
    assignment.configure(team["admin"], "Network", "round_robin")
    assignment.set_enabled(team["admin"], False)
    assert _new(team).assignee_id is None  # the desk-wide switch is off


def test_round_robin_cycles_and_skips_away_agents(team):
    admin = team["admin"]
    assignment.set_enabled(admin, True)
    assignment.configure(admin, "Network", "round_robin", ["agent", "agent2", "agent3"])
    got = [_new(team).assignee.username for _ in range(4)]
    assert got == ["agent", "agent2", "agent3", "agent"]
    assignment.set_away(team["agent2"], "agent2", True)  # agents mark themselves away
    assert [_new(team).assignee.username for _ in range(3)] == ["agent3", "agent", "agent3"]
    assert _new(team, "Hardware").assignee_id is None  # another category: not configured
    users.update_user(admin, team["agent3"].id, team["agent3"].version, is_active=False)
    assert {_new(team).assignee.username for _ in range(2)} == {"agent"}


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(team):
    admin = team["admin"]
    for _ in range(2):
        t = _new(team, "Hardware")
        tickets.assign(admin, t.id, t.version, "agent")
    t = _new(team, "Hardware")
    tickets.assign(admin, t.id, t.version, "agent2")
    assignment.set_enabled(admin, True)
    assignment.configure(admin, "Network", "least_loaded", ["agent", "agent2", "agent3"])
    got = [_new(team).assignee.username for _ in range(4)]
    # loads 2/1/0 -> agent3; 2/1/1 -> agent2 (next in rotation among the least);
    # 2/2/1 -> agent3; 2/2/2 -> agent
    assert got == ["agent3", "agent2", "agent3", "agent"]


def test_auto_assignee_is_notified_and_the_assignment_is_in_the_log(team):
    assignment.set_enabled(team["admin"], True)
    assignment.configure(team["admin"], "Network", "round_robin", ["agent2"])
    t = _new(team)
    assert Ticket.get_by_id(t.id).assignee_id == team["agent2"].id
    note = Notification.get(Notification.user == team["agent2"].id)
    assert "assigned to you automatically" in note.message and t.number in note.message
    created = AuditEntry.get(AuditEntry.entity_id == t.id, AuditEntry.action == "create")
    assert '"assignee"' in created.changes


def test_only_admins_configure_and_only_supervisors_mark_others_away(team):
    for who in ("agent", "supervisor"):
        with pytest.raises(PermissionDenied):
            assignment.set_enabled(team[who], True)
        with pytest.raises(PermissionDenied):
            assignment.configure(team[who], "Network", "round_robin", ["agent"])
    with pytest.raises(PermissionDenied):
        assignment.set_away(team["agent"], "agent2", True)
    assert assignment.set_away(team["supervisor"], "agent2", True).is_away
    with pytest.raises(ValidationError, match="mode"):
        assignment.configure(team["admin"], "Network", "random", ["agent"])
    with pytest.raises(ValidationError, match="not an active agent"):
        assignment.configure(team["admin"], "Network", "round_robin", ["requester"])


def test_a_requester_sees_no_agents_or_away_flags_and_is_told_why_in_words(team):
    assignment.configure(team["admin"], "Network", "round_robin", ["agent", "agent2"])
    assignment.set_away(team["agent2"], "agent2", True)
    with pytest.raises(PermissionDenied) as refused:
        assignment.describe(team["requester"])
    message = str(refused.value)
    assert message == "a requester may not see automatic assignment: it names agents and who is away"
    assert "agent2" not in message and "." not in message.split(":")[0]
    shown = assignment.describe(team["agent"])  # staff see it
    assert "Network: round_robin among agent, agent2 (away)" in shown


@pytest.mark.parametrize(
    "who,call,words",
    [
        (
            "agent",
            lambda u: assignment.set_away(u, "agent2", True),
            "an agent may not mark another person away",
        ),
        (
            "requester",
            lambda u: assignment.set_away(u, "agent2", True),
            "a requester may not mark another person away",
        ),
        (
            "supervisor",
            lambda u: assignment.set_enabled(u, True),
            "a supervisor may not turn automatic assignment on or off",
        ),
        (
            "agent",
            lambda u: assignment.configure(u, "Network", None),
            "an agent may not configure automatic assignment",
        ),
    ],
)
def test_refusals_say_what_was_refused_without_permission_names(team, who, call, words):
    with pytest.raises(PermissionDenied) as refused:
        call(team[who])
    assert str(refused.value) == words


@pytest.mark.parametrize("name", ["", "  ", None])
def test_configuring_no_category_is_refused_not_taken_as_general(team, name):
    with pytest.raises(ValidationError, match="name the category"):
        assignment.configure(team["admin"], name, "round_robin", ["agent"])
    assert all("General: off" in line for line in assignment.describe(team["admin"]) if "General" in line)
