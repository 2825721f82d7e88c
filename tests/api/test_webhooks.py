"""Webhooks out, on both engines: admins subscribe over the API; the background job signs and
delivers each event from the outbox, retries a failure with backoff and pauses a subscription
that fails for a day."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_helpers import desk
from receiver import Receiver

from itsm_tui.core import clock
from itsm_tui.core.notify import webhooks
from itsm_tui.core.store.models import Notification, Ticket, WebhookSubscription


@pytest.fixture
def receiver():
    running = Receiver(fail=1)
    yield running
    running.close()


def _later(seconds: float):
    return clock.now() + timedelta(seconds=seconds)


def test_signed_deliveries_a_retry_after_a_failure_and_the_log(desk, receiver):
    hook = {"url": receiver.url, "events": ["ticket.created", "ticket.commented", "ticket.status_changed"]}
    assert desk.post("agent", "/api/v1/webhooks", hook).status_code == 403
    refused = desk.post("admin", "/api/v1/webhooks", hook)
    assert refused.status_code == 422 and refused.json()["field"] == "url"
    made = desk.post("admin", "/api/v1/webhooks", {**hook, "allow_private": True})
    assert made.status_code == 201, made.text
    secret, sub_id = made.json()["secret"], made.json()["id"]
    assert "secret" not in desk.get("admin", "/api/v1/webhooks").json()[0]
    number = desk.new_ticket("requester")["number"]
    desk.post("agent", f"/api/v1/tickets/{number}/comments", {"body": "On it"})
    desk.post("agent", f"/api/v1/tickets/{number}/comments", {"body": "VIP", "internal": True})
    desk.client.post(
        f"/api/v1/tickets/{number}/status",
        json={"status": "in_progress"},
        headers=desk.headers("agent", **{"If-Match": "1"}),
    )
    assert webhooks.run_due(clock.now()) == {
        "webhooks queued": 0,
        "webhooks delivered": 0,
        "webhooks failed": 0,
    }
    first = webhooks.run_due(_later(10))  # once the entries settled; after a failure the rest wait
    assert first == {"webhooks queued": 3, "webhooks delivered": 0, "webhooks failed": 1}
    log = desk.get("admin", f"/api/v1/webhooks/{sub_id}/deliveries").json()
    failed = [d for d in log if d["attempts"]]
    assert len(failed) == 1 and failed[0]["last_status"] == 500 and failed[0]["delivered_at"] is None
    assert webhooks.run_due(_later(20))["webhooks delivered"] == 2  # the failed one waits 30 s
    assert webhooks.run_due(_later(45))["webhooks delivered"] == 1
    assert sorted(receiver.events()) == ["ticket.commented", "ticket.created", "ticket.status_changed"]
    for headers, body in receiver.received:
        assert headers["X-Itsm-Signature"] == webhooks.sign(secret, headers["X-Itsm-Timestamp"], body)
        assert json.loads(body)["ticket"]["number"] == number
    assert desk.get("admin", f"/api/v1/webhooks/{sub_id}").json()["failing_since"] is None


def test_a_subscription_failing_for_a_day_is_paused_and_admins_are_told(desk, receiver, people):
    receiver.fail = 100
    made = desk.post(
        "admin",
        "/api/v1/webhooks",
        {"url": receiver.url, "events": ["ticket.created"], "allow_private": True},
    )
    sub_id = made.json()["id"]
    desk.new_ticket("requester")
    assert webhooks.run_due(_later(10))["webhooks failed"] == 1
    WebhookSubscription.update(failing_since=clock.now() - timedelta(days=2)).execute()
    assert webhooks.run_due(_later(60))["webhooks failed"] == 1
    state = desk.get("admin", f"/api/v1/webhooks/{sub_id}").json()
    assert state["active"] is False and state["paused_at"]
    assert Notification.get(Notification.kind == "webhook_paused").user.username == "admin"
    assert webhooks.run_due(_later(100000))["webhooks failed"] == 0  # paused: nothing is tried
    resumed = desk.client.patch(
        f"/api/v1/webhooks/{sub_id}", json={"active": True}, headers=desk.headers("admin")
    )
    assert resumed.json()["active"] is True
    assert desk.client.delete(f"/api/v1/webhooks/{sub_id}", headers=desk.headers("admin")).status_code == 204


def test_sla_events_and_assignment_reach_their_subscribers(desk, receiver):
    from itsm_tui.core.tickets import alerts

    receiver.fail = 0
    events = ["ticket.assigned", "sla.at_risk", "sla.breached"]
    desk.post("admin", "/api/v1/webhooks", {"url": receiver.url, "events": events, "allow_private": True})
    made = desk.new_ticket("requester", impact="high", urgency="high")  # critical: 15 min to respond
    desk.client.post(
        f"/api/v1/tickets/{made['number']}/assign",
        json={"assignee": "agent"},
        headers=desk.headers("agent", **{"If-Match": "1"}),
    )
    ticket = Ticket.get_by_id(made["id"])
    assert alerts.raise_alerts(ticket.response_risk_at + timedelta(seconds=1)) == 1
    assert alerts.raise_alerts(ticket.response_due + timedelta(seconds=1)) == 1
    webhooks.run_due(ticket.response_due + timedelta(seconds=30))
    assert sorted(set(receiver.events())) == ["sla.at_risk", "sla.breached", "ticket.assigned"]
    assigned = next(
        json.loads(b) for _, b in receiver.received if json.loads(b)["event"] == "ticket.assigned"
    )
    assert (
        assigned["ticket"]["assignee"] == "agent"
        and assigned["actor"] == "agent"
        and assigned["channel"] == "api"
    )
