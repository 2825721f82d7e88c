"""Nothing typed is lost (issue 15): a comment or a form keeps its text in a draft as it is
typed. A save that fails keeps the prompt open with the text and says why; ctrl+s saves it
once the database is back, exactly once; the text comes back after the app is closed and opened
again; Escape on a changed form asks before throwing the text away."""

from __future__ import annotations

import pytest
from test_db_failures import (  # noqa: F401 (fixtures)
    SECRET_DB_PASSWORD,
    locked,
    private_server,
    short_busy_timeout,
    sqlite_desk,
)
from test_ui_keys import burst
from ui_helpers import everything_shown, logged_in, open_comment, prompt_error, until

from itsm_tui.core import config, drafts
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Comment, Ticket
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.draft_keeper import Draft, DraftKeeper
from itsm_tui.ui.modals.forms import FormField, FormModal
from itsm_tui.ui.modals.prompts import TextPrompt

pytestmark = pytest.mark.asyncio


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    config.override_settings(None)
    return tmp_path / "data"


async def test_a_comment_whose_save_fails_stays_open_and_ctrl_s_saves_it_once(
    data_dir, sqlite_desk, short_busy_timeout
):
    url, path = sqlite_desk
    ticket = Ticket.get()
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        area = await open_comment(pilot)
        prompt = app.screen
        burst(app, "Toner replaced\rtray 2 cleaned")
        await until(pilot, lambda: area.text == "Toner replaced\ntray 2 cleaned")
        with locked(path):
            db.database.close()
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "locked by another writer" in prompt_error(prompt))
            assert app.screen is prompt and area.text == "Toner replaced\ntray 2 cleaned"
            assert "what you typed is kept: press ctrl+s to try again" in prompt_error(prompt)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, TextPrompt))
        await pilot.press("ctrl+s")  # a late second ctrl+s lands on the queue, not on a comment
        await pilot.pause(0.3)
    bodies = [c.body for c in Comment.select().where(Comment.ticket == ticket.id)]
    assert bodies == ["Toner replaced\ntray 2 cleaned"]
    assert drafts.load("admin", f"comment:{ticket.id}") is None  # saved: the draft is gone


async def test_a_comment_draft_survives_closing_the_app(data_dir, sqlite_desk):
    url, _ = sqlite_desk
    ticket = Ticket.get()
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        await open_comment(pilot)
        burst(app, "half a thought")
        await until(
            pilot,
            lambda: (drafts.load("admin", f"comment:{ticket.id}") or {}).get("text") == "half a thought",
        )
    # the terminal closed with the prompt open; a new session on the same data dir
    again = ItsmApp(url)
    async with again.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        area = await open_comment(pilot)
        assert area.text == "half a thought"
        assert "from last time" in prompt_error(again.screen)
        burst(again, ", finished")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(again.screen, TextPrompt))
    assert [c.body for c in Comment.select().where(Comment.ticket == ticket.id)] == [
        "half a thought, finished"
    ]


async def test_a_new_ticket_form_comes_back_filled_and_escape_asks_before_discarding(data_dir, sqlite_desk):
    url, _ = sqlite_desk
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        await until(pilot, lambda: app.focused is form._widget(0))
        burst(app, "VPN drops hourly")
        await until(
            pilot, lambda: (drafts.load("admin", "ticket:new") or {}).get("title") == "VPN drops hourly"
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("enter")  # "Keep editing" has the focus: Enter never throws text away
        await until(pilot, lambda: app.screen is form)
        form.app.pop_screen()  # closed some other way (a lost terminal): the draft stays
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        assert form.values()["title"] == "VPN drops hourly"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (FormModal, ConfirmModal)))
    assert drafts.load("admin", "ticket:new") is None


