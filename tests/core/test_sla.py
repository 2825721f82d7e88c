"""The SLA engine: working-time maths checked against hand-worked cases, and the lifecycle
(pauses, priority changes, first response, frozen outcomes) through the ticket service."""

from datetime import date, datetime

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.store.models import SlaPolicy, Ticket
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets import sla

OFFICE = sla.Calendar.from_json(
    {
        "mode": "business",
        "timezone": "UTC",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "hours": "09:00-17:00",
    }
)
BERLIN = sla.Calendar.from_json({"mode": "business", "timezone": "Europe/Berlin", "hours": "09:00-17:00"})
H = 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- pure maths


def test_24x7_adds_plain_time():
    t = sla.targets(at("2026-03-02 10:00"), 2, cal=sla.Calendar(), pols=sla.DEFAULT_POLICIES)
    assert t == {
        "response_due": at("2026-03-02 11:00"),
        "response_risk_at": at("2026-03-02 10:45"),
        "resolution_due": at("2026-03-02 18:00"),
        "resolution_risk_at": at("2026-03-02 16:00"),
    }


def test_friday_afternoon_runs_over_the_weekend():
    # High: 1 h / 8 h. Friday 16:00: one hour left that day, the rest on Monday.
    t = sla.targets(at("2026-03-06 16:00"), 2, cal=OFFICE, pols=sla.DEFAULT_POLICIES)
    assert t["response_due"] == at("2026-03-06 17:00")  # ends with the working day, not Monday 09:00
    assert t["response_risk_at"] == at("2026-03-06 16:45")
    assert t["resolution_due"] == at("2026-03-09 16:00")  # 1 h Friday + 7 h Monday
    assert t["resolution_risk_at"] == at("2026-03-09 14:00")  # 6 h: 1 h Friday + 5 h Monday


def test_ticket_opened_at_the_weekend_starts_on_monday_morning():
    assert sla.add_working(OFFICE, at("2026-03-07 13:00"), 15 * 60) == at("2026-03-09 09:15")
    assert sla.add_working(OFFICE, at("2026-03-06 18:30"), 30 * 60) == at("2026-03-09 09:30")
    assert sla.add_working(OFFICE, at("2026-03-09 07:00"), 0) == at("2026-03-09 09:00")


def test_holidays_are_skipped():
    easter = sla.Calendar.from_json(
        {"mode": "business", "hours": "09:00-17:00", "holidays": ["2026-04-03", "2026-04-06"]}
    )  # Good Friday, Easter Monday
    # Thursday 2026-04-02 15:00, 8 h: 2 h Thursday, then Tuesday 6 h.
    assert sla.add_working(easter, at("2026-04-02 15:00"), 8 * H) == at("2026-04-07 15:00")
    assert sla.working_seconds(easter, at("2026-04-02 15:00"), at("2026-04-07 15:00")) == 8 * H


def test_long_target_counts_working_days_only():
    # Medium resolution, 3 days = 72 working hours = 9 working days of 8 h, from Monday 09:00.
    assert sla.add_working(OFFICE, at("2026-03-02 09:00"), 72 * H) == at("2026-03-12 17:00")


def test_spring_daylight_saving_change_moves_the_hours_in_utc():
    # Berlin: Friday 27 March 16:00 CET is 15:00 UTC; on Monday 30 March (CEST, UTC+2) 09:00 local
    # is 07:00 UTC. 8 h: 1 h Friday, 7 h Monday until 16:00 local = 14:00 UTC.
    assert sla.add_working(BERLIN, at("2026-03-27 15:00"), 8 * H) == at("2026-03-30 14:00")
    assert sla.working_seconds(BERLIN, at("2026-03-27 15:00"), at("2026-03-30 14:00")) == 8 * H


def test_autumn_daylight_saving_change():
    # Friday 23 October 16:00 CEST = 14:00 UTC; Monday 26 October (CET) 09:00 local = 08:00 UTC.
    assert sla.add_working(BERLIN, at("2026-10-23 14:00"), 2 * H) == at("2026-10-26 09:00")


def test_24x7_day_boundaries_over_daylight_saving_are_real_hours():
    always_berlin = sla.Calendar.from_json({"mode": "24x7", "timezone": "Europe/Berlin"})
    # The night of the change has 23 hours; a 24 h target still means 24 real hours.
    assert sla.add_working(always_berlin, at("2026-03-28 12:00"), 24 * H) == at("2026-03-29 12:00")


def test_working_seconds_over_a_weekend():
    assert sla.working_seconds(OFFICE, at("2026-03-06 16:30"), at("2026-03-09 09:45")) == 75 * 60
    assert sla.working_seconds(OFFICE, at("2026-03-07 10:00"), at("2026-03-08 10:00")) == 0
    assert sla.working_seconds(OFFICE, at("2026-03-09 10:00"), at("2026-03-09 09:00")) == 0


