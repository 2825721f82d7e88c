"""A terminal session and its password: a reset by an admin ends the session at its next action
(or the notification poll's, within 5 seconds): back to the login screen, saying why; setting
one's own password does not."""

from __future__ import annotations

import pytest
from test_ui_users import field, form, logged_in, select, users_screen
from ui_helpers import until

from itsm_tui.core.people import auth, users
from itsm_tui.core.store.models import User
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.users import UsersScreen

pytestmark = pytest.mark.asyncio
ENDED = "the password of agent was changed: log in again"


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_reset_by_an_admin_ends_the_session_at_its_next_action(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        users.reset_password(people["admin"], people["agent"].id, "reset-by-the-admin")
        assert ENDED not in said(app)
        await pilot.press("r")  # reload the queue
        await until(pilot, lambda: ENDED in said(app))
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.user is None


async def test_a_disabled_operator_is_back_at_the_login_screen_without_a_key(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        agent = people["agent"]
        users.update_user(people["admin"], agent.id, User.get_by_id(agent.id).version, is_active=False)
        app.poll_notifications()  # what the 5-second timer does
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert "agent is disabled" in said(app)


async def test_setting_ones_own_password_keeps_the_session(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "admin")
        await pilot.press("p")
        modal = await form(pilot)
        field(modal, "password").value = "my-own-new-password"
        field(modal, "password again").value = "my-own-new-password"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        await until(
            pilot, lambda: "Your password is set: your other sessions end, this one goes on" in said(app)
        )
        await until(pilot, lambda: not table.fetching)  # the list read again, the notifications polled
        await pilot.press("r")
        await pilot.pause(0.3)
        await until(pilot, lambda: not table.fetching and table.rows)
        assert not [m for m in said(app) if "log in again" in m]
        assert auth.login("admin", "my-own-new-password").username == "admin"
