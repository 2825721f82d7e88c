"""The database goes away under issue 21's dialogs: SQLite locked by another writer, the MariaDB
server unreachable (every connection the app holds cut, nothing listening where it reconnects).
Each dialog says what failed in words, keeps what was typed, and the retry (the same key once the
database is back) writes exactly once: the rows are counted in the database."""

from __future__ import annotations

import io
import time
from contextlib import contextmanager
from pathlib import Path

import pymysql
import pytest
from rich.console import Console
from test_db_failures import locked, short_busy_timeout  # noqa: F401 (a fixture)
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input
from ui_helpers import everything_shown, fill, logged_in, typed, until

from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store import db
from itsm_tui.core.store.db_errors import LOCKED, UNREACHABLE
from itsm_tui.core.store.models import (
    AuditEntry,
    Comment,
    Macro,
    Team,
    TeamMember,
    Ticket,
    TicketLink,
    TicketTag,
)
from itsm_tui.core.tickets import macros, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.modals.teamwork import MacrosModal, TeamsModal
from itsm_tui.ui.screens.categories import CategoriesScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.system import SystemScreen
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.screens.users import UsersScreen
from itsm_tui.ui.widgets.filter_bar import FilterError
from itsm_tui.ui.widgets.paged_table import FRESH_FOR
from itsm_tui.ui.widgets.ticket_table import TicketTable

pytestmark = [pytest.mark.asyncio, pytest.mark.both_engines]
RAW = ("Traceback", "Error(", "(2003", "127.0.0.1")  # the driver's words: never shown


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def unreachable(url: str):
    """Every connection the app holds to its MariaDB database is cut (KILL), and reconnecting
    finds a closed port: what a stopped server looks like, without stopping the shared one."""
    database, target = db.database.obj, db.parse_mysql_url(url)
    hosts = database.hosts
    database.hosts = (("127.0.0.1", _closed_port()),)
    admin = pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password)
    try:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                (target.name,),
            )
            for (thread,) in cur.fetchall():
                cur.execute(f"KILL CONNECTION {int(thread)}")
    finally:
        admin.close()
    try:
        yield
    finally:
        database.hosts = hosts


@pytest.fixture
def gone(engine, short_busy_timeout):  # noqa: F811 (the fixture imported above)
    """(the failure this engine meets, as a context manager; the words the app says for it)"""
    if engine.startswith("sqlite"):
        return (lambda: locked(Path(engine.removeprefix("sqlite:///")))), LOCKED
    return (lambda: unreachable(engine)), UNREACHABLE


async def _fails_then_writes_once(pilot, gone, save: tuple[str, ...], typed, written, retry=None):
    """Press ``save`` while the database is gone: the reason is shown, what ``typed()`` reads
    is kept and nothing is written; the retry (``save`` again, or the ``retry`` coroutine) once
    it is back writes exactly once."""
    failure, words = gone
    before = typed()
    pilot.app.clear_notifications()
    with failure():
        await pilot.press(*save)
        await until(pilot, lambda: words in _messages(pilot.app))
        assert typed() == before
        said = _messages(pilot.app)
        assert not any(raw in said for raw in RAW), said
    assert written() == 0
    await (retry() if retry else pilot.press(*save))
    await until(pilot, lambda: written() >= 1)
    await pilot.pause(0.3)
    assert written() == 1


def _messages(app) -> str:
    """What the app says: its notifications, the error lines of its screens and the dialog on
    top. Not the background jobs' own notice (the SLA monitor's: not these dialogs' words)."""
    said = [n.message for n in app._notifications if n.title != "SLA figures could not be computed"]
    said += [str(line.render()) for screen in app.screen_stack for line in screen.query(ErrorLine)]
    if isinstance(app.screen, ModalScreen):
        said += [str(widget.render()) for widget in app.screen.query("Static, Label")]
    return "\n".join(said)