@pytest.mark.parametrize(
    "data,message",
    [
        ({"mode": "sometimes"}, "mode"),
        ({"mode": "business", "days": []}, "at least one working day"),
        ({"mode": "business", "days": ["funday"]}, "weekday"),
        ({"mode": "business", "hours": "17:00-09:00"}, "working hours"),
        ({"mode": "business", "hours": "25:00-26:00"}, "working hours"),
        ({"mode": "business", "holidays": ["christmas"]}, "holiday"),
        ({"mode": "24x7", "timezone": "Mars/Olympus"}, "time zone"),
        ({"mode": "24x7", "timezone": "../../etc/passwd"}, "time zone"),
    ],
)
def test_bad_calendars_are_refused_with_a_clear_message(data, message):
    with pytest.raises(ValidationError, match=message):
        sla.Calendar.from_json(data)


def test_calendar_json_round_trip():
    cal = sla.Calendar.from_json(
        {
            "mode": "business",
            "timezone": "Europe/Berlin",
            "days": ["Mon", "wed"],
            "hours": "08:30-16:00",
            "holidays": ["2026-12-25"],
        }
    )
    assert sla.Calendar.from_json(cal.to_json()) == cal
    assert cal.days == (0, 2) and cal.holidays == frozenset({date(2026, 12, 25)})


# ---------------------------------------------------------------- through the ticket service


def _new(people, when: str, impact="high", urgency="medium"):
    with clock.frozen(at(when)):
        return tickets.create(people["requester"], "VPN down", "d", impact=impact, urgency=urgency)


def test_default_policies_are_installed_and_used(engine, people):
    assert {
        p.priority: (p.response_minutes, p.resolution_minutes) for p in SlaPolicy.select()
    } == sla.DEFAULT_POLICIES
    t = _new(people, "2026-03-02 10:00")
    assert (t.response_due, t.response_risk_at) == (at("2026-03-02 11:00"), at("2026-03-02 10:45"))
    assert (t.resolution_due, t.resolution_risk_at) == (at("2026-03-02 18:00"), at("2026-03-02 16:00"))


def test_defaults_apply_when_the_policy_table_is_empty(engine, people):
    SlaPolicy.delete().execute()
    assert sla.policies() == sla.DEFAULT_POLICIES
    assert _new(people, "2026-03-02 10:00").resolution_due == at("2026-03-02 18:00")


def test_admin_changes_a_policy_and_the_calendar(engine, people):
    admin = people["admin"]
    sla.set_policy(admin, "high", 30, 120)
    sla.set_calendar(admin, {"mode": "business", "hours": "09:00-17:00"})
    t = _new(people, "2026-03-06 16:00")  # Friday
    assert (t.response_due, t.resolution_due) == (at("2026-03-06 16:30"), at("2026-03-09 10:00"))
    for bad in ((0, 60), (120, 60)):
        with pytest.raises(ValidationError):
            sla.set_policy(admin, "high", *bad)
    with pytest.raises(PermissionDenied):
        sla.set_policy(people["supervisor"], "high", 30, 120)
    with pytest.raises(PermissionDenied):
        sla.set_calendar(people["agent"], {"mode": "24x7"})


def test_pause_while_waiting_moves_the_resolution_times(engine, people):
    sla.set_calendar(people["admin"], {"mode": "business", "hours": "09:00-17:00"})
    agent = people["agent"]
    t = _new(people, "2026-03-02 10:00")  # Monday, High: 8 h -> Tuesday 10:00
    assert t.resolution_due == at("2026-03-03 10:00")
    with clock.frozen(at("2026-03-02 11:00")):
        t = tickets.change_status(agent, t.id, t.version, "waiting_on_user")
    assert t.sla_paused_at == at("2026-03-02 11:00")
    assert t.first_response_at == at("2026-03-02 11:00")  # the status change was the first response
    # Past the old due time, but the clock stands still: on track, in Python and in SQL.
    late = at("2026-03-03 10:30")
    assert sla.state_of(t, late) == "on_track"
    assert Ticket.select().where(sla.state_clause("on_track", late)).count() == 1
    with clock.frozen(at("2026-03-03 11:00")):
        t = tickets.change_status(agent, t.id, t.version, "in_progress")
    # Paused: Monday 11-17 (6 h) + Tuesday 9-11 (2 h) = 8 h of working time.
    assert (t.sla_paused_at, t.sla_paused_seconds) == (None, 8 * H)
    assert t.resolution_due == at("2026-03-04 10:00")  # 16 h: Mon 7 h + Tue 8 h + Wed 1 h
    assert t.resolution_risk_at == at("2026-03-03 16:00")  # 14 h: Mon 7 h + Tue 7 h
    assert t.response_due == at("2026-03-02 11:00")  # the response target is not moved


