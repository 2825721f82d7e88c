"""Monitoring alerts in, through the real ASGI app, on both engines: one ticket per dedupe key,
repeats counted, resolved once, duplicates change nothing."""

from __future__ import annotations

from datetime import timedelta

from alert_payloads import alertmanager
from api_helpers import desk

from itsm_tui.core.store.models import AlertTicket, Comment, Ticket
from itsm_tui.core.tickets import alerts

AM = "/api/v1/alerts/alertmanager"


def test_firing_repeat_resolved_gives_one_ticket_one_comment_resolved(desk):
    outcomes = [desk.post("agent", AM, alertmanager(s)).json()[0]["outcome"] for s in ("firing", "firing")]
    assert outcomes == ["opened", "repeated"]
    ticket = Ticket.get()
    assert (ticket.title, ticket.priority, ticket.contact_type) == ("Disk almost full on db1", 1, "alert")
    assert "alertname=DiskFull" in ticket.description
    assert desk.post("agent", AM, alertmanager("resolved")).json()[0]["outcome"] == "resolved"
    assert desk.post("agent", AM, alertmanager("resolved")).json()[0]["outcome"] == "ignored"
    assert desk.post("agent", AM, alertmanager("firing")).json()[0]["outcome"] == "ignored"  # a late copy
    ticket = Ticket.get()
    assert Ticket.select().count() == 1 and ticket.status == "resolved"
    assert [c.body for c in Comment.select()] == [ticket.resolution_note]
    assert "1 repeat while firing" in ticket.resolution_note
    row = AlertTicket.get()
    assert (row.state, row.repeats) == ("resolved", 1)


def test_a_ticket_someone_worked_is_left_to_them(desk):
    number = desk.post("agent", AM, alertmanager("firing")).json()[0]["ticket"]
    desk.post("agent2", f"/api/v1/tickets/{number}/comments", {"body": "Looking", "internal": True})
    assert desk.post("agent", AM, alertmanager("resolved")).json()[0]["outcome"] == "commented"
    assert Ticket.get().status == "new"
    again = desk.post("agent", AM, alertmanager("firing", starts="2026-12-06T11:00:00Z")).json()[0]
    assert again == {"dedupe_key": "c6f2d1a0b2e3f4a5", "outcome": "repeated", "ticket": number}


def test_generic_alerts_with_a_configured_source(desk):
    settings = {"category": "network", "requester": "requester2"}
    assert (
        desk.client.put(
            "/api/v1/alerts/sources/Zabbix", json=settings, headers=desk.headers("agent")
        ).status_code
        == 403
    )
    assert (
        desk.client.put(
            "/api/v1/alerts/sources/Zabbix", json=settings, headers=desk.headers("admin")
        ).status_code
        == 200
    )
    alert = {"source": "zabbix", "dedupe_key": "trigger-1842", "status": "firing", "severity": "Average",
             "summary": "Switch sw-3 port 12 down", "details": "ifOperStatus=2"}  # fmt: skip
    first = desk.post("agent", "/api/v1/alerts/generic", alert).json()[0]
    ticket = Ticket.get()
    assert first["outcome"] == "opened" and ticket.category.name == "Network"
    assert ticket.requester.username == "requester2" and (ticket.impact, ticket.urgency) == (2, 2)
    resolved = desk.post("agent", "/api/v1/alerts/generic", {**alert, "status": "resolved"}).json()[0]
    assert resolved["outcome"] == "resolved"
    refused = desk.post("requester", "/api/v1/alerts/generic", alert)
    assert refused.status_code == 403
    assert desk.post("agent", "/api/v1/alerts/generic", {**alert, "status": "gone"}).status_code == 422


def test_an_sla_alert_is_no_one_working_the_ticket(desk):
    """The SLA job writes to the ticket as the system account: that is not a person's work."""
    desk.post("agent", AM, alertmanager("firing"))
    ticket = Ticket.get()
    assert alerts.raise_alerts(ticket.response_risk_at + timedelta(seconds=1)) == 1
    assert desk.post("agent", AM, alertmanager("resolved")).json()[0]["outcome"] == "resolved"
    assert Ticket.get().status == "resolved"


def test_a_start_time_with_no_utc_date_is_refused_naming_it(desk):
    generic = {"source": "zabbix", "dedupe_key": "k", "status": "firing", "summary": "s"}
    for path, body, field in (
        ("/api/v1/alerts/generic", {**generic, "started_at": "0001-01-01T00:00:00+14:00"}, "started_at"),
        (AM, alertmanager("firing", starts="9999-12-31T23:59:59-14:00"), "alerts.startsAt"),
    ):
        answer = desk.post("agent", path, body)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert Ticket.select().count() == 0
