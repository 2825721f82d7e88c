"""Shared steps for the Pilot tests: wait for the app, log in."""

from __future__ import annotations

import time

from textual.widgets import Input

from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.widgets.ticket_table import TicketTable


async def until(pilot, condition, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds (workers, timers and repaints included): it is
    checked after every 10 ms of the app's loop, and once more the screen is refreshed. The
    ``timeout`` (seconds) is wide: a loaded machine is slow, not wrong."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.01)
    await pilot.pause()


async def login(pilot, username: str, password: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    await pilot.click("#username")
    pilot.app.screen.query_one("#username", Input).value = username
    pilot.app.screen.query_one("#password", Input).value = password
    pilot.app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")


async def logged_in(pilot, username: str, password: str) -> TicketTable:
    await login(pilot, username, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    table = pilot.app.screen.query_one(TicketTable)
    await until(pilot, lambda: table.rows and not table.fetching)
    assert pilot.app.focused is table  # keys go to the list, never to the hidden filter bar
    return table
