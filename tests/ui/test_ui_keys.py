"""Keys a new user trips over (issue 17): a burst after / or : belongs to the field; marks never
redirect a later action; the role's keys; the command line and the palette."""

from __future__ import annotations

import time

import pytest
from textual import events
from textual.widgets import Input, Label, OptionList, Static
from ui_helpers import burst, from_palette, logged_in, screen_text, shown, until

from itsm_tui.core import config, setup
from itsm_tui.core.errors import ItsmError, PermissionDenied
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Notification, Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.forms import FormModal, PriorityForm
from itsm_tui.ui.modals.panels import HelpModal, MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, StatusPicker
from itsm_tui.ui.screens.inventory import InventoryScreen
from itsm_tui.ui.screens.log import LogScreen
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.setup import SetupScreen
from itsm_tui.ui.screens.ticket import TicketScreen

pytestmark = pytest.mark.asyncio


async def test_keys_in_one_burst_after_slash_go_to_the_filter_not_to_the_list(engine, people):
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        # "/" and what follows arrive in one read: a would assign, e export, N read notifications
        burst(app, "/", "ctrl+u", "prio:high aeN")
        await until(pilot, lambda: screen.filter_bar.value == "prio:high aeN")
        await pilot.pause(0.3)
        assert app.screen is screen and app.focused is screen.filter_bar
        assert Ticket.get_by_id(ticket.id).assignee_id is None


async def test_a_burst_after_colon_is_the_command_and_ticket_takes_a_bare_number(engine, people):
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    notifications_before = Notification.select().where(Notification.read_at.is_null()).count()
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        burst(app, f":ticket {ticket.id}\r")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        assert app.screen.ticket_id == ticket.id
    assert Notification.select().where(Notification.read_at.is_null()).count() == notifications_before


async def test_a_burst_after_a_screen_key_acts_on_the_new_screen(engine, people):
    tickets.create(people["requester"], "Printer jams", "tray 2")
    for n in (1, 2, 3):
        inventory.create(
            people["agent"], "system", {"hostname": f"ws-{n}", "asset_tag": f"AT-{n}", "type": "laptop"}
        )
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = (await logged_in(pilot, "agent", "agent-password-1")).screen
        # "3" then two downs in one read: the log's list moves, before its rows were there
        burst(app, "3", "down", "down")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.table.rows)
        await pilot.pause(0.3)
        assert (app.screen.table.cursor, queue.table.cursor) == (2, 0)
        burst(app, "2", "/", "ws-2")
        await until(
            pilot, lambda: isinstance(app.screen, InventoryScreen) and app.screen.filter_bar.value == "ws-2"
        )
        # Esc leaves the filter; what follows in the same read is for the screen, not the field
        bar = app.screen.filter_bar
        burst(app, "escape", "3")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        assert "3" not in bar.value


def _printers_and_laptops(people) -> None:
    """Five laptop tickets and two printer ones."""
    for n in range(5):
        tickets.create(people["requester"], f"Laptop {n}", "x")
    for name in ("A", "B"):
        tickets.create(people["requester"], f"Printer {name}", "tray 2")


async def _seven_rows(pilot, people):
    """The agent's queue with the seven tickets of _printers_and_laptops on screen; the
    printers' ids in the order the screen sorts them."""
    table = await logged_in(pilot, "agent", "agent-password-1")
    await until(pilot, lambda: len(table.rows) == 7)
    sort = pilot.app.screen.sort
    return table, [row["id"] for row in queue.page(people["agent"], "printer", sort).rows]


async def _printers_read_slowly(pilot, table, seconds: float) -> None:
    """The filter ``printer`` applied while each read of the table takes ``seconds`` longer."""
    _slowed(table, seconds)
    burst(pilot.app, "/", "ctrl+u", "printer\r")
    await until(pilot, lambda: pilot.app.screen.filter_text == "printer")


def _slowed(table, seconds: float) -> None:
    """The table's reads take ``seconds`` longer (in its worker thread), as on a busy server."""
    read = table.loader

    def slow(*args):
        time.sleep(seconds)
        return read(*args)

    table.loader = slow


