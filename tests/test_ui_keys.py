"""Keys a new user trips over (issue 17): a burst after / or : belongs to the field; marks never
redirect a later action; the role's keys; the command line and the palette."""

from __future__ import annotations

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input

from itsm_tui.core import notifications, tickets
from itsm_tui.core.models import Notification, Ticket
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.ticket import TicketScreen
from ui_helpers import logged_in, until

pytestmark = pytest.mark.asyncio
NAMED = ("ctrl+u", "backspace", "escape", "enter", "space", "down", "up")


def burst(app, *parts: str) -> None:
    """Keys as a terminal delivers a fast burst (one read): named as Textual's driver names
    them (``/`` is "slash"), posted at once, with nothing waiting in between. A part is a
    named key or text."""
    for part in parts:
        if part in NAMED:
            app.post_message(events.Key(part, "\r" if part == "enter" else " " if part == "space" else None))
            continue
        for char in part:
            if char == "\r":
                app.post_message(events.Key("enter", "\r"))
            else:
                app.post_message(events.Key(_character_to_key(char), char))


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
