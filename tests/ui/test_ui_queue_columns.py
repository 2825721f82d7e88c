"""What the queue's columns say and how they fit: the pending SLA target and its state, columns
dropped by priority on a narrow terminal, sort arrows and choices, hostile widths, and a list
that keeps its rows marked stale when a read fails (on SQLite and MariaDB)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pymysql
import pytest
from rich.cells import cell_len
from rich.console import Console
from ui_helpers import logged_in, prompt_error, until

from itsm_tui.core import clock
from itsm_tui.core.store.db_errors import UNREACHABLE
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.screens.ticket import TicketScreen

pytestmark = pytest.mark.asyncio


def _lines(table) -> list[str]:
    return table.render().plain.split("\n")


def _line_of(table, number: str) -> str:
    return next(line for line in _lines(table) if number in line)


def _ticket(people, title: str = "Payroll down", **fields) -> Ticket:
    ticket = tickets.create(people["agent"], title, "details", impact=1, urgency=1, requester="requester")
    if fields:
        Ticket.update(**fields).where(Ticket.id == ticket.id).execute()
    return Ticket.get_by_id(ticket.id)


async def test_a_missed_response_reads_breached_not_the_resolution_time(engine, people):
    """INC000038: Critical, New, response due three hours ago, resolution due in 34 minutes."""
    now = clock.now()
    missed = _ticket(
        people,
        response_due=now - timedelta(hours=3),
        response_risk_at=now - timedelta(hours=4),
        resolution_due=now + timedelta(minutes=34),
        resolution_risk_at=now + timedelta(minutes=30),
    )
    answered = _ticket(
        people,
        "Answered in time",
        first_response_at=now - timedelta(hours=1),
        response_due=now - timedelta(minutes=30),
        resolution_due=now + timedelta(days=2, hours=3),
        resolution_risk_at=now + timedelta(days=1),
    )
    app = ItsmApp(engine)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        app.screen.apply_view("Every ticket", "", "-updated")
        await until(pilot, lambda: not table.fetching and len(table.rows) == 2)
        assert "resp breached" in _line_of(table, missed.number)
        assert "in 34m" not in _line_of(table, missed.number)
        assert "res in 2d" in _line_of(table, answered.number)  # responded: the resolution counts now


async def test_the_ticket_screen_shows_a_late_response_as_breached_while_open(engine, people):
    now = clock.now()
    late = _ticket(
        people,
        response_due=now - timedelta(hours=2),
        first_response_at=now - timedelta(hours=1),
        resolution_due=now + timedelta(hours=3),
    )
    app = ItsmApp(engine)
    async with app.run_test(size=(200, 50)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        app.open_ticket(late.id)
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view is not None)
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        console.print(app.screen.query_one("#ticket").content)
        shown = console.export_text()
        response_line = next(line for line in shown.splitlines() if "Response due" in line)
        assert "(breached)" in response_line, response_line
        resolution_line = next(line for line in shown.splitlines() if "Resolution due" in line)
        assert "(in 3h)" in resolution_line or "(in 2h)" in resolution_line, resolution_line


async def test_at_80_columns_age_and_sla_stay_and_titles_stay_readable(engine, people):
    title = "Laptop will not boot after the update"
    ticket = _ticket(people, title)
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        header = _lines(table)[0]
        assert "Age" in header and "SLA" in header, header
        assert "Category" not in header and "Requester" not in header
        assert title[:23] in _line_of(table, ticket.number)
        assert all(cell_len(line.rstrip()) <= table.size.width for line in _lines(table))
    app = ItsmApp(engine)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        header = _lines(table)[0]
        assert all(name in header for name in ("Category", "Requester", "Assignee", "Age", "SLA")), header


@pytest.mark.both_engines
async def test_age_arrow_points_to_the_oldest_and_the_sort_picker_offers_created_and_updated(engine, people):
    _ticket(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(200, 50)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        app.screen.apply_view("Every ticket", "", "-created")  # newest first: ages grow downwards
        await until(pilot, lambda: not table.fetching and table.sort.key == "created")
        assert "Age ▲" in _lines(table)[0]
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        names = [str(label) for label, _ in app.screen.choices]
        assert "Created" in names and "Updated" in names


@pytest.mark.both_engines
async def test_joined_emoji_and_combining_marks_do_not_shift_the_columns(engine, people):
    family = "👨\u200d👩\u200d👧\u200d👦"
    zalgo = "Z" + "\u0301\u0302\u0303\u0304\u0305\u0306" * 4 + "algo"
    joined = _ticket(people, f"{family} {family} printer")
    marked = _ticket(people, f"{zalgo} printer")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        app.screen.apply_view("Every ticket", "", "-updated")
        await until(pilot, lambda: not table.fetching and len(table.rows) == 2)
        for ticket in (joined, marked):
            line = _line_of(table, ticket.number)
            assert "\u200d" not in line  # each emoji stands alone: one width on every terminal
            assert "\u0303\u0304" not in line  # at most two marks on a letter
            assert cell_len(line) == cell_len(_lines(table)[0])  # as wide as the header, no wider
        age_at = {cell_len(_line_of(table, t.number).split(" 0m ")[0]) for t in (joined, marked)}
        assert len(age_at) == 1  # the Age column starts at the same cell on both rows


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_failed_read_keeps_the_rows_marked_stale_until_the_next_good_one(engine, people):
    """The database server goes away: the list keeps its rows and says since when and why."""
    ticket = _ticket(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        loader, port = table.loader, _closed_port()

        def unreachable(after, before, limit):  # a real connection refused by a closed port
            pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=2)

        table.loader = unreachable
        table.refresh_window(force=True)
        await until(pilot, lambda: table.stale)
        lines = _lines(table)
        assert any(ticket.number in line for line in lines)  # the rows stay
        assert f"showing rows from {clock.now():%H}" in lines[-1] and UNREACHABLE in lines[-1], lines[-1]
        toasts = len(app._notifications)
        table.refresh_window()  # the next timed refresh fails too: the mark says it, no new toast
        await until(pilot, lambda: not table.prefetching)
        assert table.stale and len(app._notifications) == toasts
        table.loader = loader
        table.refresh_window(force=True)
        await until(pilot, lambda: not table.stale and not table.fetching)
        assert not any("showing rows from" in line for line in _lines(table))


async def test_a_saved_view_is_renamed_and_deleted_from_the_view_picker(engine, people):
    from itsm_tui.core.tickets import views
    from itsm_tui.ui.modals.base import ConfirmModal
    from itsm_tui.ui.modals.prompts import TextPrompt
    from itsm_tui.ui.view_picker import ViewPicker

    _ticket(people)
    views.save_view(people["agent"], "Printers", "printer", "-updated")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ViewPicker))
        await pilot.press(*"All open", "ctrl+r")  # a built-in: refused in words, the picker stays
        assert isinstance(app.screen, ViewPicker)
        await pilot.press(*["backspace"] * 8, *"Print", "ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one("Input").value = "Printer trouble"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                [v.name for v in views.views_for(people["agent"]) if not v.builtin] == ["Printer trouble"]
            ),
        )
        await until(pilot, lambda: isinstance(app.screen, ViewPicker))  # back in the list
        await pilot.press(*"Print", "ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: not [v for v in views.views_for(people["agent"]) if not v.builtin])


async def test_a_view_name_refused_keeps_the_prompt_open_with_the_name_typed(engine, people):
    """ctrl+s with a built-in name, then a rename onto a name taken: each prompt stays open with
    what was typed and says why; a good name then saves."""
    from itsm_tui.core.tickets import views
    from itsm_tui.ui.modals.prompts import TextPrompt
    from itsm_tui.ui.view_picker import ViewPicker

    _ticket(people)
    views.save_view(people["agent"], "Printers", "printer", "-updated")
    views.save_view(people["agent"], "Payroll", "payroll", "-updated")
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")

        async def refused_then_saved(refused: str, why: str, good: str) -> None:
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            prompt, field = app.screen, app.screen.query_one("Input")
            field.value = refused
            await pilot.press("enter")
            await until(pilot, lambda: why in prompt_error(prompt))
            assert app.screen is prompt and field.value == refused
            field.value = good
            await pilot.press("enter")
            await until(pilot, lambda: good in [v.name for v in views.views_for(people["agent"])])
            await until(pilot, lambda: not isinstance(app.screen, TextPrompt))

        await pilot.press("ctrl+s")
        await refused_then_saved("Unassigned", "built-in view", "Open ones")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ViewPicker))
        await pilot.press(*"Printers", "ctrl+r")
        await refused_then_saved("payroll", "already have a view", "Printing")


async def test_at_80_columns_the_ticket_screen_does_not_wrap_names(engine, people):
    ticket = _ticket(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        app.open_ticket(ticket.id)
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view is not None)
        await pilot.pause()
        body = app.screen.query_one("#ticket")
        console = Console(width=body.size.width, record=True, file=open("/dev/null", "w"))
        console.print(body.content)
        lines = console.export_text().splitlines()
        requester = people["requester"]
        assert any(f"{requester.full_name} ({requester.username})" in line for line in lines), lines[:12]
        created = next(line for line in lines if line.lstrip().startswith("Created"))
        assert f"{ticket.created_at:%Y-%m-%d %H:%M}" in created
