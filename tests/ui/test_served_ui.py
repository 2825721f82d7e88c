"""The app in served mode, driven with keys: the file dialogs keep to the operator's folder,
My exports lists it, there is no way out to a shell, an idle session locks, and an internal
error leaves a crash report without secrets instead of Textual's report with local variables.
On both engines (the ``engine`` fixture)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from test_mail import smtp  # noqa: F401  (the fixture)
from textual.widgets import Input, OptionList
from ui_helpers import logged_in, login, open_ticket, shown, submit_path, until

from itsm_tui.core import config, files
from itsm_tui.core.people import auth
from itsm_tui.core.store.models import Attachment
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.export_modal import ExportModal
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import PathPrompt
from itsm_tui.ui.my_exports import MyExportsModal
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen

pytestmark = pytest.mark.asyncio


@pytest.fixture
def data(engine, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("ITSM_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def served(data):
    config.override_settings(config.Settings(mode="served", idle_lock_minutes=15))
    yield data
    config.override_settings(None)


@pytest.fixture
def ticket(people):
    made = tickets.create(people["requester"], "Printer jammed", "see the log")
    tickets.attach(people["agent"], made.id, "log.txt", b"paper jam at tray 2")
    return made


async def test_attach_reads_only_from_the_uploads_folder(engine, served, ticket):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot, ticket.id)
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, PathPrompt))
        prompt = app.screen
        for typed in ("/proc/self/cmdline", "../../x", "/etc/passwd", "../../exports/agent/x"):
            await submit_path(pilot, typed)
            assert app.screen is prompt
            assert "outside your folder" in shown(prompt.query_one(ErrorLine)), typed
        (served / "uploads" / "agent" / "screenshot.png").write_bytes(b"\x89PNG fine")
        await submit_path(pilot, "screenshot.png")
        await until(
            pilot, lambda: Attachment.select().where(Attachment.filename == "screenshot.png").exists()
        )
    assert Attachment.select().where(Attachment.ticket == ticket.id).count() == 2


async def save_prompt(pilot, ticket_id: int) -> PathPrompt:
    """The ticket's first attachment chosen with ``d``: the dialog that asks where to save it."""
    await open_ticket(pilot, ticket_id)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoicePicker))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, PathPrompt))
    return pilot.app.screen


async def test_save_attachment_writes_only_into_the_exports_folder(engine, served, ticket):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = await save_prompt(pilot, ticket.id)
        assert prompt.query_one("#path", Input).value == "log.txt"  # a name in the own folder
        outside = f"/tmp/itsm-served-test-{os.getpid()}"
        for typed in (outside, "~/.bashrc", "../../.bashrc", ".profile"):
            await submit_path(pilot, typed)
            assert app.screen is prompt and shown(prompt.query_one(ErrorLine)), typed
        await submit_path(pilot, "log.txt")
        saved = served / "exports" / "agent" / "log.txt"
        await until(pilot, saved.exists)
    assert saved.read_bytes() == b"paper jam at tray 2"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert not Path(outside).exists()


async def test_an_attachment_with_a_long_name_is_saved_and_a_nul_is_refused_in_words(engine, served, people):
    """An attachment's name may be 255 characters of 3 bytes each: the dialog offers a name cut
    to what the file system holds (the extension kept); a NUL or a name over 255 bytes typed
    is refused under the field, never a crash."""
    long_name = "打印机卡纸" * 23 + ".log"
    made = tickets.create(people["requester"], "Printer jammed", "see the log")
    tickets.attach(people["agent"], made.id, long_name, b"tray 2")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = await save_prompt(pilot, made.id)
        offered = prompt.query_one("#path", Input).value
        assert offered == files.fitting_name(long_name) and offered.endswith(".log")
        for typed in ("a\x00b.log", long_name):
            await submit_path(pilot, typed)
            assert app.screen is prompt and shown(prompt.query_one(ErrorLine)), typed
        await submit_path(pilot, offered)
        saved = served / "exports" / "agent" / offered
        await until(pilot, saved.exists)
    assert saved.read_bytes() == b"tray 2"