async def _opens(pilot, key: str, kind: type):
    """Press ``key`` and wait for the dialog (or screen) of type ``kind``; it is returned."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    return pilot.app.screen


async def _types(pilot, key: str, text: str) -> None:
    """``key`` opens a prompt or a picker, and ``text`` is typed into it (Enter not pressed)."""
    await _opens(pilot, key, (TextPrompt, ChoicePicker, AgentPicker))
    await pilot.press(*text)
    await pilot.pause(0.2)  # a picker filters as typed


async def _chosen_fails_then_writes_once(pilot, gone, choose, last: str, written) -> None:
    """A dialog of choices (nothing typed to keep): ``choose()`` leads to its ``last`` key,
    pressed while the database is gone; the retry is the same keys again."""

    async def again():
        await choose()
        await pilot.press(last)

    await choose()
    await _fails_then_writes_once(pilot, gone, (last,), _nothing_typed, written, again)


def _nothing_typed() -> None:
    """A dialog of choices only: nothing typed to keep."""


def _logged(entity_type: str, words: str, entity_id: int | None = None) -> int:
    """Log entries of ``entity_type`` (one record's) whose summary holds ``words``."""
    query = AuditEntry.select().where(
        (AuditEntry.entity_type == entity_type) & AuditEntry.summary.contains(words)
    )
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    return query.count()


async def _on_ticket(pilot, ticket_id: int) -> TicketScreen:
    await logged_in(pilot, "admin", "admin-password-1")
    pilot.app.open_ticket(ticket_id)
    await until(pilot, lambda: isinstance(pilot.app.screen, TicketScreen) and pilot.app.screen.view)
    return pilot.app.screen


async def _in(pilot, people, command: str, kind: type):
    """Logged in as the admin (a ticket in the queue), in ``:command``'s dialog or screen."""
    tickets.create(people["requester"], "Printer jams", "Every page", category="Hardware")
    await logged_in(pilot, "admin", "admin-password-1")
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
    await pilot.press(*command, "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    return pilot.app.screen


def _value(app) -> str:
    return app.screen.query_one("#value", Input).value


# ---------------------------------------------------------------- :teams and :macros


async def test_new_team_keeps_the_name_typed(engine, people, gone):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        listing = await _in(pilot, people, "teams", TeamsModal)
        await _types(pilot, "n", "Network")
        await _fails_then_writes_once(
            pilot,
            gone,
            ("enter",),
            lambda: _value(app),
            lambda: Team.select().where(Team.name == "Network").count(),
        )
        await until(pilot, lambda: app.screen is listing)


async def test_rename_team_and_add_member(engine, people, gone):
    teams.add(people["admin"], "Network")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        listing = await _in(pilot, people, "teams", TeamsModal)
        await until(pilot, lambda: listing.records)
        await _types(pilot, "r", " core")
        await _fails_then_writes_once(
            pilot,
            gone,
            ("enter",),
            lambda: _value(app),
            lambda: _logged("team", "updated team Network: name"),
        )
        await until(pilot, lambda: app.screen is listing and "Network core" in everything_shown(app))
        await _chosen_fails_then_writes_once(
            pilot, gone, lambda: _types(pilot, "a", "agent2"), "enter", lambda: TeamMember.select().count()
        )


async def test_new_macro_keeps_the_form(engine, people, gone):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _in(pilot, people, "macros", MacrosModal)
        form = await _opens(pilot, "n", FormModal)
        fill(form, {"name": "Thanks", "body": "Thanks, {requester}."})
        await _fails_then_writes_once(
            pilot,
            gone,
            ("ctrl+s",),
            lambda: typed(form, {"name": 1, "body": 1}),
            lambda: Macro.select().where(Macro.name == "Thanks").count(),
        )


# ---------------------------------------------------------------- :categories


def _cursor_on(screen: CategoriesScreen, name: str) -> None:
    screen.query_one(DataTable).move_cursor(row=[c.name for c, _ in screen.rows].index(name))


async def test_add_and_rename_a_category_keep_the_name_typed(engine, people, gone):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _in(pilot, people, "categories", CategoriesScreen)
        await _types(pilot, "n", "Printers")
        await _fails_then_writes_once(
            pilot, gone, ("enter",), lambda: _value(app), lambda: _logged("category", "category Printers")
        )
        await until(pilot, lambda: app.screen is screen and "Printers" in [c.name for c, _ in screen.rows])
        _cursor_on(screen, "Hardware")
        await _types(pilot, "r", " and kit")
        await _fails_then_writes_once(
            pilot,
            gone,
            ("enter",),
            lambda: _value(app),
            lambda: _logged("category", "renamed category Hardware to Hardware and kit"),
        )


async def test_deactivate_and_merge_a_category(engine, people, gone):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _in(pilot, people, "categories", CategoriesScreen)
        await until(pilot, lambda: screen.rows)
        _cursor_on(screen, "Access")

        async def stay():
            await until(pilot, lambda: app.screen is screen)

        await _chosen_fails_then_writes_once(
            pilot, gone, stay, "d", lambda: _logged("category", "deactivated category Access")
        )
        await until(pilot, lambda: not dict((c.name, c) for c, _ in screen.rows)["Access"].is_active)
        _cursor_on(screen, "Hardware")

        async def merge_into_general():
            await _types(pilot, "m", "General")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))

        await _chosen_fails_then_writes_once(
            pilot,
            gone,
            merge_into_general,
            "y",
            lambda: _logged("ticket", "category Hardware merged into General"),
        )


