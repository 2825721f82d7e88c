"""The ticket screen and the e-mail channel: it shows how the ticket came in, and before a
public comment is sent it says to whom it will be mailed (an internal note says nothing)."""

from __future__ import annotations

import io

import pytest
from mail_helpers import desk, ingest, message
from rich.console import Console
from ui_helpers import open_comment, open_ticket, until

from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.prompts import TextPrompt

pytestmark = pytest.mark.asyncio


async def test_the_ticket_shows_its_channel_and_whom_a_comment_is_mailed_to(engine, people, desk):
    ticket_id = ingest(message(sender="Anna <anna@example.org>", cc=["bob@example.org"])).ticket_id
    app = ItsmApp(engine)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await open_ticket(pilot, ticket_id)
        console = Console(width=140, record=True, file=io.StringIO())
        console.print(screen.query_one("#ticket").content)
        channel = next(line for line in console.export_text().splitlines() if "Channel" in line)
        assert "E-mail" in channel
        await open_comment(pilot)
        label = str(app.screen.query_one("#label").render())
        assert "Will be mailed to anna@example.org, bob@example.org" in label
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TextPrompt))
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        assert "mailed" not in str(app.screen.query_one("#label").render())
