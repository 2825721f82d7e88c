"""``:tokens``: an agent makes an API token (shown once), it works, and they revoke it."""

import pytest
from ui_helpers import logged_in, until

from itsm_tui.core.errors import AuthError
from itsm_tui.core.people import tokens
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.tokens import TokensModal

pytestmark = pytest.mark.asyncio


async def test_make_see_once_and_revoke_a_token(engine, people):
    tickets.create(people["requester"], "first", "d")  # something in the queue
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("colon", *"tokens", "enter")
        await until(pilot, lambda: isinstance(app.screen, TokensModal))
        await pilot.press("o")
        await pilot.pause(0.2)
        await pilot.press(*"[ci] bot", "enter")
        modal = app.screen
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, TokensModal) and "itsm_" in str(modal.query_one("#shown").render())
            ),
        )
        shown = str(modal.query_one("#shown").render())
        token = next(word for word in shown.split() if word.startswith("itsm_"))
        user, row = tokens.authenticate(token)
        assert (user.username, row.name, row.read_only) == ("agent", "[ci] bot", True)
        await until(pilot, lambda: len(modal.rows) == 1)
        await pilot.press("d")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await until(pilot, lambda: modal.rows and modal.rows[0].revoked_at is not None)
        with pytest.raises(AuthError):
            tokens.authenticate(token)


async def test_a_revoked_token_is_no_longer_offered_to_copy(engine, people):
    """Revoking the token just made takes its secret off the dialog (it said "Copy it now");
    d on a revoked token says so instead of doing nothing."""
    tickets.create(people["requester"], "first", "d")
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("colon", *"tokens", "enter")
        await until(pilot, lambda: isinstance(app.screen, TokensModal))
        modal = app.screen
        await pilot.press("n")
        await pilot.pause(0.2)
        await pilot.press(*"monitoring", "enter")
        await until(pilot, lambda: app.screen is modal and len(modal.rows) == 1)
        assert "Copy it now" in str(modal.query_one("#shown").render())
        await pilot.press("d")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await until(pilot, lambda: modal.rows and modal.rows[0].revoked_at is not None)
        assert "itsm_" not in str(modal.query_one("#shown").render())
        await pilot.press("d")
        await pilot.pause(0.2)
        assert app.screen is modal
        assert "monitoring" in str(modal.query_one("#error").render())
        assert "already revoked" in str(modal.query_one("#error").render())
