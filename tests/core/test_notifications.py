"""A user's notifications: own only, newest first, polling with since(), marking read."""

from datetime import datetime, timedelta

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.notify import notifications
from itsm_tui.core.people import users
from itsm_tui.core.store.models import AuditEntry, Notification, User
from itsm_tui.core.tickets import service as tickets

T0 = datetime(2024, 6, 1, 8, 0)


@pytest.fixture
def inbox(people):
    """agent2 gets three notifications (two assignments, one comment); agent gets one."""
    supervisor, requester = people["supervisor"], people["requester"]
    made = []
    with clock.frozen(T0):
        a = tickets.create(requester, "first", "d")
        a = tickets.assign(supervisor, a.id, a.version, "agent2")
        made.append(("assigned", a.id))
    with clock.frozen(T0 + timedelta(minutes=5)):
        tickets.comment(requester, a.id, "any news?")  # requester -> the assignee, agent2
        made.append(("comment", a.id))
    with clock.frozen(T0 + timedelta(minutes=9)):
        b = tickets.create(requester, "second", "d")
        b = tickets.assign(supervisor, b.id, b.version, "agent")
    with clock.frozen(T0 + timedelta(minutes=10)):
        b = tickets.assign(supervisor, b.id, b.version, "agent2")
        made.append(("assigned", b.id))
    return made


def _own_ids(user):
    return [n.id for n in Notification.select().where(Notification.user == user.id).order_by(Notification.id)]


def test_recent_is_own_only_newest_first(people, inbox):
    got = notifications.recent(people["agent2"])
    assert [(n.kind, n.ticket_id) for n in got] == list(reversed(inbox))
    assert all(n.user_id == people["agent2"].id for n in got)
    assert [n.created_at for n in got] == sorted((n.created_at for n in got), reverse=True)
    assert "assigned to you by supervisor" in got[0].message
    (mine,) = notifications.recent(people["agent"])
    assert mine.kind == "assigned" and mine.user_id == people["agent"].id
    assert notifications.recent(people["admin"]) == []


def test_recent_respects_the_limit(people, inbox):
    got = notifications.recent(people["agent2"], limit=2)
    assert [n.id for n in got] == _own_ids(people["agent2"])[::-1][:2]
    for bad in (0, -1, 501, "5", True):
        with pytest.raises(ValidationError):
            notifications.recent(people["agent2"], limit=bad)


def test_unread_count_and_mark_all_read(people, inbox):
    agent2, agent = people["agent2"], people["agent"]
    assert notifications.unread_count(agent2) == 3
    assert notifications.unread_count(agent) == 1
    with clock.frozen(T0 + timedelta(hours=1)):
        assert notifications.mark_all_read(agent2) == 3
    assert notifications.unread_count(agent2) == 0
    assert notifications.unread_count(agent) == 1  # someone else's stay unread
    assert {n.read_at for n in notifications.recent(agent2)} == {T0 + timedelta(hours=1)}
    (entry,) = AuditEntry.select().where(AuditEntry.action == "read_notifications")
    assert entry.actor_id == agent2.id and entry.entity_type == "notification"
    assert "3 notifications" in entry.summary
    # nothing left to mark: no write, no audit entry
    assert notifications.mark_all_read(agent2) == 0
    assert AuditEntry.select().where(AuditEntry.action == "read_notifications").count() == 1
    # read notifications are still listed
    assert len(notifications.recent(agent2)) == 3


def test_new_notifications_after_marking_read_are_unread(people, inbox):
    agent2 = people["agent2"]
    notifications.mark_all_read(agent2)
    t = tickets.create(people["requester"], "third", "d")
    tickets.assign(people["supervisor"], t.id, t.version, agent2)
    assert notifications.unread_count(agent2) == 1
    assert notifications.mark_all_read(agent2) == 1


def test_since_polls_own_notifications_oldest_first(people, inbox):
    agent2 = people["agent2"]
    ids = _own_ids(agent2)
    everything = notifications.since(agent2, 0)
    assert [n.id for n in everything] == ids
    assert [(n.kind, n.ticket_id) for n in everything] == inbox
    assert [n.id for n in notifications.since(agent2, ids[0])] == ids[1:]
    assert notifications.since(agent2, ids[-1]) == []
    # a new one shows up on the next poll, and only for its user
    t = tickets.create(people["requester"], "later", "d")
    tickets.assign(people["supervisor"], t.id, t.version, agent2)
    (fresh,) = notifications.since(agent2, ids[-1])
    assert fresh.ticket_id == t.id and fresh.id > ids[-1]
    agent_ids = _own_ids(people["agent"])
    assert [n.id for n in notifications.since(people["agent"], 0)] == agent_ids
    assert fresh.id not in agent_ids


def test_since_returns_unread_and_read_alike_and_pages(people, inbox):
    agent2 = people["agent2"]
    notifications.mark_all_read(agent2)
    ids = _own_ids(agent2)
    assert [n.id for n in notifications.since(agent2, 0)] == ids
    first_two = notifications.since(agent2, 0, limit=2)
    assert [n.id for n in first_two] == ids[:2]
    assert [n.id for n in notifications.since(agent2, first_two[-1].id, limit=2)] == ids[2:]


def test_disabled_user_reads_nothing(people, inbox, system):
    agent2 = people["agent2"]
    users.update_user(system, agent2.id, agent2.version, is_active=False)
    disabled = User.get_by_id(agent2.id)
    for call in (
        notifications.unread_count,
        notifications.recent,
        notifications.mark_all_read,
        lambda u: notifications.since(u, 0),
    ):
        with pytest.raises(PermissionDenied):
            call(disabled)
    assert Notification.select().where(Notification.read_at.is_null()).count() == 4


def test_polling_starts_after_the_first_of_recent_even_with_a_clock_step_back(people):
    """A clock set back (or another server's clock) must not make since() repeat toasts."""
    agent2 = people["agent2"]
    for minutes in (30, 0):  # the second arrives later but carries an earlier time
        with clock.frozen(T0 + timedelta(minutes=minutes)):
            t = tickets.create(people["requester"], f"t{minutes}", "d")
            tickets.assign(people["supervisor"], t.id, t.version, agent2)
    latest = notifications.recent(agent2, limit=1)[0]
    assert latest.id == max(_own_ids(agent2))
    assert notifications.since(agent2, latest.id) == []
