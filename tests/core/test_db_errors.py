"""Database failures in words: real failures of real databases, not made-up exceptions."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from contextlib import contextmanager

import pytest
from peewee import SqliteDatabase

from itsm_tui.core import setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db, db_errors
from itsm_tui.core.store.models import ALL_MODELS
from itsm_tui.core.tickets import service as tickets


@contextmanager
def small_filesystem(path, size="2m"):
    """A tmpfs of its own (a full disk, a read-only disk) at ``path``; needs root."""
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"mounting a tmpfs is needed under CI=true: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _open(url):
    setup.open_database(url, check=False)
    setup.initialise()


def test_a_full_disk_is_said_in_words_not_as_a_failed_rollback(tmp_path):
    with small_filesystem(tmp_path / "small") as folder:
        _open(f"sqlite:///{folder / 'itsm.db'}")
        try:
            system = users.system_actor()
            with pytest.raises(Exception) as caught:
                for n in range(5000):
                    tickets.create(system, f"ticket {n}", "x" * 15_000)
            assert db_errors.is_database_error(caught.value)
            assert db_errors.reason(caught.value) == db_errors.DISK_FULL
        finally:
            db.database.close()


def test_a_database_locked_by_another_writer_is_said_in_words(tmp_path):
    path = tmp_path / "itsm.db"
    _open(f"sqlite:///{path}")
    holder = sqlite3.connect(path, timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        db.database.execute_sql("PRAGMA busy_timeout = 100")
        with pytest.raises(Exception) as caught:
            tickets.create(users.system_actor(), "t", "d")
        assert db_errors.reason(caught.value) == db_errors.LOCKED
    finally:
        holder.rollback()
        holder.close()
        db.database.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_mysql_server_is_said_in_words_without_its_address():
    from itsm_tui.core.errors import ItsmError

    port = _closed_port()
    with pytest.raises(ItsmError) as caught:
        setup.open_database(f"mysql://app:s3cret@127.0.0.1:{port}/itsm", check=False)
    assert db_errors.UNREACHABLE in str(caught.value) or "cannot open" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    try:
        import pymysql

        pymysql.connect(host="127.0.0.1", port=port, connect_timeout=1)
    except pymysql.err.OperationalError as exc:
        assert db_errors.reason(exc) == db_errors.UNREACHABLE


def test_an_unknown_mysql_database_and_a_lost_connection_are_said_in_words(engine):
    if not db.is_mysql():
        pytest.skip("MySQL codes")
    import pymysql

    server = db.parse_mysql_url(engine)
    own_node = db.database.execute_sql("SELECT @@port").fetchone()[0]
    try:
        pymysql.connect(
            host=server.host,
            port=server.port,
            user=server.user,
            password=server.password,
            database="itsm_no_such_db_x",
        )
    except pymysql.err.OperationalError as exc:
        assert db_errors.reason(exc) == db_errors.NO_DATABASE
    # A connection killed by the server (as a restart or failover does) mid-session.
    with pytest.raises(Exception) as caught:
        with db.database.atomic():
            own_id = db.database.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]
            killer = pymysql.connect(
                host=server.host, port=own_node, user=server.user, password=server.password
            )
            killer.cursor().execute(f"KILL {own_id}")
            killer.close()
            db.database.execute_sql("SELECT 1").fetchone()
    assert db_errors.reason(caught.value) == db_errors.LOST
    assert db_errors.may_have_been_written(caught.value)
    db.database.close()


def test_a_value_too_long_for_its_column_is_said_in_words(engine):
    """MySQL refuses a value longer than its column (strict mode): the words say so, not
    "unexpected". (The app's own limits keep its text within its columns, v19.)"""
    if not db.is_mysql():
        pytest.skip("MySQL codes")
    for text in ("é" * 40_000, "e" * 70_000):  # 80,000 and 70,000 bytes: TEXT holds 65,535
        with pytest.raises(Exception) as caught:
            with db.database.atomic():
                db.database.execute_sql(
                    "INSERT INTO setting (`key`, value, updated_at, version) VALUES (%s, %s, NOW(), 1)",
                    ("too-long", text),
                )
        assert db_errors.reason(caught.value) == db_errors.TOO_LONG


def test_a_plain_sqlite_error_is_generic_and_logged(tmp_path, caplog):
    memory = SqliteDatabase(":memory:")
    with pytest.raises(Exception) as caught:
        memory.execute_sql("SELECT * FROM no_such_table")
    with caplog.at_level("WARNING", logger="itsm_tui.database"):
        assert db_errors.reason(caught.value) == db_errors.OTHER
    assert "no_such_table" in caplog.text  # the raw error is in the log, not in the words
    assert ALL_MODELS  # the models module stays importable without a bound database


def test_the_raw_error_goes_to_a_private_log_file(tmp_path, monkeypatch):
    import logging
    import stat

    from itsm_tui.core import logs

    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    logger = logging.getLogger(logs.LOGGER)
    before = list(logger.handlers)
    try:
        logs.setup()
        with pytest.raises(Exception) as caught:
            SqliteDatabase(":memory:").execute_sql("SELECT * FROM secret_table_name")
        assert db_errors.reason(caught.value) == db_errors.OTHER
        for handler in logger.handlers:
            handler.flush()
        log = tmp_path / "data" / "itsm-tui.log"
        assert "secret_table_name" in log.read_text()
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        for handler in set(logger.handlers) - set(before):
            logger.removeHandler(handler)
            handler.close()
