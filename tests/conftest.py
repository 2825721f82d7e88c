"""Fixtures: every service test runs on SQLite (a temporary file) and on MariaDB; Pilot tests
(tests/ui) on SQLite unless marked ``both_engines``.

A fresh database is cheap: the SQLite schema (with or without the ``people``) is built once per
session and copied per test; the MariaDB database is emptied table by table where rows are and
its fresh rows put back from copies. MariaDB comes from ITSM_TEST_MYSQL_URL (default: root on
127.0.0.1:3306); each test process (each pytest-xdist worker) creates its own databases (the URL's
name plus the process id) and drops them at the end, so parallel runs never share tables. Without
a server the MariaDB cases are skipped, except under CI=true, where they fail: the team
deployment is MySQL and must be tested.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# The tests live in one folder per layer (core, ui, cli, reports, importers, system); the shared
# helpers (sample_data, servers, galera, ui_helpers) sit here, and some test modules import
# fixtures and helpers of another folder's module by its name: every folder is importable.
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE)] + [
    str(p)
    for p in sorted(_HERE.iterdir())
    if p.is_dir() and p.name.isidentifier() and any(p.glob("test_*.py"))
]

os.environ.setdefault("ITSM_BCRYPT_COST", "4")  # the cost is a setting; tests need speed
if "ITSM_CONFIG" not in os.environ:  # never the machine's own /etc/itsm-tui or user config
    _empty_config = os.path.join(tempfile.mkdtemp(prefix="itsm-test-config-"), "config.toml")
    open(_empty_config, "w").close()
    os.environ["ITSM_CONFIG"] = _empty_config

from itsm_tui.core import config, setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db, schema
from itsm_tui.core.store.models import ALL_MODELS, User

MYSQL_URL = os.environ.get("ITSM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/itsm_test")
MYSQL_URL = f"{MYSQL_URL}_{os.getpid()}"
_mysql_ready: bool | str | None = None


def _server(sql: str) -> None:
    import pymysql

    target = db.parse_mysql_url(MYSQL_URL)  # the first host of a cluster's host list
    conn = pymysql.connect(
        host=target.host, port=target.port, user=target.user, password=target.password, connect_timeout=3
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql.format(name=target.name))
    finally:
        conn.close()


def _prepare_mysql() -> bool | str:
    """Create this session's database and schema, and copies of the rows a fresh database holds
    (the built-in rows ``initialise()`` makes, and those plus ``people``) in two more databases
    that ``_wipe_mysql`` restores from; a reason string when the server is away."""
    import pymysql

    try:
        _server("DROP DATABASE IF EXISTS `{name}`")
    except pymysql.err.OperationalError as exc:
        return f"MariaDB not reachable for {db.describe_url(MYSQL_URL)}: {exc}"
    for seed in (_seed_db(False), _seed_db(True)):
        _server(f"DROP DATABASE IF EXISTS `{seed}`")
    _server("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    atexit.register(_server, "DROP DATABASE IF EXISTS `{name}`")
    setup.open_database(MYSQL_URL, check=False)
    setup.initialise()
    for with_people in (False, True):
        if with_people:
            _make_people()
        seed = _seed_db(with_people)
        _server(f"CREATE DATABASE `{seed}`")
        atexit.register(_server, f"DROP DATABASE IF EXISTS `{seed}`")
        _seeded[with_people] = {table: ", ".join(_written_columns(table)) for table in _non_empty_tables()}
        for table in _seeded[with_people]:
            db.database.execute_sql(f"CREATE TABLE `{seed}`.`{table}` LIKE `{table}`")
            db.database.execute_sql(f"INSERT INTO `{seed}`.`{table}` SELECT * FROM `{table}`")
    db.database.close()
    return True


_seeded: dict[bool, dict[str, str]] = {}  # the seeded tables and their column lists


def _written_columns(table: str) -> list[str]:
    """The table's columns but the generated ones (MariaDB's word pairs), which no one writes."""
    rows = db.database.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
        (table,),
    )
    return [f"`{name}`" for (name,) in rows.fetchall()]


def _seed_db(with_people: bool) -> str:
    return f"{db.parse_mysql_url(MYSQL_URL).name}_seed{'_people' if with_people else ''}"


def _data_tables() -> list[str]:
    return [m._meta.table_name for m in reversed(ALL_MODELS) if m.__name__ != "SchemaMeta"]


def _non_empty_tables() -> list[str]:
    """The tables holding rows, asked in one round trip."""
    probe = " UNION ALL ".join(f"(SELECT '{t}' FROM `{t}` LIMIT 1)" for t in _data_tables())
    return [row[0] for row in db.database.execute_sql(probe).fetchall()]


def _wipe_mysql(with_people: bool) -> None:
    """Back to a fresh schema without re-creating it: empty the tables that hold rows and put back
    the rows of a fresh database (see ``_prepare_mysql``). A schema a failed test left half-made
    (a migration test) is made again, so one failure never fails every later test."""
    database = db.database
    database.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
    present = set(database.get_tables())
    if not {m._meta.table_name for m in ALL_MODELS} <= present:
        for table in present:
            database.execute_sql(f"DROP TABLE `{table}`")
        setup.initialise()
    for table in sorted(set(_non_empty_tables()) | set(_seeded[with_people])):
        database.execute_sql(f"DELETE FROM `{table}`")
    for table, columns in _seeded[with_people].items():  # named: a migration test may have rebuilt
        database.execute_sql(  # a table with its columns in another order
            f"INSERT INTO `{table}` ({columns}) SELECT {columns} FROM `{_seed_db(with_people)}`.`{table}`"
        )
    database.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    schema._set_version(schema.SCHEMA_VERSION)  # a test may have faked another version


def other_mysql_database(suffix: str) -> str:
    """The URL of another initialised database of this session on the tests' server (for a
    module's own data), dropped at exit; skipped (failed under CI=true) without a server."""
    global _mysql_ready
    if _mysql_ready is None:
        _mysql_ready = _prepare_mysql()
    if _mysql_ready is not True:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB is required under CI=true: {_mysql_ready}")
        pytest.skip(str(_mysql_ready))
    url = f"{MYSQL_URL}_{suffix}"
    name = db.parse_mysql_url(url).name
    _server(f"DROP DATABASE IF EXISTS `{name}`")
    _server(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    atexit.register(_server, f"DROP DATABASE IF EXISTS `{name}`")
    setup.open_database(url, check=False)
    setup.initialise()
    db.database.close()
    return url


_sqlite_templates: dict[bool, Path] = {}


def _sqlite_database(folder: Path, with_people: bool) -> str:
    """A fresh initialised SQLite file in ``folder`` (with ``people`` in it if asked): a copy of
    one built once per session."""
    if with_people not in _sqlite_templates:
        template = Path(tempfile.mkdtemp(prefix="itsm-test-template-")) / "itsm.db"
        setup.open_database(f"sqlite:///{template}", check=False)
        setup.initialise()
        if with_people:
            _make_people()
        db.database.close()  # the last close checkpoints the WAL into the file
        _sqlite_templates[with_people] = template
    shutil.copy(_sqlite_templates[with_people], folder / "itsm.db")
    return f"sqlite:///{folder / 'itsm.db'}"


PEOPLE = {  # username: (role, password)
    "requester": ("requester", "requester-password-1"),
    "agent": ("agent", "agent-password-1"),
    "supervisor": ("supervisor", "supervisor-password-1"),
    "admin": ("admin", "admin-password-1"),
    "agent2": ("agent", "agent2-password-1"),
    "requester2": ("requester", "requester2-password"),
}


def _make_people() -> None:
    system = users.system_actor()
    for username, (role, password) in PEOPLE.items():
        users.create_user(system, username, role, password=password)


def _engines(item_path: Path, marked: bool) -> list[str]:
    """Service and SQL tests run on both engines; Pilot tests (tests/ui) on SQLite, unless
    marked ``both_engines`` because what they check depends on the SQL the engine runs."""
    if not marked and _HERE / "ui" in item_path.parents:
        return ["sqlite"]
    return ["sqlite", "mariadb"]


def pytest_generate_tests(metafunc):
    if "engine" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("both_engines") is not None
        metafunc.parametrize("engine", _engines(Path(metafunc.definition.path), marked), indirect=True)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory, monkeypatch):
    """Each test keeps its drafts and files in its own folder: a draft one test leaves (say, a
    new-user form with the role "agent") must never fill in another test's form."""
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path_factory.mktemp("data")))  # not in tmp_path:
    # tests check that folder holds only the files they expect


