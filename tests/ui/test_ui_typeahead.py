"""Keys typed faster than the screen reacts (a password manager's auto-type, a quick typist over
a slow SSH link) reach the field they were meant for, in the order typed: on the login screen,
in the filter bar and in forms."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input
from ui_helpers import logged_in, open_comment, until

from itsm_tui.core.store.models import Comment
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen

pytestmark = pytest.mark.asyncio


def burst(app, text: str, *then: str) -> None:
    """Post every key at once, as a terminal delivers a fast burst: nothing waits in between.
    ``then``: named keys and text, in turn (``burst(app, "", "ctrl+u", "abc", "backspace")``)."""
    for part in (text, *then):
        if part in ("ctrl+u", "backspace", "left", "home"):
            app.post_message(events.Key(part, None))
            continue
        for char in part:
            if char == "\t":
                app.post_message(events.Key("tab", None))
            elif char == "\r":
                app.post_message(events.Key("enter", "\r"))
            else:
                app.post_message(events.Key(char, char))


async def test_auto_typed_login_reaches_both_fields_and_logs_in(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await until(pilot, lambda: app.focused is app.screen.query_one("#username", Input))
        burst(app, "agent\tagent-password-1\r")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert app.user.username == "agent"


async def test_auto_typed_wrong_password_stays_in_the_password_field(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        await until(pilot, lambda: app.focused is app.screen.query_one("#username", Input))
        burst(app, "agent\twrong-one")
        password = app.screen.query_one("#password", Input)
        await until(pilot, lambda: password.value == "wrong-one")
        assert app.screen.query_one("#username", Input).value == "agent"


async def test_editing_keys_in_a_burst_edit_the_filter_in_the_order_typed(engine, people):
    tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await pilot.press("slash")
        assert screen.filter_bar.value == "status:open"  # the view's filter, to edit
        # Textual would run ctrl+u and backspace after the keys that followed them
        burst(app, "", "ctrl+u", "prio:hihg", "backspace", "backspace", "gh status:open", "left", "\r")
        await until(
            pilot, lambda: screen.filter_text == "prio:high status:open" and not screen.table.fetching
        )
        assert app.focused is screen.table and not screen.filter_shown()


async def test_a_comment_typed_in_a_burst_with_corrections_is_saved_as_typed(engine, people):
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        area = await open_comment(pilot)
        burst(app, "Tray 3", "backspace", "2 clened", "left", "left", "left", "a")
        await until(pilot, lambda: area.text == "Tray 2 cleaned")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: Comment.select().where(Comment.ticket == ticket.id).exists())
        assert Comment.get(Comment.ticket == ticket.id).body == "Tray 2 cleaned"
