"""``itsm-tui serve``: the real server (uvicorn, a subprocess) on a loopback port, driven with an
HTTP client, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest
from servers import free_port

from itsm_tui.core.people import tokens


@contextmanager
def served(url: str, jobs_every: float = 0.3, env: dict | None = None, workers: int = 1):
    """The server on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "itsm_tui",
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            "--jobs-every",
            str(jobs_every),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ITSM_BCRYPT_COST": "4", **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"itsm-tui serve did not start: {output[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_with_two_workers_answers_health_readiness_and_tickets(engine, people):
    from datetime import timedelta

    from itsm_tui.core import clock
    from itsm_tui.core.store.models import AuditEntry, Ticket
    from itsm_tui.core.tickets import service

    late = service.create(people["requester"], "Late", "since this morning")
    hour_ago = clock.now() - timedelta(hours=1)  # its response target breached: the jobs alert
    Ticket.update(response_due=hour_ago).where(Ticket.id == late.id).execute()
    token = tokens.create(people["agent"], "script")[1]
    with (
        served(engine) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        assert http.get("/readyz").json() == {"status": "ready"}
        made = http.post("/api/v1/tickets", json={"title": "VPN down", "description": "since 9:00"})
        assert made.status_code == 201, made.text
        listed = http.get("/api/v1/tickets", params={"q": "vpn"}).json()["items"]
        assert [row["number"] for row in listed] == [made.json()["number"]]
        assert http.get("/openapi.json").json()["info"]["title"] == "itsm-tui"
        assert httpx.get(f"{base}/api/v1/me").status_code == 401
        alerted = AuditEntry.select().where(AuditEntry.action == "sla_alert", AuditEntry.entity_id == late.id)
        _until(alerted.exists)
        assert {entry.channel for entry in alerted} == {"worker"}  # the jobs' entries, not the API's


def _until(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stopped_server_gives_up_its_job_leases(engine, people, workers):
    """The next process of the desk (a terminal, the server restarted, ``sla check``) runs the
    jobs at once, not two minutes later when the stopped server's leases run out."""
    from itsm_tui.core.settings import get_setting
    from itsm_tui.core.store import db

    with served(engine, workers=workers):
        _until(lambda: get_setting("job lease:SLA alerts") is not None)
        db.database.close()  # the server's writes, seen through a new connection
    db.database.close()
    assert get_setting("job lease:SLA alerts") is None
    checked = subprocess.run(
        [sys.executable, "-m", "itsm_tui", "--db", engine, "sla", "check"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "another process" not in checked.stdout


def test_alertmanager_in_and_signed_webhooks_out_with_a_retry(engine, people):
    from alert_payloads import alertmanager
    from receiver import Receiver

    from itsm_tui.core.notify import webhooks

    receiver = Receiver(fail=1)
    sub = webhooks.subscribe(people["admin"], receiver.url, ["ticket.created", "ticket.status_changed"], True)
    token = tokens.create(people["agent"], "prometheus")[1]
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        with served(engine, env={"ITSM_WEBHOOK_BACKOFF_SECONDS": "0.5"}) as base:
            with httpx.Client(base_url=base, headers=bearer) as http:
                answers = [
                    http.post("/api/v1/alerts/alertmanager", json=alertmanager(status)).json()[0]
                    for status in ("firing", "firing", "resolved")
                ]
                assert [a["outcome"] for a in answers] == ["opened", "repeated", "resolved"]
                number = answers[0]["ticket"]
                ticket = http.get(f"/api/v1/tickets/{number}").json()
                assert ticket["status"] == "resolved" and ticket["contact_type"] == "alert"
                assert len(http.get(f"/api/v1/tickets/{number}/comments").json()) == 1
                assert (
                    http.get("/api/v1/tickets", params={"q": "disk"}).json()["items"][0]["number"] == number
                )
                _until(lambda: len(receiver.received) == 2)
        assert receiver.refused == 1 and sorted(receiver.events()) == [
            "ticket.created",
            "ticket.status_changed",
        ]
        for headers, body in receiver.received:
            assert headers["X-Itsm-Signature"] == webhooks.sign(sub.secret, headers["X-Itsm-Timestamp"], body)
    finally:
        receiver.close()
