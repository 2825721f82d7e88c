"""The export modal driven with keys: from the queue with a filter and with marked rows, a
cancelled export, a bad destination and the overwrite question. On both engines."""

from __future__ import annotations

import csv
import dataclasses
import re
import subprocess
import threading

import pytest
from textual.widgets import Input, Select
from ui_helpers import logged_in, screen_text, until

from itsm_tui.core import demo
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.reports import lists
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.export_modal import ExportModal
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine
from itsm_tui.ui.screens.queue import QueueScreen

pytestmark = pytest.mark.asyncio
NUMBER = re.compile(r"INC\d{6}")


@pytest.fixture
def desk(engine, people):
    demo.seed_bulk(people["admin"], 60)
    tickets.create(people["requester"], "Printer <b>jammed</b> 王伟", "x")
    return engine


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


async def open_modal(pilot, key: str = "e") -> ExportModal:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportModal))
    return pilot.app.screen


async def fill(pilot, modal: ExportModal, path, fmt: str | None = None) -> None:
    if fmt:
        modal.query_one("#format", Select).value = fmt
        await pilot.pause()
    modal.query_one("#path", Input).value = str(path)


@pytest.mark.both_engines
async def test_export_from_the_queue_with_a_filter(desk, people, out):
    app = ItsmApp(desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        screen = app.screen
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "status:closed"
        await pilot.press("enter")
        await until(pilot, lambda: screen.filter_text == "status:closed" and not screen.table.fetching)
        modal = await open_modal(pilot)
        await fill(pilot, modal, out / "closed.csv", "csv")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        expected = [r["number"] for r in queue.iterate(people["agent"], "status:closed", screen.sort)]
        with open(out / "closed.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0][:3] == ["Number", "Priority", "Status"]  # the visible columns
        assert [r[0] for r in rows[1:]] == expected and len(expected) > 10
        assert {r[2] for r in rows[1:]} == {"Closed"}
        assert any("closed.csv" in n.message for n in app._notifications)


async def test_export_marked_rows_to_pdf(desk, out):
    app = ItsmApp(desk)
    async with app.run_test(size=(140, 45)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        first, second = table.rows[0]["number"], table.rows[2]["number"]
        await pilot.press("space", "down", "space")  # marks rows 0 and 2
        await until(pilot, lambda: len(table.marks) == 2)
        modal = await open_modal(pilot, "E")  # shift+e works here too
        assert modal.query_one("#scope", Select).value == "marked"
        await fill(pilot, modal, out / "marked.pdf")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        text = subprocess.run(
            ["pdftotext", str(out / "marked.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert NUMBER.findall(text) == [first, second]


async def test_cancel_leaves_nothing_at_the_destination(desk, out, monkeypatch):
    gate, reached = threading.Event(), threading.Event()
    kind = lists.LISTS["tickets"]

    def held_rows(actor, text, sort, keys=None):
        for n, row in enumerate(kind.rows(actor, text, sort, keys)):
            if n == 3:
                reached.set()
                gate.wait(10)  # the export is mid-way until the test lets it go
            yield row

    monkeypatch.setitem(lists.LISTS, "tickets", dataclasses.replace(kind, rows=held_rows))
    app = ItsmApp(desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        modal = await open_modal(pilot)
        await fill(pilot, modal, out / "cancelled.pdf")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: reached.is_set() and modal.running)
        await pilot.press("escape")
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert list(out.iterdir()) == []  # no file, no temporary file
        assert any("cancelled" in n.message for n in app._notifications)


async def test_bad_destination_and_overwrite_question(desk, out):
    app = ItsmApp(desk)
    async with app.run_test(size=(140, 45)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        modal = await open_modal(pilot)
        await fill(pilot, modal, out / "missing" / "x.pdf")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = modal.query_one(ErrorLine)
        assert "does not exist" in str(error.render()) and app.screen is modal
        (out / "old.pdf").write_bytes(b"keep")
        await fill(pilot, modal, out / "old.pdf")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is modal)
        assert (out / "old.pdf").read_bytes() == b"keep"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert (out / "old.pdf").read_bytes().startswith(b"%PDF")
        assert sorted(p.name for p in out.iterdir()) == ["old.pdf"]


async def test_ticket_screen_and_inventory_tab_export(desk, people, out):
    from itsm_tui.core.inventory import lists as assets
    from itsm_tui.core.inventory import service as inventory
    from itsm_tui.ui.screens.inventory import InventoryScreen
    from itsm_tui.ui.screens.ticket import TicketScreen

    for n in range(3):
        inventory.create(
            people["agent"],
            "system",
            {"hostname": f"ws-{n}", "asset_tag": f"AT-{n}", "type": "laptop", "status": "in use"},
        )
    app = ItsmApp(desk)
    async with app.run_test(size=(140, 45)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        number = table.rows[0]["number"]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        modal = await open_modal(pilot, "E")  # e edits on the ticket screen
        assert not modal.query("#scope")  # one record: no rows to choose
        await fill(pilot, modal, out / "ticket.pdf")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        text = subprocess.run(
            ["pdftotext", str(out / "ticket.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert number in text and "Timeline" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen))
        modal = await open_modal(pilot, "E")  # e edits here
        await fill(pilot, modal, out / "systems.csv", "csv")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen))
        with open(out / "systems.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        expected = [r["hostname"] for r in assets.iterate(people["agent"], "system", "", None)]
        assert [r[0] for r in rows[1:]] == expected == ["ws-0", "ws-1", "ws-2"]


async def test_at_80_by_24_the_dialog_opens_at_its_top(desk):
    """The format is focused before the fields have their height: the dialog opened scrolled
    down, its title and the Format label out of sight."""
    app = ItsmApp(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        modal = await open_modal(pilot)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "Export tickets" in shown and "Format" in shown
        assert modal.query_one("#dialog").scroll_y == 0
