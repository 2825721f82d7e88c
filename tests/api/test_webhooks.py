"""Webhooks out, on both engines: admins subscribe over the API; the background job signs and
delivers each event from the outbox, retries a failure with backoff and pauses a subscription
that fails for a day."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from api_helpers import desk
from receiver import Receiver
from servers import make_ca, make_server_cert

from itsm_tui.core import clock
from itsm_tui.core.notify import webhooks
from itsm_tui.core.store.models import AuditEntry, Notification, Ticket, WebhookSubscription


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


def _subscribe(desk, url: str, **extra):
    return desk.post("admin", "/api/v1/webhooks", {"url": url, "events": ["ticket.created"], **extra})


def test_urls_that_cannot_be_sent_are_refused_naming_the_url(desk, receiver):
    base = receiver.url  # http://127.0.0.1:PORT/hook
    unsendable = (
        "http://example.com:99999/",
        "http://127.0.0.1:abc/hook",
        f"{base}/café",
        f"{base}/a b",
        base.replace("//", "//user:pw@"),
    )
    for url in unsendable:
        answer = _subscribe(desk, url, allow_private=True)
        assert answer.status_code == 422 and answer.json()["field"] == "url", (url, answer.text)
    for loopback in ("http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::ffff:127.0.0.1]/"):
        answer = _subscribe(desk, loopback)  # NAT64, 6to4 and IPv4-mapped forms of 127.0.0.1
        assert answer.status_code == 422 and "private, loopback" in answer.json()["detail"], loopback
    assert WebhookSubscription.select().count() == 0


def test_an_unsendable_url_fails_its_own_deliveries_and_never_the_others(desk, receiver, people):
    receiver.fail = 0
    base = receiver.url
    stored = [f"{base}/café", f"{base}/a b", base.replace("//", "//user:pw@")]  # by an older release
    bad = [
        WebhookSubscription.create(
            url=url,
            events="ticket.created",
            secret="s",
            allow_private=True,
            created_by=people["admin"],
            created_at=clock.now(),
            updated_at=clock.now(),
        ).id
        for url in stored
    ]
    good = _subscribe(desk, base, allow_private=True).json()["id"]
    desk.new_ticket("requester")
    assert webhooks.run_due(_later(10)) == {
        "webhooks queued": 4,
        "webhooks delivered": 1,
        "webhooks failed": 3,
    }
    assert receiver.events() == ["ticket.created"]
    for sub_id in bad:
        [delivery] = desk.get("admin", f"/api/v1/webhooks/{sub_id}/deliveries").json()
        assert delivery["attempts"] == 1 and delivery["last_error"] and delivery["delivered_at"] is None
    WebhookSubscription.update(failing_since=clock.now() - timedelta(days=2)).where(
        WebhookSubscription.id.in_(bad)
    ).execute()
    assert webhooks.run_due(_later(60))["webhooks failed"] == 3
    active = {s["id"]: s["active"] for s in desk.get("admin", "/api/v1/webhooks").json()}
    assert active == {**{sub_id: False for sub_id in bad}, good: True}
    paused = [e.summary for e in AuditEntry.select().where(AuditEntry.action == "pause")]
    assert len(paused) == 3 and not any("pw@" in summary for summary in paused)


@pytest.fixture
def resolver(monkeypatch):
    """Answers for host names of our own (``names[host]``: the addresses to give, one per
    lookup, the last one ever after); any other name resolves as usual."""
    real, names = socket.getaddrinfo, {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        answers = names[host]
        return real(answers.pop(0) if len(answers) > 1 else answers[0], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def test_a_delivery_goes_to_the_address_that_was_checked(desk, receiver, resolver, monkeypatch):
    """DNS rebinding: the name is public when checked, then loopback; the loopback server must
    never get the request."""
    receiver.fail = 0
    monkeypatch.setattr(webhooks, "TIMEOUT", 1)
    resolver["hooks.example.test"] = ["1.1.1.1", "1.1.1.1", "127.0.0.1"]
    url = receiver.url.replace("127.0.0.1", "hooks.example.test")
    assert _subscribe(desk, url).status_code == 201
    desk.new_ticket("requester")
    assert webhooks.run_due(_later(10))["webhooks failed"] == 1
    assert receiver.received == []


def test_a_delivery_names_its_host_and_checks_its_certificate(
    desk, receiver, resolver, tmp_path, monkeypatch
):
    receiver.fail = 0
    resolver["hooks.example.test"] = ["127.0.0.1"]
    ca = make_ca(tmp_path)
    tls = Receiver(tls=make_server_cert(tmp_path, ca))  # a certificate for 127.0.0.1 only
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    try:
        named = receiver.url.replace("127.0.0.1", "hooks.example.test")
        urls = (named, tls.url, tls.url.replace("127.0.0.1", "hooks.example.test"))
        ids = [_subscribe(desk, url, allow_private=True).json()["id"] for url in urls]
        desk.new_ticket("requester")
        assert webhooks.run_due(_later(10))["webhooks delivered"] == 2
        [(headers, _)] = receiver.received
        assert headers["Host"] == f"hooks.example.test:{receiver.port}"
        assert tls.events() == ["ticket.created"]  # the certificate is not for hooks.example.test
        [refused] = desk.get("admin", f"/api/v1/webhooks/{ids[2]}/deliveries").json()
        assert "CERTIFICATE_VERIFY_FAILED" in refused["last_error"]
    finally:
        tls.close()


def test_the_log_names_a_webhook_by_its_origin_only(desk, receiver):
    url = f"{receiver.url}/T0001/B0002/s3cr3tT0ken"  # as chat tools' URLs hold their credentials
    sub_id = _subscribe(desk, url, allow_private=True).json()["id"]
    desk.client.patch(
        f"/api/v1/webhooks/{sub_id}", json={"events": ["sla.breached"]}, headers=desk.headers("admin")
    )
    desk.client.delete(f"/api/v1/webhooks/{sub_id}", headers=desk.headers("admin"))
    log = desk.get("supervisor", "/api/v1/activity", params={"q": "type:webhook"})
    summaries = [row["summary"] for row in log.json()["items"]]
    assert len(summaries) == 3 and all(f"http://127.0.0.1:{receiver.port}" in s for s in summaries)
    export = desk.get("supervisor", "/api/v1/exports/log", params={"format": "csv"})
    assert "s3cr3t" not in log.text and "s3cr3t" not in export.text
