"""The sla and assignment commands, run as an admin would (a subprocess), on both engines."""

import os
import subprocess
import sys

import pytest

from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import service as tickets


def itsm(url, *args, as_user=None):
    cmd = (
        [sys.executable, "-m", "itsm_tui", "--db", url] + (["--as", as_user] if as_user else []) + list(args)
    )
    env = {**os.environ, "ITSM_BCRYPT_COST": "4"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def url(engine, people):
    t = tickets.create(people["requester"], "VPN", "d", impact="high", urgency="medium")
    Ticket.update(resolution_risk_at=None).where(Ticket.id == t.id).execute()  # as after an upgrade
    db.database.close()
    return engine


def test_policy_calendar_recompute_and_show(url):
    shown = itsm(url, "sla", "show")
    assert shown.returncode == 0 and "High      response      1 h   resolution      8 h" in shown.stdout
    assert "24x7" in shown.stdout
    changed = itsm(url, "sla", "policy", "high", "30", "240")
    assert changed.returncode == 0, changed.stderr
    cal = itsm(
        url,
        "sla",
        "calendar",
        "--hours",
        "08:00-16:00",
        "--timezone",
        "Europe/Berlin",
        "--holidays",
        "2026-12-25",
    )
    assert cal.returncode == 0 and "08:00-16:00 Europe/Berlin, 1 holidays" in cal.stdout
    recomputed = itsm(url, "sla", "recompute")
    assert recomputed.returncode == 0 and "of 1 ticket\n" in recomputed.stdout
    db.database.connect(reuse_if_open=True)
    t = Ticket.get()
    assert t.resolution_risk_at is not None and t.resolution_due > t.created_at
    shown = itsm(url, "sla", "show").stdout
    assert "High      response   30 min   resolution      4 h" in shown and "Europe/Berlin" in shown
    assert "alerts raised" in itsm(url, "sla", "check").stdout
    again = itsm(url, "sla", "check").stdout  # the last run left no lease behind (cron's next run)
    assert "alerts raised" in again and "another process" not in again


@pytest.mark.parametrize(
    "args,message",
    [
        (("sla", "calendar", "--hours", "9-5"), "working hours"),
        (("sla", "calendar", "--timezone", "Mars/Base"), "time zone"),
        (("sla", "policy", "urgent", "1", "2"), "priority"),
        (("sla", "policy", "low", "0", "60"), "from 1 to 5,256,000"),
        (("sla", "policy", "high", "30", "999999999999999999999"), "from 1 to 5,256,000 (ten years)"),
        (("assignment", "category", "Nowhere", "--mode", "round_robin"), "unknown category"),
    ],
)
def test_bad_settings_are_one_clear_line(url, args, message):
    out = itsm(url, *args)
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr


def test_only_admins_change_settings(url):
    for args in (("sla", "policy", "high", "30", "240"), ("sla", "recompute"), ("assignment", "on")):
        out = itsm(url, *args, as_user="supervisor")
        assert out.returncode == 1 and "may not" in out.stderr


def test_assignment_commands(url):
    assert (
        itsm(
            url, "assignment", "category", "Network", "--mode", "round_robin", "--agents", "agent,agent2"
        ).returncode
        == 0
    )
    assert itsm(url, "assignment", "on").returncode == 0
    away = itsm(url, "assignment", "away", "agent2", "on", as_user="agent2")
    assert away.returncode == 0 and "agent2 is away" in away.stdout
    shown = itsm(url, "assignment", "show").stdout
    assert "is on for the desk" in shown and "Network: round_robin among agent, agent2 (away)" in shown
    made = itsm(
        url,
        "tickets",
        "create",
        "--title",
        "t",
        "--description",
        "d",
        "--category",
        "Network",
        as_user="requester",
    )
    assert made.returncode == 0
    db.database.connect(reuse_if_open=True)
    assert Ticket.get(Ticket.title == "t").assignee.username == "agent"


def test_a_requester_is_not_shown_assignment(url):
    out = itsm(url, "assignment", "show", as_user="requester")
    assert out.returncode == 1 and "agent" not in out.stdout and "(away)" not in out.stdout
    assert "a requester may not see automatic assignment" in out.stderr and "user.view" not in out.stderr
