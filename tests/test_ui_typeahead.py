"""Keys typed faster than the screen reacts (a password manager's auto-type) reach the field
they were meant for, on the login screen and in forms."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from ui_helpers import until

pytestmark = pytest.mark.asyncio


def burst(app, text: str) -> None:
    """Post every key at once, as a terminal delivers a fast burst: nothing waits in between."""
    for char in text:
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
