"""A private MariaDB frozen, killed and restarted under the services: errors in words within
seconds, and a retried save written exactly once. (The shared server on 3306 is never touched.)"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from servers import private_mariadb

from itsm_tui.core import config, drafts, setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db, db_errors
from itsm_tui.core.store.models import Comment
from itsm_tui.core.tickets import service as tickets


@pytest.fixture
def server(tmp_path, monkeypatch):
    made = private_mariadb(tmp_path)
    made.sql("CREATE DATABASE itsm CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    made.sql("CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'fault-pass-123'")
    made.sql("GRANT ALL ON itsm.* TO 'app'@'127.0.0.1'")
    monkeypatch.setenv("ITSM_DB_READ_TIMEOUT", "2")
    monkeypatch.setenv("ITSM_DB_CONNECT_TIMEOUT", "2")
    config.override_settings(None)
    url = f"mysql://app:fault-pass-123@127.0.0.1:{made.port}/itsm"
    setup.open_database(url, check=False, long_statements=True)  # as `itsm-tui init`: DDL takes time
    setup.initialise()
    setup.open_database(url)  # the app's own waits from here
    yield made
    os.kill(made.process.pid, signal.SIGCONT)
    db.database.close()
    made.stop()
    config.override_settings(None)


def test_a_frozen_server_is_an_error_in_words_within_seconds(server):
    system = users.system_actor()
    ticket = tickets.create(system, "Before the freeze", "d")
    os.kill(server.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        tickets.comment(system, ticket.id, "while frozen")
    took = time.monotonic() - started
    assert took < 10, f"a frozen server held the call for {took:.1f} s"
    assert db_errors.reason(caught.value) in (db_errors.TIMED_OUT, db_errors.LOST)
    assert "fault-pass-123" not in db_errors.reason(caught.value)
    os.kill(server.process.pid, signal.SIGCONT)
    db.database.close()
    tickets.comment(system, ticket.id, "after the thaw")
    assert [c.body for c in Comment.select()] == ["after the thaw"]


def test_a_save_during_a_restart_is_kept_and_written_once_on_retry(server):
    system = users.system_actor()
    ticket = tickets.create(system, "Restart", "d")
    key = drafts.new_request_key()
    server.stop()
    with pytest.raises(Exception) as caught:
        tickets.comment(system, ticket.id, "typed during the outage", request_key=key)
    assert db_errors.reason(caught.value) in (db_errors.UNREACHABLE, db_errors.LOST)
    server.start()
    # The first write on the old connection must not fail with 'lost connection' (2013).
    saved = tickets.comment(system, ticket.id, "typed during the outage", request_key=key)
    again = tickets.comment(system, ticket.id, "typed during the outage", request_key=key)
    assert saved.id == again.id
    assert Comment.select().where(Comment.ticket == ticket.id).count() == 1


def test_an_import_cut_by_a_server_crash_says_so_in_words_and_a_rerun_completes_it(server, tmp_path):
    """The real CLI imports a large ServiceNow log; the server is killed mid-import. The command
    says what happened in one line (never 'database error: ' and nothing after), and once the
    server is back the same command completes the import with nothing twice."""
    import subprocess

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_import import replicate
    from sample_data import SAMPLE, needs_sample

    from itsm_tui.core.store.models import Ticket

    needs_sample()
    big = replicate(SAMPLE, 8, tmp_path / "big.csv")
    url = f"mysql://app:fault-pass-123@127.0.0.1:{server.port}/itsm"
    env = {**os.environ, "ITSM_DB_READ_TIMEOUT": "5", "ITSM_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "itsm_tui", "--db", url, "import", "servicenow", str(big)]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and running.poll() is None:
        if server.sql("SELECT COUNT(*) FROM itsm.ticket")[0][0] > 0:
            break
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    out, err = running.communicate(timeout=120)
    assert running.returncode == 1, out + err
    line = err.strip().splitlines()[-1]
    assert line.startswith("itsm-tui: error: ") and len(line) > len("itsm-tui: error: ") + 10
    assert any(words in line for words in (db_errors.LOST, db_errors.UNREACHABLE, db_errors.TIMED_OUT)), line
    assert "fault-pass-123" not in out + err and "Traceback" not in err
    server.start()
    # The rerun is an ordinary run on a server back from a crash, with the default wait (30 s):
    # with the whole suite (or two busy loops) on the 2 cores, one of its statements took more
    # than the 5 s the cut needs to be reported in seconds.
    rerun = {k: v for k, v in env.items() if k != "ITSM_DB_READ_TIMEOUT"}
    done = subprocess.run(command, capture_output=True, text=True, env=rerun, timeout=600)
    assert done.returncode == 0, done.stderr
    db.database.close()
    numbers = [n for (n,) in Ticket.select(Ticket.source_number).tuples()]
    assert len(numbers) == len(set(numbers)) == 1500 * 8