# ---------------------------------------------------------------- the ticket screen


async def test_edit_keeps_the_form(engine, people, gone):
    ticket = tickets.create(people["requester"], "Printer jams", "Every page")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, ticket.id)
        form = await _opens(pilot, "e", FormModal)
        form._widget(0).value = "Printer 3F jams"
        form._widget(1).text = "Tray 2"
        await _fails_then_writes_once(
            pilot,
            gone,
            ("ctrl+s",),
            lambda: typed(form, {"title": 1, "description": 1}),
            lambda: _logged("ticket", "title", ticket.id),
        )
    row = Ticket.get_by_id(ticket.id)
    assert (row.title, row.description) == ("Printer 3F jams", "Tray 2")


async def _merge_asked(pilot, number: str) -> ConfirmModal:
    await _types(pilot, "M", number)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))
    return pilot.app.screen


async def test_merge_asks_first_and_a_failed_merge_keeps_the_number(engine, people, gone):
    target = tickets.create(people["requester"], "VPN drops", "Hourly")
    duplicate = tickets.create(people["requester2"], "VPN keeps dropping", "Since Monday")
    tickets.comment(people["requester2"], duplicate.id, "Again now")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, duplicate.id)
        asked = await _merge_asked(pilot, target.number)
        assert asked.message == (
            f"Merge {duplicate.number} 'VPN keeps dropping' into {target.number} 'VPN drops'? Moving to "
            f"{target.number}: 1 comment, 0 attachments. {duplicate.number} is then closed with a "
            f"pointer to {target.number}, and both histories say so."
        )
        failure, words = gone
        with failure():
            await pilot.press("y")
            await until(pilot, lambda: words in _messages(app))
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            assert _value(app) == target.number  # the prompt again, with the number typed
        assert TicketLink.select().count() == 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: TicketLink.select().count() >= 1)
        await pilot.pause(0.3)
    assert [link.kind for link in TicketLink.select()] == ["merged"]
    assert Ticket.get_by_id(duplicate.id).status == "closed"
    assert Comment.get().ticket_id == target.id


async def test_merge_cancelled_at_the_confirmation_changes_nothing(engine, people):
    target = tickets.create(people["requester"], "VPN drops", "Hourly")
    duplicate = tickets.create(people["requester2"], "VPN keeps dropping", "Since Monday")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, duplicate.id)
        await _merge_asked(pilot, target.number)
        await pilot.press("enter")  # "Cancel" has the focus: one Enter never merges
        await until(pilot, lambda: app.screen is screen)
    assert Ticket.get_by_id(duplicate.id).status == "new" and TicketLink.select().count() == 0


async def test_link_keeps_the_number_typed(engine, people, gone):
    parent = tickets.create(people["requester"], "Mail server down", "All users")
    child = tickets.create(people["requester2"], "No mail", "Outlook offline")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, parent.id)
        await _types(pilot, "L", "parent")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*child.number)
        await _fails_then_writes_once(
            pilot, gone, ("enter",), lambda: _value(app), lambda: TicketLink.select().count()
        )


async def test_tags_keep_the_words_typed(engine, people, gone):
    ticket = tickets.create(people["requester"], "VPN slow", "From home")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, ticket.id)
        await _types(pilot, "t", "vpn remote")
        await _fails_then_writes_once(
            pilot, gone, ("enter",), lambda: _value(app), lambda: _logged("ticket", "+remote +vpn", ticket.id)
        )
    assert sorted(t.tag for t in TicketTag.select()) == ["remote", "vpn"]


# the ticket screen's keys of choices only: (to the last key, the last key, what it writes)
CHOICES_ONLY = {
    "D": (
        lambda pilot: _opens(pilot, "D", ConfirmModal),
        "y",
        lambda t: _logged("ticket", "'VPN down' requested"),
    ),
    "T": (
        lambda pilot: _types(pilot, "T", "Netw"),
        "enter",
        lambda t: _logged("ticket", "to team Network", t.id),
    ),
    "m": (lambda pilot: _types(pilot, "m", "than"), "enter", lambda t: _replies(t)),
}


