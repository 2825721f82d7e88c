"""The activity log screen driven like an operator would, on SQLite and MariaDB.

The owner wires ``3`` and ``:log``; these tests push the screen themselves after logging in.
The app runs with the clock frozen at ``NOW`` (ten days after the users were made), so the
relative times are known.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from textual.widgets import Input
from ui_helpers import login, until

from itsm_tui.core import clock
from itsm_tui.core.audit import activity
from itsm_tui.core.errors import AuthError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import auth
from itsm_tui.core.store import limits
from itsm_tui.core.store.models import AuditEntry, Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.log import EntryModal, LogScreen, toggle_term
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.widgets.log_table import LogTable, ago
from itsm_tui.ui.widgets.paged_table import FRESH_FOR
from itsm_tui.ui.widgets.ticket_table import TicketTable

HOSTILE = "[/] [bold]x [@click=app.quit]y 王伟"
WORK = {"ticket", "system", "peripheral", "stock", "department", "network"}


@pytest.fixture
def log_desk(engine, people):
    """Entries at known distances before NOW; returns (url, NOW, ticket)."""
    now = clock.now() + timedelta(days=10)
    with clock.frozen(now - timedelta(days=4)):  # hostile text in the log (a typed login name is never kept)
        inventory.create(people["agent"], "department", {"name": HOSTILE})
    with clock.frozen(now - timedelta(days=3)):
        ticket = tickets.create(people["requester"], "Printer jam", "Floor 2 printer")
    with clock.frozen(now - timedelta(days=1)):
        inventory.create(
            people["agent"], "system", {"hostname": "ws-042", "asset_tag": "AT-42", "type": "laptop"}
        )
    with clock.frozen(now - timedelta(hours=2)):
        ticket = tickets.update(people["agent"], ticket.id, ticket.version, title="Printer jam on floor 2")
    with clock.frozen(now - timedelta(minutes=5)):
        with pytest.raises(AuthError):
            auth.login("agent2", "wrong-password-0")
        with pytest.raises(AuthError):
            auth.login(HOSTILE, "whatever-password")
    return engine, now, ticket


async def log_screen(pilot, username: str, password: str) -> LogTable:
    await login(pilot, username, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    queue = pilot.app.screen.query_one(TicketTable)
    await until(pilot, lambda: not queue.fetching)
    pilot.app.push_screen(LogScreen())
    await until(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
    table = pilot.app.screen.query_one(LogTable)
    await until(pilot, lambda: table.rows and not table.fetching)
    assert pilot.app.focused is table
    return table


async def apply_filter(pilot, table: LogTable, text: str) -> None:
    await pilot.press("slash")
    bar = pilot.app.screen.query_one("#filter", Input)
    bar.value = text
    await pilot.press("enter")
    await until(
        pilot,
        lambda: pilot.app.screen.filter_text == text and not table.fetching and not bar.has_class("shown"),
    )


def cell(table: LogTable, row: dict, key: str) -> str:
    return table.cells(row)[key].plain


def actions(table: LogTable) -> list[str]:
    return [r["action"] for r in table.rows]


def test_ago_and_toggle_term():
    now = datetime(2026, 3, 2, 9, 30)
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert ago(now - timedelta(minutes=5, seconds=59), now) == "5 minutes ago"
    assert ago(now - timedelta(hours=3), now) == "3 hours ago"
    assert ago(now - timedelta(days=3), now) == "3 days ago"
    assert ago(now - timedelta(days=65), now) == "2 months ago"
    assert ago(now - timedelta(days=400), now) == "1 year ago"
    assert toggle_term("", "is:login") == "is:login"
    assert toggle_term("actor:bob is:login", "is:login") == "actor:bob"
    assert toggle_term("is:login actor:bob", "is:failed") == "is:login actor:bob is:failed"
    assert toggle_term('"is:login2"', "is:login") == '"is:login2" is:login'


@pytest.mark.asyncio
async def test_newest_first_with_relative_times(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            stamps = [(r["at"], r["id"]) for r in table.rows]
            assert stamps == sorted(stamps, reverse=True)
            assert len(table.rows) == AuditEntry.select().count()
            first = table.rows[0]  # this very login
            assert (first["action"], first["actor"]) == ("login", "supervisor")
            assert cell(table, first, "when") == "just now"
            by_summary = {r["summary"]: r for r in table.rows}
            failed = next(r for r in table.rows if r["action"] == "login_failed" and r["entity_id"])
            assert cell(table, failed, "when") == "5 minutes ago" and failed["failed"]
            assert cell(table, failed, "actor") == "—"
            assert "red" in str(table.cells(failed)["summary"].style) or table.cells(failed)["summary"].spans
            update = next(r for r in table.rows if r["action"] == "update" and r["entity_type"] == "ticket")
            assert cell(table, update, "when") == "2 hours ago"
            assert cell(table, update, "entity") == ticket.number and cell(table, update, "actor") == "agent"
            system = next(r for r in table.rows if r["entity_type"] == "system")
            assert cell(table, system, "when") == "1 day ago"
            created = next(r for r in table.rows if r["entity_type"] == "ticket" and r["action"] == "create")
            assert cell(table, created, "when") == "3 days ago"
            user_made = next(r for r in table.rows if r["entity_type"] == "user" and r["action"] == "create")
            assert cell(table, user_made, "when") == "10 days ago"
            hostile = next(s for s in by_summary if HOSTILE in s)  # shown as typed, never as markup
            assert HOSTILE in cell(table, by_summary[hostile], "summary")
            # the status line under the list: the absolute time of the selected entry
            await pilot.press("j", "j")
            selected = str(app.screen.query_one("#selected").render())
            assert f"{table.current['at']:%Y-%m-%d %H:%M:%S} UTC" in selected
            assert f"entry #{table.current['id']}" in selected


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_filters_and_a_bad_query(log_desk, people):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            screen = app.screen
            await apply_filter(pilot, table, "action:update")
            assert table.rows and set(actions(table)) == {"update"}
            await apply_filter(pilot, table, "type:system")
            assert [r["entity_type"] for r in table.rows] == ["system"]
            await apply_filter(pilot, table, f"entity:{ticket.number}")
            assert {(r["entity_type"], r["entity_id"]) for r in table.rows} == {("ticket", ticket.id)}
            assert len(table.rows) == 2
            await apply_filter(pilot, table, "actor:agent")
            assert table.rows and {r["actor"] for r in table.rows} == {"agent"}
            await apply_filter(pilot, table, "actor:none")
            assert table.rows and {r["actor"] for r in table.rows} == {None}
            await apply_filter(pilot, table, '"王伟"')
            assert len(table.rows) == 1 and HOSTILE in table.rows[0]["summary"]
            await apply_filter(pilot, table, f"at:>{(now - timedelta(days=2)):%Y-%m-%d}")
            assert table.rows and all(r["at"] > now - timedelta(days=3) for r in table.rows)
            await until(pilot, lambda: screen.total == len(table.rows))
            # typing applies by itself after a pause (no Enter)
            await pilot.press("slash")
            bar = screen.query_one("#filter", Input)
            bar.value = ""
            await pilot.press(*"type:system")
            await until(pilot, lambda: screen.filter_text == "type:system" and not table.fetching)
            assert [r["entity_type"] for r in table.rows] == ["system"]
            # a mistake points at its column; the list keeps its last good filter
            bar.value = "action:update stauts:open"
            await pilot.press("enter")
            error = screen.query_one("#filter-error")
            await until(pilot, lambda: error.has_class("shown"))
            text = str(error.render())
            assert "stauts" in text and "at column 15" in text
            assert text.index("^") == 14 + 1  # under the mistake in the Input (after its padding)
            assert bar.has_class("shown") and screen.filter_text == "type:system"
            await pilot.press("escape")
            await until(pilot, lambda: not bar.has_class("shown") and not error.has_class("shown"))
            assert app.focused is table


@pytest.mark.asyncio
async def test_quick_keys_logins_and_failures(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            screen = app.screen
            await pilot.press("L")
            await until(pilot, lambda: screen.filter_text == "is:login" and not table.fetching)
            assert set(actions(table)) == {"login", "login_failed"}
            assert "L logins on" in str(screen.query_one("#status-line").render())
            await pilot.press("F")
            await until(pilot, lambda: screen.filter_text == "is:login is:failed" and not table.fetching)
            assert set(actions(table)) == {"login_failed"} and len(table.rows) == 2
            await pilot.press("L")
            await until(pilot, lambda: screen.filter_text == "is:failed" and not table.fetching)
            assert set(actions(table)) == {"login_failed"} and all(r["failed"] for r in table.rows)
            assert screen.query_one("#filter", Input).value == "is:failed"
            await pilot.press("F")
            await until(pilot, lambda: screen.filter_text == "" and not table.fetching)
            assert len(table.rows) == AuditEntry.select().count()
            keys = {b.key for b in screen.BINDINGS if b.show}
            assert {"L", "F"} <= keys  # shown in the footer


@pytest.mark.asyncio
async def test_agents_see_work_history_only(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "agent", "agent-password-1")
            assert table.rows and {r["entity_type"] for r in table.rows} <= WORK
            expected = AuditEntry.select().where(AuditEntry.entity_type.in_(list(WORK))).count()
            assert len(table.rows) == expected
            await pilot.press("L")  # logins are not theirs to read: nothing, or the service's refusal
            await pilot.pause(0.5)
            await until(pilot, lambda: not table.fetching)
            assert all(r["entity_type"] in WORK for r in table.rows)


@pytest.mark.asyncio
async def test_an_agents_log_at_80_columns(log_desk):
    """An agent's log has no logins: no L and F (they only ever emptied the list), and the
    count stays in sight at 80 columns; the entity column gives way to the summary (the line
    under the list names the entity)."""
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(80, 24)) as pilot:
            table = await log_screen(pilot, "agent", "agent-password-1")
            screen = pilot.app.screen
            await until(pilot, lambda: screen.total is not None)
            shown = [strip.text for strip in screen._compositor.render_strips()]
            assert f"{screen.total:,} entries" in shown[1]
            assert "L logins" not in shown[1] and " L " not in shown[-1] and " F " not in shown[-1]
            await pilot.press("L")
            await pilot.pause(0.3)
            assert screen.filter_text == "" and table.rows
            assert "entity" not in {c.key for c in table.columns} and table._flex_width() >= 24
            assert "Summary" in shown[2]
            row = table.current
            label = activity.entity_label(row["entity_type"], row["entity_id"], row.get("entity_name"))
            assert label in str(screen.query_one("#selected").render())


@pytest.mark.asyncio
async def test_requesters_are_turned_away(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            await login(pilot, "requester", "requester-password-1")
            await until(pilot, lambda: isinstance(app.screen, QueueScreen))
            app.push_screen(LogScreen())
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, QueueScreen)
                    and any(n.title == "The activity log is not for you" for n in app._notifications)
                ),
            )


@pytest.mark.asyncio
async def test_drill_down_shows_before_after_and_opens_the_ticket(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            index = next(
                i
                for i, r in enumerate(table.rows)
                if r["action"] == "update" and r["entity_type"] == "ticket"
            )
            for _ in range(index):
                await pilot.press("j")
            assert table.current["action"] == "update"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, EntryModal))
            lines = app.screen.lines
            assert any(line.startswith("Who") and "agent" in line for line in lines)
            assert any(line.startswith("Action") and "Updated" in line for line in lines)
            assert any(ticket.number in line and line.startswith("Entity") for line in lines)
            when = next(line for line in lines if line.startswith("When"))
            assert f"{table.current['at']:%Y-%m-%d %H:%M:%S} UTC" in when and "2 hours ago" in when
            change = next(line for line in lines if line.strip().startswith("title"))
            assert "Printer jam  →  Printer jam on floor 2" in change
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
            assert app.screen.ticket_id == ticket.id
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, LogScreen))
            # o on a row that is not a ticket: the app's open_entity (when it has one) decides
            calls = []
            app.open_entity = lambda entity_type, entity_id: calls.append((entity_type, entity_id))
            system_id = AuditEntry.get(AuditEntry.entity_type == "system").entity_id
            table.cursor = next(i for i, r in enumerate(table.rows) if r["entity_type"] == "system")
            table.refresh()
            await pilot.press("o")
            await until(pilot, lambda: calls == [("system", system_id)])


@pytest.mark.asyncio
async def test_the_entry_detail_shown_again_shows_only_the_next_entry(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            shown = []
            for entity_type in ("system", "ticket"):
                table.cursor = next(i for i, r in enumerate(table.rows) if r["entity_type"] == entity_type)
                table.refresh()
                await pilot.press("enter")
                await until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, EntryModal)
                        and f"#{table.current['id']}" in str(app.screen.query_one("#title").render())
                    ),
                )
                shown.append((app.screen, str(app.screen.query_one("#body").render())))
                await pilot.press("q")
                await until(pilot, lambda: isinstance(app.screen, LogScreen))
            (first, system_text), (again, ticket_text) = shown
            assert again is first  # made once (see opening.reused_screen)
            assert "ws-042" in system_text and "ws-042" not in ticket_text and ticket.number in ticket_text
            assert "o open it" in str(again.query_one("#hint").render())
            await pilot.press("ctrl+l")  # log out: the modal keeps nothing of this session's entries
            await until(pilot, lambda: not app.user)
            assert again.lines == [] and ticket.number not in str(again.query_one("#body").render())


class AppWithoutEntityScreens(ItsmApp):
    open_entity = None


@pytest.mark.asyncio
async def test_open_without_a_screen_for_it_says_so(log_desk):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = AppWithoutEntityScreens(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            table.cursor = next(i for i, r in enumerate(table.rows) if r["entity_type"] == "system")
            table.refresh()
            await pilot.press("o")
            await until(pilot, lambda: any("no screen for system" in n.message for n in app._notifications))
            table.cursor = next(i for i, r in enumerate(table.rows) if r["entity_id"] is None)
            table.refresh()
            await pilot.press("o")
            await until(pilot, lambda: any("not about a record" in n.message for n in app._notifications))
            assert isinstance(app.screen, LogScreen)


@pytest.mark.asyncio
async def test_periodic_refresh_keeps_the_cursor(log_desk, people):
    url, now, ticket = log_desk
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(140, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            await pilot.press("j", "j", "j")
            current = table.current["id"]
            fresh = Ticket.get_by_id(ticket.id)
            tickets.change_status(people["agent"], ticket.id, fresh.version, "in_progress")
            # no key pressed: the screen's own 5 s timer reads the new entry
            await until(
                pilot,
                lambda: (
                    not table.fetching
                    and table.rows[0]["action"] == "update"
                    and "In progress" in table.rows[0]["summary"]
                ),
            )
            assert table.current["id"] == current
            assert app.screen.total == AuditEntry.select().count()


def status_line(screen) -> str:
    return str(screen.query_one("#status-line").render())


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_the_count_is_bounded_and_the_timed_refresh_counts_only_after_a_write(
    log_desk, people, monkeypatch
):
    """Beyond the bound ("10,000+" on a real desk; 3 here) and too slow to count all: the rows
    read, exactly, as they are the whole list (with more to read: "N+"); the timed refresh
    counts again only when a write added a log entry."""
    url, now, ticket = log_desk

    def too_slow(query, seconds):
        raise limits.Stopped()

    monkeypatch.setattr(queue, "COUNT_BOUND", 3)
    monkeypatch.setattr(limits, "rows_within", too_slow)
    with clock.frozen(now):
        app = ItsmApp(url)
        async with app.run_test(size=(200, 40)) as pilot:
            table = await log_screen(pilot, "supervisor", "supervisor-password-1")
            screen = app.screen
            await until(pilot, lambda: screen.total is not None)
            assert screen.total == 3 and len(table.rows) > 3
            await until(pilot, lambda: f"  {len(table.rows)} entries" in status_line(screen))  # all read
            await apply_filter(pilot, table, "type:system")
            await until(pilot, lambda: "1 entry" in status_line(screen))
            counts = []
            real = activity.count_bounded
            monkeypatch.setattr(activity, "count_bounded", lambda *a: counts.append(a[1]) or real(*a))
            for _ in range(3):
                table.read_at = time.monotonic() - FRESH_FOR
                screen._periodic_refresh()
                await pilot.pause(0.2)
            assert counts == []
            inventory.create(
                people["agent"], "system", {"hostname": "ws-043", "asset_tag": "AT-43", "type": "laptop"}
            )
            table.read_at = time.monotonic() - FRESH_FOR
            screen._periodic_refresh()
            await until(pilot, lambda: counts == ["type:system"] and "2 entries" in status_line(screen))


# ---------------------------------------------------------------- SVG snapshots (SQLite only)
#
# Deterministic like tests/ui/test_ui_snapshots.py: a relative database path in a temporary
# directory (the frame says "SQLite snap.db"), data made with the clock frozen at known moments,
# the app run with the clock frozen at SNAP_NOW, the theme set explicitly and NO_COLOR removed.
# After an intended change: ``python -m pytest tests/ui/test_ui_log.py --snapshot-update`` and
# review the SVGs under tests/ui/__snapshots__/test_ui_log/.

SNAP_URL = "sqlite:///snap.db"
SNAP_SIZE = (120, 40)
SNAP_NOW = datetime(2026, 3, 2, 9, 30)
SUPERVISOR, SUPERVISOR_PASSWORD = "super1", "super1-snap-password"


def _snap_desk() -> None:
    """Users, inventory, a ticket's life, failed and good logins, a password reset."""
    from itsm_tui.core import setup
    from itsm_tui.core.people import users

    def at(ago: timedelta):
        return clock.frozen(SNAP_NOW - ago)

    with at(timedelta(days=30)):
        setup.initialise()
        system = users.system_actor()
        for name, role, full_name in (
            ("agent1", "agent", "Alex Morgan"),
            (SUPERVISOR, "supervisor", "Dana Fox"),
            ("user1", "requester", "Wang Wei"),
            ("admin1", "admin", "Robin Admin"),
        ):
            users.create_user(system, name, role, full_name=full_name, password=f"{name}-snap-password")
        inventory.create(system, "department", {"name": "Finance"})
    agent, supervisor = users.by_username("agent1"), users.by_username(SUPERVISOR)
    user1, admin = users.by_username("user1"), users.by_username("admin1")
    with at(timedelta(days=6)):
        inventory.create(
            agent,
            "system",
            {"hostname": "fin-ws-042", "asset_tag": "AT-0042", "type": "laptop", "department": "Finance"},
        )
    with at(timedelta(days=3)):
        ticket = tickets.create(user1, "VPN drops every hour", "Since Monday, on the office Wi-Fi.")
    with at(timedelta(days=3) - timedelta(hours=1)):
        ticket = tickets.assign(supervisor, ticket.id, ticket.version, "agent1")
    with at(timedelta(days=2)):
        ticket = tickets.change_status(agent, ticket.id, ticket.version, "in_progress")
    with at(timedelta(days=1)):
        users.reset_password(admin, user1.id, "user1-new-snap-password")
    with at(timedelta(hours=5)):
        ticket = tickets.update(agent, ticket.id, ticket.version, title=HOSTILE)
    with at(timedelta(minutes=40)):
        with pytest.raises(AuthError):
            auth.login("agent1", "not-the-password")
    with at(timedelta(minutes=35)):
        with pytest.raises(AuthError):
            auth.login(HOSTILE, "not-the-password")
    with at(timedelta(minutes=30)):
        auth.login("agent1", "agent1-snap-password")
    with at(timedelta(minutes=10)):
        tickets.comment(agent, ticket.id, "Replaced the VPN profile; watching it.")


