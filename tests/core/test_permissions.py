"""The whole role matrix, walked through the services: each action allowed and denied."""

from pathlib import Path

import pytest

from itsm_tui.core.audit import activity
from itsm_tui.core.errors import NotFound, PermissionDenied
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import auth, tokens, users
from itsm_tui.core.people.permissions import MATRIX, SessionEnded, require
from itsm_tui.core.tickets import analytics, assignment, categories, links, macros, tags, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.importers.servicenow import import_servicenow

ROLES = ("requester", "agent", "supervisor", "admin")


def _own_ticket(actor):
    return tickets.create(actor, "My screen is dark", "Since this morning")


def _others_ticket(people):
    return tickets.create(people["requester2"], "Someone else's ticket", "Private")


def _resolved_own(actor, people):
    ticket = _own_ticket(actor)
    agent = people["agent2"]
    ticket = tickets.change_status(agent, ticket.id, ticket.version, "resolved", "Fixed it")
    return ticket


def _desk_figures(actor):
    """The whole desk's figures; an agent gets only their own, which this action does not allow."""
    figures = analytics.figures(actor)
    if figures["scope"]["kind"] != "desk":
        raise PermissionDenied("not the whole desk")
    return figures


def _global_macro(people):
    return (
        macros.find("Ack")
        if macros.Macro.get_or_none(name="Ack")
        else macros.create(people["admin"], "Ack", "Seen")
    )


SCENARIOS = {
    "ticket.view_own": lambda a, p: tickets.get(a, _own_ticket(a).number),
    "ticket.create": lambda a, p: _own_ticket(a),
    "ticket.comment": lambda a, p: tickets.comment(a, _own_ticket(a).id, "Any news?"),
    "ticket.reopen_own": lambda a, p: (
        lambda t: tickets.change_status(a, t.id, t.version, "in_progress", "Still broken")
    )(_resolved_own(a, p)),
    "ticket.view_all": lambda a, p: tickets.get(a, _others_ticket(p).id),
    "ticket.note": lambda a, p: tickets.comment(a, _own_ticket(a).id, "internal", internal=True),
    "ticket.work": lambda a, p: (lambda t: tickets.update(a, t.id, t.version, title="New title"))(
        _own_ticket(a)
    ),
    "ticket.assign_self": lambda a, p: (lambda t: tickets.assign(a, t.id, t.version, a))(_own_ticket(a)),
    "ticket.create_for_other": lambda a, p: tickets.create(a, "For you", "On behalf", requester="requester2"),
    "ticket.assign_other": lambda a, p: (lambda t: tickets.assign(a, t.id, t.version, "agent2"))(
        _own_ticket(a)
    ),
    "ticket.edit": lambda a, p: (lambda t: tickets.update(a, t.id, t.version, category="Hardware"))(
        _others_ticket(p)
    ),
    "ticket.link": lambda a, p: links.link(a, _others_ticket(p).id, _others_ticket(p).id, "related"),
    "ticket.tag": lambda a, p: tags.change(a, _others_ticket(p).id, add=["vpn"]),
    "ticket.merge": lambda a, p: (lambda t: links.merge(a, t.id, t.version, _others_ticket(p).id))(
        _others_ticket(p)
    ),
    "ticket.delete": lambda a, p: (lambda t: tickets.delete(a, t.id, t.version))(_others_ticket(p)),
    "category.manage": lambda a, p: categories.rename(a, "Access", f"Access {a.username}"),
    "inventory.view": lambda a, p: inventory.get(a, "department", p["dept"].id),
    "inventory.edit": lambda a, p: inventory.create(a, "department", {"name": f"Dept of {a.username}"}),
    "audit.view_work": lambda a, p: activity.page(a, "type:ticket"),
    "audit.view_all": lambda a, p: activity.entry(a, activity.page(p["admin"], "type:user").rows[0]["id"]),
    "analytics.view": lambda a, p: _desk_figures(a),
    "analytics.view_own": lambda a, p: analytics.figures(a),
    "user.view": lambda a, p: users.list_users(a),
    "user.manage": lambda a, p: users.create_user(a, f"new-{a.username}", "requester"),
    "user.unlock": lambda a, p: users.unlock(a, p["agent2"].id),
    "token.manage_any": lambda a, p: tokens.list_tokens(a, everyone=True),
    "settings.manage": lambda a, p: assignment.set_enabled(a, True),
    "team.manage": lambda a, p: teams.add(a, f"Team of {a.username}"),
    "macro.manage": lambda a, p: macros.create(a, f"Macro of {a.username}", "Thanks"),
    "macro.apply": lambda a, p: (lambda t: macros.apply(a, _global_macro(p).id, t.id, t.version))(
        _others_ticket(p)
    ),
    "import.run": lambda a, p: import_servicenow(
        a, Path(__file__).parents[1] / "data" / "servicenow_bad_rows.csv"
    ),
}


