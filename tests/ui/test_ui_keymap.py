"""Keys as people want them (issue 21): [keys] in the configuration file remaps an action's key;
the footer, ? and the palette show the user's key, and the old one no longer runs it."""

import dataclasses

import pytest
from ui_helpers import logged_in, until

from itsm_tui.core import config
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp, ItsmCommands
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.panels import HelpModal
from itsm_tui.ui.modals.pickers import ChoicePicker

pytestmark = [pytest.mark.asyncio, pytest.mark.both_engines]


@pytest.fixture
def remapped(engine):
    config.override_settings(
        dataclasses.replace(config.settings(), keys=(("assign_me", "t"), ("status", "S")))
    )
    yield engine
    config.override_settings(None)


async def test_remapped_keys_run_and_are_shown(remapped, people):
    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(remapped)
    async with app.run_test(size=(160, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("a")  # the old key does nothing now
        await pilot.pause(0.3)
        assert Ticket.get_by_id(ticket.id).assignee_id is None
        await pilot.press("t")
        await until(pilot, lambda: Ticket.get_by_id(ticket.id).assignee_id == people["agent"].id)
        footer = {b.binding.action: key for key, b in app.active_bindings.items() if b.binding.show}
        assert footer["assign_me"] == "t" and footer["status"] == "S"
        helps = {name: text for name, _, text in ItsmCommands(app.screen)._commands()}
        assert helps["Assign to me"].endswith("(t)") and helps["Status"].endswith("(S)")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpModal))
        rows = {key: (text, action) for (key, text), action in zip(app.screen.keys, app.screen.actions)}
        assert rows["t"] == ("Take", "assign_me") and rows["S"] == ("Status", "status")
        await pilot.press("escape")
        await pilot.press("S")
        await until(pilot, lambda: not isinstance(app.screen, HelpModal) and app.screen is not None)
        await until(pilot, lambda: type(app.screen).__name__ == "StatusPicker")
