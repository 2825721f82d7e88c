"""``:import`` driven like an admin would: command line, form, progress bar, report."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Log, ProgressBar, Select, Static
from ui_helpers import login, until

from itsm_tui.core.store.models import System, Ticket
from itsm_tui.importers import servicenow
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens.import_screen import ImportScreen
from itsm_tui.ui.screens.queue import QueueScreen

pytestmark = pytest.mark.asyncio
DATA = Path(__file__).parents[1] / "data"


async def command(pilot, text: str) -> None:
    await pilot.press("colon")
    await until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def import_screen(pilot, username: str, password: str) -> ImportScreen:
    await login(pilot, username, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    await command(pilot, "import")
    await until(pilot, lambda: isinstance(pilot.app.screen, ImportScreen))
    return pilot.app.screen


def state(screen: ImportScreen) -> str:
    return str(screen.query_one("#state", Static).render())


async def test_servicenow_import_shows_progress_and_the_report(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await import_screen(pilot, "admin", "admin-password-1")
        assert app.focused is screen.query_one("#path", Input)
        await pilot.press(*str(DATA / "servicenow_bad_rows.csv"))
        await pilot.press("enter")
        report = screen.query_one("#report", Log)
        await until(pilot, lambda: report.line_count > 0)
        lines = list(report.lines)
        assert lines[0].startswith("imported servicenow_bad_rows.csv") and "2 created" in lines[0]
        assert "line 6: skipped: no incident number" in lines
        bar = screen.query_one("#progress", ProgressBar)
        assert bar.total == 2 and bar.progress == 2
        assert state(screen) == lines[0]
        assert Ticket.select().count() == 2
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))


async def test_csv_dry_run_with_a_mapping_and_a_bad_path(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await import_screen(pilot, "admin", "admin-password-1")
        screen.query_one("#kind", Select).value = "systems"
        await pilot.pause()
        assert screen.query_one("#mapping-row").display
        screen.query_one("#path", Input).value = str(DATA / "nowhere.csv")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "no such file" in state(screen))
        screen.query_one("#path", Input).value = str(DATA / "import_systems.csv")
        screen.query_one("#mapping", Input).value = "hostname=Name; asset_tag=Inventory number"
        await pilot.click("#dry-run")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.query_one("#report", Log).line_count > 0)
        assert state(screen).startswith("would import import_systems.csv (systems)")
        assert System.select().count() == 0


async def test_the_import_screen_is_for_admins(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(130, 40)) as pilot:
        await login(pilot, "supervisor", "supervisor-password-1")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await command(pilot, "import")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_an_import_that_fails_unexpectedly_says_so_and_the_next_one_runs(engine, people, monkeypatch):
    """A defect in an importer: the screen says the import stopped, the app's notice says what
    failed, and the screen takes the next import (it no longer answers "an import is running")."""
    real = servicenow.import_servicenow

    def broken(*args, **kwargs):
        raise RuntimeError("the importer broke")

    monkeypatch.setattr(servicenow, "import_servicenow", broken)
    app = ItsmApp(engine)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await import_screen(pilot, "admin", "admin-password-1")
        screen.query_one("#path", Input).value = str(DATA / "servicenow_bad_rows.csv")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Not imported" in state(screen) and not screen.running)
        assert "unexpected error" in state(screen)
        await until(pilot, lambda: any("the importer broke" in n.message for n in app._notifications))
        monkeypatch.setattr(servicenow, "import_servicenow", real)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.query_one("#report", Log).line_count > 0)
        assert Ticket.select().count() == 2
