"""Screen 4 driven with Pilot: figures that follow the (injected) clock and the operators'
changes, the period selector, the drill-down to the queue, and what agents and requesters see."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from rich.console import Console
from sample_data import needs_sample
from textual.widgets import Input, Label, OptionList
from ui_helpers import logged_in, screen_text, until

from itsm_tui.core import clock
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import categories, sla, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens.analytics import AnalyticsScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 3, 2, 10, 0)
HOSTILE = "[/]Net[bold]"


@pytest.fixture
def desk(engine, people):
    """A: High, new at T0. B: Low, two days older (its 1-day response target long breached).
    C: in a category with a markup-like name, answered at once."""
    with clock.frozen(T0):
        a = tickets.create(people["requester"], "Mail down", "d", impact="high", urgency="medium")
        categories.add(people["admin"], HOSTILE)
        c = tickets.create(people["requester"], "Switch", "d", category=HOSTILE)
        tickets.comment(people["agent"], c.id, "on it")
    with clock.frozen(T0 - timedelta(days=2)):
        b = tickets.create(people["requester"], "Slow laptop", "d")
        tickets.assign(people["supervisor"], b.id, b.version, people["agent"])
    return {"url": engine, "a": a.id, "b": b.id, "c": c.id}


def text_of(widget) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    if isinstance(widget, OptionList):
        for k in range(widget.option_count):
            console.print(widget.get_option_at_index(k).prompt)
    else:
        console.print(widget.content)
    return console.export_text()


def drill_counts(screen) -> dict:
    """The count printed on each drill-down row, read off the screen."""
    drill = screen.query_one("#drill", OptionList)
    counts = {}
    for k in range(drill.option_count):
        option = drill.get_option_at_index(k)
        counts[option.id] = int(
            option.prompt.plain.split()[-1 if "█" not in option.prompt.plain else -2].replace(",", "")
        )
    return counts


async def open_analytics(pilot):
    app = pilot.app
    await pilot.press("4")
    await until(
        pilot, lambda: isinstance(app.screen, AnalyticsScreen) and app.sla_monitor.figures is not None
    )
    return app.screen


@pytest.mark.both_engines
async def test_states_and_buckets_follow_the_clock(desk):
    now = {"t": T0 + timedelta(minutes=10)}
    with clock.frozen(lambda: now["t"]):
        app = ItsmApp(desk["url"])
        app.sla_monitor.interval = 0.2  # passes every 0.2 s: time passing alone must show
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            await until(pilot, lambda: drill_counts(screen)["sla:on_track"] == 2)
            counts = drill_counts(screen)
            assert (counts["sla:at_risk"], counts["sla:breached"]) == (0, 1)  # B
            assert (counts["age:<1d"], counts["age:1-3d"]) == (2, 1)
            assert "Whole desk" in text_of(screen.query_one("#period"))
            assert HOSTILE in text_of(screen.query_one("#totals"))  # shown literally, no markup error

            now["t"] = T0 + timedelta(minutes=50)  # A: under 15 of its 60 response minutes left
            await until(pilot, lambda: drill_counts(screen)["sla:at_risk"] == 1)
            assert drill_counts(screen)["sla:on_track"] == 1

            now["t"] = T0 + timedelta(days=2, hours=1)
            await until(pilot, lambda: drill_counts(screen)["sla:breached"] == 2)
            counts = drill_counts(screen)
            assert (counts["age:<1d"], counts["age:1-3d"], counts["age:3-7d"]) == (0, 2, 1)


async def test_the_figures_are_not_recounted_for_a_screen_that_is_not_open(desk, monkeypatch):
    """Alerts and e-mail run every pass; the analytics recount (most of a pass's statements)
    only while the analytics screen is open."""
    from itsm_tui.core.tickets import analytics

    real, calls = analytics.figures, []
    monkeypatch.setattr(analytics, "figures", lambda *args: calls.append(1) or real(*args))
    with clock.frozen(T0 + timedelta(minutes=10)):
        app = ItsmApp(desk["url"])
        app.sla_monitor.interval = 0.1
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            await until(pilot, lambda: app.sla_monitor.passes >= 3)
            assert calls == [] and app.sla_monitor.figures is None
            await open_analytics(pilot)
            await pilot.press("1")
            await until(pilot, lambda: not isinstance(app.screen, AnalyticsScreen))
            await until(pilot, lambda: not app.sla_monitor.running)
            counted, passes = len(calls), app.sla_monitor.passes
            await until(pilot, lambda: app.sla_monitor.passes >= passes + 3)
            assert len(calls) == counted and app.sla_monitor.figures is None


async def test_an_operator_change_recounts_at_once(desk):
    """The pass a change asks for raises alerts at once; the figures, recounted only while the
    analytics screen is open, are fresh when it opens."""
    with clock.frozen(T0 + timedelta(minutes=50)):
        app = ItsmApp(desk["url"])
        app.sla_monitor.interval = 600  # no timed pass during the test: only the change triggers one
        async with app.run_test(size=(160, 50)) as pilot:
            table = await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            assert drill_counts(screen)["sla:at_risk"] == 1  # A
            await pilot.press("1")
            await until(pilot, lambda: app.screen is table.screen)
            for _ in range(5):
                if table.current["id"] == desk["a"]:
                    break
                await pilot.press("j")
            passes = app.sla_monitor.passes
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one("#value").text = "Looking into it"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.sla_monitor.passes > passes and not app.sla_monitor.running)
            assert app.sla_monitor.figures is None  # no screen shows them: not recounted
            assert Ticket.get_by_id(desk["a"]).first_response_at is not None
            screen = await open_analytics(pilot)
            assert drill_counts(screen)["sla:at_risk"] == 0 and drill_counts(screen)["sla:on_track"] == 2


@pytest.mark.both_engines
async def test_drill_down_opens_the_queue_on_exactly_those_tickets(desk):
    with clock.frozen(T0 + timedelta(hours=2)):
        app = ItsmApp(desk["url"])
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            breached = {t.id for t in Ticket.select().where(sla.state_clause("breached", clock.now()))}
            assert breached == {desk["a"], desk["b"]}
            assert drill_counts(screen)["sla:breached"] == 2
            drill = screen.query_one("#drill", OptionList)
            assert app.focused is drill
            await pilot.press("down", "down")  # on track, at risk, *breached*
            assert drill.get_option_at_index(drill.highlighted).id == "sla:breached"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, QueueScreen))
            queue_screen = app.screen
            table = queue_screen.query_one(TicketTable)
            await until(
                pilot,
                lambda: (
                    queue_screen.filter_text == "sla:breached"
                    and not table.fetching
                    and queue_screen.total == 2
                    and {row["id"] for row in table.rows} == breached  # the rows may come after
                ),  # the count (MariaDB, loaded machine): the rows the operator sees in the end
            )
            await open_analytics(pilot)
            drill = app.screen.query_one("#drill", OptionList)
            drill.highlighted = [drill.get_option_at_index(k).id for k in range(drill.option_count)].index(
                "age:<1d"
            )
            await pilot.press("enter")
            young = {desk["a"], desk["c"]}
            await until(  # the breached list had two rows too: wait for this filter's own
                pilot,
                lambda: (
                    isinstance(app.screen, QueueScreen)
                    and "age:<1d" in app.screen.filter_text
                    and not app.screen.query_one(TicketTable).fetching
                    and app.screen.total == 2
                    and {row["id"] for row in app.screen.query_one(TicketTable).rows} == young
                ),
            )


@pytest.mark.both_engines
async def test_period_selector(desk, people):
    with clock.frozen(T0 + timedelta(hours=1)):
        app = ItsmApp(desk["url"])
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            assert app.sla_monitor.figures["period"]["name"] == "30d"
            await pilot.press("w")
            await until(pilot, lambda: app.sla_monitor.figures["period"]["name"] == "7d")
            assert "Last 7 days" in text_of(screen.query_one("#period"))
            await pilot.press("t")
            await until(pilot, lambda: app.sla_monitor.figures["period"]["name"] == "today")
            assert app.sla_monitor.figures["period_counts"]["opened"] == 2  # A and C, not B
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one(Input).value = "2026-03-05..2026-03-01"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, AnalyticsScreen))
            assert app.sla_monitor.period == "today"  # refused with a message, nothing lost
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one(Input).value = "2026-02-28..2026-03-01"
            await pilot.press("enter")
            await until(
                pilot, lambda: app.sla_monitor.figures["period"]["label"] == "2026-02-28 to 2026-03-01"
            )
            assert app.sla_monitor.figures["period_counts"]["opened"] == 1  # B
            assert "2026-02-28 to 2026-03-01" in text_of(screen.query_one("#period"))


async def test_agents_see_their_own_figures_and_requesters_none(desk):
    with clock.frozen(T0 + timedelta(hours=1)):
        app = ItsmApp(desk["url"])
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "agent", "agent-password-1")
            screen = await open_analytics(pilot)
            figures = app.sla_monitor.figures
            assert figures["scope"] == {"kind": "agent", "user": "agent"}
            assert sum(figures["totals"]["status"].values()) == 1  # only B is assigned to them
            assert drill_counts(screen)["sla:breached"] == 1 and drill_counts(screen)["sla:on_track"] == 0
            assert "Your tickets" in text_of(screen.query_one("#period"))
            workload = text_of(screen.query_one("#workload"))
            assert "agent " in workload and "supervisor" not in workload and "agent2" not in workload
            await pilot.press("ctrl+l")
            await logged_in(pilot, "requester", "requester-password-1")
            await pilot.press("4")
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen) and app.sla_monitor.figures is None


async def test_passes_never_overlap_and_a_change_during_a_pass_is_counted_after_it(desk, monkeypatch):
    import threading
    import time

    from itsm_tui.core.tickets import analytics

    real, running, overlaps, started = analytics.figures, [0], [0], []
    lock = threading.Lock()

    def slow(actor, period="30d", now=None):
        with lock:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
        started.append(time.monotonic())
        time.sleep(0.3)
        try:
            return real(actor, period, now)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(analytics, "figures", slow)
    with clock.frozen(T0 + timedelta(minutes=10)):
        app = ItsmApp(desk["url"])
        app.sla_monitor.interval = 600
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            await open_analytics(pilot)  # the figures are computed while their screen is open
            await until(pilot, lambda: not app.sla_monitor.running)
            passes = app.sla_monitor.passes
            for _ in range(5):  # five changes while a pass runs: one more pass, right after it
                app.changed()
                await pilot.pause(0.02)
            await until(pilot, lambda: app.sla_monitor.passes >= passes + 2)
            await pilot.pause(0.5)
            assert overlaps[0] == 1
            assert app.sla_monitor.passes == passes + 2  # the one asked for, the one queued behind it


async def test_a_failing_pass_is_reported_once_and_retried(desk, monkeypatch):
    from itsm_tui.core.tickets import analytics

    calls = []

    def broken(actor, period="30d", now=None):
        calls.append(period)
        raise RuntimeError("database is locked")

    monkeypatch.setattr(analytics, "figures", broken)
    with clock.frozen(T0):
        app = ItsmApp(desk["url"])
        app.sla_monitor.interval = 0.1
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            await pilot.press("4")
            await until(pilot, lambda: isinstance(app.screen, AnalyticsScreen))
            await until(pilot, lambda: len(calls) >= 3)  # it keeps trying
            messages = [n.message for n in app._notifications if "database is locked" in n.message]
            assert len(messages) == 1 and app.sla_monitor.error == "database is locked"
            assert "Computing" in text_of(app.screen.query_one("#period"))  # no figures, no crash


async def test_e_exports_the_figures_on_screen_to_a_pdf(desk, tmp_path):
    import subprocess

    from itsm_tui.ui.export_modal import ExportModal

    with clock.frozen(T0 + timedelta(hours=2)):
        app = ItsmApp(desk["url"])
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            breached = drill_counts(screen)["sla:breached"]
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, ExportModal))
            app.screen.query_one("#path", Input).value = str(tmp_path / "desk.pdf")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.screen is screen and (tmp_path / "desk.pdf").exists())
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "desk.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Breached" in text and str(breached) in text
    assert HOSTILE in text  # a category name prints literally


@needs_sample()
async def test_all_of_an_imported_history_at_80_by_24(engine, people, tmp_path):
    """`a` shows the whole imported history; the history part says what the source says and
    fits the left column at 80 columns."""
    from test_import_servicenow import source, write_subset

    from itsm_tui.importers.servicenow import import_servicenow

    _, final = source(write_subset(tmp_path / "some.csv", 200))
    import_servicenow(people["admin"], tmp_path / "some.csv")
    with clock.frozen(datetime(2016, 3, 1, 9, 0)):  # one open ticket, for the queue to show
        tickets.create(people["requester"], "Still open", "d")
    met = sum(1 for r in final.values() if r["made_sla"] == "true")
    reopened = sum(1 for r in final.values() if int(r["reopen_count"]))
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        screen = await open_analytics(pilot)
        await pilot.press("a")
        await until(pilot, lambda: app.sla_monitor.figures["period"]["name"] == "all")
        await pilot.pause()
        assert "All time" in text_of(screen.query_one("#period"))
        history = text_of(screen.query_one("#history"))
        assert f"Closed {len(final):,} · reopened {reopened}" in history
        assert f"SLA outcome: {met:,} met" in history
        assert f"{len(final) - met:,} breached · 0 unknown" in history
        assert max(len(line.rstrip()) for line in history.splitlines()) <= 36
        caption = str(screen.query_one("#opened-caption", Label).render())
        assert caption.startswith("Opened per week, 2016-02-29")


@pytest.mark.both_engines
async def test_category_names_keep_their_underscores(engine, people):
    """Issue 17 item 27: a category called end_user_devices is shown as it is named, while a
    status code (in_progress) is put in words."""
    with clock.frozen(T0):
        categories.add(people["admin"], "end_user_devices")
        t = tickets.create(people["requester"], "Disk full", "d", category="end_user_devices")
        tickets.change_status(people["agent"], t.id, t.version, "in_progress")
    with clock.frozen(T0 + timedelta(minutes=5)):
        app = ItsmApp(engine)
        async with app.run_test(size=(160, 50)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            totals = text_of(screen.query_one("#totals"))
            assert "end_user_devices" in totals and "end user devices" not in totals
            assert "in progress" in totals and "in_progress" not in totals


@asynccontextmanager
async def supervisors_at_80_by_24(desk):
    """The supervisor's analytics at 80x24, two hours after T0: (the screen, its text)."""
    with clock.frozen(T0 + timedelta(hours=2)):
        app = ItsmApp(desk["url"])
        async with app.run_test(size=(80, 24)) as pilot:
            await logged_in(pilot, "supervisor", "supervisor-password-1")
            screen = await open_analytics(pilot)
            await pilot.pause()
            yield screen, screen_text(app)


async def test_at_80_by_24_the_footer_the_period_and_the_drill_rows_fit(desk):
    """At 80 columns: ? Keys stays in the footer and no key is cut in half; the period line
    shows all of itself; the drill-down box's title is whole; every drill row's count ends in
    the same column (the SLA rows' were 7 cells left of the age rows')."""
    async with supervisors_at_80_by_24(desk) as (screen, shown):
        footer = shown.splitlines()[-1]
        assert footer.startswith("? Keys")
        words = footer.replace("▏", " ").split()
        assert set(words) <= set(" ".join(b.description for b in screen.BINDINGS).split()) | {
            "?",
            "Keys",
            "^p",
            "palette",
            *(b.key for b in screen.BINDINGS),
            "e",
        }  # only whole descriptions: no "Refres"
        assert "24x7 (days in UTC)" in " ".join(shown.split())  # the period line wraps
        assert "SLA now, open by age (⏎ list)" in shown
        drill = screen.query_one("#drill", OptionList)
        ends = {
            len(drill.get_option_at_index(k).prompt.plain.rstrip(" █")) for k in range(drill.option_count)
        }
        assert len(ends) == 1


async def test_team_and_agent_names_take_the_cells_the_figures_leave(desk, people):
    """Names were cut at 9 and 8 cells whatever the width ("Field su…" at 80 columns, and
    "supervi…" even at 120): at 80 columns "Field support" and "supervisor" are whole."""
    teams.add(people["admin"], "Field support")
    teams.add_member(people["admin"], "Field support", "supervisor")
    ticket = Ticket.get_by_id(desk["a"])
    teams.set_team(people["supervisor"], ticket.id, ticket.version, "Field support")
    tickets.assign(people["supervisor"], ticket.id, Ticket.get_by_id(ticket.id).version, people["supervisor"])
    async with supervisors_at_80_by_24(desk) as (_, shown):
        assert "Field support" in shown and "supervisor " in shown, shown