def test_every_action_in_the_matrix_has_a_scenario():
    assert set(SCENARIOS) == set(MATRIX)


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_matrix(action, people, system):
    people["dept"] = inventory.create(system, "department", {"name": "Finance"})
    allowed_roles = MATRIX[action][0]
    for role in ROLES:
        actor = people[role]
        if role in allowed_roles:
            SCENARIOS[action](actor, people)
        else:
            with pytest.raises((PermissionDenied, NotFound)):
                SCENARIOS[action](actor, people)


def test_requester_cannot_see_or_touch_others_tickets(people):
    ticket = _others_ticket(people)
    requester = people["requester"]
    for attempt in (
        lambda: tickets.get(requester, ticket.id),
        lambda: tickets.comment(requester, ticket.id, "hello"),
        lambda: tickets.change_status(requester, ticket.id, ticket.version, "in_progress"),
    ):
        with pytest.raises(NotFound):
            attempt()


def test_requester_never_sees_internal_notes(people):
    ticket = _own_ticket(people["requester"])
    tickets.comment(people["agent"], ticket.id, "Public answer")
    tickets.comment(people["agent"], ticket.id, "Internal: user is VIP", internal=True)
    seen = [c.body for c in tickets.comments(people["requester"], ticket)]
    assert seen == ["Public answer"]
    assert len(tickets.comments(people["agent"], ticket)) == 2


def test_disabled_user_can_do_nothing(people, system):
    agent = people["agent"]
    users.update_user(system, agent.id, agent.version, is_active=False)
    agent = users.by_username("agent")
    with pytest.raises(PermissionDenied, match="disabled"):
        _own_ticket(agent)


def test_last_admin_cannot_be_demoted_or_disabled(people, system):
    admin = people["admin"]
    with pytest.raises(PermissionDenied, match="last active admin"):
        users.update_user(admin, admin.id, admin.version, role="agent")
    with pytest.raises(PermissionDenied, match="last active admin"):
        users.update_user(admin, admin.id, admin.version, is_active=False)
    second = users.create_user(admin, "admin2", "admin")
    users.update_user(second, admin.id, admin.version, role="supervisor")  # another admin remains
    assert users.by_username("admin").role == "supervisor"
    second = users.by_username("admin2")
    with pytest.raises(PermissionDenied, match="last active admin"):
        users.update_user(second, second.id, second.version, is_active=False)
    assert users.by_username("admin2").is_active


def test_readme_role_table_matches_the_matrix():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for action, (roles, description) in MATRIX.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{action}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == description
        assert [c == "yes" for c in cells[2:]] == [r in roles for r in ROLES], action


def test_rights_follow_the_database_not_the_logged_in_copy(people, system):
    """An agent demoted or disabled while logged in loses the rights at the next action."""
    session_copy = users.by_username("agent")  # what the app holds since login
    admin = people["admin"]
    users.update_user(admin, session_copy.id, session_copy.version, role="requester")
    with pytest.raises(PermissionDenied):
        inventory.create(session_copy, "department", {"name": "Sneaky"})
    fresh = users.by_username("agent")
    users.update_user(admin, fresh.id, fresh.version, is_active=False)
    with pytest.raises(PermissionDenied, match="disabled"):
        _own_ticket(session_copy)


def test_a_password_reset_ends_the_users_sessions_but_not_their_tokens(people):
    """agent2 logged in (their terminal session holds what ``login`` returned) and made an API
    token; an admin resets their password: the session ends at its next action, the token and
    a new login work."""
    session = auth.login("agent2", "agent2-password-1")
    _own_ticket(session)
    _, token = tokens.create(session, "monitoring")
    users.reset_password(people["admin"], session.id, "a-brand-new-password")
    with pytest.raises(SessionEnded, match="^the password of agent2 was changed: log in again$"):
        _own_ticket(session)
    with pytest.raises(SessionEnded):  # every action, not just the first
        require(session, "ticket.view_own")
    by_token, _ = tokens.authenticate(token)
    assert _own_ticket(by_token).requester_id == session.id
    assert _own_ticket(auth.login("agent2", "a-brand-new-password")).requester_id == session.id


def test_setting_ones_own_password_keeps_that_session_and_ends_the_others(people):
    here = auth.login("admin", "admin-password-1")
    elsewhere = auth.login("admin", "admin-password-1", source="203.0.113.7")
    users.reset_password(here, here.id, "my-own-new-password")
    assert _own_ticket(here).requester_id == here.id
    with pytest.raises(SessionEnded, match="the password of admin was changed"):
        _own_ticket(elsewhere)
    assert auth.login("admin", "my-own-new-password").username == "admin"
