"""SLA alerts: to the assignee and the supervisors, once per ticket, target and state."""

from datetime import datetime, timedelta

from itsm_tui.core import clock
from itsm_tui.core.people import users
from itsm_tui.core.store.models import AuditEntry, Notification, SlaAlert, Ticket
from itsm_tui.core.tickets import alerts
from itsm_tui.core.tickets import service as tickets

NOW = datetime(2026, 3, 2, 10, 0)


def _high(people, when=NOW):
    with clock.frozen(when):
        t = tickets.create(
            people["requester"], "Mail down", "d", impact="high", urgency="medium"
        )  # 1 h / 8 h
        return tickets.assign(people["supervisor"], t.id, t.version, people["agent"])


def _inbox(user):
    return [
        n.message
        for n in Notification.select().where(
            Notification.user == user.id, Notification.kind.startswith("sla_")
        )
    ]


def test_at_risk_then_breached_each_once_to_assignee_and_supervisors(engine, people):
    boss2 = users.create_user(people["admin"], "boss2", "supervisor")
    t = _high(people)
    assert alerts.raise_alerts(NOW + timedelta(minutes=30)) == 0  # on track
    assert alerts.raise_alerts(NOW + timedelta(minutes=50)) == 1  # response at risk (under 15 min left)
    assert alerts.raise_alerts(NOW + timedelta(minutes=55)) == 0  # once
    assert alerts.raise_alerts(NOW + timedelta(minutes=61)) == 1  # response breached
    assert alerts.raise_alerts(NOW + timedelta(minutes=62)) == 0
    for person in (people["agent"], people["supervisor"], boss2):
        inbox = _inbox(person)
        assert len(inbox) == 2, person.username
        assert any(f"{t.number} is at risk of breaching its response target" in m for m in inbox)
        assert any(f"{t.number} has breached its response target" in m for m in inbox)
    assert _inbox(people["agent2"]) == [] and _inbox(people["requester"]) == []
    assert {(a.target, a.state) for a in SlaAlert.select()} == {
        ("response", "at_risk"),
        ("response", "breached"),
    }
    assert (
        AuditEntry.select().where(AuditEntry.action == "sla_alert", AuditEntry.entity_id == t.id).count() == 2
    )


def test_resolution_alerts_after_the_first_response_and_none_while_paused(engine, people):
    t = _high(people)
    with clock.frozen(NOW + timedelta(minutes=10)):
        t = tickets.change_status(people["agent"], t.id, t.version, "in_progress")
    assert alerts.raise_alerts(NOW + timedelta(hours=6, minutes=1)) == 1  # 6 h of 8: at risk
    with clock.frozen(NOW + timedelta(hours=7)):
        t = tickets.change_status(people["agent"], t.id, t.version, "waiting_on_vendor")
    assert alerts.raise_alerts(NOW + timedelta(hours=9)) == 0  # past the old due time, but paused
    assert {(a.target, a.state) for a in SlaAlert.select()} == {("resolution", "at_risk")}


def test_stale_crossings_raise_nothing(engine, people):
    _high(people, NOW - timedelta(days=3))
    assert alerts.raise_alerts(NOW) == 0  # breached two days ago: old news, not an alert


def test_unassigned_ticket_alerts_the_supervisors_only(engine, people):
    with clock.frozen(NOW):
        tickets.create(people["requester"], "Unassigned", "d", impact="high", urgency="high")  # 15 min
    assert alerts.raise_alerts(NOW + timedelta(minutes=16)) == 1
    assert len(_inbox(people["supervisor"])) == 1 and _inbox(people["agent"]) == []


def test_a_concurrent_instance_that_lost_the_race_sends_nothing(engine, people):
    t = _high(people)
    later = NOW + timedelta(minutes=61)
    row = (
        Ticket.select(Ticket.id, Ticket.title, Ticket.assignee, Ticket.response_due.alias("due"))
        .where(Ticket.id == t.id)
        .get()
    )
    assert alerts._raise(row, "response", "breached", later) == 1
    assert alerts._raise(row, "response", "breached", later) == 0  # the unique row exists already
    assert len(_inbox(people["supervisor"])) == 1
