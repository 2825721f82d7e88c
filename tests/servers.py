"""Real servers that a test starts on loopback and stops itself (never the shared ones).

``private_mariadb(tmp_path, extra_args=...)`` runs its own ``mariadbd`` on a fresh datadir, a
free port and its own socket; ``make_ca``/``make_server_cert`` make TLS material with
``openssl``. Without the programs a test is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def need(*programs: str) -> None:
    """Skip (fail under CI=true) unless every program is installed."""
    missing = [p for p in programs if shutil.which(p) is None and not Path(f"/usr/sbin/{p}").exists()]
    if missing:
        message = f"needs {', '.join(missing)} (Debian: mariadb-server, openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: required under CI=true")
        pytest.skip(message)


def _program(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrivateMariaDB:
    port: int
    socket: Path
    datadir: Path
    process: subprocess.Popen
    log: Path
    args: tuple[str, ...] = ()

    def sql(self, statement: str) -> list[tuple]:
        """Run one statement as root over the private socket."""
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", connect_timeout=5, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def start(self) -> None:
        """Start this server again on its data (after ``stop()`` or a crash)."""
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.sql("SELECT 1")
                return
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    text = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                    raise RuntimeError(f"the private mariadbd did not start: {text}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop this server and wait until it has exited."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def private_mariadb(tmp_path: Path, extra_args: tuple[str, ...] | list[str] = ()) -> PrivateMariaDB:
    """A fresh MariaDB on 127.0.0.1:<free port>, root over its socket only; call ``stop()``."""
    need("mariadbd", "mariadb-install-db")
    base = tmp_path / f"mariadb-{os.getpid()}-{time.monotonic_ns()}"
    # The socket's path must stay under 108 bytes, which a pytest-xdist worker's tmp_path exceeds.
    # The folder is the server's tmpdir too: a server sharing /tmp with the one on 3306 lost that
    # one's temporary table files under it (a crash in a parallel run).
    short = Path(tempfile.mkdtemp(prefix="itsm-db-"))
    atexit.register(shutil.rmtree, short, ignore_errors=True)
    datadir, sock, log = base / "data", short / "mysqld.sock", base / "mysqld.log"
    datadir.mkdir(parents=True)
    subprocess.run(
        [
            _program("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={datadir}",
            f"--tmpdir={short}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    args = (
        _program("mariadbd"),
        "--no-defaults",
        f"--datadir={datadir}",
        f"--port={port}",
        f"--socket={sock}",
        f"--tmpdir={short}",  # never the shared /tmp: the shared server keeps its temporary tables there
        "--bind-address=127.0.0.1",
        "--user=root",
        f"--log-error={log}",
        f"--pid-file={base / 'mysqld.pid'}",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=16M",
        *extra_args,
    )
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = PrivateMariaDB(port, sock, datadir, process, log, args)
    server.wait_ready()
    return server


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str = "ca") -> Path:
    """A self-signed CA (key and certificate ``<name>.pem``) made with openssl."""
    need("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN=itsm-tui test {name}",
        "-keyout",
        f"{name}-key.pem",
        "-out",
        f"{name}.pem",
        cwd=folder,
    )
    return folder / f"{name}.pem"


def make_server_cert(folder: Path, ca: Path, cn: str = "127.0.0.1") -> tuple[Path, Path]:
    """A server certificate for ``cn`` (also its IP subjectAltName) signed by ``ca``."""
    ca_key = ca.with_name(ca.stem + "-key.pem")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={cn}",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
        cwd=folder,
    )
    (folder / "san.cnf").write_text(f"subjectAltName=IP:{cn}\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.pem",
        cwd=folder,
    )
    return folder / "server.pem", folder / "server-key.pem"
