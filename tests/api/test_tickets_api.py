"""The tickets over HTTP, through the real ASGI app, on both engines: auth, the role matrix,
errors as problem+json, paging, optimistic locking, comments and attachments."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_helpers import Desk, TestClient, desk

from itsm_tui.core import config
from itsm_tui.core.store.models import AuditEntry, Ticket

PROBLEM = "application/problem+json"


def _problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status and body["detail"] and "Traceback" not in answer.text
    return body


def test_health_and_ready_need_no_token(desk):
    assert desk.client.get("/healthz").json() == {"status": "ok"}
    assert desk.client.get("/readyz").json() == {"status": "ready"}


def test_a_bad_token_gets_one_generic_401_and_too_many_get_429(people):
    desk = Desk(people, auth_failures=3)
    real = desk.token("agent")
    wrong = [None, "Basic abc", "Bearer nonsense", f"Bearer {real[:-1]}x"]
    details = set()
    for header in wrong[:3]:
        answer = desk.client.get("/api/v1/me", headers={"Authorization": header} if header else {})
        details.add(_problem(answer, 401)["detail"])
        assert answer.headers["www-authenticate"] == "Bearer"
    assert len(details) == 1
    blocked = desk.client.get("/api/v1/me", headers=desk.headers("agent"))
    _problem(blocked, 429)
    assert 1 <= int(blocked.headers["retry-after"]) <= 60


def test_authentication_comes_before_the_body_is_read(people):
    desk = Desk(people, auth_failures=2)
    broken = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
    _problem(desk.client.post("/api/v1/tickets", **broken), 401)
    read_only = {**broken["headers"], **desk.headers("agent", read_only=True)}
    _problem(desk.client.post("/api/v1/tickets", content=b"{", headers=read_only), 403)
    _problem(desk.client.post("/api/v1/tickets", content=b"{", headers=desk.headers("agent")), 422)
    _problem(desk.client.post("/api/v1/tickets", **broken), 401)
    _problem(desk.client.post("/api/v1/tickets", **broken), 429)


def test_revoked_expired_and_disabled_tokens_are_refused(people):
    desk = Desk(people, token_cache_seconds=0)
    from datetime import timedelta

    from itsm_tui.core import clock
    from itsm_tui.core.people import tokens, users

    headers = desk.headers("agent")
    assert desk.client.get("/api/v1/me", headers=headers).json()["username"] == "agent"
    row, token = tokens.create(people["agent"], "short", timedelta(days=1))
    with clock.frozen(clock.now() + timedelta(days=2)):
        _problem(desk.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)
    tokens.revoke(people["admin"], row.prefix)  # admins revoke anyone's
    users.update_user(people["admin"], people["agent"].id, people["agent"].version, is_active=False)
    _problem(desk.client.get("/api/v1/me", headers=headers), 401)


def test_me_names_the_user_and_token(desk):
    body = desk.get("supervisor", "/api/v1/me").json()
    assert body["role"] == "supervisor" and body["token"]["name"] == "test-rw"


def test_create_is_audited_as_api_with_the_token_name(desk):
    made = desk.new_ticket("requester", impact="high", urgency=1)
    assert made["number"].startswith("INC") and made["priority"] == 1 and made["requester"] == "requester"
    assert made["contact_type"] == "api"
    entry = AuditEntry.get((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == made["id"]))
    assert (entry.channel, entry.token_name) == ("api", "test-rw")


def test_list_filters_sorts_and_pages_with_a_cursor(desk):
    for n in range(5):
        desk.new_ticket("requester", title=f"Laptop {n}", impact="high" if n % 2 else "low")
    desk.new_ticket("requester2", title="Not yours")
    seen, cursor = [], None
    while True:
        params = {"q": "laptop", "sort": "number", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = desk.get("requester", "/api/v1/tickets", params=params).json()
        seen += [row["title"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Laptop {n}" for n in range(5)]
    high = desk.get("agent", "/api/v1/tickets", params={"q": "prio:medium laptop"}).json()["items"]
    assert {row["title"] for row in high} == {"Laptop 1", "Laptop 3"}
    assert [r["title"] for r in desk.get("requester2", "/api/v1/tickets").json()["items"]] == ["Not yours"]
    _problem(desk.get("agent", "/api/v1/tickets", params={"q": "prio:"}), 400)
    for path in ("/api/v1/tickets", "/api/v1/activity", "/api/v1/systems"):  # a NUL ended FTS5's string
        _problem(desk.get("agent", path, params={"q": "laptop\x00"}), 400)
    _problem(desk.get("agent", "/api/v1/tickets", params={"cursor": "garbage"}), 400)
    for crafted in (["v", 2**70, 1], ["t", "2026-01-01T00:00:00", 2**70]):  # no column holds it
        cursor = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode()
        for path in ("/api/v1/tickets", "/api/v1/activity"):
            assert _problem(desk.get("admin", path, params={"cursor": cursor}), 400)["field"] == "cursor"
    _problem(desk.get("agent", "/api/v1/tickets", params={"sort": "colour"}), 400)


def test_get_by_number_or_source_number_and_requesters_see_only_their_own(desk):
    made = desk.new_ticket("requester")
    Ticket.update(source_number="INC0000045").where(Ticket.id == made["id"]).execute()
    imported = desk.get("agent", "/api/v1/tickets/INC0000045").json()
    assert (imported["id"], imported["requester"], imported["assignee"]) == (made["id"], "requester", None)
    assert imported["category"] == made["category"] and imported["tags"] == []
    got = desk.get("requester", f"/api/v1/tickets/{made['number']}")
    assert got.json()["title"] == "Printer jams" and got.headers["etag"] == '"1"'
    for path in ("", "/comments", "/attachments"):
        _problem(desk.get("requester2", f"/api/v1/tickets/{made['number']}{path}"), 404)
    _problem(desk.post("requester2", f"/api/v1/tickets/{made['number']}/comments", {"body": "mine?"}), 404)
    _problem(desk.get("agent", "/api/v1/tickets/INC999999"), 404)


def test_update_needs_the_version_and_a_stale_one_says_who_changed_what(desk):
    number = desk.new_ticket()["number"]
    path = f"/api/v1/tickets/{number}"
    _problem(desk.client.patch(path, json={"title": "x"}, headers=desk.headers("agent")), 428)
    first = desk.client.patch(
        path, json={"title": "Printer on fire"}, headers=desk.headers("agent", **{"If-Match": '"1"'})
    )
    assert first.json()["title"] == "Printer on fire" and first.headers["etag"] == '"2"'
    stale = desk.client.patch(
        path, json={"urgency": "high"}, headers=desk.headers("agent2", **{"If-Match": '"1"'})
    )
    body = _problem(stale, 409)
    assert "agent changed title" in body["detail"] and body["changes"][0]["actor"] == "agent"
    bad = desk.client.patch(path, json={"impact": 7}, headers=desk.headers("agent", **{"If-Match": '"2"'}))
    assert _problem(bad, 422)["field"] == "impact"
    _problem(
        desk.client.patch(
            path, json={"title": "mine"}, headers=desk.headers("requester", **{"If-Match": '"2"'})
        ),
        403,
    )


def test_status_and_assignment_follow_the_role_matrix(desk):
    number = desk.new_ticket()["number"]
    base = f"/api/v1/tickets/{number}"

    def post(who, what, body, version):
        return desk.client.post(
            f"{base}/{what}", json=body, headers=desk.headers(who, **{"If-Match": str(version)})
        )

    _problem(post("requester", "status", {"status": "in_progress"}, 1), 403)
    _problem(post("agent", "assign", {"assignee": "agent2"}, 1), 403)
    assert post("agent", "assign", {"assignee": "agent"}, 1).json()["assignee"] == "agent"
    assert post("supervisor", "assign", {"assignee": "agent2"}, 2).json()["assignee"] == "agent2"
    assert _problem(post("agent", "status", {"status": "resolved"}, 3), 422)["field"] == "resolution note"
    assert _problem(post("agent", "status", {"status": "sleeping"}, 3), 422)["field"] == "status"
    resolved = post("agent", "status", {"status": "resolved", "note": "Replaced the drum"}, 3).json()
    assert resolved["status"] == "resolved" and resolved["resolution_note"] == "Replaced the drum"
    assert post("requester", "status", {"status": "closed"}, 4).json()["status"] == "closed"


def test_comments_public_and_internal_by_role(desk):
    number = desk.new_ticket()["number"]
    path = f"/api/v1/tickets/{number}/comments"
    assert desk.post("requester", path, {"body": "Any news?"}).status_code == 201
    assert desk.post("agent", path, {"body": "VIP", "internal": True}).json()["internal"] is True
    _problem(desk.post("requester", path, {"body": "sneaky", "internal": True}), 403)
    assert [c["body"] for c in desk.get("requester", path).json()] == ["Any news?"]
    assert [c["body"] for c in desk.get("agent", path).json()] == ["Any news?", "VIP"]
    assert _problem(desk.post("agent", path, {"body": "   "}), 422)["field"] == "comment"
    assert _problem(desk.post("agent", path, {}), 422)["field"] == "body"


def test_attachments_up_and_down_with_the_size_limit(desk):
    number = desk.new_ticket()["number"]
    path = f"/api/v1/tickets/{number}/attachments"
    sent = desk.client.post(
        path, files={"file": ("log è.txt", b"line 1\n")}, headers=desk.headers("requester")
    )
    assert sent.status_code == 201, sent.text
    listed = desk.get("agent", path).json()
    assert [(a["filename"], a["size"]) for a in listed] == [("log è.txt", 7)]
    down = desk.get("requester", f"/api/v1/attachments/{listed[0]['id']}")
    assert down.content == b"line 1\n" and "attachment" in down.headers["content-disposition"]
    for other in (listed[0]["id"], listed[0]["id"] + 1000):  # someone else's, or none at all
        detail = _problem(desk.get("requester2", f"/api/v1/attachments/{other}"), 404)["detail"]
        assert detail == f"attachment {other} does not exist"  # never the ticket it is on
    config.override_settings(config.Settings(bcrypt_cost=4, attachment_max_bytes=1000))
    big = desk.client.post(path, files={"file": ("big.bin", b"x" * 1001)}, headers=desk.headers("requester"))
    assert _problem(big, 413)["field"] == "file"


def test_a_read_only_token_reads_but_never_writes(desk):
    number = desk.new_ticket()["number"]
    headers = desk.headers("agent", read_only=True)
    assert desk.client.get(f"/api/v1/tickets/{number}", headers=headers).status_code == 200
    for answer in (
        desk.client.post("/api/v1/tickets", json={"title": "t", "description": "d"}, headers=headers),
        desk.client.post(f"/api/v1/tickets/{number}/comments", json={"body": "hi"}, headers=headers),
        desk.client.patch(
            f"/api/v1/tickets/{number}", json={"title": "t"}, headers={**headers, "If-Match": "1"}
        ),
    ):
        assert "read-only" in _problem(answer, 403)["detail"]
    assert Ticket.select().count() == 1


def test_requesters_open_tickets_for_themselves_only(desk):
    _problem(
        desk.post(
            "requester", "/api/v1/tickets", {"title": "t", "description": "d", "requester": "requester2"}
        ),
        403,
    )
    assert desk.new_ticket("agent", requester="requester2")["requester"] == "requester2"
    assert (
        _problem(desk.post("agent", "/api/v1/tickets", {"title": "", "description": "d"}), 422)["field"]
        == "title"
    )
    assert _problem(desk.post("agent", "/api/v1/tickets", {"description": "d"}), 422)["field"] == "title"


def test_an_idempotency_key_writes_once(desk):
    body = {"title": "Once", "description": "only"}
    first = desk.post("agent", "/api/v1/tickets", body, h={"Idempotency-Key": "abcdef-123456"})
    again = desk.post("agent", "/api/v1/tickets", body, h={"Idempotency-Key": "abcdef-123456"})
    assert first.json()["id"] == again.json()["id"] and Ticket.select().count() == 1


@pytest.mark.parametrize("threads", [1, 3])
def test_a_server_process_runs_at_most_its_threads_requests_at_once(engine, people, monkeypatch, threads):
    """``serve --threads N``: the others wait their turn (the interpreter runs one thread at a
    time; more threads only share it, and each holds a database connection), and all answer."""
    from itsm_tui.core.tickets import queue

    served, running, most, lock = queue.page, 0, 0, threading.Lock()

    def page(*args, **kwargs):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)
            return served(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(queue, "page", page)
    desk = Desk(people, threads=threads)
    headers = desk.headers("agent")
    with TestClient(desk.app) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get("/api/v1/tickets", headers=headers), range(8)))
    assert [answer.status_code for answer in answers] == [200] * 8
    assert most == threads
