"""The ticket screen and the e-mail channel: it shows how the ticket came in and who is copied
(Cc), and before a public comment is sent it says to whom it will be mailed (an internal note
says nothing)."""

from __future__ import annotations

import io
import re

import pytest
from mail_helpers import desk, ingest, message, outbox
from rich.console import Console
from textual.widgets import Button, Input
from ui_helpers import open_comment, open_ticket, until

from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens.login import LoginScreen

pytestmark = pytest.mark.asyncio


async def test_the_ticket_shows_its_channel_and_whom_a_comment_is_mailed_to(engine, people, desk):
    ticket_id = ingest(message(sender="Anna <anna@example.org>", cc=["bob@example.org"])).ticket_id
    app = ItsmApp(engine)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await open_ticket(pilot, ticket_id)
        console = Console(width=140, record=True, file=io.StringIO())
        console.print(screen.query_one("#ticket").content)
        shown = console.export_text().splitlines()
        channel = next(line for line in shown if "Channel" in line)
        assert "E-mail" in channel
        [copied] = [line for line in shown if line.startswith("Cc ")]
        assert copied.split() == ["Cc", "bob@example.org"]
        await open_comment(pilot)
        label = str(app.screen.query_one("#label").render())
        assert "Will be mailed to anna@example.org, bob@example.org" in label
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TextPrompt))
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        assert "mailed" not in str(app.screen.query_one("#label").render())


async def test_signing_up_on_the_login_screen(engine, people, desk, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_SIGNUP", "yes")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        app.screen.query_one("#signup", Button).press()
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one(Input).value = "Dora@example.org"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        code = re.search(r"\b(\d{8})\b", outbox()[-1].get_content()).group(1)
        form = app.screen
        for field, value in zip(form.query(Input), (code, "dora-password-1", "dora-password-1")):
            field.value = value
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.screen.query_one("#username", Input).value == "dora"
        app.screen.query_one("#password", Input).value = "dora-password-1"
        await pilot.press("enter")
        await until(pilot, lambda: app.user is not None and app.user.username == "dora")
