"""An agent marks themselves away from the command palette; automatic assignment skips them."""

import pytest
from ui_helpers import from_palette, logged_in, until

from itsm_tui.core.store.models import User
from itsm_tui.core.tickets import assignment
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp

pytestmark = pytest.mark.asyncio


async def test_agent_goes_away_and_back_from_the_palette(engine, people):
    assignment.set_enabled(people["admin"], True)
    assignment.configure(people["admin"], "Network", "round_robin", ["agent", "agent2"])
    tickets.create(people["requester"], "first", "d")  # something in the queue
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await from_palette(pilot, "away")
        await until(pilot, lambda: User.get_by_id(people["agent"].id).is_away)
        made = [tickets.create(people["requester"], f"net {i}", "d", category="Network") for i in range(2)]
        assert {t.assignee_id for t in made} == {people["agent2"].id}
        await from_palette(pilot, "away")
        await until(pilot, lambda: not User.get_by_id(people["agent"].id).is_away)
        assert any("You are back" in n.message for n in app._notifications)