async def test_keys_after_enter_in_the_filter_act_on_the_rows_it_filtered(engine, people):
    _printers_and_laptops(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        _, printers = await _seven_rows(pilot, people)
        screen = app.screen
        # One read: j went into the bar ("printerj") while the filter was being checked
        burst(app, "/", "ctrl+u", "printer\r", "j", "enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        assert app.screen.ticket_id == printers[1] and screen.filter_text == "printer"


async def test_keys_typed_while_the_rows_are_read_act_on_the_new_rows(engine, people):
    _printers_and_laptops(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table, printers = await _seven_rows(pilot, people)
        _slowed(table, 0.5)
        # a assigned the second of the old rows (a laptop) while the printers were read
        burst(app, "/", "ctrl+u", "printer\r", "j", "a")
        await until(pilot, lambda: Ticket.get_by_id(printers[1]).assignee_id == people["agent"].id)
        assert not Ticket.select().where(Ticket.assignee.is_null(False), Ticket.id != printers[1]).exists()


async def test_a_slow_new_filter_hides_the_old_rows_and_a_failed_one_says_why(engine, people):
    _printers_and_laptops(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table, _ = await _seven_rows(pilot, people)
        screen = app.screen
        await _printers_read_slowly(pilot, table, 3)
        await pilot.pause(1.5)  # the old rows go; keys typed now have nothing to act on
        assert table.fetching and table.current is None and "loading…" in shown(table)
        assert "Laptop" not in shown(table) and "7 tickets" not in shown(screen.query_one("#status-line"))
        await pilot.press("a")  # held, then acts on nothing or on a printer: never on a laptop
        await until(pilot, lambda: len(table.rows) == 2)
        await pilot.pause(0.3)
        taken = Ticket.select(Ticket.title).where(Ticket.assignee.is_null(False))
        assert not [t.title for t in taken if t.title.startswith("Laptop")]

        def fail(*args):
            raise ItsmError("the database is not answering")

        table.loader = fail
        burst(app, "/", "ctrl+u", "laptop\r")
        await until(pilot, lambda: table.stale)
        assert "could not read the rows: the database is not answering" in shown(table)
        assert "Printer" not in shown(table) and "Nothing matches" not in shown(table)


async def test_a_key_waits_a_second_at_most_for_a_slow_read_and_ctrl_q_not_at_all(engine, people):
    _printers_and_laptops(people)
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table, _ = await _seven_rows(pilot, people)
        screen = app.screen
        await _printers_read_slowly(pilot, table, 8)
        await pilot.pause(0.3)
        assert table.fetching
        start = time.monotonic()
        await pilot.press("question_mark")  # needs no rows: held a second, then shown
        await until(pilot, lambda: isinstance(app.screen, HelpModal))
        assert time.monotonic() - start < 4 and table.fetching
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert table.fetching
        start = time.monotonic()
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, timeout=5)
        assert time.monotonic() - start < 2


async def test_marks_name_the_tickets_clear_after_the_action_and_on_escape(engine, people):
    made = [tickets.create(people["requester"], f"Ticket {i}", "x") for i in range(5)]
    tickets.assign(people["supervisor"], made[0].id, made[0].version, people["agent"])
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "supervisor", "supervisor-password-1")
        table.cursor = 0
        burst(app, "space", "space", "space")  # space marks and moves down
        await until(pilot, lambda: len(table.marks) == 3 and table.cursor == 3)
        marked = sorted(table.marks)
        numbers = [Ticket.get_by_id(i).number for i in marked]
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker))
        said = str(app.screen.query_one("#subject").render())
        assert said == f"3 marked tickets: {', '.join(numbers)}"
        current = str(app.screen.query_one("#current").render())
        assert current.startswith("Current status: ") and "(" in current  # each status, how many
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, StatusPicker))
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PriorityForm))
        assert str(app.screen.query_one("#subject").render()).startswith("3 marked tickets: ")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PriorityForm))
        await pilot.press("escape")  # Esc on the list clears the marks
        await until(pilot, lambda: not table.marks)
        burst(app, "space", "space")
        await until(pilot, lambda: len(table.marks) == 2)
        two = sorted(table.marks)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AgentPicker))
        assert str(app.screen.query_one("#subject").render()).startswith("2 marked tickets: ")
        app.screen.query_one(Input).value = "agent2"
        await pilot.pause(0.2)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))  # the summary
        assert all(Ticket.get_by_id(i).assignee_id == people["agent2"].id for i in two)
        await pilot.press("enter")
        await until(pilot, lambda: not table.marks)  # done: a later key acts on the cursor again
        await pilot.press("asterisk")  # every row under the filter (All open: the five)
        await until(pilot, lambda: table.marks == {t.id for t in made})


