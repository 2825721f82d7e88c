"""Teams (issue 21): admins manage them, staff put tickets in them, the team: filter and the
My teams view find them, the assignee picker lists a ticket's team first, and a team may assign
its tickets automatically."""

from datetime import timedelta

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, PermissionDenied, QueryError, ValidationError
from itsm_tui.core.store.models import AuditEntry, Ticket
from itsm_tui.core.tickets import analytics, assignment, categories, macros, queue, teams, timeline, views
from itsm_tui.core.tickets import service as tickets


def _ticket(people, title="Cannot print"):
    return tickets.create(people["requester"], title, "d")


def _numbers(actor, text):
    return [row["number"] for row in queue.page(actor, text).rows]


@pytest.fixture
def network(people):
    admin = people["admin"]
    team = teams.add(admin, "Network")
    teams.add_member(admin, "network", "agent")  # any case
    return team


def test_admins_manage_teams_and_others_may_not(people, network):
    admin = people["admin"]
    teams.add_member(admin, "Network", "agent2")
    teams.remove_member(admin, "Network", "agent")
    teams.rename(admin, "Network", "Networks")
    assert [(t.name, names) for t, names in teams.listing(people["agent"])] == [("Networks", ["agent2"])]
    with pytest.raises(ValidationError, match="already exists"):
        teams.add(admin, "NETWORKS")
    with pytest.raises(ValidationError, match="not an active agent"):
        teams.add_member(admin, "Networks", "requester")
    with pytest.raises(NotFound, match="not a member"):
        teams.remove_member(admin, "Networks", "agent")
    for role in ("agent", "supervisor"):
        with pytest.raises(PermissionDenied):
            teams.add(people[role], f"Team of {role}")
    summaries = [e.summary for e in AuditEntry.select().where(AuditEntry.entity_type == "team")]
    assert "agent joined Network" in summaries and "agent left Network" in summaries


def test_ticket_team_filter_and_my_teams_view(people, network):
    agent = people["agent"]
    mine, other = _ticket(people, "In my team"), _ticket(people, "In no team")
    teams.set_team(agent, mine.id, mine.version, "network")
    assert Ticket.get_by_id(mine.id).team_id == network.id
    assert _numbers(agent, "team:Network") == [mine.number]
    assert _numbers(agent, "team:mine") == [mine.number]
    assert _numbers(people["agent2"], "team:mine") == []
    assert _numbers(agent, "team:none") == [other.number]
    assert _numbers(agent, "-team:network") == [other.number]
    view = next(v for v in views.views_for(agent) if v.name == "My teams")
    assert _numbers(agent, view.query) == [mine.number]
    with pytest.raises(QueryError, match="no team named 'sales'"):
        queue.page(agent, "team:sales")
    assert [e.text for e in timeline.timeline(agent, mine.id)][-1] == "team: (none) → Network"
    with pytest.raises(PermissionDenied):
        teams.set_team(people["requester"], mine.id, Ticket.get_by_id(mine.id).version, None)


def test_agent_load_lists_the_team_first(people, network):
    supervisor = people["supervisor"]
    busy = _ticket(people)
    tickets.assign(supervisor, busy.id, busy.version, "agent")
    load = teams.agent_load(supervisor, network.id)
    assert load[0] == (people["agent"], 1, True)
    assert all(not in_team for _, _, in_team in load[1:])
    assert load[1][1] == 0  # the others, lightest first
    assert [u for u, _, _ in teams.agent_load(supervisor)][0] != people["agent"]  # no team: by load


def test_team_assigns_its_tickets_automatically(people, network):
    admin = people["admin"]
    teams.add_member(admin, "Network", "agent2")
    teams.configure(admin, "Network", "round_robin")
    ticket = _ticket(people)
    ticket = teams.set_team(people["supervisor"], ticket.id, ticket.version, "Network")
    assert ticket.assignee_id is None  # the desk-wide switch is still off
    assignment.set_enabled(admin, True)
    got = []
    for _ in range(3):
        ticket = _ticket(people)
        got.append(
            teams.set_team(people["supervisor"], ticket.id, ticket.version, "Network").assignee.username
        )
    assert got == ["agent", "agent2", "agent"]
    with pytest.raises(ValidationError, match="mode must be"):
        teams.configure(admin, "Network", "random")


def test_analytics_by_team(people, network):
    admin, agent = people["admin"], people["agent"]
    teams.add(admin, "Desk")
    first, second, _ = (_ticket(people, f"t{i}") for i in range(3))
    teams.set_team(agent, first.id, first.version, "Network")
    second = teams.set_team(agent, second.id, second.version, "Network")
    tickets.change_status(agent, second.id, second.version, "resolved", "done")
    later = clock.now() + timedelta(minutes=1)  # the period ends now, excluded
    rows = analytics.figures(admin, now=later)["teams"]
    assert rows == [
        {"team": "Network", "open": 1, "at_risk": 0, "breached": 0, "resolved": 1},
        {"team": "Desk", "open": 0, "at_risk": 0, "breached": 0, "resolved": 0},
        {"team": "(no team)", "open": 1, "at_risk": 0, "breached": 0, "resolved": 0},
    ]
    assert [r["team"] for r in analytics.figures(admin, filter_text="team:network")["teams"]][:1] == [
        "Network"
    ]
    text = analytics.as_text(analytics.figures(admin, now=later))
    assert ["Network", "1", "0", "0", "1"] in [line.split() for line in text.splitlines()]


def test_names_with_a_capital_beyond_ascii_are_found_in_any_case(people):
    """SQLite's LOWER() folds ASCII only: "Édition" was not found by its own name there."""
    admin = people["admin"]
    team = teams.add(admin, "Édition")
    macro = macros.create(admin, "Ärger", "Sorry", team="édition")
    category = categories.add(admin, "Ökonomie")
    for name in ("Édition", "édition", "ÉDITION", "E\u0301dition"):
        assert teams.find(name).id == team.id
    assert macros.find("ÄRGER").id == macros.find("ärger").id == macro.id
    assert categories.find("ökonomie").id == category.id
    ticket = _ticket(people)
    assert teams.set_team(people["agent"], ticket.id, ticket.version, "ÉDITION").team_id == team.id
    with pytest.raises(NotFound, match="no team named 'Éditions'"):
        teams.find("Éditions")


def test_a_name_beyond_ascii_is_taken_in_any_case(people):
    """A second team or macro named as one there is, in another case or Unicode form, is
    refused on SQLite as on MariaDB (SQLite's LOWER() let "élan" in beside "Élan")."""
    admin = people["admin"]
    teams.add(admin, "Élan")
    macros.create(admin, "Ärger", "Sorry")
    for name in ("élan", "ÉLAN", "E\u0301lan"):
        with pytest.raises(ValidationError, match="'Élan' already exists"):
            teams.add(admin, name)
    with pytest.raises(ValidationError, match="'Ärger' already exists"):
        macros.create(admin, "ärger", "Sorry again")
    assert [team.name for team, _ in teams.listing(admin)].count("Élan") == 1
