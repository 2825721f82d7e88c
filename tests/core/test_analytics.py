"""Every analytics figure against an independent computation in Python over the same rows, on
both engines; drill-down filters that list exactly the counted tickets; role rules; the CLI."""

import json
import random
import statistics
from collections import Counter
from datetime import datetime, timedelta

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES, STATUSES, Ticket, User
from itsm_tui.core.tickets import analytics, queue, sla
from itsm_tui.core.tickets import service as tickets

NOW = datetime(2026, 3, 20, 12, 0)


def build_desk(people, now=NOW, count=70):
    """Tickets over the last 40 days walked through the services at their own moments."""
    rng = random.Random(7)
    agents = [people["agent"], people["agent2"], people["supervisor"]]
    for i in range(count):
        created = now - timedelta(minutes=rng.randint(5, 40 * 24 * 60))
        with clock.frozen(created):
            t = tickets.create(
                people["requester"],
                f"Ticket {i}",
                "d",
                category=rng.choice(["Network", "Hardware", "Access"]),
                impact=rng.randint(1, 3),
                urgency=rng.randint(1, 3),
            )
        steps = rng.choice(
            [
                [],
                ["assign"],
                ["assign", "comment"],
                ["assign", "in_progress"],
                ["assign", "waiting_on_user"],
                ["assign", "in_progress", "resolved"],
                ["assign", "resolved", "closed"],
                ["resolved", "in_progress"],
                ["assign", "waiting_on_vendor", "in_progress", "resolved"],
            ]
        )
        moment, agent = created, rng.choice(agents)
        for step in steps:
            moment = min(now, moment + timedelta(minutes=rng.randint(1, 3 * 24 * 60)))
            with clock.frozen(moment):
                if step == "assign":
                    t = tickets.assign(people["supervisor"], t.id, t.version, agent)
                elif step == "comment":
                    tickets.comment(agent, t.id, "looking")
                else:
                    t = tickets.change_status(
                        agent, t.id, t.version, step, "done" if step == "resolved" else None
                    )


def in_scope(rows, agent=None):
    return [t for t in rows if agent is None or t.assignee_id == agent.id]


def expected_state(t, now):
    """The rule written out again: a pending target is breached past its due time, at risk past
    its risk time (NULL risk: the due time); the resolution clock stands while paused."""
    pending = {"response": t.first_response_at is None, "resolution": True}
    moment = {"response": now, "resolution": t.sla_paused_at or now}
    due = {"response": t.response_due, "resolution": t.resolution_due}
    risk = {
        "response": t.response_risk_at or t.response_due,
        "resolution": t.resolution_risk_at or t.resolution_due,
    }
    per = {}
    for target in ("response", "resolution"):
        if pending[target] and moment[target] > due[target]:
            per[target] = "breached"
        elif pending[target] and moment[target] > risk[target]:
            per[target] = "at_risk"
        else:
            per[target] = "on_track"
    worst = max(per.values(), key=["on_track", "at_risk", "breached"].index)
    return worst, per


