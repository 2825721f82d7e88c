"""Fixtures: every service test runs on SQLite (a temporary file) and on MariaDB.

MariaDB comes from ITSM_TEST_MYSQL_URL (default: root on 127.0.0.1:3306); each test session
creates its own database (the URL's name plus the process id) and drops it at the end, so
parallel runs never share tables. Without a server the MariaDB cases are skipped, except under CI=true,
where they fail: the team deployment is MySQL and must be tested.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from pathlib import Path

import pytest

# The tests live in one folder per layer (core, ui, cli, reports, importers, system); the shared
# helpers (sample_data, servers, galera, ui_helpers) sit here, and some test modules import
# fixtures and helpers of another folder's module by its name: every folder is importable.
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE)] + [str(p) for p in sorted(_HERE.iterdir()) if p.is_dir() and p.name.isidentifier()
                              and any(p.glob("test_*.py"))]

os.environ.setdefault("ITSM_BCRYPT_COST", "4")  # the cost is a setting; tests need speed
if "ITSM_CONFIG" not in os.environ:  # never the machine's own /etc/itsm-tui or user config
    _empty_config = os.path.join(tempfile.mkdtemp(prefix="itsm-test-config-"), "config.toml")
    open(_empty_config, "w").close()
    os.environ["ITSM_CONFIG"] = _empty_config

from itsm_tui import config  # noqa: E402
from itsm_tui.core import db, schema, setup, users  # noqa: E402
from itsm_tui.core.models import ALL_MODELS  # noqa: E402

MYSQL_URL = os.environ.get("ITSM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/itsm_test")
MYSQL_URL = f"{MYSQL_URL}_{os.getpid()}"
_mysql_ready: bool | str | None = None


def _server(sql: str) -> None:
    import pymysql

    target = db.parse_mysql_url(MYSQL_URL)  # the first host of a cluster's host list
    conn = pymysql.connect(host=target.host, port=target.port, user=target.user,
                           password=target.password, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.format(name=target.name))
    finally:
        conn.close()


def _prepare_mysql() -> bool | str:
    """Create this session's database and schema; a reason string when the server is away."""
    import pymysql

    try:
        _server("DROP DATABASE IF EXISTS `{name}`")
    except pymysql.err.OperationalError as exc:
        return f"MariaDB not reachable for {db.describe_url(MYSQL_URL)}: {exc}"
    _server("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    atexit.register(_server, "DROP DATABASE IF EXISTS `{name}`")
    setup.open_database(MYSQL_URL, check=False)
    setup.initialise()
    db.database.close()
    return True


def _wipe_mysql() -> None:
    """Empty every table but keep the schema (much faster than re-creating it per test). A
    schema a failed test left half-made (a migration test) is made again, so one failure
    never fails every later test."""
    database = db.database
    database.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
    present = set(database.get_tables())
    if not {m._meta.table_name for m in ALL_MODELS} <= present:
        for table in present:
            database.execute_sql(f"DROP TABLE `{table}`")
        setup.initialise()
    for model in reversed(ALL_MODELS):
        if model.__name__ != "SchemaMeta":
            database.execute_sql(f"DELETE FROM `{model._meta.table_name}`")
    database.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    schema._set_version(schema.SCHEMA_VERSION)  # a test may have faked another version


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request, tmp_path):
    """Bind the models to a fresh, initialised database of each engine; yields its URL."""
    global _mysql_ready
    config.override_settings(None)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'itsm.db'}"
        setup.open_database(url, check=False)
        setup.initialise()
    else:
        if _mysql_ready is None:
            _mysql_ready = _prepare_mysql()
        if _mysql_ready is not True:
            if os.environ.get("CI") == "true":
                pytest.fail(f"MariaDB is required under CI=true: {_mysql_ready}")
            pytest.skip(str(_mysql_ready))
        url = MYSQL_URL
        setup.open_database(url, check=False)
        _wipe_mysql()
        setup.initialise()
    yield url
    db.database.close()
    config.override_settings(None)


@pytest.fixture
def system(engine):
    return users.system_actor()


@pytest.fixture
def people(system):
    """One user per role, with known passwords."""
    made = {}
    for role in ("requester", "agent", "supervisor", "admin"):
        made[role] = users.create_user(system, role, role, password=f"{role}-password-1")
    made["agent2"] = users.create_user(system, "agent2", "agent", password="agent2-password-1")
    made["requester2"] = users.create_user(system, "requester2", "requester",
                                           password="requester2-password")
    return made