@pytest.fixture
def engine(request, tmp_path):
    """Bind the models to a fresh, initialised database of the engine the test is parametrised
    with (``pytest_generate_tests``); yields its URL."""
    global _mysql_ready
    config.override_settings(None)
    with_people = "people" in request.fixturenames  # made once per session, copied like the schema
    if request.param == "sqlite":
        url = _sqlite_database(tmp_path, with_people)
        setup.open_database(url, check=False)
    else:
        if _mysql_ready is None:
            _mysql_ready = _prepare_mysql()
        if _mysql_ready is not True:
            if os.environ.get("CI") == "true":
                pytest.fail(f"MariaDB is required under CI=true: {_mysql_ready}")
            pytest.skip(str(_mysql_ready))
        url = MYSQL_URL
        global _mysql_database
        if db.database.obj is not _mysql_database or _mysql_database.is_closed():
            _mysql_database = setup.open_database(url, check=False)
        _wipe_mysql(with_people)
    yield url
    # The session's MariaDB connection stays open for the next test: each new one costs a TLS
    # handshake (PyMySQL tries TLS when the server offers it), a tenth of a second under load.
    if db.database.obj is not _mysql_database or db.database.in_transaction():
        db.database.close()
    config.override_settings(None)


_mysql_database = None


@pytest.fixture
def system(engine):
    return users.system_actor()


@pytest.fixture
def people(system):
    """One user per role, with known passwords (see ``PEOPLE``); the ``engine`` fixture's database
    already holds them."""
    return {username: User.get(User.username == username) for username in PEOPLE}