async def test_export_to_bashrc_is_refused_and_a_name_lands_in_my_exports(
    engine, served, people, monkeypatch, tmp_path
):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# the service account's\n")
    monkeypatch.setenv("HOME", str(home))
    tickets.create(people["requester"], "exec bash --norc -i #", "x")
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportModal))
        modal = app.screen
        for typed in ("~/.bashrc", str(home / ".bashrc"), "/tmp/x.csv", "../x.csv"):
            modal.query_one("#path", Input).value = typed
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is modal and shown(modal.query_one(ErrorLine)), typed
        modal.query_one("#path", Input).value = "open.pdf"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("colon")
        await pilot.pause()
        app.screen.query_one(Input).value = "exports"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MyExportsModal))
        listing = app.screen.query_one(OptionList)
        assert "open.pdf" in str(listing.get_option_at_index(0).prompt)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MyExportsModal))
        await until(pilot, lambda: not (served / "exports" / "agent" / "open.pdf").exists())
    assert (home / ".bashrc").read_text() == "# the service account's\n"
    assert [p.name for p in (served / "exports" / "agent").iterdir()] == []


async def test_no_way_out_to_a_shell_and_the_ctrl_c_hint_in_words(engine, served, ticket, monkeypatch):
    sent = []
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append(sig))
        await pilot.press("ctrl+z")
        app.action_suspend_process()  # Textual binds no key to it today; a keymap could
        await pilot.pause()
        assert sent == [] and isinstance(app.screen, QueueScreen)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Screenshot" not in titles and "Quit" in titles
        await pilot.press("ctrl+c")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "Press ctrl+q to quit the app" in messages and not any("[b]" in m for m in messages)


async def test_an_idle_session_locks_back_to_the_login_screen(engine, served, ticket):
    now = [1000.0]
    app = ItsmApp(engine)
    app.idle_clock = lambda: now[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        now[0] += 14 * 60
        app.lock_if_idle()
        assert app.user is not None
        await pilot.press("j")  # a key restarts the count
        now[0] += 14 * 60
        app.lock_if_idle()
        assert app.user is not None
        now[0] += 60
        app.lock_if_idle()
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.user is None and len(app.screen_stack) == 2
        assert any("locked" in n.message for n in app._notifications)


async def test_a_crash_leaves_a_private_report_without_secrets(engine, data, monkeypatch, capfd):
    secret = "hunter2-very-secret"

    def broken(username, password):
        raise RuntimeError("something unexpected")

    monkeypatch.setattr(auth, "login", broken)
    app = ItsmApp(engine)  # the password typed at login is a local variable of the failing frame
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(120, 40)) as pilot:
            await login(pilot, "agent", secret)
            await pilot.pause(0.5)
    (report,) = data.glob("crash-*.log")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert "RuntimeError: something unexpected" in text and "broken" in text
    assert secret not in text
    out, err = capfd.readouterr()
    assert secret not in out + err
    assert f"itsm-tui stopped after an internal error; details in {report}" in out + err


@pytest.mark.filterwarnings("ignore::UserWarning")  # the test SMTP server takes a plain-text login
async def test_my_exports_mails_an_export_to_the_operator(engine, served, ticket, people, smtp):
    import email
    import email.policy

    from itsm_tui.core.people import users

    users.update_user(people["admin"], people["agent"].id, people["agent"].version, email="agent@example.org")
    files.write_private(
        files.own_folder(files.EXPORTS, "agent") / "open.csv", b"Number,Title\n", overwrite=False
    )
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        app.run_command("exports")
        await until(pilot, lambda: isinstance(app.screen, MyExportsModal))
        assert "m e-mail it to me" in str(app.screen.query_one("#hint").render())
        await pilot.press("m")
        await until(pilot, lambda: smtp.messages)
        await until(pilot, lambda: any("Sent open.csv" in n.message for n in app._notifications))
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["agent@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    (part,) = list(mail.iter_attachments())
    assert part.get_filename() == "open.csv" and part.get_content().replace("\r\n", "\n") == "Number,Title\n"


async def test_my_exports_off_a_shared_host_says_where_exports_go(engine, data, ticket):
    """Not served, an export goes where its dialog's Save to says, never to this folder: the
    empty list said "No exports yet" right after an export."""
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in(pilot, "agent", "agent-password-1")
        app.run_command("exports")
        await until(pilot, lambda: isinstance(app.screen, MyExportsModal))
        said = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert "No exports yet" not in said and "Save to" in said
        assert str(files.start_folder(files.EXPORTS, "agent")) in said
