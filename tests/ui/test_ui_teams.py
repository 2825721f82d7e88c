"""Teams and macros through the keys a user presses (issue 21), with the effects read back from
the database on both engines."""

import io

import pytest
from rich.console import Console
from textual.widgets import Input, OptionList
from ui_helpers import fill, logged_in, until

from itsm_tui.core.store.models import Comment, Macro, Team, TeamMember, Ticket
from itsm_tui.core.tickets import macros, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.modals.teamwork import MacrosModal, TeamsModal
from itsm_tui.ui.screens.ticket import TicketScreen

pytestmark = [pytest.mark.asyncio, pytest.mark.both_engines]


def fresh(ticket_id):
    return Ticket.get_by_id(ticket_id)


async def _pick(pilot, picker_type, text: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, picker_type))
    await pilot.press(*text)
    await pilot.pause(0.2)
    await pilot.press("enter")


async def _command(pilot, text: str) -> None:
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
    await pilot.press(*text, "enter")


async def test_a_macro_on_marked_tickets_reports_each_one(engine, people):
    made = [tickets.create(people["requester"], f"Printer {i}", "jammed") for i in range(3)]
    done = tickets.change_status(people["agent"], made[2].id, made[2].version, "resolved", "ok")
    tickets.change_status(people["agent"], done.id, done.version, "closed")
    macros.create(
        people["admin"], "Thanks", "Thanks, {requester}.", fields=macros.Fields(status="waiting_on_user")
    )
    macros.create(people["admin"], "Other", "Other reply")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("slash")
        app.screen.query_one("#filter", Input).value = "printer"
        await pilot.press("enter")
        await until(pilot, lambda: not table.fetching and len(table.rows) == 3)
        table.cursor = 0
        await pilot.press("space", "space", "space")
        await pilot.press("m")
        await _pick(pilot, ChoicePicker, "than")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        summary = "\n".join(app.screen.lines)
        assert "2 of 3 tickets got macro Thanks" in summary
        assert f"{made[2].number}: {made[2].number} cannot go from Closed" in summary
    full = people["requester"].full_name
    for ticket in made[:2]:
        assert fresh(ticket.id).status == "waiting_on_user"
        assert [c.body for c in Comment.select().where(Comment.ticket == ticket.id)] == [f"Thanks, {full}."]
    assert fresh(made[2].id).status == "closed"


async def test_team_key_and_the_assignee_picker_lists_the_team_first(engine, people):
    teams.add(people["admin"], "Network")
    teams.add_member(people["admin"], "Network", "agent2")
    ticket = tickets.create(people["requester"], "VPN down", "since 9")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        app.open_ticket(ticket.id)
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        screen = app.screen
        await pilot.press("T")
        await _pick(pilot, ChoicePicker, "netw")
        await until(pilot, lambda: fresh(ticket.id).team_id is not None)
        await until(pilot, lambda: screen.view and screen.view.ticket.team_id)
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(screen.query_one("#ticket").content)
        assert any(line.split()[:2] == ["Team", "Network"] for line in console.export_text().splitlines())
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AgentPicker))
        first = app.screen.query_one(OptionList).get_option_at_index(1).prompt
        assert str(first).startswith("agent2") and str(first).endswith("team")


async def test_admin_manages_teams_with_keys(engine, people):
    tickets.create(people["requester"], "something in the queue", "d")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        await _command(pilot, "teams")
        await until(pilot, lambda: isinstance(app.screen, TeamsModal))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*"Service Desk", "enter")
        await until(pilot, lambda: Team.get_or_none(name="Service Desk") is not None)
        await until(pilot, lambda: isinstance(app.screen, TeamsModal) and app.screen.records)
        await pilot.press("a")
        await _pick(pilot, AgentPicker, "agent2")
        team = Team.get(name="Service Desk")
        await until(pilot, lambda: TeamMember.select().where(TeamMember.team == team.id).count() == 1)
        await pilot.press("t")
        await _pick(pilot, ChoicePicker, "least")
        await until(pilot, lambda: Team.get_by_id(team.id).auto_assign == "least_loaded")


async def test_supervisor_adds_a_macro_with_keys(engine, people):
    teams.add(people["admin"], "Network")
    tickets.create(people["requester"], "something in the queue", "d")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        await _command(pilot, "macros")
        await until(pilot, lambda: isinstance(app.screen, MacrosModal))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        fill(app.screen, {"name": "Escalate", "body": "Moved to {team}", "team": "Network", "priority": "2"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: Macro.get_or_none(name="Escalate") is not None)
        macro = Macro.get(name="Escalate")
        assert (macro.set_team.name, macro.set_priority, macro.set_status) == ("Network", 2, None)


async def test_analytics_shows_the_teams(engine, people):
    teams.add(people["admin"], "Network")
    ticket = tickets.create(people["requester"], "VPN down", "since 9")
    teams.set_team(people["agent"], ticket.id, ticket.version, "Network")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        await pilot.press("4")
        await until(pilot, lambda: type(app.screen).__name__ == "AnalyticsScreen" and app.sla_monitor.figures)
        console = Console(width=60, record=True, file=io.StringIO())
        await until(pilot, lambda: bool(app.screen.query_one("#workload").content))
        console.print(app.screen.query_one("#workload").content)
        lines = [line.split() for line in console.export_text().splitlines()]
        assert ["By", "team", "(done:", "period)"] in lines
        assert ["Network", "1", "0", "0", "0"] in lines and ["(no", "team)", "0", "0", "0", "0"] in lines


async def test_the_queue_shows_the_team_and_a_ticket_as_it_was_left(engine, people, monkeypatch):
    """The Team column names the team; back from a ticket where a macro moved it, the row says
    so at once (the timed refresh is off here)."""
    from itsm_tui.ui.screens import queue as queue_screen

    monkeypatch.setattr(queue_screen, "REFRESH_SECONDS", 3600.0)
    teams.add(people["admin"], "Network")
    made = tickets.create(people["requester"], "VPN down", "since 9")
    macros.create(people["admin"], "Escalate", "", fields=macros.Fields(team="Network", status="in_progress"))
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await until(pilot, lambda: not table.fetching and len(table.rows) == 1)
        assert "Team" in table.render().plain.split("\n")[0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        await pilot.press("m")
        await _pick(pilot, ChoicePicker, "esc")
        await until(pilot, lambda: fresh(made.id).status == "in_progress")
        await pilot.press("escape")
        await until(pilot, lambda: table.rows and table.rows[0]["team"] == "Network", timeout=10)
        line = table.render().plain.split("\n")[1]
        assert "Network" in line and "In progress" in line


async def test_teams_opened_from_the_log_close_back_to_the_log(engine, people):
    """:teams and :macros are dialogs: they open over the screen they were asked from (they
    closed back to the queue, the log gone from under them)."""
    tickets.create(people["requester"], "something in the queue", "d")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        await pilot.press("3")
        await until(pilot, lambda: type(app.screen).__name__ == "LogScreen")
        log = app.screen
        for command, dialog in (("teams", TeamsModal), ("macros", MacrosModal)):
            await _command(pilot, command)
            await until(pilot, lambda: isinstance(app.screen, dialog))
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is log)
