"""The terminal app driven like an operator would: keys in, effects checked in the database.

Runs on SQLite and MariaDB (the ``engine`` fixture); every service effect is read back with a
fresh query after the keys were pressed.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from rich.cells import cell_len
from textual.widgets import Input, OptionList, Select, TextArea
from ui_helpers import logged_in, login, screen_text, until

from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Comment, Notification, RequestKey, Ticket
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.messages import RecordRead
from itsm_tui.ui.modals.forms import FormModal, PriorityForm
from itsm_tui.ui.modals.panels import ConflictModal, MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker, StatusPicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.ticket import TicketScreen, read_ticket
from itsm_tui.ui.widgets.frame import shortened

pytestmark = pytest.mark.asyncio
HOSTILE = "[/] [bold]x [@click=app.quit]y <b>z</b> 王伟 مرحبا 🖨"


@pytest.fixture
def desk(engine, people):
    """A handful of tickets, one hostile title, one linked system; returns the database URL."""
    made = [tickets.create(people["requester"], f"Ticket {i}", f"Body {i}") for i in range(6)]
    made.append(tickets.create(people["requester"], HOSTILE, "markup must stay literal"))
    made.append(tickets.create(people["requester2"], "Someone else's", "private"))
    inventory.create(
        people["agent"], "system", {"hostname": "ws-042", "asset_tag": "AT-42", "type": "laptop"}
    )
    return engine


def fresh(ticket_id: int) -> Ticket:
    return Ticket.get_by_id(ticket_id)


def screen_text(app) -> str:
    """The plain text of every Static/Label on the screen, as Rich would print it."""
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    for widget in app.screen.query("Static, Label"):
        console.print(widget.content)
    return console.export_text()


# ---------------------------------------------------------------- login


async def test_login_good_lands_on_all_open_with_frame(desk):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        assert app.user.username == "agent"
        assert app.screen.view_name == "All open"
        assert len(table.rows) == 8
        frame = str(app.screen.query_one("Frame").render())
        assert "agent (agent)" in frame and ("SQLite" in frame or "MySQL" in frame)
        assert "password" not in frame


async def test_the_frame_shortens_a_long_database_path_to_its_one_line(engine, people, tmp_path):
    """A database deep in folders: the top line shows its file name after an ellipsis and stays
    one line at 80 columns (the path wrapped onto a second line that the screen hid, the key hint
    with it); on a record screen, whose title takes more room, too."""
    tickets.create(people["requester"], "Printer jams", "tray 2")
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    deep.mkdir(parents=True)
    db.database.close()  # the last close checkpoints the WAL into the file
    shutil.copy(tmp_path / "itsm.db", deep / "itsm.db")
    app = ItsmApp(f"sqlite:///{deep / 'itsm.db'}")
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        top = screen_text(app).splitlines()[0]
        assert "agent (agent)" in top and "SQLite …" in top and "-name/itsm.db" in top, top
        assert "? keys" in top  # the footer names the palette's key too: the hint gave way first
        assert "\n" not in str(app.screen.query_one("Frame").render())
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        top = screen_text(app).splitlines()[0]
        assert "INC000001" in top and "agent (agent)" in top and "/itsm.db" in top, top
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        top = screen_text(app).splitlines()[0]
        assert "/itsm.db" in top and "ctrl+p palette" in top, top


@pytest.mark.parametrize(
    ("url", "start", "end"),
    [
        (
            "mysql://desk:s3cret-pw@db-primary.internal.example.com:3306,db-standby.internal.example.com"
            "/itsm_production?ssl_ca=/etc/ssl/ca.pem",
            "MySQL itsm_prod",
            "example.com (TLS)",
        ),
        # a URL describe_url cannot read is shown masked: cut in the middle too, not left out
        (
            "mysql://desk:s3cret-pw@db.internal.example.com/itsm?password=s3cret-pw&x=1",
            "mysql://desk:",
            "x=***",
        ),
    ],
)
async def test_a_server_is_cut_in_the_middle_and_never_shows_the_password(url, start, end):
    label = db.describe_url(url)
    short = shortened(label, 40, path=False)
    assert cell_len(short) == 40 and "s3cret" not in label
    assert short.startswith(start) and "…" in short and short.endswith(end), short
    assert shortened(label, 200, path=False) == label
    assert shortened("SQLite /srv/desk/itsm.db", 6, path=True) == ""  # nothing useful fits


async def test_login_bad_and_locked(desk):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(5):
            await login(pilot, "agent", "wrong-password-0")
            await until(
                pilot, lambda: "invalid username or password" in str(app.screen.query_one("#error").render())
            )
            app.screen.query_one("#error").update("")
        await login(pilot, "agent", "agent-password-1")  # locked out from here: the same answer
        await until(
            pilot, lambda: "invalid username or password" in str(app.screen.query_one("#error").render())
        )
        assert "locked" not in str(app.screen.query_one("#error").render())
        assert isinstance(app.screen, LoginScreen)


async def test_requester_sees_only_own_tickets_and_no_internal_notes(desk, people):
    own = Ticket.get(Ticket.title == "Ticket 0")
    tickets.comment(people["agent"], own.id, "internal: VIP user", internal=True)
    tickets.comment(people["agent"], own.id, "public answer")
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "requester", "requester-password-1")
        titles = {r["title"] for r in table.rows}
        assert "Someone else's" not in titles and len(titles) == 7
        table.cursor = next(i for i, r in enumerate(table.rows) if r["id"] == own.id)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        text = screen_text(app)
        assert "public answer" in text and "VIP" not in text
        other = Ticket.get(Ticket.title == "Someone else's")
        await pilot.press("escape")
        app.run_command(f"ticket {other.number}")
        await pilot.pause()
        assert not isinstance(app.screen, TicketScreen)


async def test_ticket_screen_shows_the_linked_printer_with_its_place_without_querying_on_the_ui_thread(
    desk, people
):
    import threading

    from itsm_tui.core.store import db

    agent = people["agent"]
    inventory.create(agent, "department", {"name": "Finance"})
    inventory.create(agent, "network", {"name": "Office LAN", "cidr": "10.20.0.0/24"})
    printer = inventory.create(
        agent,
        "peripheral",
        {
            "name": "Printer 3",
            "asset_tag": "AT-P3",
            "kind": "printer",
            "department": "Finance",
            "network": "Office LAN",
        },
    )
    ticket = tickets.create(
        agent, "Printer 3 jams", "every page", requester=people["requester"], peripheral=printer.id
    )
    on_ui_thread = []

    for username in ("agent", "requester"):
        app = ItsmApp(desk)
        async with app.run_test(size=(120, 40)) as pilot:
            table = await logged_in(pilot, username, f"{username}-password-1")
            await _on(pilot, table, "Printer 3 jams")
            await pilot.pause(2 * QueueScreen.FILTER_DEBOUNCE)  # the filter bar's check of the view's query
            real = db.database.obj  # the app's own
            execute = real.execute_sql

            def recorded(sql, params=None, *args, **kwargs):
                if threading.current_thread() is threading.main_thread():
                    on_ui_thread.append(sql)
                return execute(sql, params, *args, **kwargs)

            on_ui_thread.clear()
            real.execute_sql = recorded
            try:
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
                await pilot.pause()
            finally:
                del real.execute_sql
            text = screen_text(app)
            assert on_ui_thread == []  # every name painted was read with the ticket, in the worker
            assert "unassigned" in text and "Requester" in text and "requester" in text
            if username == "agent":
                assert (
                    "Printer 3 · AT-P3 · printer · department Finance · network Office LAN (10.20.0.0/24)"
                    in text
                )
            else:  # no inventory rights: only that something is linked, and its tag
                assert "a peripheral, asset tag AT-P3" in text and "Office LAN" not in text
    assert ticket.peripheral_id == printer.id


async def test_the_ticket_screen_shown_again_shows_only_the_next_ticket_from_its_top(desk, people):
    long = tickets.create(people["requester"], "Long story", "\n".join(f"line {i}" for i in range(80)))
    short = tickets.create(people["requester"], "Second story", "\n".join(f"row {i}" for i in range(80)))
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await _on(pilot, table, "Long story")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        first = app.screen
        await pilot.press("end")  # read down the long description
        await until(pilot, lambda: first.query_one("#body").scroll_y > 0)
        await pilot.press("escape")
        await _on(pilot, table, "Second story")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.ticket_id == short.id)
        assert app.screen is first  # the same screen, made once (see opening.reused_screen)
        text = screen_text(app)
        assert "row 1" in text and "Long story" not in text and "line 40" not in text
        assert short.number in str(app.screen.query_one("Frame").render())
        assert first.query_one("#body").scroll_y == 0
        # a read for the ticket shown before, arriving late (a timed refresh), changes nothing
        first.post_message(RecordRead(long.id, read_ticket(people["agent"], long.id)))
        await pilot.pause()
        assert "row 1" in screen_text(app) and first.view.ticket.id == short.id
        # a ticket opened from this one (":ticket N") opens on a screen of its own
        app.run_command(f"ticket {long.number}")
        await until(
            pilot,
            lambda: isinstance(app.screen, TicketScreen) and app.screen is not first and app.screen.view,
        )
        assert "Long story" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is first)
        assert "row 1" in screen_text(app)
        await pilot.press("ctrl+l")  # log out: the screen keeps nothing of this session's tickets
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert first.view is None and "row 1" not in str(first.query_one("#ticket").render())


# ---------------------------------------------------------------- queue


async def test_navigation_paging_and_g(desk, people, system):
    from itsm_tui.core import demo

    demo.seed_bulk(system, 600)
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        app.screen.apply_view("Everything", "", "-updated")  # 608 tickets: more than a window
        await until(pilot, lambda: not table.fetching and len(table.rows) > 8)
        first = table.current["id"]
        await pilot.press("j", "j", "down")
        assert table.cursor == 3
        await pilot.press("k")
        assert table.cursor == 2
        order = [t.id for t in Ticket.select(Ticket.id).order_by(Ticket.updated_at.desc(), Ticket.id.desc())]
        for presses in range(1, 25):
            await pilot.press("pagedown")
            await until(pilot, lambda: not table.fetching)
            # each PageDown moves one screen further in the true order, loading pages on demand
            assert table.current["id"] == order[min(2 + presses * table.visible_rows, len(order) - 1)]
        assert table.more_before and len(table.rows) <= 400  # the window slid: rows were dropped
        await pilot.press("G")
        await until(pilot, lambda: not table.fetching and not table.more_after)
        assert table.current["id"] == order[-1]
        await pilot.press("k")
        assert table.current["id"] == order[-2]
        await pilot.press("g")
        await until(pilot, lambda: not table.fetching and table.cursor == 0)
        assert table.current["id"] == first == order[0]


@pytest.mark.both_engines
async def test_filter_good_and_bad(desk):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("slash")
        bar = app.screen.query_one("#filter", Input)
        bar.value = "stauts:open"
        await pilot.press("enter")
        error = app.screen.query_one("#filter-error")
        await until(pilot, lambda: error.has_class("shown"))
        assert "unknown filter 'stauts'" in str(error.render())
        assert "at column 1" in str(error.render())
        bar.value = '"王伟"'
        await pilot.press("enter")
        await until(pilot, lambda: not table.fetching and len(table.rows) == 1)
        assert table.rows[0]["title"] == HOSTILE
        assert not error.has_class("shown")
        assert "1 ticket" in str(app.screen.query_one("#status-line").render())


async def test_hostile_title_renders_literally(desk):
    app = ItsmApp(desk)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        assert "[/] [bold]x [@click=app.quit]y" in str(table.render())
        table.cursor = next(i for i, r in enumerate(table.rows) if r["title"] == HOSTILE)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        assert HOSTILE in screen_text(app)
        assert app.is_running


# ---------------------------------------------------------------- triage keys


async def _on(pilot, table, title: str) -> int:
    table.cursor = next(i for i, r in enumerate(table.rows) if r["title"] == title)
    table.refresh()
    await pilot.pause()
    return table.current["id"]


async def test_assign_to_me_and_to_an_agent(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "supervisor", "supervisor-password-1")
        ticket_id = await _on(pilot, table, "Ticket 1")
        await pilot.press("a")
        await until(pilot, lambda: fresh(ticket_id).assignee_id == people["supervisor"].id)
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AgentPicker))
        await pilot.press(*"agent2")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: fresh(ticket_id).assignee_id == people["agent2"].id)
        await until(pilot, lambda: table.current and table.current["id"] == ticket_id)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_status_change_asks_for_the_resolution_note(desk, people, size):
    """At 80x24 the status list gave way to the note too late: the refusal and the hint that
    says ctrl+s saves were cut off below the box."""
    app = ItsmApp(desk)
    async with app.run_test(size=size) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        ticket_id = await _on(pilot, table, "Ticket 2")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker))
        options = app.screen.query_one(OptionList)
        options.highlighted = app.screen.allowed.index("resolved")
        await pilot.press("enter")
        await pilot.press("ctrl+s")  # no note yet: refused inline
        await pilot.pause()
        assert isinstance(app.screen, StatusPicker)
        shown = screen_text(app)
        assert "A resolution note is required." in shown and "ctrl+s save" in shown, shown
        app.screen.query_one("#note", TextArea).text = "Replaced the cable"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fresh(ticket_id).status == "resolved")
        assert fresh(ticket_id).resolution_note == "Replaced the cable"
        # the resolved ticket left "All open": the cursor moved to a neighbour, not to the top
        await until(pilot, lambda: table.current and table.current["id"] != ticket_id)


async def test_priority_comment_note_and_link(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        ticket_id = await _on(pilot, table, "Ticket 3")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PriorityForm))
        app.screen.query_one("#impact", Select).value = 1
        app.screen.query_one("#urgency", Select).value = 1
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fresh(ticket_id).priority == 1)
        for key, text, internal in (("c", "We are on it", False), ("i", "check the switch", True)):
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one(TextArea).text = text
            await pilot.press("ctrl+s")
            await until(
                pilot,
                lambda: (
                    Comment.select()
                    .where(
                        (Comment.ticket == ticket_id)
                        & (Comment.body == text)
                        & (Comment.is_internal == internal)
                    )
                    .exists()
                ),
            )
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        await pilot.press(*"ws-042")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: fresh(ticket_id).system_id is not None)


async def test_new_ticket_form_validates_and_creates(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form.query_one("#field-0", Input).value = "x" * 201
        form.query_one("#field-1", TextArea).text = "Printer on floor 2 is offline"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "title is too long" in str(form.query_one("#error-0").render())
        assert form.query_one("#field-1", TextArea).text == "Printer on floor 2 is offline"
        form.query_one("#field-0", Input).value = "Printer offline"
        form.query_one("#field-6", Input).value = "no-such-host"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "no system 'no-such-host'" in str(form.query_one("#error-6").render())
        form.query_one("#field-6", Input).value = "ws-042"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: Ticket.select().where(Ticket.title == "Printer offline").exists())
        created = Ticket.get(Ticket.title == "Printer offline")
        assert created.requester_id == people["agent"].id
        assert created.system.hostname == "ws-042"
        # the new ticket opens, so the operator can go on working on it
        await until(
            pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.ticket_id == created.id
        )


async def test_at_80x24_a_form_opens_with_its_first_label_in_sight(desk, people):
    """n (new ticket) and e (edit): the focused title field must not scroll "Title *" away."""
    app = ItsmApp(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        for key in ("n", "e"):
            if key == "e":
                app.open_ticket(Ticket.get(Ticket.title == "Ticket 0").id)
                await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, FormModal))
            await pilot.pause(0.2)
            form = app.screen
            assert form.query_one("#field-0", Input).has_focus
            shown = screen_text(app)
            assert "Title *" in shown, (key, shown)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, FormModal))


@pytest.mark.both_engines
async def test_bulk_assign_with_a_conflict(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        table.cursor = 0
        await pilot.press("space", "space", "space")
        marked = sorted(table.marks)
        assert len(marked) == 3
        # someone else edits one of them behind the operator's back
        victim = fresh(marked[1])
        tickets.update(people["agent2"], victim.id, victim.version, title="Changed elsewhere")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        summary = "\n".join(app.screen.lines)
        assert "2 of 3 tickets assigned to you" in summary
        assert victim.number in summary and "conflict" in summary
        assert {fresh(i).assignee_id for i in marked if i != victim.id} == {people["agent"].id}
        assert fresh(victim.id).assignee_id is None
        # each ticket's change carried a request key of its own: a retry would not write it twice
        keys = RequestKey.select().where(
            RequestKey.user == people["agent"].id, RequestKey.action == "ticket.assign"
        )
        assert keys.count() == 2
        await pilot.press("enter")
        await until(pilot, lambda: not table.marks)  # marks serve one action, the failed one's too
        await pilot.press("space")
        assert table.marks
        await pilot.press("slash")  # a new filter drops the marks: nothing hidden gets acted on
        app.screen.query_one("#filter", Input).value = "status:new"
        await pilot.press("enter")
        await until(pilot, lambda: not table.fetching and not table.marks)


@pytest.mark.both_engines
async def test_conflict_dialog_reapplies_on_the_ticket_screen(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        ticket_id = await _on(pilot, table, "Ticket 4")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.view)
        seen = fresh(ticket_id)
        tickets.update(people["agent2"], ticket_id, seen.version, title="Renamed by agent2")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConflictModal))
        assert "agent2 changed title" in app.screen.message
        await pilot.press("a")  # apply my change again, on top of theirs
        await until(pilot, lambda: fresh(ticket_id).assignee_id == people["agent"].id)
        assert fresh(ticket_id).title == "Renamed by agent2"


@pytest.mark.both_engines
async def test_reload_after_a_conflict_keeps_the_typed_resolution_note(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        ticket_id = await _on(pilot, table, "Ticket 3")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker))
        app.screen.query_one(OptionList).highlighted = app.screen.allowed.index("resolved")
        await pilot.press("enter")
        app.screen.query_one("#note", TextArea).text = "Swapped the PSU; runs quiet now"
        seen = fresh(ticket_id)
        tickets.update(people["agent2"], ticket_id, seen.version, title="Renamed by agent2")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConflictModal))
        await pilot.press("r")  # reload: their change wins, my note must not be lost
        await until(pilot, lambda: not isinstance(app.screen, ConflictModal))
        assert fresh(ticket_id).status == "new"
        await until(pilot, lambda: table.current and table.current["id"] == ticket_id)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StatusPicker))
        assert app.screen.query_one("#note", TextArea).text == "Swapped the PSU; runs quiet now"
        app.screen.query_one(OptionList).highlighted = app.screen.allowed.index("resolved")
        await pilot.press("enter", "ctrl+s")
        await until(pilot, lambda: fresh(ticket_id).status == "resolved")
        assert fresh(ticket_id).resolution_note == "Swapped the PSU; runs quiet now"
        assert fresh(ticket_id).title == "Renamed by agent2"


async def test_changes_by_others_appear_without_moving_the_cursor(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("j", "j", "space")
        current = table.current["id"]
        other = table.rows[0]["id"]
        row = fresh(other)
        tickets.update(people["agent2"], other, row.version, title="Edited from the CLI")
        table.refresh_window()
        await until(pilot, lambda: any(r["title"] == "Edited from the CLI" for r in table.rows))
        assert table.current["id"] == current and len(table.marks) == 1


async def test_notifications_toast_and_list(desk, people):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        ticket = Ticket.get(Ticket.title == "Ticket 5")
        tickets.assign(people["supervisor"], ticket.id, ticket.version, "agent")
        app.poll_notifications()
        await until(pilot, lambda: app.unread == 1)
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        assert ticket.number in app.screen.choices[0][0]
        await pilot.press("escape")
        await until(pilot, lambda: app.unread == 0)


async def test_notifications_newest_first_enter_opens_and_login_sums_them_up(desk, people):
    made = [Ticket.get(Ticket.title == f"Ticket {i}") for i in range(4)]
    for ticket in made:
        tickets.assign(people["supervisor"], ticket.id, ticket.version, "agent")
    # the oldest id is the newest in time (seeded or imported notifications)
    first = Notification.get(Notification.ticket == made[0].id)
    first.created_at = first.created_at + timedelta(hours=1)
    first.save()
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        toasts = [n.message for n in app._notifications]
        assert toasts == ["4 unread: 4 assigned to you (N shows them)"]
        await pilot.press("N")
        await until(pilot, lambda: isinstance(app.screen, ChoicePicker))
        assert app.screen.values[:2] == [made[0].id, made[3].id]
        await pilot.press("enter")
        await until(
            pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.ticket_id == made[0].id
        )
        assert app.unread == 0


async def test_command_line_help_and_logout(desk):
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        target = Ticket.get(Ticket.title == "Ticket 0")
        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        app.screen.query_one(Input).value = f"ticket {target.number}"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        await pilot.press("question_mark")
        await pilot.pause()
        keys = dict(app.screen.keys)
        assert "Take" in keys.values() and "Status" in keys.values()
        await pilot.press("escape")
        await pilot.press("4")  # screen 4: analytics (agents see their own)
        await until(pilot, lambda: type(app.screen).__name__ == "AnalyticsScreen")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.user is None


async def test_a_finished_session_leaves_nothing_held_from_the_garbage_collector(desk, people):
    """A session excludes its long-lived objects from full garbage collections (gc.freeze, to
    cut pauses); logging out or quitting gives them back, so a process that runs the app again
    (an embedding, these tests) does not keep every past session."""
    import gc

    gc.unfreeze()  # from a clean start: a frozen heap an earlier test left would pass the first wait
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await until(pilot, lambda: gc.get_freeze_count() > 0)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert gc.get_freeze_count() == 0
        await logged_in(pilot, "agent", "agent-password-1")
        await until(pilot, lambda: gc.get_freeze_count() > 0)
    assert gc.get_freeze_count() == 0


async def test_the_queue_refreshes_itself_every_few_seconds(desk, people, monkeypatch):
    import itsm_tui.ui.screens.queue as queue_screen

    monkeypatch.setattr(queue_screen, "REFRESH_SECONDS", 0.3)
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("j")
        current = table.current["id"]
        other = next(r for r in table.rows if r["id"] != current)
        row = fresh(other["id"])
        tickets.update(people["agent2"], row.id, row.version, title="Renamed by the CLI")
        await until(pilot, lambda: any(r["title"] == "Renamed by the CLI" for r in table.rows))
        assert table.current["id"] == current


@pytest.mark.both_engines
async def test_changing_the_sort_after_G_keeps_working(desk, system):
    from itsm_tui.core import demo
    from itsm_tui.core.tickets.queue import Sort

    demo.seed_bulk(system, 300)
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("G")
        await until(pilot, lambda: not table.fetching and not table.more_after)
        kept = table.current["id"]
        app.screen._set_sort(Sort("priority", True))  # critical first: the kept (oldest) row is far down
        await until(pilot, lambda: not table.fetching and table.sort.key == "priority")
        assert app.is_running
        ids = [r["id"] for r in table.rows]
        assert table.current["id"] == kept if kept in ids else table.cursor == 0


async def test_digits_switch_sections_by_role(desk):
    from itsm_tui.ui.screens.inventory import InventoryScreen
    from itsm_tui.ui.screens.log import LogScreen

    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen))
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        assert len(app.screen_stack) == 2  # sections replace each other above the queue
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "requester", "requester-password-1")
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)  # requesters have no inventory screen


async def test_a_failed_task_of_a_screen_or_a_dialog_is_said_in_words(desk, people):
    """A worker of a screen (or a dialog) that fails is said by the app, as its own are
    (Textual tells only the node that ran it); a record deleted meanwhile is said in words,
    never with the SQL that looked for it."""
    app = ItsmApp(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        app.clear_notifications()
        app.screen.run_worker(lambda: Ticket.get_by_id(10**9), thread=True, exit_on_error=False)
        await until(pilot, lambda: any(n.title == "That did not work" for n in app._notifications))
        (said,) = [n.message for n in app._notifications if n.title == "That did not work"]
        assert said == "it is no longer there: someone deleted it meanwhile"
        assert "SELECT" not in said