def independent(rows, now, start, end, agent=None, day_starts=None):
    rows = in_scope(rows, agent)
    open_rows = [t for t in rows if t.status in OPEN_STATUSES]
    names = {
        c.id: c.name
        for c in __import__("itsm_tui.core.store.models", fromlist=["Category"]).Category.select()
    }
    age = Counter()
    for t in open_rows:
        years = now - t.created_at
        age[
            "<1d"
            if years < timedelta(days=1)
            else "1-3d"
            if years < timedelta(days=3)
            else "3-7d"
            if years < timedelta(days=7)
            else ">7d"
        ] += 1
    states, per_target = Counter(), {"response": Counter(), "resolution": Counter()}
    for t in open_rows:
        worst, per = expected_state(t, now)
        states[worst] += 1
        for target, state in per.items():
            per_target[target][state] += 1
    period = [t for t in rows if t.resolved_at and start <= t.resolved_at < end]

    def share(field):
        met = sum(1 for t in period if getattr(t, field) is True)
        missed = sum(1 for t in period if getattr(t, field) is False)
        return {
            "met": met,
            "breached": missed,
            "percent": round(100 * met / (met + missed), 1) if met + missed else None,
        }

    workload = {}
    for user_id in {t.assignee_id for t in rows if t.assignee_id}:
        mine = [t for t in rows if t.assignee_id == user_id]
        done = [(t.resolved_at - t.created_at).total_seconds() for t in period if t.assignee_id == user_id]
        workload[User.get_by_id(user_id).username] = {
            "open": sum(t.status in OPEN_STATUSES for t in mine),
            "in_progress": sum(t.status == "in_progress" for t in mine),
            "resolved": len(done),
            "median": statistics.median(done) / 3600 if done else None,
        }
    daily = []
    for k in range(30):
        a, b = day_starts[k], day_starts[k + 1]
        daily.append(
            {
                "opened": sum(a <= t.created_at < b for t in rows),
                "resolved": sum(t.resolved_at is not None and a <= t.resolved_at < b for t in rows),
                "backlog": sum(  # finished = resolved, else closed (as the trend counts)
                    t.created_at < b
                    and ((t.resolved_at or t.closed_at) is None or (t.resolved_at or t.closed_at) >= b)
                    for t in rows
                ),
            }
        )
    return {
        "status": {s: sum(t.status == s for t in rows) for s in STATUSES},
        "priority": {PRIORITY_NAMES[p]: sum(t.priority == p for t in open_rows) for p in PRIORITY_NAMES},
        "category": dict(Counter(names[t.category_id] for t in open_rows)),
        "period_counts": {"opened": sum(start <= t.created_at < end for t in rows), "resolved": len(period)},
        "age": {b: age[b] for b in analytics.AGE_BUCKETS},
        "sla": {s: states[s] for s in sla.STATES},
        "per_target": {target: {s: c[s] for s in sla.STATES} for target, c in per_target.items()},
        "compliance": {"response": share("response_met"), "resolution": share("resolution_met")},
        "workload": workload,
        "daily": daily,
    }


def check(figures, rows, now, agent=None):
    start, end = (datetime.fromisoformat(figures["period"][k]) for k in ("from", "to"))
    cal = sla.calendar()
    firsts = [sla.to_utc(cal, datetime.fromisoformat(d["day"])) for d in figures["daily"]]
    firsts.append(
        firsts[-1] + timedelta(days=1)
        if cal.timezone == "UTC"
        else sla.to_utc(cal, datetime.fromisoformat(figures["daily"][-1]["day"]) + timedelta(days=1))
    )
    want = independent(rows, now, start, end, agent, firsts)
    assert figures["totals"]["status"] == want["status"]
    assert figures["totals"]["priority"] == want["priority"]
    assert figures["totals"]["category"] == want["category"]
    assert figures["period_counts"] == want["period_counts"]
    assert figures["open_age"] == want["age"]
    assert {s: figures["sla"][s] for s in sla.STATES} == want["sla"]
    assert {t: figures["sla"][t] for t in sla.TARGETS} == want["per_target"]
    assert figures["compliance"] == want["compliance"]
    got = {r["agent"]: r for r in figures["workload"]}
    for username, w in want["workload"].items():
        row = got[username]
        assert (row["open"], row["in_progress"], row["resolved"]) == (
            w["open"],
            w["in_progress"],
            w["resolved"],
        )
        if w["median"] is None:
            assert row["median_hours"] is None
        else:
            assert row["median_hours"] == pytest.approx(w["median"], abs=0.006)
    assert [{k: d[k] for k in ("opened", "resolved", "backlog")} for d in figures["daily"]] == want["daily"]
    return want


