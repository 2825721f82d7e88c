"""The trust boundary: every log entry's channel and real actor, the log append-only at the
database level (SQLite triggers; MariaDB grants, tested with a real restricted account), and
``init`` through a separate admin account while the runtime account has no DDL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pymysql
import pytest
from conftest import MYSQL_URL
from peewee import DatabaseError, IntegrityError
from test_cli import itsm

from itsm_tui.core import config, setup
from itsm_tui.core.audit import activity
from itsm_tui.core.people import auth, users
from itsm_tui.core.store import audit, db, schema
from itsm_tui.core.store.models import AuditEntry, User
from itsm_tui.core.tickets import service as tickets

DATA = Path(__file__).parents[1] / "data"


def test_sqlite_refuses_update_and_delete_of_log_entries(engine, people):
    if db.is_mysql():
        pytest.skip("SQLite's triggers; MariaDB uses the runtime account's grants (below)")
    tickets.create(people["agent"], "Printer jams", "Tray 2")
    before = [(e.id, e.summary) for e in AuditEntry.select().order_by(AuditEntry.id)]
    for statement in (
        "UPDATE audit_log SET summary = 'nothing happened'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ):
        with pytest.raises(IntegrityError, match="the audit log is append-only"):
            with db.database.atomic():
                db.database.execute_sql(statement)
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEntry.update(actor=None).execute()
    assert [(e.id, e.summary) for e in AuditEntry.select().order_by(AuditEntry.id)] == before
    tickets.create(people["agent"], "Another", "one")  # appending still works
    assert AuditEntry.select().count() > len(before)


def test_a_user_with_log_entries_cannot_be_deleted_so_the_log_never_changes(engine, people):
    agent = people["agent"]
    tickets.create(agent, "Printer jams", "Tray 2")
    with pytest.raises(IntegrityError):
        with db.database.atomic():
            User.delete().where(User.id == agent.id).execute()
    assert AuditEntry.select().where(AuditEntry.actor == agent.id).exists()


def test_each_entry_says_its_channel_and_impersonation_shows_who_really_acted(engine, people, system):
    agent = people["agent"]
    audit.enter("cli", real_actor=system)
    try:
        made = tickets.create(agent, "Printer jams", "Tray 2")
        with audit.acting("import"):
            tickets.comment(agent, made.id, "imported note")
        audit.enter("tui")
        auth.login("agent", "agent-password-1", source="10.0.0.5")
    finally:
        audit.enter("cli")
    created, commented, login = (
        AuditEntry.select().where(AuditEntry.actor == agent.id).order_by(AuditEntry.id)
    )
    assert (created.channel, created.real_actor_id) == ("cli", system.id)
    assert (commented.channel, commented.real_actor_id) == ("import", system.id)
    assert (login.channel, login.real_actor_id) == ("tui", None)
    rows = {r["id"]: r for r in activity.page(people["supervisor"]).rows}
    assert rows[created.id]["actor"] == "system as agent"
    assert rows[login.id]["actor"] == "agent"


def test_the_cli_records_as_whom_and_who_really_acted(engine, people):
    db.database.close()  # the subprocess owns the database now
    made = itsm(engine, "tickets", "create", "--title", "VPN down", "--description", "x", as_user="agent")
    assert made.returncode == 0, made.stderr
    plain = itsm(engine, "tickets", "create", "--title", "Disk full", "--description", "y")
    assert plain.returncode == 0, plain.stderr
    imported = itsm(
        engine,
        "import",
        "csv",
        "systems",
        str(DATA / "import_systems.csv"),
        "--map",
        str(DATA / "import_systems_map.json"),
        as_user="admin",
    )
    setup.open_database(engine)
    system = users.system_actor()
    by_agent = AuditEntry.get(
        (AuditEntry.action == "create")
        & (AuditEntry.actor == people["agent"].id)
        & (AuditEntry.entity_type == "ticket")
    )
    assert (by_agent.channel, by_agent.real_actor_id) == ("cli", system.id)
    by_system = AuditEntry.get(
        (AuditEntry.action == "create")
        & (AuditEntry.actor == system.id)
        & (AuditEntry.entity_type == "ticket")
    )
    assert (by_system.channel, by_system.real_actor_id) == ("cli", None)  # no impersonation
    rows = {r["id"]: r["actor"] for r in activity.page(people["supervisor"], "action:create").rows}
    assert rows[by_agent.id] == "system as agent" and rows[by_system.id] == "system"
    assert imported.returncode == 0, imported.stderr
    made = AuditEntry.select().where((AuditEntry.entity_type == "system") & (AuditEntry.action == "create"))
    assert made.count() and {(e.channel, e.real_actor_id) for e in made} == {("import", system.id)}


def test_upgrade_to_v5_is_resumable_and_makes_the_log_append_only(engine):
    """A v4 database interrupted half-way through v5 (one column already added) completes."""
    from test_schema import _apply_ddl, _columns, _indexes

    engine_name = "mysql" if db.is_mysql() else "sqlite"
    db.database.drop_tables(list(reversed(schema.ALL_MODELS)))
    _apply_ddl(DATA / f"schema_v2_{engine_name}.sql")
    assert schema.init(latest=4) == (2, 4)
    db.database.execute_sql("ALTER TABLE audit_log ADD COLUMN channel VARCHAR(16)")  # the interruption
    assert setup.initialise() == (4, schema.SCHEMA_VERSION)
    tables = [m._meta.table_name for m in schema.ALL_MODELS]
    upgraded = {t: (_columns(t), _indexes(t)) for t in tables}
    audit.record(users.system_actor(), "create", "user", 1, "an entry to refuse changing")
    if engine_name == "sqlite":
        with pytest.raises(IntegrityError, match="append-only"):
            db.database.execute_sql("DELETE FROM audit_log")
    db.database.drop_tables(list(reversed(schema.ALL_MODELS)))
    setup.initialise()
    assert upgraded == {t: (_columns(t), _indexes(t)) for t in tables}


# ------------------------------------------------------------------ MariaDB: a restricted account


def _root(sql: str, database: str | None = None):
    parsed = urlparse(MYSQL_URL)
    conn = pymysql.connect(
        host=parsed.hostname,
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=database,
        connect_timeout=3,
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def restricted(tmp_path):
    """Its own database, an admin account (DDL) and a runtime account with only the GRANTs
    that ``itsm-tui grants`` prints; all dropped afterwards."""
    try:
        _root("SELECT 1")
    except pymysql.err.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB is required under CI=true: {exc}")
        pytest.skip(f"MariaDB not reachable: {exc}")
    tag = os.getpid()
    name, admin, runtime = f"itsm_rt_{tag}", f"itsm_adm_{tag}", f"itsm_run_{tag}"
    host = urlparse(MYSQL_URL).hostname
    _root(f"DROP DATABASE IF EXISTS {name}")
    _root(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    for user, password in ((admin, "admin-pass-1"), (runtime, "runtime-pass-1")):
        _root(f"DROP USER IF EXISTS '{user}'@'%'")
        _root(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    _root(f"GRANT ALL ON {name}.* TO '{admin}'@'%'")
    secret = tmp_path / "runtime-password"
    secret.write_text("runtime-pass-1\n")
    secret.chmod(0o600)
    conf = tmp_path / "config.toml"
    port = urlparse(MYSQL_URL).port or 3306
    conf.write_text(
        f'[database]\nhost = "{host}"\nport = {port}\nname = "{name}"\nuser = "{runtime}"\n'
        f'password_file = "{secret}"\n\n[database.admin]\nuser = "{admin}"\npassword = "admin-pass-1"\n'
    )
    conf.chmod(0o600)
    env = {**os.environ, "ITSM_CONFIG": str(conf), "ITSM_BCRYPT_COST": "4"}
    env.pop("ITSM_DB", None)

    def run(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "itsm_tui", *args],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            timeout=120,
        )

    try:
        yield run, name, runtime, f"mysql://{runtime}:runtime-pass-1@{host}:{port}/{name}"
    finally:
        if db.database.obj is not None:
            db.database.close()
        config.reload()
        _root(f"DROP DATABASE IF EXISTS {name}")
        for user in (admin, runtime):
            _root(f"DROP USER IF EXISTS '{user}'@'%'")


def test_runtime_account_works_but_cannot_change_the_log_or_the_schema(restricted):
    run, name, runtime, runtime_url = restricted
    made = run("init")  # nothing granted yet: the admin account does the DDL
    assert made.returncode == 0, made.stderr
    grants = run("grants", runtime)
    assert grants.returncode == 0, grants.stderr
    statements = [line for line in grants.stdout.splitlines() if line.startswith("GRANT")]
    assert f"GRANT SELECT, INSERT ON `{name}`.`audit_log` TO '{runtime}'@'%';" in statements
    for statement in statements:
        _root(statement)
    # normal work through the runtime account: users, tickets, comments, logins
    added = run("user", "add", "agent1", "--role", "agent", "--password-stdin", stdin="agent1-password-x\n")
    assert added.returncode == 0, added.stderr
    ticket = run("--as", "agent1", "tickets", "create", "--title", "VPN down", "--description", "since 9")
    assert ticket.returncode == 0, ticket.stderr
    setup.open_database(runtime_url)
    agent = users.by_username("agent1")
    tickets.comment(agent, tickets.get(agent, ticket.stdout.strip()).id, "looking")
    assert auth.login("agent1", "agent1-password-x").username == "agent1"
    with pytest.raises(Exception):
        auth.login("agent1", "wrong-password-x")
    entries = AuditEntry.select().count()
    assert entries >= 4
    for statement in (
        "UPDATE audit_log SET summary = 'nothing happened'",
        "DELETE FROM audit_log",
        "CREATE TABLE sneaky (id INT PRIMARY KEY)",
        "ALTER TABLE ticket ADD COLUMN x INT",
        "DROP TABLE audit_log",
        "UPDATE schema_meta SET value = '99'",
        "CREATE TRIGGER t BEFORE INSERT ON audit_log FOR EACH ROW SET NEW.summary = 'x'",
    ):
        with pytest.raises(DatabaseError, match="denied"):
            db.database.execute_sql(statement)
    assert AuditEntry.select().count() == entries
    upgrade = run("init")  # init keeps using the admin account: the runtime one needs no DDL
    assert upgrade.returncode == 0 and "up to date" in upgrade.stdout, upgrade.stderr
