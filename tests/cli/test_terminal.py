"""The app as a process on a terminal: it refuses to start without one, and it ends, promptly
and without spinning, on SIGTERM, SIGHUP or the terminal hanging up (an SSH client gone)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from itsm_tui.core import setup
from itsm_tui.core.people import users


@pytest.fixture
def desk(tmp_path):
    url = f"sqlite:///{tmp_path / 'itsm.db'}"
    setup.open_database(url, check=False)
    setup.initialise()
    users.create_user(users.system_actor(), "admin", "admin", password="admin-password-1")
    return url


def _env(tmp_path) -> dict:
    return {**os.environ, "ITSM_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color"}


def test_without_a_terminal_it_says_so_and_exits_1(desk, tmp_path):
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "itsm_tui", "--db", desk],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "itsm-tui needs a terminal: connect with ssh -t"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("ending", ["SIGTERM", "SIGHUP", "hang-up"])
def test_it_ends_promptly_on_a_signal_or_a_hang_up(desk, tmp_path, ending):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "itsm_tui", "--db", desk],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env=_env(tmp_path),
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"sign in" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)
        assert b"sign in" in seen, seen[-500:]
        if ending == "hang-up":
            os.close(master)  # what sshd does when the client is gone
            master = None
        else:
            app.send_signal(getattr(signal, ending))
        started, after = time.monotonic(), b""
        while time.monotonic() - started < 6:
            if master is not None and select.select([master], [], [], 0.1)[0]:
                try:
                    after += os.read(master, 65536)
                    continue
                except OSError:
                    pass
            if app.poll() is not None:
                break
            time.sleep(0.05)
        assert app.poll() is not None, f"still running {time.monotonic() - started:.1f} s after {ending}"
        assert time.monotonic() - started < 5
        if master is not None:  # a clean exit: the terminal is given back (alternate screen left)
            assert b"\x1b[?1049l" in after
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(5)
        if master is not None:
            os.close(master)
