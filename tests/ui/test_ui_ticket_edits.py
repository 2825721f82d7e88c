"""Issue 21 through the keys: edit (e), delete (D), merge (M), link (L) and open (o), tags (t),
resolving a parent with its children; effects checked in the database on both engines."""

import io
import time

import pytest
from rich.console import Console
from textual.widgets import Input, OptionList, TextArea
from ui_helpers import form_message, logged_in, read_handed_over_late, until

from itsm_tui.core.store.models import AuditEntry, Comment, Ticket, TicketTag
from itsm_tui.core.tickets import links
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.pickers import ChoicePicker, StatusPicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens import ticket as ticket_screen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.ticket import TicketScreen

pytestmark = [pytest.mark.asyncio, pytest.mark.both_engines]


def fresh(ticket_id):
    return Ticket.get_or_none(Ticket.id == ticket_id)


async def _on_ticket(pilot, username, ticket_id) -> TicketScreen:
    await logged_in(pilot, username, f"{username}-password-1")
    pilot.app.open_ticket(ticket_id)
    await until(pilot, lambda: isinstance(pilot.app.screen, TicketScreen) and pilot.app.screen.view)
    return pilot.app.screen


def _shown(screen) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(screen.query_one("#ticket").content)
    return console.export_text()


async def _prompt(pilot, key: str, text: str) -> None:
    """``key`` opens a one-line prompt: type ``text`` and press Enter."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
    pilot.app.screen.query_one("#value", Input).value = text
    await pilot.press("enter")


async def test_edit_saves_title_description_category_and_a_failed_save_keeps_the_text(engine, people):
    ticket = tickets.create(people["requester"], "Printer jams", "Every page")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, "agent", ticket.id)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form._widget(0).value = "Printer 3F jams"
        form._widget(1).text = "Tray 2, every page"
        form._widget(2).value = "Hardware"
        tickets.update(people["agent2"], ticket.id, ticket.version, impact=1)  # someone else saves first
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "changed" in form_message(form))
        assert app.screen is form and form._widget(0).value == "Printer 3F jams"  # kept
        await pilot.press("ctrl+s")  # saved over the newer version, which named who changed what
        await until(pilot, lambda: fresh(ticket.id).title == "Printer 3F jams")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
    row = fresh(ticket.id)
    assert (row.description, row.category.name, row.impact) == ("Tray 2, every page", "Hardware", 1)


async def test_admin_deletes_after_a_confirmation_saying_what_goes(engine, people):
    ticket = tickets.create(people["requester"], "Old junk", "Please remove")
    tickets.comment(people["agent"], ticket.id, "On it")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _on_ticket(pilot, "admin", ticket.id)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "1 comment, 0 attachments" in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: fresh(ticket.id) is None)
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
    entry = AuditEntry.get((AuditEntry.entity_id == ticket.id) & (AuditEntry.action == "delete"))
    assert "'Old junk' requested by requester" in entry.summary
    assert Comment.select().count() == 0


async def test_merge_then_the_merged_number_opens_and_shows_where_it_went(engine, people):
    target = tickets.create(people["requester"], "VPN drops", "Hourly")
    duplicate = tickets.create(people["requester2"], "VPN keeps dropping", "Since Monday")
    tickets.comment(people["requester2"], duplicate.id, "Again now")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, "agent", duplicate.id)
        await _prompt(pilot, "M", target.number)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))  # says what moves, then y
        assert "Moving to" in app.screen.message and "1 comment, 0 attachments" in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: fresh(duplicate.id).status == "closed")
        await until(pilot, lambda: f"Merged into {target.number}" in _shown(screen))
        await pilot.press("o")  # one key to the ticket it went to
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.ticket_id == target.id)
        await until(pilot, lambda: "Again now" in _shown(app.screen))
    assert Comment.get().ticket_id == target.id
    assert links.merged_into(duplicate.id).id == target.id


async def test_link_parent_and_resolving_it_offers_the_open_children(engine, people):
    parent = tickets.create(people["requester"], "Mail server down", "All users")
    child = tickets.create(people["requester2"], "No mail", "Outlook offline")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, "agent", parent.id)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        await pilot.press(*"parent", "enter")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one("#value", Input).value = child.number
        await pilot.press("enter")
        await until(pilot, lambda: f"parent of {child.number}" in _shown(screen))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker))
        app.screen.query_one(OptionList).highlighted = app.screen.allowed.index("resolved")
        await pilot.press("enter")
        app.screen.query_one("#note", TextArea).text = "Restarted the mail server"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert child.number in app.screen.message
        await pilot.press("y")
        await until(
            pilot, lambda: fresh(child.id).status == "resolved" and fresh(parent.id).status == "resolved"
        )
    assert fresh(child.id).resolution_note == "Restarted the mail server"


async def test_tags_typed_show_in_the_queue_and_filter_it(engine, people):
    ticket = tickets.create(people["requester"], "VPN slow", "From home")
    tickets.create(people["requester"], "Other", "x")
    app = ItsmApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await _on_ticket(pilot, "agent", ticket.id)
        await _prompt(pilot, "t", "vpn Remote")
        await until(pilot, lambda: TicketTag.select().count() == 2)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        app.screen.apply_view("tagged", "tag:remote", "-updated")
        table = app.screen.query_one("TicketTable")
        await until(pilot, lambda: not table.fetching and [r["id"] for r in table.rows] == [ticket.id])
        assert table.rows[0]["tags"] == ["remote", "vpn"]
        assert "#remote #vpn" in str(table.cells(table.rows[0])["title"])


async def test_admin_manages_categories_on_the_categories_screen(engine, people):
    from itsm_tui.core.store.models import Category
    from itsm_tui.ui.screens.categories import CategoriesScreen

    hardware = Category.get(Category.name == "Hardware")
    ticket = tickets.create(people["requester"], "Toner", "Empty", category="Hardware")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        app.run_command("categories")
        await until(pilot, lambda: isinstance(app.screen, CategoriesScreen) and app.screen.rows)
        screen = app.screen
        await _prompt(pilot, "n", "Printers")
        await until(pilot, lambda: Category.get_or_none(Category.name == "Printers") is not None)
        await until(pilot, lambda: isinstance(app.screen, CategoriesScreen) and len(screen.rows) == 6)
        table = screen.query_one("DataTable")
        table.move_cursor(row=[c.name for c, _ in screen.rows].index("Hardware"))
        await _prompt(pilot, "r", "Hardware & peripherals")
        await until(pilot, lambda: Category.get_by_id(hardware.id).name == "Hardware & peripherals")
        await until(pilot, lambda: isinstance(app.screen, CategoriesScreen))
        await until(pilot, lambda: "Hardware & peripherals" in [c.name for c, _ in screen.rows])
        table.move_cursor(row=[c.name for c, _ in screen.rows].index("Hardware & peripherals"))
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        await pilot.press(*"Printers", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: fresh(ticket.id).category.name == "Printers")
        assert not Category.get_by_id(hardware.id).is_active
        await until(pilot, lambda: isinstance(app.screen, CategoriesScreen))
        table.move_cursor(row=[c.name for c, _ in screen.rows].index("Hardware & peripherals"))
        await pilot.press("d")  # back to active
        await until(pilot, lambda: Category.get_by_id(hardware.id).is_active)


async def test_requester_sees_their_devices_and_opens_a_ticket_on_one(engine, people, system):
    from itsm_tui.core.inventory import service as inventory
    from itsm_tui.ui.modals.panels import MessageModal

    laptop = inventory.create(
        system,
        "system",
        {"hostname": "ws-7", "asset_tag": "AT-7", "type": "laptop", "assigned_user": "requester"},
    )
    tickets.create(people["requester"], "Something in my queue", "x")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "requester", "requester-password-1")
        app.run_command("devices")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        assert app.screen.lines == ["ws-7 · AT-7 · laptop"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        names = [f.name for f in form.fields]
        form._widget(names.index("title")).value = "Laptop fan loud"
        form._widget(names.index("description")).text = "Since the update"
        form._widget(names.index("device")).value = f"system:{laptop.id}"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: Ticket.get_or_none(Ticket.title == "Laptop fan loud") is not None)
    made = Ticket.get(Ticket.title == "Laptop fan loud")
    assert made.system_id == laptop.id
    app = ItsmApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _on_ticket(pilot, "agent", made.id)
        assert "Requester's devices" in _shown(screen) and "ws-7 · AT-7 · laptop" in _shown(screen)


async def test_the_palette_offers_the_ticket_verbs_the_role_may_use(engine, people):
    from itsm_tui.ui.app import ItsmCommands

    ticket = tickets.create(people["requester"], "Printer jams", "tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, "agent", ticket.id)
        names = {name for name, _, _ in ItsmCommands(app.screen)._commands()}
        assert {"Edit ticket", "Merge into…", "Link ticket", "Open linked ticket", "Tags"} <= names
        assert "Delete ticket" not in names  # admins only, and D does nothing for an agent
        await pilot.press("D")
        await pilot.pause(0.2)
        assert app.screen is screen and fresh(ticket.id) is not None


async def test_a_read_that_ends_after_a_newer_one_does_not_bring_back_the_old_ticket(
    engine, people, monkeypatch
):
    """A timed refresh that started before a save can end after the read that followed it: the
    screen keeps the newer ticket (an older version on screen would make the next edit a conflict)."""
    ticket = tickets.create(people["requester"], "Printer jams", "Every page")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_ticket(pilot, "agent", ticket.id)
        release, slow = read_handed_over_late(monkeypatch, ticket_screen, "read_ticket")
        screen.load()  # the refresh: reads the old ticket and waits
        await until(pilot, lambda: bool(slow))
        tickets.update(people["agent2"], ticket.id, ticket.version, title="Printer 3F jams")
        screen.load()  # the read after a save
        await until(pilot, lambda: screen.view.ticket.title == "Printer 3F jams")
        release.set()
        await until(pilot, lambda: not any(w.is_running for w in app.workers))
        await pilot.pause()
        assert screen.view.ticket.title == "Printer 3F jams"
        assert screen.view.ticket.version == fresh(ticket.id).version
        assert "Printer 3F jams" in _shown(screen)


async def test_a_ticket_read_slower_than_the_refresh_is_still_shown(engine, people, monkeypatch):
    """On a slow database every read of a ticket takes longer than the refresh interval: the
    ticket is still shown (a newer refresh does not throw the read under way away), and the
    refresh waits for it instead of piling reads up."""
    ticket = tickets.create(people["requester"], "Printer jams", "Every page")
    monkeypatch.setattr(ticket_screen, "REFRESH_SECONDS", 0.2)
    read, running, most = ticket_screen.read_ticket, [], []

    def slow(actor, ticket_id):
        running.append(1)
        most.append(len(running))
        time.sleep(1.0)
        running.pop()
        return read(actor, ticket_id)

    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        monkeypatch.setattr(ticket_screen, "read_ticket", slow)
        app.open_ticket(ticket.id)  # slower than opening.SHOW_LOADING_AFTER: the screen reads itself
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view, timeout=20)
        assert "Printer jams" in _shown(app.screen)
        await pilot.pause(1.5)
        assert max(most) <= 2  # the opening's read and the screen's own, never a pile