@pytest.fixture
def snap_url(tmp_path, monkeypatch):
    from itsm_tui.core import config, setup
    from itsm_tui.core.store import db

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    config.override_settings(None)
    setup.open_database(SNAP_URL, check=False)
    try:
        _snap_desk()
        yield SNAP_URL
    finally:
        db.database.close()
        config.override_settings(None)


def _snap_app(url: str) -> ItsmApp:
    app = ItsmApp(url)
    app.theme = "textual-dark"
    return app


async def _snap_log(pilot) -> LogTable:
    from itsm_tui.ui.screens.login import LoginScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = SUPERVISOR
    screen.query_one("#password", Input).value = SUPERVISOR_PASSWORD
    screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    queue = pilot.app.screen.query_one(TicketTable)
    await until(pilot, lambda: not queue.fetching and pilot.app.screen.total is not None)
    pilot.app.push_screen(LogScreen())
    await until(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
    log = pilot.app.screen
    table = log.query_one(LogTable)
    await until(pilot, lambda: table.rows and not table.fetching and log.total is not None)
    return table


def test_log_screen_snapshot(snap_url, snap_compare):
    """super1's log: their own login first ("just now"), the failed logins highlighted (one for
    a hostile unknown name, kept literal), a ticket's life, user administration and inventory;
    the cursor on the failed login of agent1, its absolute time in the line under the list."""

    async def run_before(pilot) -> None:
        table = await _snap_log(pilot)
        assert len(table.rows) == AuditEntry.select().count()
        target = next(i for i, r in enumerate(table.rows) if r["failed"] and r["entity_id"])
        for _ in range(target):
            await pilot.press("j")
        assert table.current["failed"]

    with clock.frozen(SNAP_NOW):
        assert snap_compare(_snap_app(snap_url), terminal_size=SNAP_SIZE, run_before=run_before)


def test_log_entry_detail_snapshot(snap_url, snap_compare):
    """Enter on the title change: who, when, the entity and the hostile new title, literal."""

    async def run_before(pilot) -> None:
        table = await _snap_log(pilot)
        target = next(
            i for i, r in enumerate(table.rows) if r["action"] == "update" and r["entity_type"] == "ticket"
        )
        for _ in range(target):
            await pilot.press("j")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryModal))
        assert any(HOSTILE in line for line in pilot.app.screen.lines)

    with clock.frozen(SNAP_NOW):
        assert snap_compare(_snap_app(snap_url), terminal_size=SNAP_SIZE, run_before=run_before)