@pytest.mark.parametrize("period", ["today", "7d", "30d", "quarter", "2026-02-01..2026-03-15"])
def test_desk_figures_equal_an_independent_computation(people, period):
    build_desk(people)
    rows = list(Ticket.select())
    f = analytics.figures(people["supervisor"], period, now=NOW)
    assert f["scope"] == {"kind": "desk"}
    want = check(f, rows, NOW)
    # The data set exercises every figure (a test that cannot fail proves nothing).
    assert all(want["sla"].values()) and sum(want["age"].values()) > 5
    if period in ("30d", "quarter"):
        assert want["compliance"]["resolution"]["met"] and want["period_counts"]["resolved"]
        assert any(w["median"] for w in want["workload"].values())


def test_period_bounds(people):
    cal = sla.Calendar()
    assert analytics.period_range("today", NOW, cal)[1:] == (datetime(2026, 3, 20), NOW)
    assert analytics.period_range("7d", NOW, cal)[1] == NOW - timedelta(days=7)
    assert analytics.period_range("quarter", NOW, cal)[1] == datetime(2026, 1, 1)
    assert analytics.period_range("2026-02-01..2026-02-28", NOW, cal)[1:] == (
        datetime(2026, 2, 1),
        datetime(2026, 3, 1),
    )
    berlin = sla.Calendar.from_json({"mode": "24x7", "timezone": "Europe/Berlin"})
    assert analytics.period_range("today", NOW, berlin)[1] == datetime(2026, 3, 19, 23, 0)  # midnight CET
    for bad in ("yesterday", "2026-03-10..2026-03-01", "2026-02-30..2026-03-01"):
        with pytest.raises(ValidationError, match="period"):
            analytics.period_range(bad, NOW, cal)


def test_days_follow_the_calendar_time_zone(people):
    sla.set_calendar(people["admin"], {"mode": "24x7", "timezone": "America/New_York"})
    build_desk(people, count=40)
    f = analytics.figures(people["admin"], "7d", now=NOW)
    assert f["daily"][-1]["day"] == "2026-03-20"
    check(f, list(Ticket.select()), NOW)


def test_agents_see_only_their_own_figures_and_requesters_none(people):
    build_desk(people)
    agent = people["agent"]
    f = analytics.figures(agent, "30d", now=NOW)
    assert f["scope"] == {"kind": "agent", "user": "agent"}
    assert [r["agent"] for r in f["workload"]] == ["agent"]
    want = check(f, list(Ticket.select()), NOW, agent=agent)
    assert sum(want["status"].values()) < Ticket.select().count()
    with pytest.raises(PermissionDenied):
        analytics.figures(people["requester"])


@pytest.mark.parametrize("who", ["supervisor", "agent"])
def test_drill_down_filters_list_exactly_the_counted_tickets(people, who):
    build_desk(people)
    actor = people[who]
    f = analytics.figures(actor, "30d", now=NOW)
    with clock.frozen(NOW):
        for state, text in f["filters"]["sla"].items():
            assert queue.count(actor, text) == f["sla"][state], text
        for bucket, text in f["filters"]["age"].items():
            assert queue.count(actor, text) == f["open_age"][bucket], text
    assert f["sla"]["breached"] and f["sla"]["at_risk"]


def test_figures_move_when_time_passes_and_when_an_operator_acts(people):
    with clock.frozen(NOW):
        t = tickets.create(people["requester"], "Printer", "d", impact="high", urgency="medium")  # High
    sup = people["supervisor"]
    assert analytics.figures(sup, now=NOW)["sla"]["on_track"] == 1
    later = NOW + timedelta(minutes=50)  # past 45 of the 60 response minutes
    assert analytics.figures(sup, now=later)["sla"]["at_risk"] == 1
    assert analytics.figures(sup, now=NOW + timedelta(minutes=61))["sla"]["breached"] == 1
    with clock.frozen(later):
        tickets.comment(people["agent"], t.id, "on it")  # the first response
    f = analytics.figures(sup, now=later)
    assert (f["sla"]["on_track"], f["sla"]["response"]["on_track"]) == (1, 1)
    assert analytics.figures(sup, now=NOW + timedelta(days=2))["open_age"]["1-3d"] == 1


