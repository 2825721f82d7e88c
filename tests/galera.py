"""A three-node MariaDB Galera cluster on loopback ports, for the cluster tests and benchmarks.

Each node has its own data directory, socket and ports under one folder (which, with its parents,
the mysql account must be able to enter: use a folder under /tmp, not pytest's 0700 tmp_path);
the server on 3306 is never touched. Node N listens for SQL on ``base + N`` (3311..3313 by
default), for Galera on ``base + 10 + N``, IST on ``base + 20 + N`` and SST on ``base + 30 + N``;
``free_base()`` finds a base whose ports are all free, so two clusters can run side by side.

    python tests/galera.py start /tmp/galera      # prints the URL with the three hosts
    python tests/galera.py stop /tmp/galera
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
NODES = 3


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    for tool in ("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", PROVIDER):
        if not os.path.exists(tool):
            return f"{tool} is missing (apt-get install mariadb-server galera-4)"
    if shutil.which("rsync") is None:
        return "rsync is missing (Galera's state transfer uses it: apt-get install rsync)"
    return None


@dataclass
class Node:
    number: int
    folder: Path
    sql_port: int

    @property
    def galera_port(self) -> int:
        return self.sql_port + 10

    @property
    def ist_port(self) -> int:
        return self.sql_port + 20

    @property
    def sst_port(self) -> int:
        return self.sql_port + 30

    @property
    def pid_file(self) -> Path:
        return self.folder / "mariadbd.pid"

    @property
    def socket(self) -> Path:
        return self.folder / "mariadbd.sock"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


def free_base(start: int = 3400, stop: int = 3900) -> int:
    """A base port whose 40 ports (SQL, Galera, IST, SST of three nodes) are all free."""
    for base in range(start, stop, 40):
        try:
            for port in range(base + 1, base + 34):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no free ports for a Galera cluster between {start} and {stop}")


class Cluster:
    def __init__(self, folder: Path, base_port: int = 3310):
        self.folder = Path(folder)
        self.nodes = [Node(n, self.folder / f"node{n}", base_port + n) for n in range(1, NODES + 1)]

    def url(self, database: str = "itsm", nodes: list[Node] | None = None) -> str:
        hosts = ",".join(f"127.0.0.1:{n.sql_port}" for n in nodes or self.nodes)
        return f"mysql://root@{hosts}/{database}"

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        try:
            for node in self.nodes:
                self._install(node)
            self.start_node(self.nodes[0], bootstrap=True)
            for node in self.nodes[1:]:
                self.start_node(node)
            self.wait_for_size(NODES)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every node at once (one by one, each waits for the cluster to see it leave)."""
        pids = [pid for pid in (node.pid() for node in self.nodes) if pid]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20  # throwaway data: a node slow to leave is killed
        for pid in pids:
            self._wait_gone(pid, max(0.1, deadline - time.monotonic()))

    def _install(self, node: Node) -> None:
        if (node.folder / "data" / "mysql").exists():
            return
        node.folder.mkdir(parents=True, exist_ok=True)
        (node.folder / "my.cnf").write_text(self._config(node))
        # The nodes run as the mysql account: run as root, rsync's SST daemon drops to nobody
        # and cannot read the joiner's data directory.
        self.folder.chmod(0o755)
        shutil.chown(node.folder, "mysql", "mysql")
        subprocess.run(
            [
                "mariadb-install-db",
                f"--defaults-file={node.folder / 'my.cnf'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _config(self, node: Node) -> str:
        cluster = ",".join(f"127.0.0.1:{n.galera_port}" for n in self.nodes)
        return f"""[mysqld]
user=mysql
datadir={node.folder / "data"}
tmpdir={node.folder}
socket={node.socket}
pid-file={node.pid_file}
port={node.sql_port}
bind-address=127.0.0.1
log-error={node.folder / "error.log"}
skip-name-resolve
innodb_buffer_pool_size=64M
innodb_log_file_size=48M
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider={PROVIDER}
wsrep_cluster_name=itsm_test
wsrep_cluster_address=gcomm://{cluster}
wsrep_node_address=127.0.0.1:{node.galera_port}
wsrep_node_name=node{node.number}
wsrep_provider_options="base_host=127.0.0.1;base_port={node.galera_port};gmcast.listen_addr=tcp://127.0.0.1:{node.galera_port};ist.recv_addr=127.0.0.1:{node.ist_port};gcache.size=64M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:{node.sst_port}
"""

    def start_node(self, node: Node, bootstrap: bool = False, timeout: float = 90) -> None:
        args = ["/usr/sbin/mariadbd", f"--defaults-file={node.folder / 'my.cnf'}"]
        if bootstrap:
            args.append("--wsrep-new-cluster")
        log = open(node.folder / "stdout.log", "ab")
        subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status(node, "wsrep_ready") == "ON":
                return
            time.sleep(0.3)
        raise RuntimeError(f"galera node {node.number} did not become ready; see {node.folder}/error.log")

    def stop_node(self, node: Node, timeout: float = 60) -> None:
        pid = node.pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        self._wait_gone(pid, timeout)

    def kill_node(self, node: Node) -> None:
        """SIGKILL, as a crash or a pulled plug would; the node rejoins with start_node()."""
        pid = node.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait_gone(pid, 30)

    @staticmethod
    def _wait_gone(pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    # -- inspection ---------------------------------------------------------------------------

    def connect(self, node: Node, **kwargs):
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=node.sql_port,
            user="root",
            password="",
            connect_timeout=2,
            read_timeout=5,
            autocommit=True,
            **kwargs,
        )

    def status(self, node: Node, name: str) -> str | None:
        try:
            conn = self.connect(node)
        except Exception:
            return None
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW STATUS LIKE %s", (name,))
                row = cur.fetchone()
                return row[1] if row else None
        except Exception:
            return None
        finally:
            conn.close()

    def wait_for_size(self, size: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = [n for n in self.nodes if self.status(n, "wsrep_ready") == "ON"]
            if live and all(self.status(n, "wsrep_cluster_size") == str(size) for n in live):
                return
            time.sleep(0.3)
        raise RuntimeError(f"the galera cluster did not reach {size} nodes")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    cluster = Cluster(Path(argv[1]))
    if argv[0] == "start":
        cluster.start()
        print(cluster.url())
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
