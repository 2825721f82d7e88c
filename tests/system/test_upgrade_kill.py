"""`itsm-tui init` killed in the middle of a MariaDB upgrade: the next `init` completes it.

MariaDB commits every DDL statement at once, so a killed upgrade leaves some of a step's columns
and indexes behind with the old version recorded. This runs the real command in a process of
its own and kills it with SIGKILL as soon as the upgrade has started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MYSQL_URL

from itsm_tui.core import setup
from itsm_tui.core.store import db, schema
from itsm_tui.core.store.models import ALL_MODELS

V2_DDL = Path(__file__).parents[1] / "data" / "schema_v2_mysql.sql"
URL = MYSQL_URL + "_upgrade"


def _server():
    import pymysql

    try:
        return pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3, autocommit=True
        )
    except pymysql.err.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MariaDB is required under CI=true: {exc}")
        pytest.skip(f"MariaDB not reachable: {exc}")


def _sql(conn, *statements):
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
        return cur.fetchall()


@pytest.fixture
def v2_database():
    name = URL.rsplit("/", 1)[1]
    conn = _server()
    _sql(
        conn,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        f"USE `{name}`",
    )
    for statement in V2_DDL.read_text().split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if body:
            _sql(conn, body)
    # Enough tickets that building the upgrade's indexes takes a moment to kill it in.
    _sql(
        conn,
        "INSERT INTO category (name, is_active) VALUES ('Hardware', 1)",
        "INSERT INTO user (username, full_name, role, is_active, failed_logins, created_at, "
        "updated_at, version) VALUES ('req', 'Req', 'requester', 1, 0, NOW(), NOW(), 1)",
        "INSERT INTO ticket (title, description, category_id, impact, urgency, priority, "
        "priority_overridden, status, requester_id, created_at, updated_at, response_due, "
        "resolution_due, reopen_count, reassignment_count, version) VALUES ('Printer jams', 'd', 1, "
        "3, 3, 4, 0, 'new', 1, NOW(), NOW(), NOW(), NOW(), 0, 0, 1)",
    )
    for _ in range(17):  # 2^17 = 131,072 tickets
        _sql(
            conn,
            "INSERT INTO ticket (title, description, category_id, impact, urgency, priority, "
            "priority_overridden, status, requester_id, created_at, updated_at, response_due, "
            "resolution_due, reopen_count, reassignment_count, version) SELECT title, "
            "description, category_id, impact, urgency, priority, priority_overridden, status, "
            "requester_id, created_at + INTERVAL id MINUTE, updated_at, response_due, "
            "resolution_due, reopen_count, reassignment_count, version FROM ticket",
        )
    yield conn, name
    _sql(conn, f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _init(**kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "itsm_tui", "--db", URL, "init"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_a_killed_upgrade_is_completed_by_the_next_init(v2_database):
    conn, name = v2_database
    process = _init()
    deadline = time.monotonic() + 60
    started = False
    while time.monotonic() < deadline and process.poll() is None:
        started = bool(
            _sql(
                conn,
                "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                f"'{name}' AND table_name = 'user' AND column_name = 'is_away'",
            )
        )
        if started:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert started, "the upgrade finished before it could be killed: " + process.stderr.read()
    assert _sql(conn, f"SELECT value FROM `{name}`.schema_meta") == (("2",),)  # the half-done state

    finished = _init()
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, err

    # A complete current schema: the same columns, indexes and keys as a new database, data intact.
    setup.open_database(URL, check=True)
    try:
        assert schema.current_version() == schema.SCHEMA_VERSION
        upgraded = _shape()
        assert db.database.execute_sql("SELECT COUNT(*) FROM ticket").fetchone()[0] == 2**17
        db.database.drop_tables(list(reversed(ALL_MODELS)))
        setup.initialise()
        assert upgraded == _shape()
    finally:
        db.database.close()


def _shape() -> dict:
    shape = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        shape[table] = (
            {c.name: (c.data_type, c.null) for c in db.database.get_columns(table)},
            {i.name: (tuple(i.columns), i.unique) for i in db.database.get_indexes(table)},
            sorted((k.column, k.dest_table) for k in db.database.get_foreign_keys(table)),
        )
    return shape
