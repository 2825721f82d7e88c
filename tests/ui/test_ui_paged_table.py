"""The paged list under typing speed: keys typed while a page is read are made, in order, once
it is there; reads ahead and timed refreshes never hold a key up (on SQLite and MariaDB)."""

from __future__ import annotations

import threading
import time

import pytest
from ui_helpers import burst, logged_in, until

from itsm_tui.core import clock, demo
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Comment, Ticket, User
from itsm_tui.core.tickets import queue, service
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.widgets.paged_table import FRESH_FOR, MAX_ROWS

pytestmark = pytest.mark.asyncio


@pytest.fixture
def big_desk(engine, people):
    """More open tickets than one window of rows holds."""
    demo.seed_bulk(users.system_actor(), 1500)
    return engine


def _held(table) -> threading.Event:
    """Hold every page read (in the table's worker thread) until the returned gate is set: what
    the test checks while a read is under way cannot race the read, however loaded the machine."""
    loader, gate = table.loader, threading.Event()

    def held(after, before, limit):
        assert gate.wait(30), "the test never let the read through"
        return loader(after, before, limit)

    table.loader = held
    return gate


async def test_moves_typed_while_a_page_loads_are_not_lost(big_desk, people):
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        everything = queue.page(people["agent"], screen.filter_text, screen.sort, limit=5000).rows
        order = [r["id"] for r in everything]
        assert len(order) > len(table.rows) and table.more_after
        gate = _held(table)

        # Down past the end of the window: the first j reads the next page, the others wait.
        table.cursor = len(table.rows) - 1
        table.refresh()
        start = order.index(table.current["id"])
        await pilot.press("j")
        assert table.fetching
        await pilot.press("j", "j", "j")
        gate.set()
        await until(pilot, lambda: not table.fetching and table.current["id"] == order[start + 4])

        # G reads the last page; k typed meanwhile moves up from the last ticket.
        gate.clear()
        await pilot.press("G")
        assert table.fetching
        await pilot.press("k", "k")
        gate.set()
        await until(pilot, lambda: not table.fetching and table.current["id"] == order[-3])

        # g (a new start) forgets the moves typed before it.
        gate.clear()
        await pilot.press("G")
        await pilot.press("j", "g")
        gate.set()
        await until(
            pilot, lambda: not table.fetching and not table.prefetching and table.current["id"] == order[0]
        )
        await pilot.pause()
        assert table.current["id"] == order[0]


