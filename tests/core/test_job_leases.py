"""The background jobs' leases: one process runs each job at a time, desk-wide, and another takes
it over when the holder stops renewing (a terminal closed). Runs on SQLite and MariaDB."""

from datetime import datetime, timedelta

from itsm_tui.core import clock, jobs
from itsm_tui.core.store.models import SlaAlert, Ticket
from itsm_tui.core.tickets import service as tickets

NOW = datetime(2026, 3, 2, 10, 0)


def _as(monkeypatch, holder: str) -> None:
    monkeypatch.setattr(jobs, "HOLDER", holder)


def _breaching(people) -> Ticket:
    with clock.frozen(NOW):
        made = tickets.create(people["requester"], "Mail down", "d", impact="high", urgency="medium")
        return tickets.assign(people["supervisor"], made.id, made.version, people["agent"])


def test_a_second_terminal_leaves_the_jobs_to_the_first_until_its_lease_runs_out(engine, people, monkeypatch):
    _breaching(people)  # response due in 1 h: at risk from 45 min, breached at 60
    names = [name for name, _ in jobs.JOBS]
    _as(monkeypatch, "terminal-1")
    with clock.frozen(NOW + timedelta(minutes=50)):
        first = jobs.run_due()
    assert first.elsewhere == [] and first.errors == {} and first.count("alerts raised") == 1
    _as(monkeypatch, "terminal-2")
    with clock.frozen(NOW + timedelta(minutes=51)):
        second = jobs.run_due()
    assert second.elsewhere == names and second.counts == {}  # terminal 1 holds every job
    _as(monkeypatch, "terminal-1")
    renewed_at = NOW + timedelta(minutes=51, seconds=30)
    with clock.frozen(renewed_at):  # the holder's next pass renews the lease
        assert jobs.run_due().elsewhere == []
    _as(monkeypatch, "terminal-2")
    with clock.frozen(NOW + timedelta(minutes=50) + jobs.LEASE + timedelta(seconds=1)):
        assert jobs.run_due().elsewhere == names  # the first lease would have run out: renewed
    with clock.frozen(renewed_at + jobs.LEASE + timedelta(seconds=1)):  # terminal 1 closed
        taken = jobs.run_due()
    assert taken.elsewhere == [] and taken.errors == {}
    with clock.frozen(NOW + timedelta(minutes=61)):  # terminal 2 now raises the breach
        assert jobs.run_due().count("alerts raised") == 1
    assert SlaAlert.select().count() == 2


def test_of_two_processes_finding_a_lease_expired_only_one_takes_it(engine, people, monkeypatch):
    _as(monkeypatch, "server")
    with clock.frozen(NOW):
        assert jobs.claim("SLA alerts")
    later = NOW + jobs.LEASE + timedelta(seconds=5)
    # Both read the expired lease; the first UPDATE changes its value, so the second's fails.
    real_get = jobs.Setting.get_or_none
    stale = real_get(jobs.Setting.key == "job lease:SLA alerts")
    monkeypatch.setattr(jobs.Setting, "get_or_none", lambda *a: stale)
    with clock.frozen(later):
        _as(monkeypatch, "terminal-1")
        won = jobs.claim("SLA alerts")
        _as(monkeypatch, "terminal-2")
        lost = jobs.claim("SLA alerts")
    assert (won, lost) == (True, False)
    monkeypatch.setattr(jobs.Setting, "get_or_none", real_get)
    with clock.frozen(later):
        assert not jobs.claim("SLA alerts")  # terminal 1 holds it now
        _as(monkeypatch, "terminal-1")
        assert jobs.claim("SLA alerts")


def test_a_job_that_fails_keeps_its_lease_and_the_others_still_run(engine, people, monkeypatch):
    def broken():
        raise OSError("mail server unreachable")

    monkeypatch.setattr(jobs, "JOBS", [("e-mail", broken), *[j for j in jobs.JOBS if j[0] != "e-mail"]])
    _as(monkeypatch, "terminal-1")
    report = jobs.run_due()
    assert report.errors == {"e-mail": "mail server unreachable"} and "alerts raised" in report.counts
    _as(monkeypatch, "terminal-2")
    assert "e-mail" in jobs.run_due().elsewhere  # retried by its holder, not by everyone


def test_a_job_s_database_failure_is_said_in_words_without_the_driver_s_text(engine, people, monkeypatch):
    from peewee import OperationalError

    def unreachable():
        raise OperationalError(2003, "Can't connect to MySQL server on 'db7.corp.internal' (111)")

    monkeypatch.setattr(jobs, "JOBS", [("SLA alerts", unreachable)])
    said = jobs.run_due().errors["SLA alerts"]
    assert "2003" not in said and "db7.corp.internal" not in said and "database" in said