def test_a_waiting_ticket_keeps_its_policy_when_it_resumes(engine, people):
    """A policy tightened for new tickets reaches open ones only through `sla recompute`: a
    ticket that waited resumes with its own due times moved on by the pause, as one that did not
    wait keeps its times unmoved."""
    agent = people["agent"]
    waits, works = _new(people, "2026-03-02 10:00"), _new(people, "2026-03-02 10:00")  # High: 8 h
    with clock.frozen(at("2026-03-02 11:00")):
        waits = tickets.change_status(agent, waits.id, waits.version, "waiting_on_user")
    sla.set_policy(people["admin"], "high", 30, 120)
    with clock.frozen(at("2026-03-02 13:00")):
        waits = tickets.change_status(agent, waits.id, waits.version, "in_progress")
    assert works.resolution_due == at("2026-03-02 18:00")
    assert (waits.resolution_due, waits.resolution_risk_at) == (
        at("2026-03-02 20:00"),
        at("2026-03-02 18:00"),
    )
    assert Ticket.get_by_id(works.id).resolution_due == at("2026-03-02 18:00")


def test_a_resolved_tickets_times_stay_those_its_outcome_was_judged_by(engine, people):
    """Its priority changed after it was resolved (met in 6 h of a Low's 5 days): the due times,
    and so the exports' word and the met flag, still agree."""
    agent = people["agent"]
    t = _new(people, "2026-03-02 08:00", impact="low", urgency="low")
    with clock.frozen(at("2026-03-02 14:00")):
        t = tickets.change_status(agent, t.id, t.version, "resolved", note="fixed")
    assert t.resolution_met and t.resolution_due == at("2026-03-07 08:00")
    t = tickets.update(agent, t.id, t.version, impact="high", urgency="high")
    assert t.priority == 1 and t.resolution_met
    assert t.resolution_due == at("2026-03-07 08:00") and t.resolved_at <= t.resolution_due


def test_priority_change_recomputes_from_the_creation_time(engine, people):
    t = _new(people, "2026-03-02 10:00", impact="low", urgency="low")  # Low: 1 day / 5 days
    assert t.resolution_due == at("2026-03-07 10:00")
    with clock.frozen(at("2026-03-02 10:30")):
        t = tickets.update(people["agent"], t.id, t.version, priority="critical")
    assert (t.response_due, t.resolution_due) == (at("2026-03-02 10:15"), at("2026-03-02 14:00"))
    assert t.resolution_risk_at == at("2026-03-02 13:00")
    assert sla.state_of(t, at("2026-03-02 10:30")) == "breached"  # no response yet, 15 min were due


def test_priority_change_keeps_the_paused_time(engine, people):
    agent = people["agent"]
    t = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 10:10")):
        t = tickets.change_status(agent, t.id, t.version, "waiting_on_vendor")
    with clock.frozen(at("2026-03-02 12:10")):
        t = tickets.change_status(agent, t.id, t.version, "in_progress")
        t = tickets.update(agent, t.id, t.version, priority="critical")
    assert t.resolution_due == at("2026-03-02 16:00")  # 4 h + the 2 h paused


def test_first_response_is_a_public_comment_by_staff(engine, people):
    t = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 10:05")):
        tickets.comment(people["requester"], t.id, "any news?")
        tickets.comment(people["agent"], t.id, "internal", internal=True)
    assert Ticket.get_by_id(t.id).first_response_at is None
    with clock.frozen(at("2026-03-02 10:20")):
        tickets.comment(people["agent"], t.id, "on it")
    t = Ticket.get_by_id(t.id)
    assert t.first_response_at == at("2026-03-02 10:20")
    assert sla.state_of(t, at("2026-03-02 12:00")) == "on_track"  # response met, resolution far


def test_outcome_is_frozen_on_resolve_and_thawed_on_reopen(engine, people):
    agent = people["agent"]
    t = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 10:30")):
        t = tickets.change_status(agent, t.id, t.version, "in_progress")
    with clock.frozen(at("2026-03-02 17:00")):
        t = tickets.change_status(agent, t.id, t.version, "resolved", "fixed")
    assert (t.response_met, t.resolution_met, t.sla_paused_at) == (True, True, at("2026-03-02 17:00"))
    with clock.frozen(at("2026-03-02 21:00")):
        t = tickets.change_status(people["requester"], t.id, t.version, "in_progress", "still broken")
    # The 4 h it sat resolved do not count: due 18:00 + 4 h.
    assert (t.resolution_met, t.sla_paused_seconds, t.resolution_due) == (None, 4 * H, at("2026-03-02 22:00"))
    assert t.response_met is True
    with clock.frozen(at("2026-03-02 23:00")):
        t = tickets.change_status(agent, t.id, t.version, "resolved", "really fixed")
    assert (t.response_met, t.resolution_met) == (True, False)