async def test_agents_are_not_offered_what_their_role_cannot_do(engine, people):
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        actions = {b.binding.action for b in app.active_bindings.values()}
        assert "assign_other" not in actions and "assign_me" in actions
        await pilot.press("A")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, AgentPicker)
        assert not [n for n in app._notifications if "ticket." in n.message or "a agent" in n.message]
    with pytest.raises(PermissionDenied) as refused:
        tickets.assign(people["agent"], Ticket.get().id, Ticket.get().version, people["agent2"])
    assert str(refused.value) == "an agent may not assign a ticket to another agent"


async def test_taking_over_another_agents_ticket_asks_first(engine, people):
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    tickets.assign(people["agent2"], ticket.id, ticket.version, people["agent2"])
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "agent2" in app.screen.message and ticket.number in app.screen.message
        await pilot.press("enter")  # Cancel has the focus
        await until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        assert Ticket.get_by_id(ticket.id).assignee_id == people["agent2"].id
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: Ticket.get_by_id(ticket.id).assignee_id == people["agent"].id)


async def test_a_first_start_left_before_the_admin_existed_offers_the_admin_form_again(tmp_path, monkeypatch):
    """e (an empty database), Esc, q: the next start must not be a login nobody can pass."""
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ITSM_DB", raising=False)
    config.override_settings(None)
    app = ItsmApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("q")
    assert (tmp_path / "data" / "itsm.db").exists()
    again = ItsmApp()
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(again.screen, SetupScreen))
        assert "no admin account yet" in "\n".join(str(w.render()) for w in again.screen.query(Static))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(again.screen, FormModal))
        form = again.screen
        form.query_one("#field-2", Input).value = "a-long-password-1"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(again.screen, LoginScreen))
    db.database.close()


async def test_served_the_first_run_screen_never_shows_and_says_what_to_do_on_the_host(tmp_path, monkeypatch):
    """Served, the first-run screen would make whoever connects first an admin (the demo desk's
    admin/itsm-demo-pass, or their own): with no database, or none but a password-less admin
    (`user add --role admin` without a terminal), the app says what to run on the host and ends,
    and leaves no database file behind."""
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ITSM_DB", raising=False)
    config.override_settings(config.Settings(mode="served"))
    said: list[str] = []
    real_exit = ItsmApp.exit
    monkeypatch.setattr(
        ItsmApp, "exit", lambda app, *a, **k: said.append(str(k.get("message"))) or real_exit(app, *a, **k)
    )
    try:
        app = ItsmApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert not isinstance(app.screen, SetupScreen)
        assert app.return_code == 1 and "no database yet" in said.pop()
        assert not (tmp_path / "data" / "itsm.db").exists()
        setup.open_database(config.default_db_url(), check=False)
        setup.initialise()
        users.create_user(users.system_actor(), "alice", "admin")  # no password: cannot log in
        db.database.close()
        again = ItsmApp()
        async with again.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert not isinstance(again.screen, SetupScreen)
        assert again.return_code == 1 and "no admin can log in" in said[-1]
        assert "`itsm-tui user password NAME` sets one" in said[-1]
    finally:
        config.override_settings(None)
        db.database.close()