def _replies(ticket) -> int:
    return Comment.select().where(Comment.ticket == ticket.id).count()


@pytest.mark.parametrize("key", sorted(CHOICES_ONLY))
async def test_delete_team_and_macro_on_one_ticket(engine, people, gone, key):
    teams.add(people["admin"], "Network")
    macros.create(people["admin"], "Thanks", "Thanks, {requester}.")
    ticket = tickets.create(people["requester"], "VPN down", "since 9")
    choose, last, written = CHOICES_ONLY[key]
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, ticket.id)
        await _chosen_fails_then_writes_once(
            pilot, gone, lambda: choose(pilot), last, lambda: written(ticket)
        )


async def test_macro_on_marked_tickets(engine, people, gone):
    made = [tickets.create(people["requester"], f"Printer {i}", "jammed") for i in range(2)]
    macros.create(people["admin"], "Thanks", "Thanks, {requester}.")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "admin", "admin-password-1")

        async def mark_two_and_pick():
            """Both tickets marked, the macro picked; after a failed try, its report closed."""
            if isinstance(app.screen, MessageModal):
                await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, QueueScreen) and not table.fetching)
            for ticket in made:
                table.cursor = [row["id"] for row in table.rows].index(ticket.id)
                await pilot.press("space")
            await _types(pilot, "m", "than")

        await _chosen_fails_then_writes_once(
            pilot, gone, mark_two_and_pick, "enter", lambda: min(_replies(made[0]), _replies(made[1]))
        )
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        assert "2 of 2 tickets got macro Thanks" in "\n".join(app.screen.lines)
    assert [_replies(t) for t in made] == [1, 1]


def _failed_task(notification, words: str) -> bool:
    """The app's notice of a failed task (a key's worker), not a background job's."""
    return notification.title == "That did not work" and words in notification.message


