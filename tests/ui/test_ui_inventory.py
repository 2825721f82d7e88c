"""Screen 2, the inventory, driven like an operator would: keys in, effects checked in the database.

The Pilot tests run on SQLite and MariaDB (the ``engine`` fixture); every effect is read back with
a fresh query. The SVG snapshots at the end run on SQLite only, deterministic like
tests/ui/test_ui_snapshots.py (relative database path, frozen clock, fixed theme).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from rich.cells import cell_len
from textual.widgets import Input, OptionList
from ui_helpers import logged_in, read_handed_over_late, until

from itsm_tui.core import clock, config, setup
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store import db, limits
from itsm_tui.core.store.models import AuditEntry, Network, Peripheral, StockItem, System, Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.panels import ConflictModal
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.screens import system as system_screen
from itsm_tui.ui.screens.inventory import InventoryScreen
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.system import SystemScreen, read_system
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.widgets.asset_tables import AssetTable

HOSTILE = "[/] [bold]x [@click=app.quit]y <b>z</b> 王伟 🖨"


@pytest.fixture
def inv(engine, people):
    """Two departments, two networks, three systems (one with a ticket and a printer), three
    peripherals (one hostile name, one free monitor), two stock items (one low); returns the URL."""
    agent = people["agent"]
    inventory.create(agent, "department", {"name": "Finance"})
    inventory.create(agent, "department", {"name": "IT"})
    inventory.create(
        agent, "network", {"name": "Office LAN", "cidr": "10.10.1.0/24", "vlan": 10, "location": "HQ 2F"}
    )
    inventory.create(agent, "network", {"name": "Server LAN", "cidr": "10.20.0.0/24", "vlan": 20})
    ws1 = inventory.create(
        agent,
        "system",
        {
            "hostname": "ws-001",
            "asset_tag": "AT-1001",
            "type": "laptop",
            "ip": "10.10.1.11",
            "department": "Finance",
            "network": "Office LAN",
            "assigned_user": "requester",
            "os": "Windows 11",
            "purchase_date": "2024-01-10",
            "warranty_end": "2027-01-10",
        },
    )
    inventory.create(
        agent,
        "system",
        {
            "hostname": "ws-002",
            "asset_tag": "AT-1002",
            "type": "desktop",
            "ip": "10.10.1.12",
            "department": "IT",
            "network": "Office LAN",
            "status": "in repair",
        },
    )
    inventory.create(
        agent,
        "system",
        {
            "hostname": "srv-01",
            "asset_tag": "AT-1003",
            "type": "server",
            "ip": "10.20.0.5",
            "department": "IT",
            "network": "Server LAN",
        },
    )
    inventory.create(
        agent,
        "peripheral",
        {
            "name": "Printer 1",
            "kind": "printer",
            "asset_tag": "PR-2001",
            "system": ws1,
            "department": "Finance",
            "network": "Office LAN",
        },
    )
    inventory.create(agent, "peripheral", {"name": "Monitor 2", "kind": "monitor", "asset_tag": "PR-2002"})
    inventory.create(
        agent,
        "peripheral",
        {
            "name": HOSTILE,
            "kind": "router",
            "asset_tag": "PR-2003",
            "network": "Server LAN",
            "department": "IT",
        },
    )
    inventory.create(
        agent, "stock", {"name": "Toner 59A", "quantity": 10, "unit_price": "80.00", "reorder_level": 3}
    )
    inventory.create(
        agent, "stock", {"name": "USB-C cable", "quantity": 2, "unit_price": "9.50", "reorder_level": 5}
    )
    tickets.create(people["requester"], "Laptop will not boot", "Beeps three times.")
    ticket = Ticket.get(Ticket.title == "Laptop will not boot")
    tickets.update(agent, ticket.id, ticket.version, system=ws1.id)
    return engine


async def inventory_screen(pilot, username: str = "agent", password: str = "agent-password-1"):
    await logged_in(pilot, username, password)
    pilot.app.push_screen(InventoryScreen())
    await until(pilot, lambda: isinstance(pilot.app.screen, InventoryScreen))
    screen = pilot.app.screen
    await until(
        pilot, lambda: screen.table.rows and not screen.table.fetching and screen.state.total is not None
    )
    assert pilot.app.focused is screen.table
    return screen


async def settled(pilot, screen) -> AssetTable:
    table = screen.table
    await until(pilot, lambda: not table.fetching and table.rows is not None)
    return table


def screen_text(app) -> str:
    """The plain text of every Static on the screen and every option of its lists."""
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    for widget in app.screen.query("Static"):
        console.print(widget.content)
    for options in app.screen.query(OptionList):
        for index in range(options.option_count):
            console.print(options.get_option_at_index(index).prompt)
    return console.export_text()


def rendered(table: AssetTable) -> str:
    return table.render().plain


def status_line(screen) -> str:
    return str(screen.query_one("#status-line").render())


async def on_row(pilot, table: AssetTable, key: str, value) -> dict:
    table.cursor = next(i for i, r in enumerate(table.rows) if r[key] == value)
    table.refresh()
    await pilot.pause()
    return table.current


def form_field(form: FormModal, name: str):
    index = [f.name for f in form.fields].index(name)
    return form.query_one(f"#field-{index}")


def form_error(form: FormModal, name: str) -> str:
    index = [f.name for f in form.fields].index(name)
    return str(form.query_one(f"#error-{index}").render())


async def switch_to(pilot, screen, kind: str) -> AssetTable:
    await pilot.press(
        {"system": "f2", "peripheral": "f3", "stock": "f4", "department": "f5", "network": "f6"}[kind]
    )
    await until(
        pilot,
        lambda: (
            screen.kind == kind
            and screen.table.rows
            and not screen.table.fetching
            and screen.state.total is not None
        ),
    )
    return screen.table


# ---------------------------------------------------------------- lists


@pytest.mark.asyncio
async def test_every_tab_lists_its_rows(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        assert screen.kind == "system"
        table = screen.table
        assert {r["hostname"] for r in table.rows} == {"ws-001", "ws-002", "srv-01"}
        text = rendered(table)
        for header in ("Hostname", "Asset tag", "Type", "IP", "Department", "Network", "User", "Status"):
            assert header in text
        ws1 = next(line for line in text.splitlines() if "ws-001" in line)
        for cell in ("AT-1001", "laptop", "10.10.1.11", "Finance", "Office LAN", "requester", "in use"):
            assert cell in ws1
        assert "3 systems" in status_line(screen)

        await pilot.press("right_square_bracket")  # ] is the next tab
        await until(
            pilot, lambda: screen.kind == "peripheral" and screen.table.rows and not screen.table.fetching
        )
        table = screen.table
        assert len(table.rows) == 3
        printer = next(line for line in rendered(table).splitlines() if "Printer 1" in line)
        assert "ws-001" in printer and "PR-2001" in printer  # the system it is attached to
        assert "[/] [bold]x [@click=app.quit]y <b>z" in rendered(table)  # markup stays literal
        assert app.is_running

        table = await switch_to(pilot, screen, "stock")
        assert {r["name"]: r["low"] for r in table.rows} == {"Toner 59A": False, "USB-C cable": True}
        cable = next(line for line in rendered(table).splitlines() if "USB-C cable" in line)
        assert "low" in cable and "9.50" in cable and "19.00" in cable
        assert "total value 819.00" in status_line(screen)  # 10 x 80.00 + 2 x 9.50

        table = await switch_to(pilot, screen, "department")
        it = next(r for r in table.rows if r["name"] == "IT")
        assert (it["systems"], it["peripherals"]) == (2, 1)

        table = await switch_to(pilot, screen, "network")
        office = next(line for line in rendered(table).splitlines() if "Office LAN" in line)
        assert "10.10.1.0/24" in office and "HQ 2F" in office

        await pilot.press("left_square_bracket")  # [ goes back, and each tab kept its place
        await until(pilot, lambda: screen.kind == "department")


@pytest.mark.asyncio
async def test_at_80_columns_each_tab_fits_and_keeps_its_status(inv):
    """On an 80-column terminal a list drops its least needed columns (network, department; the
    stock value) instead of running its status and user off the right edge."""
    app = ItsmApp(inv)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await inventory_screen(pilot)
        for kind, kept in (
            ("system", ("Hostname", "Asset tag", "IP", "User", "Status", "ws-001", "in use")),
            ("peripheral", ("Name", "Attached to", "Status", "Printer 1", "ws-001")),
            ("stock", ("Item", "Quantity", "Unit price", "Description")),
            ("network", ("Network", "CIDR", "Location", "Systems")),
        ):
            table = screen.table if kind == "system" else await switch_to(pilot, screen, kind)
            lines = rendered(table).splitlines()
            assert all(cell_len(line.rstrip()) <= table.size.width for line in lines), (kind, lines[0])
            for word in kept:
                assert word in rendered(table), (kind, word)


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_filter_good_and_bad_and_sort(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        table = screen.table
        await pilot.press("slash")
        bar = screen.query_one("#filter", Input)
        assert app.focused is bar
        bar.value = "type:laptop bogus:1"
        await pilot.press("enter")
        error = screen.query_one("#filter-error")
        await until(pilot, lambda: error.has_class("shown"))
        message = str(error.render())
        assert "bogus" in message and "at column 13" in message
        assert message.startswith(" " * (12 + 1) + "^")  # the caret under the mistake (after the padding)
        assert len(table.rows) == 3  # the list is untouched by a bad filter

        bar.value = "dept:IT"  # as you type: applied after the pause
        await until(pilot, lambda: not error.has_class("shown") and screen.state.text == "dept:IT")
        await until(
            pilot, lambda: not table.fetching and {r["hostname"] for r in table.rows} == {"ws-002", "srv-01"}
        )
        assert app.focused is bar  # still typing
        await pilot.press("enter")
        await until(pilot, lambda: app.focused is table)
        assert "2 systems" in status_line(screen) and "dept:IT" in status_line(screen)

        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        await pilot.press(*"IP")
        await pilot.press("enter")
        await until(pilot, lambda: not table.fetching and screen.state.sort.key == "ip")
        await until(pilot, lambda: [r["hostname"] for r in table.rows] == ["ws-002", "srv-01"])
        await pilot.press("O")
        await until(
            pilot, lambda: not table.fetching and [r["hostname"] for r in table.rows] == ["srv-01", "ws-002"]
        )
        assert "▼" in status_line(screen)


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_stock_is_low_filter_and_the_filtered_value(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        table = await switch_to(pilot, screen, "stock")
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "is:low"
        await pilot.press("enter")
        await until(pilot, lambda: not table.fetching and [r["name"] for r in table.rows] == ["USB-C cable"])
        await until(pilot, lambda: "total value 19.00" in status_line(screen))
        await switch_to(pilot, screen, "system")  # each tab keeps its own filter
        assert screen.query_one("#filter", Input).value == ""
        await switch_to(pilot, screen, "stock")
        assert screen.query_one("#filter", Input).value == "is:low"


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_a_count_beyond_the_bound_is_shown_as_at_least(inv, monkeypatch):
    """Three systems, a bound of 2 ("10,000" on a real desk) and too little time to count them
    all: the rows read, exactly, as they are the whole list (with more to read: "N+ systems");
    a filter below the bound: the exact count."""

    def too_slow(query, seconds):
        raise limits.Stopped()

    monkeypatch.setattr(queue, "COUNT_BOUND", 2)
    monkeypatch.setattr(limits, "rows_within", too_slow)
    app = ItsmApp(inv)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await inventory_screen(pilot)
        assert screen.state.total == 2 and screen.state.bounded
        assert "  ·  3 systems  ·  " in status_line(screen)  # the whole list is read
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "ws-001"
        await pilot.press("enter")
        await until(pilot, lambda: "1 system" in status_line(screen) and not screen.state.bounded)


# ---------------------------------------------------------------- add, edit, delete


@pytest.mark.asyncio
async def test_add_system_validates_each_field_then_creates(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form_field(form, "hostname").value = "ws-100"
        form_field(form, "asset_tag").value = "AT-1001"  # taken by ws-001
        form_field(form, "type").value = "laptop"
        form_field(form, "ip").value = "10.10.1.300"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "10.10.1.300" in form_error(form, "ip") and "not a valid" in form_error(form, "ip")
        form_field(form, "ip").value = "10.10.1.100"
        form_field(form, "mac").value = "aa:bb:cc"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "MAC address" in form_error(form, "mac") and form_error(form, "ip") == ""
        form_field(form, "mac").value = "AA-BB-CC-DD-EE-FF"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "already used" in form_error(form, "asset_tag")
        form_field(form, "asset_tag").value = "at-1100"
        form_field(form, "purchase_date").value = "2025-02-30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a date" in form_error(form, "purchase_date")
        form_field(form, "purchase_date").value = "2025-02-28"
        form_field(form, "department").value = "Finance"
        form_field(form, "network").value = "Office LAN"
        form_field(form, "notes").text = "[bold]kept literally[/bold]"
        assert form_field(form, "hostname").value == "ws-100"  # everything typed stays
        await pilot.press("ctrl+s")
        await until(pilot, lambda: System.select().where(System.hostname == "ws-100").exists())
        made = System.get(System.hostname == "ws-100")
        assert (made.asset_tag, made.ip, made.mac) == ("AT-1100", "10.10.1.100", "aa:bb:cc:dd:ee:ff")
        assert made.purchase_date == date(2025, 2, 28) and made.department.name == "Finance"
        assert made.notes == "[bold]kept literally[/bold]"
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, InventoryScreen)
                and any(r["hostname"] == "ws-100" for r in screen.table.rows)
            ),
        )


@pytest.mark.asyncio
async def test_add_network_and_stock_refuse_bad_cidr_and_negative_price(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        await switch_to(pilot, screen, "network")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form_field(form, "name").value = "Lab"
        form_field(form, "cidr").value = "10.30.0.1/24"  # host bits set
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "CIDR" in form_error(form, "cidr")
        form_field(form, "cidr").value = "10.30.0.0/24"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen))
        assert Network.get(Network.name == "Lab").cidr == "10.30.0.0/24"

        await switch_to(pilot, screen, "stock")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form_field(form, "name").value = "Mouse"
        form_field(form, "quantity").value = "-1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "quantity" in form_error(form, "quantity")
        form_field(form, "quantity").value = "4"
        form_field(form, "unit_price").value = "-3"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "unit price" in form_error(form, "unit_price")
        assert not StockItem.select().where(StockItem.name == "Mouse").exists()
        form_field(form, "unit_price").value = "12.5"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: StockItem.select().where(StockItem.name == "Mouse").exists())
        assert StockItem.get(StockItem.name == "Mouse").unit_price == Decimal("12.50")


@pytest.mark.asyncio
@pytest.mark.both_engines
async def test_edit_saves_and_a_conflict_offers_reapply(inv, people):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        row = await on_row(pilot, screen.table, "hostname", "ws-002")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        assert form_field(form, "hostname").value == "ws-002"
        assert form_field(form, "department").value == "IT"
        form_field(form, "hostname").value = "srv-01"  # taken
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "hostname" in form_error(form, "hostname") and "already used" in form_error(form, "hostname")
        form_field(form, "hostname").value = "ws-002"
        form_field(form, "os").value = "Debian 12"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: System.get_by_id(row["id"]).os == "Debian 12")

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        seen = System.get_by_id(row["id"])
        inventory.update(people["agent2"], "system", row["id"], seen.version, {"status": "retired"})
        form_field(form, "model_name").value = "OptiPlex 7010"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictModal))
        assert "agent2 changed status" in app.screen.message
        await pilot.press("a")  # apply my change again, on top of theirs
        await until(pilot, lambda: System.get_by_id(row["id"]).model_name == "OptiPlex 7010")
        assert System.get_by_id(row["id"]).status == "retired"


@pytest.mark.asyncio
async def test_delete_says_what_happens_to_linked_records(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        ws1 = System.get(System.hostname == "ws-001")
        await on_row(pilot, screen.table, "hostname", "ws-001")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Delete system ws-001 (AT-1001)?" in app.screen.message
        assert "1 peripheral will be unlinked, 1 ticket keeps its history." in app.screen.message
        await pilot.press("n")  # no: nothing happens
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen))
        assert System.get_or_none(System.id == ws1.id) is not None
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: System.get_or_none(System.id == ws1.id) is None)
        assert Peripheral.get(Peripheral.asset_tag == "PR-2001").system_id is None
        ticket = Ticket.get(Ticket.title == "Laptop will not boot")
        assert ticket.system_id is None
        assert (
            AuditEntry.select()
            .where((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == ticket.id))
            .count()
            >= 2
        )
        await until(pilot, lambda: not screen.table.fetching and len(screen.table.rows) == 2)

        table = await switch_to(pilot, screen, "department")
        await on_row(pilot, table, "name", "IT")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert (
            "2 systems will have no department, 1 peripheral will have no department." in app.screen.message
        )


# ---------------------------------------------------------------- stock


@pytest.mark.asyncio
async def test_stock_adjustment_recorded_and_below_zero_refused(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        table = await switch_to(pilot, screen, "stock")
        toner = await on_row(pilot, table, "name", "Toner 59A")
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form_field(form, "quantity").value = "5"
        form_field(form, "reason").value = "delivery PO-1234"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: StockItem.get_by_id(toner["id"]).quantity == 15)
        entry = (
            AuditEntry.select()
            .where((AuditEntry.entity_type == "stock") & (AuditEntry.action == "stock_adjust"))
            .order_by(AuditEntry.id.desc())
            .get()
        )
        assert "+5" in entry.summary and "delivery PO-1234" in entry.summary
        await until(pilot, lambda: "total value 1,219.00" in status_line(screen))

        await pilot.press("minus")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form_field(form, "quantity").value = "99"
        form_field(form, "reason").value = "issued to ws-001"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "cannot take 99 of Toner 59A: only 15 in stock" in form_error(form, "quantity")
        assert StockItem.get_by_id(toner["id"]).quantity == 15
        form_field(form, "quantity").value = "15"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: StockItem.get_by_id(toner["id"]).quantity == 0)
        await until(
            pilot, lambda: not table.fetching and next(r for r in table.rows if r["id"] == toner["id"])["low"]
        )


@pytest.mark.asyncio
async def test_stock_keys_do_nothing_on_other_tabs(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        await pilot.press("plus")
        await pilot.pause()
        assert app.screen is screen
        assert "plus" not in {active.binding.key for active in app.active_bindings.values()}
        await switch_to(pilot, screen, "stock")
        assert "plus" in {active.binding.key for active in app.active_bindings.values()}


# ---------------------------------------------------------------- the system screen


async def open_system(pilot, screen, hostname: str) -> SystemScreen:
    await on_row(pilot, screen.table, "hostname", hostname)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, SystemScreen) and pilot.app.screen.view)
    return pilot.app.screen


@pytest.mark.asyncio
async def test_system_screen_shows_everything_and_attaches_and_detaches(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        system = await open_system(pilot, screen, "ws-001")
        ws1 = System.get(System.hostname == "ws-001")
        text = screen_text(app)
        for shown in (
            "ws-001",
            "AT-1001",
            "10.10.1.11",
            "Finance",
            "Office LAN",
            "requester",
            "2027-01-10",
            "Peripherals (1)",
            "Printer 1",
            "Tickets (1)",
            "Laptop will not boot",
            "History",
            "created system ws-001",
        ):
            assert shown in text, shown
        assert [p["name"] for p in system.view.peripherals] == ["Printer 1"]

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        labels = [label for label, _ in app.screen.choices]
        assert any("Monitor 2" in label for label in labels)
        assert not any("Printer 1" in label for label in labels)  # attached already: not offered
        await pilot.press(*"Monitor")
        await pilot.press("enter")
        monitor = Peripheral.get(Peripheral.asset_tag == "PR-2002")
        await until(pilot, lambda: Peripheral.get_by_id(monitor.id).system_id == ws1.id)
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, SystemScreen)
                and app.screen.view
                and len(app.screen.view.peripherals) == 2
            ),
        )

        options = system.query_one("#peripherals", OptionList)
        options.focus()
        options.highlighted = [p["id"] for p in system.view.peripherals].index(monitor.id)
        await pilot.press("x")
        await until(pilot, lambda: Peripheral.get_by_id(monitor.id).system_id is None)
        entry = (
            AuditEntry.select()
            .where((AuditEntry.entity_type == "peripheral") & (AuditEntry.entity_id == monitor.id))
            .order_by(AuditEntry.id.desc())
            .get()
        )
        assert "detached" in entry.summary
        await until(pilot, lambda: system.view and len(system.view.peripherals) == 1)


@pytest.mark.asyncio
async def test_a_read_that_ends_after_a_newer_one_does_not_bring_back_the_old_system(
    inv, people, monkeypatch
):
    """A timed refresh that started before an attach can end after the read that followed it: the
    screen keeps the newer peripherals (x on a stale list would detach the wrong one)."""
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        system = await open_system(pilot, screen, "ws-001")
        release, slow = read_handed_over_late(monkeypatch, system_screen, "read_system")
        system.load()  # the refresh: reads one peripheral and waits
        await until(pilot, lambda: bool(slow))
        monitor = Peripheral.get(Peripheral.asset_tag == "PR-2002")
        ws1 = System.get(System.hostname == "ws-001")
        inventory.attach_peripheral(people["agent"], monitor.id, monitor.version, ws1.id)
        system.load()  # the read after the attach
        await until(pilot, lambda: system.view and len(system.view.peripherals) == 2)
        release.set()
        await until(pilot, lambda: not any(w.is_running for w in app.workers))
        await pilot.pause()
        assert len(system.view.peripherals) == 2
        assert "Peripherals (2)" in screen_text(app)


@pytest.mark.asyncio
async def test_opening_a_system_deleted_meanwhile_says_so_and_stays_on_the_list(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        await on_row(pilot, screen.table, "hostname", "ws-001")
        gone = System.get(System.hostname == "ws-001")
        inventory.delete(users.system_actor(), "system", gone.id)  # another operator
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(f"system {gone.id} does not exist" in str(n.message) for n in app._notifications),
        )
        await pilot.pause(0.3)
        assert app.screen is screen


@pytest.mark.asyncio
async def test_system_screen_ticket_opens_with_enter(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        system = await open_system(pilot, screen, "ws-001")
        ticket = Ticket.get(Ticket.title == "Laptop will not boot")
        assert [t["id"] for t in system.view.tickets] == [ticket.id]
        options = system.query_one("#tickets", OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        assert app.screen.ticket_id == ticket.id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is system)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


@pytest.mark.asyncio
async def test_system_screen_edit_and_delete(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        system = await open_system(pilot, screen, "ws-002")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form_field(app.screen, "assigned_user").value = "nobody-here"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "nobody-here" in form_error(app.screen, "assigned_user")
        form_field(app.screen, "assigned_user").value = "Agent2"
        await pilot.press("ctrl+s")
        ws2 = System.get(System.hostname == "ws-002")
        await until(pilot, lambda: System.get_by_id(ws2.id).assigned_user_id is not None)
        assert System.get_by_id(ws2.id).assigned_user.username == "agent2"
        await until(
            pilot,
            lambda: app.screen is system and system.view and system.view.system["assigned_user"] == "agent2",
        )
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Nothing else is linked to it." in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen)
        assert System.get_or_none(System.id == ws2.id) is None


@pytest.mark.asyncio
async def test_requester_gets_a_message_not_the_inventory(inv):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "requester", "requester-password-1")
        app.push_screen(InventoryScreen())
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert any("for agents" in str(n.message) for n in app._notifications)


# ---------------------------------------------------------------- snapshots (SQLite only)

URL = "sqlite:///snap.db"
SIZE = (120, 40)
NOW = datetime(2026, 3, 2, 9, 30)
AGENT, AGENT_PASSWORD = "agent1", "agent1-snap-password"


def _build_inventory() -> None:
    with clock.frozen(NOW - timedelta(days=30)):
        setup.initialise()
        system = users.system_actor()
        users.create_user(system, AGENT, "agent", full_name="Alex Morgan", password=AGENT_PASSWORD)
        for name in ("user1", "user2"):
            users.create_user(system, name, "requester", password=f"{name}-snap-password")
        agent = users.by_username(AGENT)
        for name in ("Finance", "IT", "Sales"):
            inventory.create(agent, "department", {"name": name})
        inventory.create(
            agent,
            "network",
            {"name": "Office LAN", "cidr": "10.10.1.0/24", "vlan": 10, "location": "Berlin 2F"},
        )
        inventory.create(
            agent,
            "network",
            {"name": "Server LAN", "cidr": "10.20.0.0/24", "vlan": 20, "location": "Berlin DC"},
        )
        for i, (kind, dept, user, status) in enumerate(
            (
                ("laptop", "Finance", "user1", "in use"),
                ("desktop", "Sales", "user2", "in use"),
                ("laptop", "Sales", None, "in stock"),
                ("virtual machine", "IT", None, "in use"),
                ("desktop", "Finance", None, "in repair"),
                ("laptop", "IT", None, "retired"),
            ),
            start=1,
        ):
            inventory.create(
                agent,
                "system",
                {
                    "hostname": f"ws-{i:03d}",
                    "asset_tag": f"AT-{1000 + i}",
                    "type": kind,
                    "ip": f"10.10.1.{10 + i}",
                    "mac": f"aa:bb:cc:00:00:{i:02x}",
                    "department": dept,
                    "network": "Office LAN",
                    "assigned_user": user,
                    "status": status,
                    "manufacturer": "Lenovo",
                    "model_name": "ThinkPad T14",
                    "serial": f"SN{4200 + i}",
                    "os": "Windows 11",
                    "purchase_date": "2024-01-10",
                    "warranty_end": "2027-01-10",
                },
            )
        inventory.create(
            agent,
            "system",
            {
                "hostname": "srv-01",
                "asset_tag": "AT-2001",
                "type": "server",
                "ip": "10.20.0.5",
                "department": "IT",
                "network": "Server LAN",
            },
        )
        ws1 = System.get(System.hostname == "ws-001")
        inventory.create(
            agent,
            "peripheral",
            {
                "name": "Dock 1",
                "kind": "docking station",
                "asset_tag": "PR-3001",
                "system": ws1,
                "serial": "DK77",
            },
        )
        inventory.create(
            agent, "peripheral", {"name": HOSTILE, "kind": "monitor", "asset_tag": "PR-3002", "system": ws1}
        )
        inventory.create(
            agent,
            "peripheral",
            {
                "name": "Printer 3F",
                "kind": "printer",
                "asset_tag": "PR-3003",
                "department": "Finance",
                "network": "Office LAN",
            },
        )
    with clock.frozen(NOW - timedelta(days=3)):
        user1 = users.by_username("user1")
        tickets.create(agent, "Laptop fan loud", "Since Monday.", requester=user1, system=ws1.id)
    with clock.frozen(NOW - timedelta(hours=5)):
        tickets.create(agent, HOSTILE, "Screen flickers.", requester=user1, system=ws1.id)
        seen = System.get_by_id(ws1.id)
        inventory.update(
            agent,
            "system",
            ws1.id,
            seen.version,
            {"os": "Windows 11 24H2", "notes": "Spare charger in drawer 3."},
        )


@pytest.fixture
def snap_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    config.override_settings(None)
    setup.open_database(URL, check=False)
    try:
        _build_inventory()
        yield URL
    finally:
        db.database.close()
        config.override_settings(None)


def _app(url: str) -> ItsmApp:
    app = ItsmApp(url)
    app.theme = "textual-dark"
    return app


async def _snap_inventory(pilot) -> InventoryScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = AGENT
    screen.query_one("#password", Input).value = AGENT_PASSWORD
    screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    pilot.app.push_screen(InventoryScreen())
    await until(pilot, lambda: isinstance(pilot.app.screen, InventoryScreen))
    inv_screen = pilot.app.screen
    await until(
        pilot,
        lambda: (
            inv_screen.table.rows and not inv_screen.table.fetching and inv_screen.state.total is not None
        ),
    )
    await pilot.pause(0.3)  # the tab underline settles
    return inv_screen


def test_systems_tab(snap_url, snap_compare):
    """The Systems tab first: every column, each asset status, the status line and the footer."""

    async def run_before(pilot) -> None:
        screen = await _snap_inventory(pilot)
        assert len(screen.table.rows) == 7

    with clock.frozen(NOW):
        assert snap_compare(_app(snap_url), terminal_size=SIZE, run_before=run_before)


def test_system_screen(snap_url, snap_compare):
    """ws-001 opened with Enter: its fields, two peripherals (one hostile name kept literal), two
    tickets, and its history with the changed fields."""

    async def run_before(pilot) -> None:
        screen = await _snap_inventory(pilot)
        table = screen.table
        table.cursor = next(i for i, r in enumerate(table.rows) if r["hostname"] == "ws-001")
        table.refresh()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, SystemScreen) and pilot.app.screen.view)
        await pilot.pause()

    with clock.frozen(NOW):
        assert snap_compare(_app(snap_url), terminal_size=SIZE, run_before=run_before)


@pytest.mark.asyncio
async def test_the_system_screen_shown_again_shows_only_the_next_system(inv, people):
    app = ItsmApp(inv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await inventory_screen(pilot)
        first = await open_system(pilot, screen, "ws-001")
        assert "Printer 1" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        again = await open_system(pilot, screen, "srv-01")
        assert again is first  # made once (see opening.reused_screen)
        text = screen_text(app)
        assert "srv-01" in text and "10.20.0.5" in text
        assert "ws-001" not in text and "Printer 1" not in text and "Laptop will not boot" not in text
        assert "srv-01" in str(again.query_one("Frame").render())
        # a read for the system shown before, arriving late (a timed refresh), changes nothing
        ws1 = System.get(System.hostname == "ws-001")
        again._show(read_system(people["agent"], ws1.id))
        assert "Printer 1" not in screen_text(app)
        await pilot.press("ctrl+l")  # log out: the screen keeps nothing of this session's records
        await until(pilot, lambda: not app.user)
        assert again.view is None and "srv-01" not in str(again.query_one("#summary").render())
