"""Database selection by URL, engine settings, and the write-transaction helper.

``sqlite:///path/to.db`` is the embedded default; ``mysql://user:pass@host:port/name`` serves a
team (MariaDB 10.6+, MySQL 8). Models are bound to ``database`` (a proxy) at run time.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import unquote, urlparse

from peewee import DatabaseProxy, MySQLDatabase, OperationalError, SqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from .errors import ItsmError

database = DatabaseProxy()

# Strict mode makes oversize or invalid values an error instead of a silent truncation.
MYSQL_SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)
MYSQL_TABLE_SETTINGS = ["ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_unicode_ci"]
# Deadlock and lock-wait timeout: the whole transaction may simply be run again.
RETRYABLE_MYSQL_ERRORS = (1213, 1205)
MAX_ATTEMPTS = 3


class ReconnectingMySQLDatabase(ReconnectMixin, MySQLDatabase):
    """Reconnects after a lost connection (2006/2013), but only outside a transaction."""


def describe_url(url: str) -> str:
    """Engine and database name for display; never the password."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return f"SQLite {_sqlite_path(parsed)}"
    host = parsed.hostname or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"MySQL {parsed.path.lstrip('/')}@{host}{port}"


def _sqlite_path(parsed) -> str:
    # sqlite:///rel.db -> "rel.db"; sqlite:////abs/x.db -> "/abs/x.db"; sqlite:///:memory: too.
    path = unquote(parsed.netloc + parsed.path)
    return path[1:] if path.startswith("/") else path


def make_database(url: str):
    """Build (without connecting) the peewee database for a URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = _sqlite_path(parsed)
        if not path:
            raise ItsmError(f"no file name in database URL {url!r}")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            str(Path(path).expanduser()) if path != ":memory:" else path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10_000,
                "synchronous": "normal",
            },
            timeout=10,
            # A write that reads first must hold the write lock from the start, or SQLite
            # answers SQLITE_BUSY at once instead of waiting for the busy timeout.
            lock_type="IMMEDIATE",
        )
    if parsed.scheme in ("mysql", "mariadb"):
        name = parsed.path.lstrip("/")
        if not name:
            raise ItsmError(f"no database name in URL {describe_url(url)!r}")
        return ReconnectingMySQLDatabase(
            name,
            host=parsed.hostname or "localhost",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            charset="utf8mb4",
            sql_mode=MYSQL_SQL_MODE,
            init_command="SET time_zone = '+00:00'",
            connect_timeout=10,
            read_timeout=60,
            write_timeout=60,
        )
    raise ItsmError(
        f"unsupported database URL {url!r}: use sqlite:///path/to.db or "
        "mysql://user:password@host:port/dbname"
    )


def is_mysql(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, MySQLDatabase)


def bind(url: str):
    """Point the models at the database behind ``url`` and connect to it."""
    from . import models  # late: models import this module

    db = make_database(url)
    if database.obj is not None and not database.is_closed():
        database.close()
    database.initialize(db)
    settings = MYSQL_TABLE_SETTINGS if is_mysql(db) else []
    for model in models.ALL_MODELS:
        model._meta.table_settings = settings
    try:
        db.connect(reuse_if_open=True)
    except OperationalError as exc:
        raise ItsmError(f"cannot open {describe_url(url)}: {exc.args[-1]}") from None
    return db


T = TypeVar("T")


def _retryable(exc: OperationalError) -> bool:
    return bool(exc.args) and exc.args[0] in RETRYABLE_MYSQL_ERRORS


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn`` in one write transaction (a savepoint when nested).

    The outermost call retries the whole transaction on a MySQL deadlock or lock-wait timeout,
    which clustered MySQL engines report at commit.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if database.in_transaction():
            with database.atomic():
                return fn(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with database.atomic():
                    return fn(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _retryable(exc):
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    return wrapper


def optimize(full: bool = False) -> None:
    """Refresh the planner's statistics, so queue queries pick the index that serves the sort.

    SQLite plans blindly without statistics. ``PRAGMA optimize`` analyses only what the
    session's queries would have profited from, so it is cheap when a session ends; ``full``
    (after a bulk load) analyses everything. InnoDB keeps its own statistics; a bulk load
    refreshes them at once.
    """
    if is_mysql():
        if full:
            database.execute_sql("ANALYZE TABLE ticket, audit_log, comment, `user`")
    else:
        database.execute_sql("ANALYZE" if full else "PRAGMA optimize")