async def test_a_draft_keeps_only_what_was_changed_and_nothing_when_nothing_was(data_dir):
    """Restored over a record that someone else changed meanwhile, a draft brings back the
    operator's changes, not the record's old values."""
    from test_ui_modals import running

    draft = Draft("agent1", "system:7")
    fields = lambda a: [FormField("a", "A", value=a), FormField("b", "B", value="old b")]  # noqa: E731
    modal = FormModal("Edit", fields("a as opened"), lambda values: values, draft=draft)
    async with running(modal) as (app, pilot):
        await pilot.pause(DraftKeeper.DELAY + 0.3)
        assert drafts.load("agent1", "system:7") is None  # opened, nothing typed: no draft
        modal._widget(1).focus()
        await pilot.pause()
        burst(app, "ctrl+u", "new b")
        await until(pilot, lambda: drafts.load("agent1", "system:7") is not None)
        kept = drafts.load("agent1", "system:7")
        assert {k: v for k, v in kept.items() if k != drafts.REQUEST_KEY} == {"b": "new b"}
    again = FormModal("Edit", fields("a changed by someone else"), lambda values: values, draft=draft)
    async with running(again) as (app, pilot):
        assert again.values() == {"a": "a changed by someone else", "b": "new b"}


async def test_a_comment_on_a_full_disk_is_kept_and_saved_once_when_there_is_room(data_dir, tmp_path):
    """The database's filesystem fills up (a small tmpfs of the test's own): the comment stays
    open with its text and 'the database's disk is full'; once room is made, ctrl+s saves it once."""
    from test_db_errors import small_filesystem

    from itsm_tui.core import setup
    from itsm_tui.core.people import users
    from itsm_tui.core.store import db_errors
    from itsm_tui.core.tickets import service as tickets

    with small_filesystem(tmp_path / "small", size="3m") as folder:
        url = f"sqlite:///{folder / 'itsm.db'}"
        setup.open_database(url, check=False)
        setup.initialise()
        admin = users.create_user(users.system_actor(), "admin", "admin", password="admin-password-1")
        ticket = tickets.create(admin, "Disk", "fills up")
        app = ItsmApp(url)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await logged_in(pilot, "admin", "admin-password-1")
                area = await open_comment(pilot)
                prompt = app.screen
                burst(app, "Replaced the fuser " * 200)
                await until(pilot, lambda: area.text.startswith("Replaced the fuser"))
                filler = folder / "filler"
                with open(filler, "wb") as out:
                    try:
                        while True:
                            out.write(b"\0" * 65536)
                            out.flush()
                    except OSError:
                        pass
                await pilot.press("ctrl+s")
                await until(pilot, lambda: db_errors.DISK_FULL in prompt_error(prompt))
                assert app.screen is prompt and area.text.startswith("Replaced the fuser")
                filler.unlink()
                await pilot.press("ctrl+s")
                await until(pilot, lambda: not isinstance(app.screen, TextPrompt))
            bodies = [c.body for c in Comment.select().where(Comment.ticket == ticket.id)]
            assert len(bodies) == 1 and bodies[0].startswith("Replaced the fuser")
        finally:
            db.database.close()


async def test_a_comment_while_mariadb_restarts_is_kept_and_saved_once(data_dir, private_server):
    """A private MariaDB is stopped under an open comment and started again: the save in
    between keeps the text and says the server cannot be reached; ctrl+s afterwards saves it
    once (the first write on the old connection reconnects instead of failing)."""
    from itsm_tui.core.store import db_errors

    server, url = private_server
    ticket = Ticket.get()
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        area = await open_comment(pilot)
        prompt = app.screen
        burst(app, "Swapped the PSU")
        await until(pilot, lambda: area.text == "Swapped the PSU")
        server.stop()
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: db_errors.UNREACHABLE in prompt_error(prompt) or db_errors.LOST in prompt_error(prompt),
            30,
        )
        assert app.screen is prompt and area.text == "Swapped the PSU"
        assert SECRET_DB_PASSWORD not in everything_shown(app)
        server.start()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, TextPrompt))
    assert [c.body for c in Comment.select().where(Comment.ticket == ticket.id)] == ["Swapped the PSU"]
