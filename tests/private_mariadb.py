"""A private MariaDB server for tests that stop their database: its own data folder, port and
socket in a temporary folder, started with ``mariadb-install-db`` + ``mariadbd --no-defaults``.
The shared server on 3306 is never touched.

    with PrivateMariaDB() as server:      # started, root without a password over TCP
        url = server.url("itsm")          # mysql://root@127.0.0.1:PORT/itsm (created)
        server.stop()                     # the server goes away under the app
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"


def available() -> str | None:
    """None when a private server can be started here, else the reason it cannot."""
    for tool in (INSTALL_DB, MARIADBD):
        if not os.path.exists(tool):
            return f"{tool} is missing (apt-get install mariadb-server)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateMariaDB:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="itsm-mariadb-"))
        self.datadir = self.folder / "data"
        self.socket = self.folder / "mysqld.sock"
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.user = "mysql" if os.geteuid() == 0 else None  # mariadbd refuses to run as root

    def __enter__(self) -> "PrivateMariaDB":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def start(self) -> None:
        if self.user:
            shutil.chown(self.folder, self.user)
        if not (self.datadir / "mysql").exists():
            argv = [INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
                    "--skip-test-db"]
            if self.user:
                argv.append(f"--user={self.user}")
            subprocess.run(argv, check=True, capture_output=True, timeout=120)
        argv = [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={self.socket}", f"--pid-file={self.folder / 'mysqld.pid'}",
                "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--skip-name-resolve",
                f"--log-error={self.folder / 'error.log'}"]
        if self.user:
            argv.append(f"--user={self.user}")
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd stopped: {(self.folder / 'error.log').read_text()[-2000:]}")
            try:
                self.sql("SELECT 1")
                return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("the private mariadbd did not answer within 60 s")

    def sql(self, statement: str) -> None:
        import pymysql

        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="",
                                     connect_timeout=2)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def url(self, database: str) -> str:
        self.sql(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4")
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop this server (SIGTERM, then SIGKILL after 30 s) and wait until it is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