def test_report_analytics_cli_prints_the_same_figures(engine, people):
    import os
    import subprocess
    import sys

    from itsm_tui.core.store import db

    build_desk(people, now=clock.now(), count=30)
    db.database.close()
    env = {**os.environ, "ITSM_BCRYPT_COST": "4"}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "itsm_tui", "--db", engine, *a],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    out = run("--as", "supervisor", "report", "analytics", "--period", "7d", "--format", "json")
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    db.database.connect(reuse_if_open=True)
    assert printed == analytics.figures(
        people["supervisor"], "7d", now=datetime.fromisoformat(printed["generated_at"])
    )
    table = run("--as", "agent", "report", "analytics", "--period", "today")
    assert (
        table.returncode == 0
        and "Analytics for agent agent" in table.stdout
        and "Open by age" in table.stdout
    )
    denied = run("--as", "requester", "report", "analytics")
    assert denied.returncode == 1 and "may not" in denied.stderr and "Traceback" not in denied.stderr
    bad = run("report", "analytics", "--period", "fortnight")
    assert bad.returncode == 1 and "unknown period" in bad.stderr


def expected_history(rows, start, end) -> dict:
    """The history part written out again over the ticket rows, in Python."""

    def inside(moment):
        return moment is not None and start <= moment < end

    def by(tickets_, key):
        return Counter(key(t) for t in tickets_)

    opened = [t for t in rows if inside(t.created_at)]
    resolved = [t for t in rows if inside(t.resolved_at)]
    closed = [t for t in rows if inside(t.closed_at)]
    hours = sorted((t.resolved_at - t.created_at).total_seconds() / 3600 for t in resolved)
    finished = [
        t
        for t in rows
        if t.status in ("resolved", "closed") and inside(t.resolved_at or t.closed_at or t.updated_at)
    ]
    return {
        "totals": (len(opened), len(resolved), len(closed)),
        "opened_priority": {PRIORITY_NAMES[p]: n for p, n in by(opened, lambda t: t.priority).items()},
        "closed_status": dict(by(closed, lambda t: t.status)),
        "resolved_assignee": dict(
            by(resolved, lambda t: t.assignee.username if t.assignee else "(unassigned)")
        ),
        "count": len(hours),
        "median": statistics.median(hours) if hours else None,
        "p90": hours[-(-9 * len(hours) // 10) - 1] if hours else None,  # nearest rank
        "mean": statistics.mean(hours) if hours else None,
        "reopened": sum(1 for t in opened if t.reopen_count),
        "outcome": dict(
            Counter({True: "met", False: "breached", None: "unknown"}[t.resolution_met] for t in finished)
        ),
    }


@pytest.mark.parametrize("period", ["30d", "all", "2026-02-01..2026-03-15"])
def test_history_figures_equal_an_independent_computation(people, period):
    build_desk(people)
    rows = list(Ticket.select())
    f = analytics.figures(people["supervisor"], period, now=NOW)
    start, end = (datetime.fromisoformat(f["period"][k]) for k in ("from", "to"))
    want = expected_history(rows, start, end)
    h = f["history"]
    assert (h["opened"]["total"], h["resolved"]["total"], h["closed"]["total"]) == want["totals"]
    assert {k: v for k, v in h["opened"]["priority"].items() if v} == want["opened_priority"]
    assert {k: v for k, v in h["closed"]["status"].items() if v} == want["closed_status"]
    assert h["resolved"]["assignee"] == want["resolved_assignee"]
    t = h["time_to_resolve"]
    assert t["count"] == want["count"] > 0
    for key in ("median", "p90", "mean"):
        assert t[f"{key}_hours"] == pytest.approx(want[key], abs=0.006), key
    assert h["reopened"] == want["reopened"]
    assert {k: v for k, v in h["sla_outcome"].items() if v} == want["outcome"]
    trend = f["trend"]
    assert sum(r["opened"] for r in trend["rows"]) == want["totals"][0]
    assert sum(r["resolved"] for r in trend["rows"]) == want["totals"][1]

    def finished_before(t, moment):
        done = t.resolved_at or t.closed_at
        return done is not None and done < moment

    unfinished = sum(1 for t in rows if t.created_at < end and not finished_before(t, end))
    assert trend["rows"][-1]["backlog"] == unfinished
    if period == "all":
        assert start == datetime.combine(min(t.created_at for t in rows).date(), datetime.min.time())
        assert trend["bucket"] == "day" and h["opened"]["total"] == len(rows)


def test_trend_buckets_follow_the_period_length():
    cal = sla.Calendar()
    start = datetime(2026, 1, 7)  # a Wednesday
    bucket, bounds = analytics.trend_bounds(start, start + timedelta(days=10), cal)
    assert bucket == "day" and len(bounds) == 11
    bucket, bounds = analytics.trend_bounds(start, start + timedelta(days=100), cal)
    assert (
        bucket == "week" and bounds[1] == datetime(2026, 1, 12) and bounds[-1] == start + timedelta(days=100)
    )
    bucket, bounds = analytics.trend_bounds(start, datetime(2027, 3, 1), cal)
    assert bucket == "month" and bounds[1:3] == [datetime(2026, 2, 1), datetime(2026, 3, 1)]
    assert bounds[-2:] == [datetime(2027, 2, 1), datetime(2027, 3, 1)]


def test_a_filter_narrows_every_figure(people):
    build_desk(people)
    f = analytics.figures(people["supervisor"], "all", now=NOW, filter_text="cat:network")
    network = [t for t in Ticket.select() if t.category.name == "Network"]
    assert f["filter"] == "cat:network"
    assert f["history"]["opened"]["total"] == len(network) < Ticket.select().count()
    assert f["history"]["opened"]["category"] == {"Network": len(network)}
    assert sum(f["totals"]["status"].values()) == len(network)
    assert f["filters"]["outcome"]["breached"] == "sla_outcome:breached cat:network"


def test_period_figures_read_the_ticket_table_through_indexes(people, monkeypatch):
    """At a million tickets a full scan of the ticket table took seconds per figure (the history
    and trend conditions were a COALESCE, closed_at had no index): every query a 30-day pass
    runs on it is served by an index, on both engines."""
    from itsm_tui.core.store.db import database, is_mysql

    build_desk(people)
    for t in Ticket.select().where(Ticket.status == "closed").limit(3):  # closed, no resolve time
        Ticket.update(resolved_at=None).where(Ticket.id == t.id).execute()
    real = type(database.obj).execute_sql
    seen = []

    def recording(sql, params=None, *args, **kwargs):
        seen.append((sql, params))
        return real(database.obj, sql, params, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", recording)
    analytics.figures(people["supervisor"], "30d", now=NOW)
    monkeypatch.undo()
    on_tickets = [(sql, params) for sql, params in seen if " FROM `ticket`" in sql or ' FROM "ticket"' in sql]
    assert len(on_tickets) > 20
    for sql, params in on_tickets:
        if is_mysql():
            plan = [
                row for row in database.execute_sql("EXPLAIN " + sql, params).fetchall() if row[2] == "t1"
            ]
            assert all(row[3] != "ALL" for row in plan), (sql, plan)
        else:
            plan = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            assert not any(step.startswith("SCAN t1") for step in plan), (sql, plan)


def test_the_daily_backlog_takes_a_ticket_closed_without_a_resolve_time_as_finished(people):
    """Imported history has them (closed, never resolved): the last 30 days' backlog kept them
    open for ever, and disagreed with the trend and with the open tickets."""
    build_desk(people)
    closed = [t.id for t in Ticket.select().where(Ticket.status == "closed").limit(3)]
    assert len(closed) == 3
    Ticket.update(resolved_at=None).where(Ticket.id.in_(closed)).execute()
    check(analytics.figures(people["supervisor"], "30d", now=NOW), list(Ticket.select()), NOW)