async def test_the_palette_has_the_screen_verbs_and_help_lists_every_key(engine, people):
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        from itsm_tui.ui.app import ItsmCommands

        provider = ItsmCommands(app.screen)
        names = {name for name, _, _ in provider._commands()}
        assert {"Export", "Sort", "Status", "Assign to me", "Comment"} <= names
        assert "Assign to…" not in names  # not an agent's
        assert not {"Users", "Import"} & names  # screens an agent cannot open
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpModal))
        keys = dict(app.screen.keys)
        assert {"↓ j", "↑ k", "e E", "*"} <= set(keys)
        assert any(k.split() == ["e", "E"] for k in keys)
        await pilot.press("escape")
        app.run_command("inventory")
        await until(pilot, lambda: type(app.screen).__name__ == "InventoryScreen")
        screen = app.screen
        assert screen.check_action("export", ()) is True  # systems
        screen.kind = "department"
        assert screen.check_action("export", ()) is False


async def test_keys_in_the_palette_opens_the_list_that_question_mark_shows(engine, people):
    """The palette's Keys is the ? list of the screen it was opened on, not Textual's side
    panel (fewer keys, and neither esc nor ? closed it)."""
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await from_palette(pilot, "keys")
        await until(pilot, lambda: isinstance(app.screen, HelpModal))
        assert app.screen.heading == "Keys: Queue" and not app.query("HelpPanel")
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")


async def test_the_palette_lists_quit_once_logged_in_or_not(engine, people):
    """Quit was there twice (Textual's own and the app's); now once, with the app's words and
    key, on the login screen and logged in; and it quits."""
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)

    async def quits_offered() -> list[str]:
        await pilot.press("ctrl+p", *"quit")
        await until(pilot, lambda: "Leave itsm-tui" in screen_text(app))
        await pilot.pause(0.3)  # every provider has answered
        lines = [line.strip() for line in screen_text(app).splitlines()]
        return [after for line, after in zip(lines, lines[1:]) if line == "Quit"]

    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert await quits_offered() == ["Leave itsm-tui (ctrl+q)"]
        await pilot.press("escape")
        await logged_in(pilot, "agent", "agent-password-1")
        assert await quits_offered() == ["Leave itsm-tui (ctrl+q)"]
        await pilot.press("enter")
        await until(pilot, lambda: app.return_code == 0)


async def test_the_command_line_lists_every_command_at_80_columns(engine, people):
    """The prompt's line of commands wraps in the box (it ran off the right edge after
    :categories, so :tokens, :ticket 123 and :quit were never seen)."""
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press(":")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        await pilot.pause()
        box = screen_text(app).replace("█", " ")
        assert ":devices :tokens :ticket 123 :quit" in " ".join(box.split())
        assert "enter run · esc cancel" in box  # Enter runs a command; it saves nothing


async def test_down_then_enter_in_one_burst_picks_the_row_below(engine, people):
    """In a picker, ↓ and Enter read at once take the row ↓ moved to: Enter ran in the filter
    field at once, ↓ only once it had travelled up to the dialog, so the first row was taken
    (and ↓ then moved the list underneath)."""
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AgentPicker) and isinstance(app.focused, Input))
        picker = app.screen
        below = picker.values[picker.query_one(OptionList).highlighted + 1]
        burst(app, "down", "enter")
        await until(pilot, lambda: Ticket.get_by_id(ticket.id).assignee_id is not None)
        assert Ticket.get_by_id(ticket.id).assignee.username == below


@pytest.mark.parametrize(
    "who,offered,not_offered",
    [
        ("requester", [":tokens", ":devices"], [":users", ":import", ":log"]),
        ("admin", [":users", ":import"], []),
    ],
)
async def test_the_command_line_offers_the_commands_the_role_may_run(
    engine, people, who, offered, not_offered
):
    """A requester was offered :users and :import, which only said they were not theirs."""
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, who, f"{who}-password-1")
        await pilot.press(":")
        await until(pilot, lambda: isinstance(app.screen.focused, Input))
        hint = str(app.screen.query_one("#label", Label).render())
        assert all(command in hint.split() for command in offered), hint
        assert not any(command in hint.split() for command in not_offered), hint
