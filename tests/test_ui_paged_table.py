"""The paged list under typing speed: keys typed while a page is read are made, in order, once
it is there (on SQLite and MariaDB)."""

from __future__ import annotations

import time

import pytest

from itsm_tui.core import demo, queue, users
from itsm_tui.ui.app import ItsmApp
from ui_helpers import logged_in, until

pytestmark = pytest.mark.asyncio


@pytest.fixture
def big_desk(engine, people):
    """More open tickets than one window of rows holds."""
    demo.seed_bulk(users.system_actor(), 1500)
    return engine


def _slow(table, seconds: float = 0.4) -> None:
    """Make every page read take ``seconds`` (in the table's worker thread)."""
    loader = table.loader

    def slow(after, before, limit):
        time.sleep(seconds)
        return loader(after, before, limit)

    table.loader = slow


async def test_moves_typed_while_a_page_loads_are_not_lost(big_desk, people):
    app = ItsmApp(big_desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        everything = queue.page(people["agent"], screen.filter_text, screen.sort, limit=5000).rows
        order = [r["id"] for r in everything]
        assert len(order) > len(table.rows) and table.more_after
        _slow(table)

        # Down past the end of the window: the first j reads the next page, the others wait.
        table.cursor = len(table.rows) - 1
        table.refresh()
        start = order.index(table.current["id"])
        await pilot.press("j")
        assert table.fetching
        await pilot.press("j", "j", "j")
        await until(pilot, lambda: not table.fetching and table.current["id"] == order[start + 4])

        # G reads the last page; k typed meanwhile moves up from the last ticket.
        await pilot.press("G")
        assert table.fetching
        await pilot.press("k", "k")
        await until(pilot, lambda: not table.fetching and table.current["id"] == order[-3])

        # g (a new start) forgets the moves typed before it.
        await pilot.press("G")
        await pilot.press("j", "g")
        await until(pilot, lambda: not table.fetching and table.current["id"] == order[0])
        await pilot.pause(0.5)
        assert table.current["id"] == order[0]