async def test_a_key_whose_first_read_fails_says_so_and_opens_nothing(engine, people, gone):
    """e, D, T and m read before their dialog opens (categories, what goes, teams, macros):
    with the server unreachable each says why (the app's word for a failed task), and the
    ticket screen stays as it was."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    ticket = tickets.create(people["requester"], "VPN down", "since 9")
    failure, words = gone
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, ticket.id)
        for key in ("e", "D", "T", "m"):
            app.clear_notifications()
            with failure():
                await pilot.press(key)
                await until(pilot, lambda: any(_failed_task(n, words) for n in app._notifications))
            assert app.screen is screen and screen.view is not None, key


async def test_a_new_filter_with_the_server_gone_says_why_and_keeps_the_filter(engine, people, gone):
    """Enter on a new filter while the server cannot be reached: the bar or the list says why
    in words (never the old filter's rows under the new filter, never "Nothing matches"), the
    filter typed stays in the bar, and Enter once it is back lists its tickets."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    tickets.create(people["requester"], "Laptop fan loud", "x")
    printer = tickets.create(people["requester"], "Printer jams", "tray 2")
    failure, words = gone
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await until(pilot, lambda: len(table.rows) == 2)
        screen, bar = app.screen, app.screen.query_one("#filter", Input)

        def said() -> str:  # (the top line names the database and its host, by design)
            errors = [str(error.render()) for error in screen.query(FilterError)]
            return "\n".join([_messages(app), *errors, str(table.render())])

        with failure():
            await pilot.press("slash", "ctrl+u", *"printer", "enter")
            await until(pilot, lambda: words in said())
            await pilot.pause(0.3)
            assert bar.value == "printer"
            rows = str(table.render())  # refused in the bar (the old filter's rows stay, and say
            if screen.filter_text == "printer":  # so), or applied: no rows, and why
                assert "could not read the rows" in rows and "Laptop" not in rows
            assert "Nothing matches" not in rows
            assert not any(raw in said() for raw in RAW), said()
        assert app.focused is bar  # the bar kept the focus: Enter again
        await pilot.press("enter")
        await until(pilot, lambda: [row["id"] for row in table.rows] == [printer.id])
        assert screen.filter_text == "printer"


def _drawn(screen, selector: str) -> str:
    """What a Static of ``screen`` shows, as text (its content may be a group of lines)."""
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(screen.query_one(selector).content)
    return console.export_text()


@pytest.mark.parametrize("record", ["ticket", "system"])
async def test_a_record_screen_whose_refresh_fails_keeps_it_and_says_since_when(engine, people, gone, record):
    """A ticket's or a system's screen reads it again every few seconds: with the server
    unreachable it keeps what it shows, says above it since when and why (one toast, not one
    per refresh, never the driver's words), and the line goes once a read succeeds again."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    failure, words = gone
    app = ItsmApp(engine)
    ticket = tickets.create(people["requester"], "VPN down", "since 9")
    async with app.run_test(size=(120, 40)) as pilot:
        if record == "ticket":
            screen, selector, title = await _on_ticket(pilot, ticket.id), "#ticket", "VPN down"
        else:
            made = inventory.create(
                people["admin"], "system", {"hostname": "ws-77", "asset_tag": "AT-77", "type": "laptop"}
            )
            await logged_in(pilot, "admin", "admin-password-1")
            app.open_system(made.id)
            await until(pilot, lambda: isinstance(app.screen, SystemScreen) and app.screen.view)
            screen, selector, title = app.screen, "#summary", "ws-77"
        app.clear_notifications()
        with failure():
            for _ in range(2):  # two timed refreshes
                screen.load()
                await until(pilot, lambda: screen.reads.stale and not screen.reads.busy)
            shown = _drawn(screen, selector)
            assert words in shown and "as read at" in shown and title in shown
            said = [n.message for n in app._notifications if words in n.message]
            assert len(said) == 1, said
            if record == "ticket":  # the read after a change (whose write failed) fails too
                screen.after_change([screen.ticket_id])
            else:
                screen.changed()
            await until(pilot, lambda: not screen.reads.busy)
            assert screen.view is not None and title in _drawn(screen, selector)  # still shown
            assert not any(raw in shown + said[0] for raw in RAW), shown
        screen.load()
        await until(pilot, lambda: not screen.reads.stale and words not in _drawn(screen, selector))
        assert title in _drawn(screen, selector)


async def test_the_notification_poll_says_once_that_the_server_is_gone(engine, people, gone):
    """New notifications are looked for every 5 s: with the server unreachable that is said
    once, in words, not at every poll; the poll works again once it is back."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    tickets.create(people["requester"], "VPN down", "since 9")
    failure, words = gone
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")

        def polled() -> bool:
            return not any(w.is_running for w in app.workers if w.group == "notifications")

        app.clear_notifications()
        with failure():
            for _ in range(3):
                app.poll_notifications()
                await until(pilot, lambda: app.poll_failing and polled())
        said = [n for n in app._notifications if "new notifications show once it is back" in n.message]
        assert len(said) == 1 and words in said[0].message and said[0].title == "Notifications"
        assert not any(raw in said[0].message for raw in RAW)
        app.poll_notifications()
        await until(pilot, lambda: not app.poll_failing)


async def test_a_count_that_failed_is_made_again_once_the_server_is_back(engine, people, gone):
    """The queue's count fails while the server is unreachable; the next timed refresh once it
    is back counts again, though no ticket changed meanwhile."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    for title in ("VPN down", "Printer jams"):
        tickets.create(people["requester"], title, "since 9")
    failure, _ = gone
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await until(pilot, lambda: screen.total == 2)
        with failure():
            table.read_at = time.monotonic() - FRESH_FOR  # the refresh leaves a list read just now
            screen._periodic_refresh()
            await until(pilot, lambda: screen.total is None)
        table.read_at = time.monotonic() - FRESH_FOR
        screen._periodic_refresh()
        await until(pilot, lambda: screen.total == 2)


@pytest.mark.parametrize("key", ["n", "e"])
async def test_a_user_form_whose_choices_cannot_be_read_says_why_in_words(engine, people, gone, key):
    """n and e on :users read the departments before the form opens: with the server gone
    that is said in words, never the driver's text with the server's address."""
    if engine.startswith("sqlite"):
        pytest.skip("a locked SQLite database still reads: only its writes fail")
    failure, words = gone
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _in(pilot, people, "users", UsersScreen)
        await until(pilot, lambda: screen.table.rows)
        app.clear_notifications()
        with failure():
            await pilot.press(key)
            await until(pilot, lambda: words in _messages(app))
        said = _messages(app)
        assert not any(raw in said for raw in RAW), said
        assert app.screen is screen
