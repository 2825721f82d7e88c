"""Benchmark: seed N tickets per engine, then time queue pages against hand-written SQL.

    python -m itsm_tui.bench [--tickets 1000000] [--engines sqlite,mysql]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench]

Prints figures; it asserts nothing. The MySQL database named in the URL is dropped and
re-created, so never point it at real data.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from .core import db, demo, queue, setup, users
from .core.auth import hash_password

RUNS = 7
OPEN = "('new', 'in_progress', 'waiting_on_user', 'waiting_on_vendor')"
SELECT = (
    "SELECT t.id, t.title, t.status, t.priority, t.created_at, t.updated_at, t.response_due, "
    "t.resolution_due, t.first_response_at, t.resolved_at, t.version, c.name, r.username, "
    "a.username FROM ticket t JOIN category c ON t.category_id = c.id "
    "JOIN {user} r ON t.requester_id = r.id LEFT JOIN {user} a ON t.assignee_id = a.id "
)


def _timed(fn) -> float:
    """Median wall time of ``fn`` in milliseconds over RUNS runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _sql(text: str, params=()):
    user = "`user`" if db.is_mysql() else '"user"'
    placeholder = "%s" if db.is_mysql() else "?"
    return lambda: db.database.execute_sql(
        text.format(user=user).replace("?", placeholder), params
    ).fetchall()


def _prepare(url: str, count: int) -> float:
    setup.open_database(url, check=False)
    setup.initialise()
    system = users.system_actor()
    hashed = hash_password("benchmark-password")
    for i in range(1, 11):
        users.create_user(system, f"agent{i}", "agent", password_hash=hashed)
    for i in range(1, 201):
        users.create_user(system, f"user{i}", "requester", password_hash=hashed)
    start = time.perf_counter()
    demo.seed_bulk(system, count)
    return time.perf_counter() - start


def run_engine(url: str, count: int) -> list[tuple[str, float, float | None]]:
    seconds = _prepare(url, count)
    actor = users.system_actor()
    results: list[tuple[str, float, float | None]] = [("seed (s)", seconds, None)]
    sort = queue.Sort("updated", True)
    first = queue.page(actor, "status:open", sort)
    cursor = first.last
    results.append((
        "first page: status:open, newest update first",
        _timed(lambda: queue.page(actor, "status:open", sort)),
        _timed(_sql(SELECT + f"WHERE t.status IN {OPEN} ORDER BY t.updated_at DESC, t.id DESC LIMIT 51")),
    ))
    results.append((
        "next page (keyset)",
        _timed(lambda: queue.page(actor, "status:open", sort, after=cursor)),
        _timed(_sql(
            SELECT + f"WHERE t.status IN {OPEN} AND t.updated_at <= ? AND (t.updated_at < ? OR t.id < ?) "
            "ORDER BY t.updated_at DESC, t.id DESC LIMIT 51",
            (cursor.value, cursor.value, cursor.id),
        )),
    ))
    results.append((
        "last page (G)",
        _timed(lambda: queue.page(actor, "status:open", sort, before=queue.END)),
        _timed(_sql(SELECT + f"WHERE t.status IN {OPEN} ORDER BY t.updated_at ASC, t.id ASC LIMIT 51")),
    ))
    network = db.database.execute_sql("SELECT id FROM category WHERE name = 'Network'").fetchone()[0]
    results.append((
        "filtered: status:open prio:critical,high cat:network",
        _timed(lambda: queue.page(actor, "status:open prio:critical,high cat:network", sort)),
        _timed(_sql(
            SELECT + f"WHERE t.status IN {OPEN} AND t.priority IN (1, 2) AND t.category_id = ? "
            "ORDER BY t.updated_at DESC, t.id DESC LIMIT 51", (network,),
        )),
    ))
    results.append((
        'text search: "wifi crash" (all statuses)',
        _timed(lambda: queue.page(actor, '"wifi crash"', sort)),
        _timed(_sql(
            SELECT + "WHERE (t.title LIKE ? OR t.description LIKE ?) "
            "ORDER BY t.updated_at DESC, t.id DESC LIMIT 51", ("%wifi crash%", "%wifi crash%"),
        )),
    ))
    results.append((
        "count: status:open",
        _timed(lambda: queue.count(actor, "status:open")),
        _timed(_sql(f"SELECT COUNT(*) FROM ticket t WHERE t.status IN {OPEN}")),
    ))
    db.database.close()
    return results


def _mysql_reset(url: str) -> None:
    import pymysql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = pymysql.connect(host=parsed.hostname, port=parsed.port or 3306,
                           user=parsed.username or "root", password=parsed.password or "")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m itsm_tui.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        else:
            url = args.mysql_url
            _mysql_reset(url)
        print(f"\n== {db.describe_url(url)}: {args.tickets:,} tickets "
              f"(median of {RUNS} runs, ms) ==")
        print(f"{'operation':<55} {'itsm-tui':>10} {'hand SQL':>10} {'ratio':>7}")
        for name, ours, baseline in run_engine(url, args.tickets):
            if baseline is None:
                print(f"{name:<55} {ours:>10.1f}")
            else:
                print(f"{name:<55} {ours:>10.2f} {baseline:>10.2f} {ours / baseline:>7.2f}")


if __name__ == "__main__":
    main()
