"""What an idle list costs over SSH: the app runs on a real pseudo-terminal and every byte it
writes is counted. The timed refresh (every 5 s) writes nothing when nothing changed, and only
the changed line when one ticket changed."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time

import pytest

from itsm_tui.core import demo


@pytest.fixture
def desk(tmp_path):
    """The demo desk, made by the CLI as an operator would (``init``, ``seed --demo``)."""
    url, path = f"sqlite:///{tmp_path / 'itsm.db'}", tmp_path / "itsm.db"
    for command in (["init"], ["seed", "--demo"]):
        subprocess.run(
            [sys.executable, "-m", "itsm_tui", "--db", url, *command],
            check=True,
            capture_output=True,
            env=_env(tmp_path),
            timeout=120,
        )
    with sqlite3.connect(path) as reader:  # the first row of "All open": the most urgent open ticket
        (top,) = reader.execute(
            "SELECT id FROM ticket WHERE status IN ('new', 'in_progress', 'waiting_on_user', "
            "'waiting_on_vendor') ORDER BY resolution_due, id LIMIT 1"
        ).fetchone()
    return url, path, top


def _env(tmp_path) -> dict:
    return {**os.environ, "ITSM_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color"}


def _read_for(master: int, seconds: float) -> bytes:
    got, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        if select.select([master], [], [], 0.1)[0]:
            try:
                got += os.read(master, 65536)
            except OSError:
                break
    return got


def test_an_idle_list_writes_nothing_between_refreshes(desk, tmp_path):
    url, path, top = desk
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = _env(tmp_path)
    app = subprocess.Popen(
        [sys.executable, "-m", "itsm_tui", "--db", url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env=env,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"sign in" not in seen and time.monotonic() < deadline:
            seen += _read_for(master, 0.2)
        _read_for(master, 2)
        for keys in (b"admin", b"\t", demo.DEMO_PASSWORD.encode() + b"\r"):  # typed, as a person would
            os.write(master, keys)
            time.sleep(0.3)
        seen, deadline = b"", time.monotonic() + 30
        while b"INC0000" not in seen and time.monotonic() < deadline:
            seen += _read_for(master, 0.5)
        seen += _read_for(master, 3)  # the first refresh and count settle
        assert b"All open" in seen and b"INC0000" in seen  # the queue and its rows are on screen

        idle = _read_for(master, 11)  # two timed refreshes
        assert len(idle) < 100, idle[:400]

        # One ticket changes (as every write does, its update time with it): the next refresh
        # draws that change, not the screen.
        with sqlite3.connect(path) as other:
            other.execute(
                "UPDATE ticket SET title = 'Changed behind the list', version = version + 1,"
                " updated_at = datetime((SELECT MAX(updated_at) FROM ticket), '+1 second') WHERE id = ?",
                (top,),
            )
        changed = _read_for(master, 6)
        assert b"Changed behind" in changed
        assert len(changed) < 2500, len(changed)
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(15)
        os.close(master)
