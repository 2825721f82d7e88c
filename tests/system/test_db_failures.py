"""A database that fails under the app: a read-only SQLite file, SQLite locked by another
writer, a MariaDB server stopped mid-session. At login and in every form (new ticket, inventory,
users, the first-run admin) the app stays up, says in words what failed, keeps what was typed,
and shows no secret (the typed password, the database password)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from servers import private_mariadb
from textual.widgets import Input
from ui_helpers import everything_shown, fill, form_message, logged_in, login, open_form, typed, until

from itsm_tui.core import config, setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket, User
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.setup import SetupScreen

pytestmark = pytest.mark.asyncio
SECRET_DB_PASSWORD = "db-Secr3t-pass"

# what each form gets typed, by field name; the first value is checked after the failure
FORMS = {
    "ticket": {"title": "Printer on fire", "description": "Floor 2, smoke"},
    "system": {"hostname": "ws-new-01", "asset_tag": "AT-9001", "type": "laptop"},
    "user": {"username": "newhire", "password": "a-long-password-1", "password again": "a-long-password-1"},
}


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """SQLite waits 10 s for a lock; the tests wait 0.3 s: every database the app binds from now
    on (each thread's connection included) gets the shorter timeout."""
    make = db.make_database

    def shorter(url, long_statements=False):
        database = make(url, long_statements)
        if not db.is_mysql(database):
            database._timeout = 0.3
            database._pragmas = [(k, 300 if k == "busy_timeout" else v) for k, v in database._pragmas]
        return database

    monkeypatch.setattr(db, "make_database", shorter)


@contextmanager
def read_only(path: Path):
    """chmod 0444 the database file (and its -wal/-shm), 0555 its folder. Root ignores modes,
    so as root the files are also made immutable (chattr +i), which binds root too."""
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    root = os.geteuid() == 0
    for p in files:
        p.chmod(0o444)
    path.parent.chmod(0o555)
    if root:
        subprocess.run(["chattr", "+i", *map(str, files), str(path.parent)], check=True)
    try:
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", *map(str, files), str(path.parent)], check=True)
        path.parent.chmod(0o755)
        for p in files:
            p.chmod(0o644)


@contextmanager
def locked(path: Path):
    """Another program holds SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def sqlite_desk(tmp_path):
    config.override_settings(None)
    url = f"sqlite:///{tmp_path / 'desk' / 'itsm.db'}"
    setup.open_database(url, check=False)
    setup.initialise()
    system = users.system_actor()
    admin = users.create_user(system, "admin", "admin", password="admin-password-1")
    tickets.create(admin, "An open ticket", "so the queue has a row")
    yield url, tmp_path / "desk" / "itsm.db"
    db.database.close()


# ---------------------------------------------------------------- SQLite


@pytest.mark.parametrize("failure", ["read-only", "locked"])
async def test_sqlite_failure_at_login_keeps_both_fields(sqlite_desk, short_busy_timeout, failure):
    """The database fails after the app started (at its start, the app says so and exits)."""
    url, path = sqlite_desk
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        with read_only(path) if failure == "read-only" else locked(path):
            await login(pilot, "admin", "admin-password-1")
            screen = app.screen
            await until(pilot, lambda: "could not log in" in str(screen.query_one("#error").render()))
            message = str(screen.query_one("#error").render())
            assert message.startswith("the database")
            assert isinstance(app.screen, LoginScreen)
            assert screen.query_one("#username", Input).value == "admin"
            assert screen.query_one("#password", Input).value == "admin-password-1"
            assert "admin-password-1" not in everything_shown(app)


@pytest.mark.parametrize("kind", sorted(FORMS))
@pytest.mark.parametrize("failure", ["read-only", "locked"])
async def test_sqlite_failure_in_a_form_keeps_it_open_with_the_input(
    sqlite_desk, short_busy_timeout, failure, kind
):
    url, path = sqlite_desk
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        form = await open_form(pilot, kind)
        fill(form, FORMS[kind])
        before = typed(form, FORMS[kind])
        with read_only(path) if failure == "read-only" else locked(path):
            # every connection from now on meets the failure (an open one kept its old handle)
            db.database.close()
            await pilot.press("ctrl+s")
            await until(pilot, lambda: form_message(form))
            assert app.screen is form
            assert form_message(form).startswith("the database")
            assert "what you typed is kept" in form_message(form)
            assert typed(form, FORMS[kind]) == before
        db.database.close()
        await pilot.press("ctrl+s")  # the same input, once the database is back
        await until(pilot, lambda: app.screen is not form)
    if kind == "ticket":
        assert Ticket.select().where(Ticket.title == "Printer on fire").exists()
    elif kind == "user":
        assert User.select().where(User.username == "newhire").exists()


async def test_first_run_admin_form_keeps_its_input_when_the_database_is_locked(
    tmp_path, monkeypatch, short_busy_timeout
):
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ITSM_DB", raising=False)
    config.override_settings(None)
    app = ItsmApp()
    path = tmp_path / "data" / "itsm.db"
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        fill(form, {"username": "boss", "password": "a-long-password-1"})
        with locked(path):
            await pilot.press("ctrl+s")
            await until(pilot, lambda: form_message(form))
            assert "locked by another writer" in form_message(form) and app.screen is form
            assert typed(form, {"username": 1, "password": 1}) == {
                "username": "boss",
                "password": "a-long-password-1",
            }
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
    db.database.close()


# ---------------------------------------------------------------- a MariaDB server stopped


@pytest.fixture
def private_server(tmp_path):
    server = private_mariadb(tmp_path)
    try:
        server.sql("CREATE DATABASE itsm CHARACTER SET utf8mb4")
        server.sql(f"CREATE USER 'desk'@'127.0.0.1' IDENTIFIED BY '{SECRET_DB_PASSWORD}'")
        server.sql("GRANT ALL ON itsm.* TO 'desk'@'127.0.0.1'")
        url = f"mysql://desk:{SECRET_DB_PASSWORD}@127.0.0.1:{server.port}/itsm"
        config.override_settings(None)
        setup.open_database(url, check=False)
        setup.initialise()
        admin = users.create_user(users.system_actor(), "admin", "admin", password="admin-password-1")
        tickets.create(admin, "An open ticket", "so the queue has a row")
        yield server, url
        db.database.close()
    finally:
        server.stop()


@pytest.mark.parametrize("kind", sorted(FORMS))
async def test_mariadb_stopped_under_a_form_then_at_login(private_server, kind):
    server, url = private_server
    app = ItsmApp(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await logged_in(pilot, "admin", "admin-password-1")
        form = await open_form(pilot, kind)
        fill(form, FORMS[kind])
        before = typed(form, FORMS[kind])
        server.stop()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form_message(form))
        assert app.screen is form
        assert form_message(form).startswith("the database server cannot be reached")
        assert typed(form, FORMS[kind]) == before
        shown = everything_shown(app)
        assert SECRET_DB_PASSWORD not in shown and "admin-password-1" not in shown
        await pilot.press("escape")
        app.action_logout()
        await login(pilot, "admin", "admin-password-1")
        screen = app.screen
        await until(pilot, lambda: "could not log in" in str(screen.query_one("#error").render()))
        assert screen.query_one("#password", Input).value == "admin-password-1"
        shown = everything_shown(app)
        assert SECRET_DB_PASSWORD not in shown and "admin-password-1" not in shown