@pytest.mark.both_engines
async def test_paging_reads_ahead_so_no_page_key_waits_for_the_database(big_desk, people):
    """Near the end of its window the list reads the next rows before they are asked for: an
    operator paging down (then back up) through more rows than the window holds never waits
    on a read, and the window stays bounded."""
    from itsm_tui.ui.widgets.paged_table import MAX_ROWS

    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        screen.apply_view("Every ticket", "", "-updated")
        await until(pilot, lambda: not table.fetching and table.rows)
        order = [r["id"] for r in queue.page(people["agent"], "", screen.sort, limit=5000).rows]
        step = table.visible_rows
        pages = min(20, (len(order) - 1) // step)
        assert pages * step > MAX_ROWS  # the window must slide, dropping rows behind the cursor
        gate = _held(table)
        waits = 0
        for page in range(1, pages + 1):
            gate.clear()
            await pilot.press("pagedown")
            waits += table.fetching  # the key found no rows to move to: it waits for a read
            gate.set()
            await until(pilot, lambda: not table.fetching and not table.prefetching)
            assert table.current["id"] == order[page * step]
            assert len(table.rows) <= MAX_ROWS
        for page in range(pages - 1, -1, -1):
            gate.clear()
            await pilot.press("pageup")
            waits += table.fetching
            gate.set()
            await until(pilot, lambda: not table.fetching and not table.prefetching)
            assert table.current["id"] == order[page * step]
        assert waits == 0


async def test_keys_move_on_while_the_timed_refresh_reads(big_desk, people):
    """The refresh every few seconds (changes by other operators) reads in the background,
    unless the rows have just arrived: a key pressed meanwhile moves at once, and the cursor
    stays on the row it reached, now showing the other operator's change."""
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        order = [
            r["id"] for r in queue.page(people["agent"], screen.filter_text, screen.sort, limit=100).rows
        ]
        gate = _held(table)
        Ticket.update(title="Renamed by another operator").where(Ticket.id == order[3]).execute()
        _comment_on(order[3])  # the write that the refresh sees in queue.stamp
        table.read_at = time.monotonic()  # the rows have just arrived: nothing to add, no read
        screen._periodic_refresh()
        assert not table.prefetching and not table.fetching
        table.read_at = time.monotonic() - FRESH_FOR  # they arrived FRESH_FOR seconds ago
        screen._periodic_refresh()  # the tickets changed (queue.stamp): read again
        await until(pilot, lambda: table.prefetching)
        assert not table.fetching
        await pilot.press("j", "j", "j")
        assert table.current["id"] == order[3]  # moved without waiting for the read
        gate.set()
        await until(pilot, lambda: not table.prefetching)
        assert table.current["id"] == order[3]
        assert table.current["title"] == "Renamed by another operator"


async def test_the_timed_refresh_reads_nothing_again_while_nothing_changed(big_desk, people, monkeypatch):
    """A filter on screen is counted and read again only after a write (queue.stamp)."""
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await until(pilot, lambda: screen.total is not None)
        counts = []
        real = queue.count_bounded
        monkeypatch.setattr(queue, "count_bounded", lambda *a: counts.append(1) or real(*a))
        for _ in range(3):
            table.read_at = time.monotonic() - FRESH_FOR
            screen._periodic_refresh()
            await pilot.pause(0.2)
        assert counts == [] and not table.prefetching
        _comment_on(table.current["id"])
        screen._periodic_refresh()
        await until(pilot, lambda: counts == [1])


def _comment_on(ticket_id: int) -> None:
    Comment.create(
        ticket=ticket_id, author=User.get(User.username == "agent"), body="Seen", created_at=clock.now()
    )


async def test_a_count_cut_short_says_at_least_the_rows_already_read(big_desk, people, monkeypatch):
    """MariaDB's count out of time knows nothing (0); the status line still says "N+ tickets"
    with N the rows on screen, never "0+"."""
    monkeypatch.setattr(queue, "count_bounded", lambda *a: queue.Count(0, False))
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await until(pilot, lambda: screen.total is not None and table.rows)
        await pilot.pause()
        assert f"  ·  {len(table.rows):,}+ tickets" in screen._status_shown.plain


async def test_a_count_cut_short_of_a_list_read_whole_is_its_rows(engine, people, monkeypatch):
    """A count out of time ("0+", MariaDB's scan of a rare two-letter term) of a list whose rows
    were all read, from its first to its last, is exactly those rows: "3 tickets", not "3+"."""
    for n in range(3):
        service.create(people["requester"], f"Laptop {n}", "x")
    monkeypatch.setattr(queue, "count_bounded", lambda *a: queue.Count(0, False))
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await until(pilot, lambda: screen.total is not None and len(table.rows) == 3)
        await pilot.pause()
        assert "  ·  3 tickets  ·  " in screen._status_shown.plain


@pytest.mark.both_engines
async def test_a_read_for_rows_a_new_filter_replaced_is_stopped(engine, people):
    """A filter typed key by key stops the read of the filter before it (MySQL's KILL QUERY,
    SQLite's interrupt) instead of letting it run on beside the new one."""
    for n in range(3):
        service.create(people["requester"], f"Laptop {n}", "x")
    long = (
        "SELECT SLEEP(30)"  # stopped, it ends at once with 1
        if db.is_mysql()
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 500000000) "
        "SELECT COUNT(*) FROM n"  # about two minutes
    )
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await until(pilot, lambda: len(table.rows) == 3)
        screen, read, ran = app.screen, table.loader, []

        def long_first(*args):
            start = time.monotonic()
            try:
                db.database.execute_sql(long).fetchall()
            finally:
                ran.append(time.monotonic() - start)
            return read(*args)

        table.loader = long_first
        burst(app, "/", "ctrl+u", "printer\r")  # one read: no pause applies a part of it
        await until(pilot, lambda: screen.filter_text == "printer")
        await pilot.pause(0.5)
        assert table.fetching and ran == []
        table.loader = read
        burst(app, "/", "ctrl+u", "laptop\r")
        await until(pilot, lambda: ran and not table.fetching)
        assert ran[0] < 10 and len(table.rows) == 3 and not table.stale


@pytest.mark.both_engines
async def test_pages_after_the_first_reuse_the_filters_plan_until_the_tickets_change(
    big_desk, people, monkeypatch
):
    """Paging down a filtered list plans the filter (looks its free text up: on MariaDB a rare
    two-letter term is a scan of the table) once, not for every window of rows; the timed
    refresh that sees a change plans it again, so a ticket that now matches shows in its place."""
    planned, plan = [], queue.plan

    def counted(*args, **kwargs):
        planned.append(args[1])
        return plan(*args, **kwargs)

    monkeypatch.setattr(queue, "plan", counted)
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        screen.apply_view("", "issue", "number")  # oldest first: a new ticket is the last row
        everything = queue.page(people["agent"], "issue", queue.Sort("number", False), limit=5000).rows
        assert len(everything) > MAX_ROWS  # more windows than the table holds at once
        await until(
            pilot, lambda: not table.fetching and table.rows and table.rows[0]["id"] == everything[0]["id"]
        )
        planned.clear()

        while table.more_after or table.fetching or table.prefetching:
            await pilot.press("pagedown")
        await until(pilot, lambda: table.rows[-1]["id"] == everything[-1]["id"])
        assert planned == []  # every window after the first read with the first one's plan

        assert table.more_before  # the first rows were let go: the refresh reads from a cursor
        new = service.create(people["requester"], "VPN issue", "Drops every hour")
        time.sleep(FRESH_FOR)  # the timed refresh leaves a list read just now alone
        screen._periodic_refresh()
        await until(pilot, lambda: planned == ["issue"] and not table.prefetching)  # the change seen
        while table.more_after or table.fetching or table.prefetching:
            await pilot.press("pagedown")
        await until(pilot, lambda: table.rows[-1]["id"] == new.id)
        assert planned == ["issue"]  # the refresh planned the filter again, the rows after reused it
