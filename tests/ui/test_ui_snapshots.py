"""SVG snapshots of the terminal app at 120x40: the login screen, the queue and a ticket.

SQLite only (these pin the UI, not the engines). Everything on screen is fixed: the database
file sits at a relative path in a temporary directory (the frame says "SQLite snap.db"), the
data is made through the core services with the clock frozen at known moments, and the app
runs with the clock frozen at ``NOW`` (ages, due times and SLA colours read ``clock.now()``).
The 5 s timers (queue refresh, notification poll, ticket reload) re-read the same rows at the
same "now", so a tick that lands before the screenshot repaints identical cells. The login
Inputs' cursor blink is switched off so the focused field always shows its cursor, and the
theme is set explicitly (NO_COLOR is removed from the environment) so the colours do not depend
on the machine.

After an intended change of a screen, re-create the baselines with
``python -m pytest tests/ui/test_ui_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from textual.widgets import Input
from ui_helpers import until

from itsm_tui.core import clock, config, setup
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets import teams, views
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.widgets.ticket_table import TicketTable

URL = "sqlite:///snap.db"  # relative to the test's temporary directory (monkeypatch.chdir)
SIZE = (120, 40)
NOW = datetime(2026, 3, 2, 9, 30)  # a Monday morning, naive UTC like clock.now()
HOSTILE = "[/] [bold]x [@click=app.quit]y <b>z</b> 王伟 مرحبا 🖨"
AGENT, AGENT_PASSWORD = "agent1", "agent1-snap-password"


def _at(ago: timedelta):
    return clock.frozen(NOW - ago)


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def _build_desk() -> None:
    """Users, one linked system, tickets in every status and priority, comments and notes."""
    with _at(_h(24 * 30)):
        setup.initialise()
        system = users.system_actor()
        for name, role, full_name in (
            (AGENT, "agent", "Alex Morgan"),
            ("agent2", "agent", "Sam Lee"),
            ("super1", "supervisor", "Dana Fox"),
            ("user1", "requester", "Wang Wei"),
            ("user2", "requester", "Maria García"),
        ):
            password = AGENT_PASSWORD if name == AGENT else f"{name}-snap-password"
            users.create_user(system, name, role, full_name=full_name, password=password)
        agent = users.by_username(AGENT)
        agent2 = users.by_username("agent2")
        supervisor = users.by_username("super1")
        user1 = users.by_username("user1")
        user2 = users.by_username("user2")
        inventory.create(system, "department", {"name": "Finance"})
        inventory.create(
            system,
            "network",
            {"name": "Office LAN", "cidr": "10.20.0.0/24", "vlan": 20, "location": "Berlin 3F"},
        )
        inventory.create(
            system,
            "system",
            {
                "hostname": "fin-ws-042",
                "asset_tag": "AT-0042",
                "type": "laptop",
                "ip": "10.20.0.42",
                "department": "Finance",
                "network": "Office LAN",
                "os": "Windows 11",
            },
        )
        teams.add(system, "Network")  # issue 21: the queue's Team column
        teams.add_member(system, "Network", AGENT)

    def make(ago, requester, title, description, category, impact, urgency, **asset) -> Ticket:
        """Requesters open their own tickets; one with a linked asset is opened by agent1."""
        with _at(ago):
            return tickets.create(
                agent if asset else requester,
                title,
                description,
                category=category,
                impact=impact,
                urgency=urgency,
                requester=requester,
                **asset,
            )

    def status(ago, actor, ticket, new, note=None) -> Ticket:
        with _at(ago):
            return tickets.change_status(actor, ticket.id, ticket.version, new, note)

    def assign(ago, actor, ticket, who) -> Ticket:
        with _at(ago):
            return tickets.assign(actor, ticket.id, ticket.version, who)

    # Closed, Low (5-day target): created 9 days ago.
    t = make(
        timedelta(days=9),
        user2,
        "New starter laptop for Finance",
        "Needed by the 23rd.",
        "Hardware",
        "low",
        "low",
    )
    t = assign(timedelta(days=9) - _h(1), supervisor, t, "agent2")
    t = status(timedelta(days=6), agent2, t, "resolved", "Laptop handed over and enrolled.")
    t = status(timedelta(days=4), agent2, t, "closed")

    # Resolved, Medium.
    t = make(
        timedelta(days=4),
        user1,
        "Outlook keeps asking for the password",
        "Since this morning's update, every few minutes.",
        "Software",
        "medium",
        "medium",
    )
    t = assign(timedelta(days=4) - _h(1), agent2, t, "agent2")
    t = status(timedelta(days=3), agent2, t, "resolved", "Cleared the cached credentials.")

    # Waiting on vendor, Low.
    t = make(
        timedelta(days=3),
        user2,
        "Replacement toner cartridge on order",
        "Printer PRN-3F-01 shows toner empty.",
        "Hardware",
        "medium",
        "low",
    )
    t = assign(timedelta(days=3) - _h(1), supervisor, t, AGENT)
    t = status(timedelta(days=3) - _h(2), agent, t, "waiting_on_vendor")

    # Waiting on user, Low.
    t = make(
        timedelta(days=2),
        user1,
        "Password reset for the shared scanner mailbox",
        "scan@ mailbox password expired.",
        "Access",
        "low",
        "medium",
    )
    t = assign(timedelta(days=2) - _h(1), agent2, t, "agent2")
    t = status(timedelta(days=2) - _h(1), agent2, t, "waiting_on_user")

    # In progress, Medium, the hostile title, a linked system, a comment and an internal note.
    t = make(
        _h(26),
        user1,
        HOSTILE,
        "The label printer prints markup literally:\n  [bold]x[/bold] and <b>z</b>\nSee the photo.",
        "Hardware",
        "medium",
        "medium",
        system="AT-0042",
    )
    t = assign(_h(25), supervisor, t, AGENT)
    t = status(_h(24), agent, t, "in_progress")
    with _at(_h(3)):
        tickets.comment(user1, t.id, "Still happening after the restart. [red]not red[/red]")
    with _at(_h(2)):
        tickets.comment(agent, t.id, "Driver 4.2 suspected; vendor case VC-7731 opened.", internal=True)
    with _at(_h(1)):
        tickets.comment(agent, t.id, "We are replacing the driver this afternoon.")

    # In progress, High, at risk: 8 h target, 7 h gone (under 25% left).
    t = make(
        _h(7),
        user1,
        "Payroll export fails with error 0x80070005",
        "Export to the bank file stops at 40%.",
        "Software",
        "high",
        "medium",
    )
    t = assign(_h(6), supervisor, t, AGENT)
    t = status(_h(6), agent, t, "in_progress")

    def in_network(ago, ticket) -> None:
        with _at(ago):
            teams.set_team(agent, ticket.id, ticket.version, "Network")

    # New, Critical, breached: 4 h target, 5 h gone.
    t = make(
        _h(5),
        user2,
        "VPN concentrator down for the Berlin office",
        "Nobody can connect.",
        "Network",
        "high",
        "high",
    )
    in_network(_h(5), t)

    # New, Medium, and New, High (fresh: plenty of time left).
    make(_h(2), user2, "Monitor flickers on the second screen", "Dell U2419H.", "Hardware", "low", "high")
    t = make(
        timedelta(minutes=30),
        user1,
        "Wi-Fi drops in meeting room 4",
        "Every 10 minutes or so.",
        "Network",
        "medium",
        "high",
    )
    in_network(timedelta(minutes=30), t)

    # The agent lands on a saved view of every ticket, so every status shows in the queue.
    with _at(_h(1)):
        views.save_view(agent, "Everything", "", "-updated")
        views.remember_view(agent, "Everything")


@pytest.fixture
def snap_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)  # read by App.__init__: it would drop every colour
    config.override_settings(None)
    setup.open_database(URL, check=False)
    try:
        _build_desk()
        yield URL
    finally:
        db.database.close()
        config.override_settings(None)


def _app(url: str) -> ItsmApp:
    app = ItsmApp(url)
    app.theme = "textual-dark"  # not whatever TEXTUAL_THEME says on this machine
    # No SLA monitor: its alerts would add a notification (and a toast) at a racy moment;
    # tests/ui/test_ui_analytics.py and tests/core/test_sla_alerts.py cover it.
    app.sla_monitor.start = lambda user: None
    return app


async def _login_screen(pilot) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False  # the cursor stays drawn: no 0.5 s blink in the picture


async def _queue(pilot) -> TicketTable:
    await _login_screen(pilot)
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = AGENT
    screen.query_one("#password", Input).value = AGENT_PASSWORD
    screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    queue_screen = pilot.app.screen
    table = queue_screen.query_one(TicketTable)
    await until(pilot, lambda: table.rows and not table.fetching and queue_screen.total is not None)
    assert pilot.app.focused is table
    return table


def test_login_screen(snap_url, snap_compare):
    """The sign-in box, the username field focused, the database named."""
    with clock.frozen(NOW):
        assert snap_compare(_app(snap_url), terminal_size=SIZE, run_before=_login_screen)


def test_queue_screen(snap_url, snap_compare):
    """agent1's queue on the saved view "Everything": every status and priority, one breached
    (Critical, red) and one at-risk (High, yellow) due time, the hostile title kept literal,
    four unread notifications (three assignments, one comment) in the frame."""

    async def run_before(pilot) -> None:
        table = await _queue(pilot)
        assert len(table.rows) == 9 and pilot.app.unread == 4

    with clock.frozen(NOW):
        assert snap_compare(_app(snap_url), terminal_size=SIZE, run_before=run_before)


def test_ticket_screen(snap_url, snap_compare):
    """The hostile-title ticket opened with Enter: fields, the linked system with its department
    and network, the description, the timeline with a comment and an internal note."""

    async def run_before(pilot) -> None:
        table = await _queue(pilot)
        table.cursor = next(i for i, r in enumerate(table.rows) if r["title"] == HOSTILE)
        table.refresh()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, TicketScreen) and pilot.app.screen.view)
        assert pilot.app.screen.view.ticket.title == HOSTILE

    with clock.frozen(NOW):
        assert snap_compare(_app(snap_url), terminal_size=SIZE, run_before=run_before)