def test_late_first_response_is_frozen_as_breached(engine, people):
    t = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 11:30")):
        t = tickets.change_status(people["agent"], t.id, t.version, "resolved", "quick fix")
    assert (t.response_met, t.resolution_met) == (False, True)


def test_resolved_while_waiting_counts_the_moment_the_clock_stopped(engine, people):
    agent = people["agent"]
    t = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 17:00")):
        t = tickets.change_status(agent, t.id, t.version, "waiting_on_user")
    with clock.frozen(at("2026-03-05 09:00")):  # days later: the user never answered
        t = tickets.change_status(agent, t.id, t.version, "resolved", "no answer")
    assert t.resolution_met is True and t.sla_paused_at == at("2026-03-02 17:00")


# ---------------------------------------------------------------- states in SQL, recompute


def _states_in_sql(now):
    return {
        state: {t.id for t in Ticket.select(Ticket.id).where(sla.state_clause(state, now))}
        for state in sla.STATES
    }


def test_sql_states_agree_with_the_python_rule(engine, people):
    agent = people["agent"]
    made = [
        _new(people, f"2026-03-02 {h:02d}:00", impact=i, urgency=u)
        for h, i, u in ((1, "high", "high"), (4, "high", "medium"), (8, "low", "low"), (9, "medium", "high"))
    ]
    with clock.frozen(at("2026-03-02 04:30")):
        tickets.comment(agent, made[1].id, "looking")
    with clock.frozen(at("2026-03-02 09:05")):
        tickets.comment(agent, made[3].id, "looking")
        w = tickets.change_status(agent, made[2].id, made[2].version, "waiting_on_user")
    # NULL risk times (an upgraded database) behave as 'on track until due'.
    Ticket.update(response_risk_at=None, resolution_risk_at=None).where(Ticket.id == made[1].id).execute()
    for now in (
        "2026-03-02 09:10",
        "2026-03-02 10:30",
        "2026-03-02 11:50",
        "2026-03-02 13:00",
        "2026-03-03 09:00",
    ):
        rows = list(Ticket.select())
        expected = {state: {t.id for t in rows if sla.state_of(t, at(now)) == state} for state in sla.STATES}
        assert _states_in_sql(at(now)) == expected
    assert sla.state_of(Ticket.get_by_id(made[0].id), at("2026-03-02 09:10")) == "breached"
    assert sla.state_of(Ticket.get_by_id(w.id), at("2026-03-10 09:00")) == "on_track"  # paused
    assert sla.state_of(Ticket.get_by_id(made[1].id), at("2026-03-02 11:50")) == "on_track"  # NULL risk
    assert sla.state_of(Ticket.get_by_id(made[1].id), at("2026-03-02 12:01")) == "breached"


def test_recompute_fills_missing_risk_times_and_outcomes(engine, people):
    agent = people["agent"]
    t = _new(people, "2026-03-02 10:00")
    done = _new(people, "2026-03-02 10:00")
    with clock.frozen(at("2026-03-02 12:00")):
        done = tickets.change_status(agent, done.id, done.version, "resolved", "ok")
    expected = {f: getattr(Ticket.get_by_id(done.id), f) for f in sla.FIELDS}
    # As an upgraded v2 database or a bulk import leaves them:
    Ticket.update(
        response_risk_at=None,
        resolution_risk_at=None,
        response_met=None,
        resolution_met=None,
        sla_paused_at=None,
    ).execute()
    assert sla.recompute(people["admin"]) == 2
    assert Ticket.get_by_id(t.id).resolution_risk_at == at("2026-03-02 16:00")
    assert {f: getattr(Ticket.get_by_id(done.id), f) for f in sla.FIELDS} == expected
    assert sla.recompute(people["admin"]) == 0  # nothing left to do
    with pytest.raises(PermissionDenied):
        sla.recompute(agent)


def test_recompute_applies_a_new_calendar_to_open_tickets_only(engine, people):
    t = _new(people, "2026-03-06 16:00")
    done = _new(people, "2026-03-06 16:00")
    with clock.frozen(at("2026-03-06 16:30")):
        done = tickets.change_status(people["agent"], done.id, done.version, "resolved", "ok")
    sla.set_calendar(people["admin"], {"mode": "business", "hours": "09:00-17:00"})
    assert sla.recompute(people["admin"]) == 1
    assert Ticket.get_by_id(t.id).resolution_due == at("2026-03-09 16:00")
    assert Ticket.get_by_id(done.id).resolution_due == done.resolution_due
