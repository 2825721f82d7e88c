"""``:tokens``: an agent makes an API token (shown once), it works, and they revoke it."""

import pytest
from ui_helpers import logged_in, screen_text, until

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


async def test_each_token_is_one_line_of_columns_at_80_columns(engine, people):
    """The list is a table that fits 80 columns: one line per token (a name, its prefix, state,
    expiry and last use used to wrap onto a second line), the name cut with an ellipsis when
    long, and the highlighted token's whole name said under the list. Names stay literal."""
    tickets.create(people["requester"], "first", "d")
    long_name = "[b]deploy[/b] bot for the nightly release pipeline"
    short, _ = tokens.create(people["agent"], "monitoring", tokens.parse_expiry("90d"))
    long, _ = tokens.create(people["agent"], long_name, tokens.parse_expiry("30d"), read_only=True)
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("colon", *"tokens", "enter")
        await until(pilot, lambda: isinstance(app.screen, TokensModal) and len(app.screen.rows) == 2)
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()

        def line_with(part: str) -> str:
            found = [line for line in lines if part in line]
            assert found, f"{part!r} is not on the screen:\n{text}"
            return found[0]

        for row, state in ((long, "read-only"), (short, "read-write")):
            line = line_with(row.prefix)
            assert f"{state} " in line and f"{row.expires_at:%Y-%m-%d} never" in line, text
        header = line_with("Prefix")
        assert header.split("█")[1].split() == ["Name", "Prefix", "State", "Expires", "Last", "used"]
        for row in (long, short):  # each column under its heading
            assert line_with(row.prefix).index(row.prefix) == header.index("Prefix")
            assert line_with(row.prefix).index(f"{row.expires_at:%Y-%m-%d}") == header.index("Expires")
        long_line = line_with(long.prefix)
        assert "[b]deploy[/b] bot" in long_line and "…" in long_line and long_name not in long_line
        # the list starts on the newest token, the long one: its whole name is said below
        assert long_name in " ".join(line.strip("█ ") for line in lines)
        await pilot.press("down")
        await pilot.pause()
        assert "monitoring (" + short.prefix + ")" in screen_text(app)
