"""The users screen driven like an admin would: keys in, effects checked in the database.

Runs on SQLite and MariaDB (the ``engine`` fixture). The owner wires ``:users``; these tests push
the screen themselves after logging in.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import Input
from ui_helpers import login, until

from itsm_tui.core.errors import AuthError
from itsm_tui.core.people import auth, users
from itsm_tui.core.store.models import AuditEntry, User
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.users import UsersScreen
from itsm_tui.ui.widgets.log_table import UserTable
from itsm_tui.ui.widgets.ticket_table import TicketTable

pytestmark = pytest.mark.asyncio
HOSTILE = "[/] [bold]x [@click=app.quit]y 王伟 \x1b[31mred"


def fresh(username: str) -> User:
    return User.get(User.username == username)


async def logged_in(pilot, username: str, password: str) -> None:
    """Logged in on the (here empty) queue."""
    await login(pilot, username, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    queue = pilot.app.screen.query_one(TicketTable)
    await until(pilot, lambda: not queue.fetching)


async def users_screen(pilot, username: str = "admin", password: str = "admin-password-1") -> UserTable:
    await logged_in(pilot, username, password)
    pilot.app.push_screen(UsersScreen())
    await until(pilot, lambda: isinstance(pilot.app.screen, UsersScreen))
    table = pilot.app.screen.query_one(UserTable)
    await until(pilot, lambda: table.rows and not table.fetching)
    assert pilot.app.focused is table
    return table


async def select(pilot, table: UserTable, username: str) -> None:
    await until(pilot, lambda: not table.fetching and any(r["username"] == username for r in table.rows))
    table.cursor = next(i for i, r in enumerate(table.rows) if r["username"] == username)
    table.refresh()
    await pilot.pause()


async def form(pilot) -> FormModal:
    await until(pilot, lambda: isinstance(pilot.app.screen, FormModal))
    return pilot.app.screen


def field(modal: FormModal, name: str):
    index = [f.name for f in modal.fields].index(name)
    return modal.query_one(f"#field-{index}")


def field_error(modal: FormModal, name: str) -> str:
    index = [f.name for f in modal.fields].index(name)
    return str(modal.query_one(f"#error-{index}").render())


def generated_password(modal: MessageModal) -> str:
    return modal.lines[2].strip()


async def test_list_shows_every_user_literally(engine, people, system):
    users.create_user(system, "hostile", "requester", full_name=HOSTILE)
    app = ItsmApp(engine)
    async with app.run_test(size=(140, 40)) as pilot:
        table = await users_screen(pilot)
        names = [r["username"] for r in table.rows]
        assert names == sorted(names) and "system" not in names
        assert {"admin", "agent", "agent2", "hostile", "requester", "supervisor"} <= set(names)
        await select(pilot, table, "hostile")
        line = next(table._line(r, False, 60) for r in table.rows if r["username"] == "hostile")
        assert "[/] [bold]x [@click=app.quit]y 王伟 red" in line.plain  # literal, escape removed
        assert "\x1b" not in line.plain
        assert "active" in line.plain
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        assert any("[@click=app.quit]" in line for line in app.screen.lines)


async def test_at_80_columns_the_list_fits_and_shows_the_lock(engine, people, system):
    """Department and last login give way (the line under the list says the last login), so the
    status and the lock stay in sight."""
    users.create_user(system, "someone", "requester", full_name="Someone Withalongname")
    app = ItsmApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await users_screen(pilot)
        lines = table.render().plain.splitlines()
        assert all(cell_len(line.rstrip()) <= table.size.width for line in lines), lines[0]
        for header in ("Username", "Full name", "Role", "Status", "Locked until"):
            assert header in lines[0]
        assert "Someone Withalongname" in next(line for line in lines if "someone" in line)


async def test_non_admins_are_turned_away(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "supervisor", "supervisor-password-1")
        app.push_screen(UsersScreen())
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        messages = [n.message for n in app._notifications]
        assert any("for admins only" in m and "a supervisor may not" in m for m in messages)
        assert not any("user.manage" in m for m in messages)  # never a permission's name


async def test_create_user_password_rule_then_success(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await pilot.press("n")
        modal = await form(pilot)
        field(modal, "username").value = "newagent"
        field(modal, "full name").value = "Zoë Nouvelle"
        field(modal, "email").value = "zoe@example.org"
        field(modal, "role").value = "agent"
        field(modal, "password").value = "short"
        field(modal, "password again").value = "short"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "too short" in field_error(modal, "password"))
        assert "at least 12 characters" in field_error(modal, "password")
        assert not User.select().where(User.username == "newagent").exists()
        assert field(modal, "username").value == "newagent"  # everything typed stays
        field(modal, "password").value = "a-long-enough-pass"
        field(modal, "password again").value = "a-long-enough-pasS"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "differ" in field_error(modal, "password again"))
        field(modal, "password again").value = "a-long-enough-pass"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: User.select().where(User.username == "newagent").exists())
        created = fresh("newagent")
        assert (created.role, created.full_name, created.email) == (
            "agent",
            "Zoë Nouvelle",
            "zoe@example.org",
        )
        assert auth.login("newagent", "a-long-enough-pass").id == created.id
        assert (
            AuditEntry.select()
            .where(
                (AuditEntry.entity_type == "user")
                & (AuditEntry.entity_id == created.id)
                & (AuditEntry.action == "create")
            )
            .exists()
        )
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, UsersScreen)
                and table.current
                and table.current["username"] == "newagent"
            ),
        )


async def test_create_user_with_a_generated_password(engine, people):
    from itsm_tui.core.inventory import service as inventory

    inventory.create(people["admin"], "department", {"name": "Finance"})
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await users_screen(pilot)
        await pilot.press("n")
        modal = await form(pilot)
        field(modal, "username").value = "Generated.One"
        field(modal, "department").value = "Finance"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        password = generated_password(app.screen)
        assert len(password) >= 12 and "shown only this once" in app.screen.lines[0]
        created = fresh("generated.one")
        assert created.role == "requester" and created.department.name == "Finance"
        assert auth.login("generated.one", password).id == created.id
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))


async def test_change_role_and_department(engine, people):
    from itsm_tui.core.inventory import service as inventory

    inventory.create(people["admin"], "department", {"name": "Finance"})
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "agent2")
        await pilot.press("e")
        modal = await form(pilot)
        assert field(modal, "role").value == "agent"
        field(modal, "role").value = "supervisor"
        field(modal, "department").value = "Finance"
        field(modal, "full name").value = "Agent Two"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fresh("agent2").role == "supervisor")
        changed = fresh("agent2")
        assert changed.department.name == "Finance" and changed.full_name == "Agent Two"
        entry = (
            AuditEntry.select()
            .where((AuditEntry.entity_type == "user") & (AuditEntry.entity_id == changed.id))
            .order_by(AuditEntry.id.desc())
            .get()
        )
        assert entry.actor_id == people["admin"].id and '"role": ["agent", "supervisor"]' in entry.changes
        await until(pilot, lambda: table.current and table.current["role"] == "supervisor")


@pytest.mark.both_engines
async def test_edit_conflict_shows_the_message_and_reloads(engine, people, system):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "agent2")
        await pilot.press("e")
        modal = await form(pilot)
        seen = fresh("agent2")
        users.update_user(system, seen.id, seen.version, full_name="Renamed elsewhere")
        field(modal, "role").value = "supervisor"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        assert app.screen.heading == "Changed by someone else"
        assert fresh("agent2").role == "agent"
        await pilot.press("enter")
        await until(pilot, lambda: table.current and table.current["full_name"] == "Renamed elsewhere")


async def test_disable_and_enable(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "agent")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Disable agent?" in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: not fresh("agent").is_active)
        with pytest.raises(AuthError):
            auth.login("agent", "agent-password-1")
        await until(pilot, lambda: table.current and not table.current["is_active"])
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Enable agent again?" in app.screen.message
        await pilot.press("n")  # changed my mind: nothing happens
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        assert not fresh("agent").is_active
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: fresh("agent").is_active)
        assert auth.login("agent", "agent-password-1").username == "agent"


async def test_reset_password_generated_and_shown_once(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "requester")
        await pilot.press("p")
        await form(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        password = generated_password(app.screen)
        assert len(password) >= 12
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        assert password not in str(app.screen.query_one("#selected").render())
        assert auth.login("requester", password).username == "requester"
        with pytest.raises(AuthError):
            auth.login("requester", "requester-password-1")
        assert AuditEntry.select().where(AuditEntry.action == "password_reset").count() == 1
        # typed this time
        await pilot.press("p")
        modal = await form(pilot)
        field(modal, "password").value = "typed-new-password"
        field(modal, "password again").value = "typed-new-password"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        assert auth.login("requester", "typed-new-password").username == "requester"


async def test_unlock_a_locked_account(engine, people):
    for source in range(10):  # ten sources, five failures each: the account locks for everyone
        for _ in range(5):
            with pytest.raises(AuthError):
                auth.login("agent", "wrong-password-0", source=f"198.51.100.{source}")
    assert fresh("agent").locked_until is not None
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "agent")
        assert "LOCKED until" in str(app.screen.query_one("#selected").render())
        await pilot.press("u")
        await until(pilot, lambda: fresh("agent").locked_until is None)
        assert auth.login("agent", "agent-password-1").username == "agent"
        assert AuditEntry.select().where(AuditEntry.action == "unlock").count() == 1
        await until(pilot, lambda: "LOCKED" not in str(app.screen.query_one("#selected").render()))
        await pilot.press("u")
        await until(pilot, lambda: any("not locked" in n.message for n in app._notifications))


async def test_last_admin_rule_is_refused_with_its_message(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await select(pilot, table, "admin")
        await pilot.press("e")
        modal = await form(pilot)
        field(modal, "role").value = "supervisor"
        await pilot.press("ctrl+s")
        error = modal.query_one("#form-error")
        await until(pilot, lambda: "last active admin" in str(error.render()))
        assert fresh("admin").role == "admin"
        await pilot.press("escape")  # the changed form asks first
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, UsersScreen))
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "your own account" in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MessageModal))
        assert app.screen.heading == "Not allowed"
        assert "admin is the last active admin and must stay one" in app.screen.lines[0]
        assert fresh("admin").is_active


async def test_find_narrows_the_list(engine, people):
    app = ItsmApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await users_screen(pilot)
        await pilot.press("slash")
        app.screen.query_one("#filter", Input).value = "agent"
        await pilot.press("enter")
        await until(
            pilot, lambda: not table.fetching and {r["username"] for r in table.rows} == {"agent", "agent2"}
        )
        assert app.focused is table
