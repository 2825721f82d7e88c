"""Benchmark: seed N tickets per engine, then time queue pages against hand-written SQL.

    python benchmarks/bench_queue.py [--tickets 1000000] [--engines sqlite,mysql]
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

from itsm_tui.core import demo, setup
from itsm_tui.core.people import users
from itsm_tui.core.people.auth import hash_password
from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry, System, Ticket, User
from itsm_tui.core.tickets import queue

RUNS = 7
OPEN = "('new', 'in_progress', 'waiting_on_user', 'waiting_on_vendor')"
COLUMNS = (
    "t.id, t.title, t.status, t.priority, t.created_at, t.updated_at, t.response_due, "
    "t.resolution_due, t.first_response_at, t.resolved_at, t.version, c.name, r.username, a.username"
)
NAMES = (
    "JOIN category c ON t.category_id = c.id JOIN {user} r ON t.requester_id = r.id "
    "LEFT JOIN {user} a ON t.assignee_id = a.id"
)


def deferred(where: str, order: str) -> str:
    """What a DBA writes: the page's ids from the ticket table alone, then the names."""
    return (
        f"SELECT {COLUMNS} FROM (SELECT id, updated_at FROM ticket t WHERE {where} "
        f"ORDER BY {order} LIMIT 51) p JOIN ticket t ON t.id = p.id {NAMES} ORDER BY {order}"
    )


def naive(where: str, order: str) -> str:
    """The first query anyone writes: join, filter, sort, limit."""
    return f"SELECT {COLUMNS} FROM ticket t {NAMES} WHERE {where} ORDER BY {order} LIMIT 51"


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
    """Run hand-written SQL and fetch the rows as the driver returns them."""
    user = "`user`" if db.is_mysql() else '"user"'
    placeholder = "%s" if db.is_mysql() else "?"
    sql = text.format(user=user).replace("?", placeholder)
    return lambda: db.database.execute_sql(sql, params).fetchall()


def _prepare(url: str, count: int, systems: int = 0, log_entries: int = 0) -> float | None:
    """Seed ``count`` tickets, then ``systems`` systems (with their peripherals), then
    ``log_entries`` activity log entries (over those tickets and systems), each unless the
    database already holds that many; returns the seconds spent, or None when nothing was
    seeded."""
    setup.open_database(url, check=False)
    setup.initialise()
    system = users.system_actor()
    if not User.select().where(User.username == "agent1").exists():
        hashed = hash_password("benchmark-password")
        for i in range(1, 11):
            users.create_user(system, f"agent{i}", "agent", password_hash=hashed)
        for i in range(1, 201):
            users.create_user(system, f"user{i}", "requester", password_hash=hashed)
    start = time.perf_counter()
    seeded = False
    for model, wanted, generate in (
        (Ticket, count, demo.seed_bulk),
        (System, systems, demo.seed_bulk_assets),
        (AuditEntry, log_entries, demo.seed_bulk_log),
    ):
        have = model.select().count()
        if wanted and have < wanted:
            generate(system, wanted - have)
            seeded = True
    return time.perf_counter() - start if seeded else None


DESC = "t.updated_at DESC, t.id DESC"


def run_engine(url: str, count: int) -> list[tuple]:
    seconds = _prepare(url, count)
    actor = users.system_actor()
    results: list[tuple] = [("seed (s)", seconds)]
    sort = queue.Sort("updated", True)
    cursor = queue.page(actor, "status:open", sort).last
    network = db.database.execute_sql("SELECT id FROM category WHERE name = 'Network'").fetchone()[0]
    keyset = f"t.status IN {OPEN} AND t.updated_at <= ? AND (t.updated_at < ? OR t.id < ?)"
    filtered = f"t.status IN {OPEN} AND t.priority IN (1, 2) AND t.category_id = ?"
    text = "(t.title LIKE ? OR t.description LIKE ?)"
    cases = [
        (
            "first page: status:open, newest update first",
            lambda: queue.page(actor, "status:open", sort),
            f"t.status IN {OPEN}",
            DESC,
            (),
        ),
        (
            "next page (keyset)",
            lambda: queue.page(actor, "status:open", sort, after=cursor),
            keyset,
            DESC,
            (cursor.value, cursor.value, cursor.id),
        ),
        (
            "last page (G)",
            lambda: queue.page(actor, "status:open", sort, before=queue.END),
            f"t.status IN {OPEN}",
            "t.updated_at ASC, t.id ASC",
            (),
        ),
        (
            "filtered: status:open prio:critical,high cat:network",
            lambda: queue.page(actor, "status:open prio:critical,high cat:network", sort),
            filtered,
            DESC,
            (network,),
        ),
        (
            'text search: "wifi crash" (all statuses)',
            lambda: queue.page(actor, '"wifi crash"', sort),
            text,
            DESC,
            ("%wifi crash%", "%wifi crash%"),
        ),
    ]
    for name, ours, where, order, params in cases:
        results.append(
            (
                name,
                _timed(ours),
                _timed(_sql(deferred(where, order), params)),
                _timed(_sql(naive(where, order), params)),
            )
        )
    results.append(
        (
            "count: status:open",
            _timed(lambda: queue.count(actor, "status:open")),
            _timed(_sql(f"SELECT COUNT(*) FROM ticket t WHERE t.status IN {OPEN}")),
            None,
        )
    )
    db.database.close()
    return results


def _mysql_reset(url: str) -> None:
    import pymysql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = pymysql.connect(
        host=parsed.hostname,
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
    )
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def arguments(prog: str, description: str) -> argparse.Namespace:
    """The options both benchmarks take."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--systems", type=int, default=100_000, help="(bench_ui) systems to seed")
    parser.add_argument("--log-entries", type=int, default=1_000_000, help="(bench_ui) log entries to seed")
    parser.add_argument("--engines", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench")
    parser.add_argument("--sqlite-url", help="reuse this SQLite database (default: a new temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the MySQL database when it already holds the tickets"
    )
    return parser.parse_args()


def engine_urls(args: argparse.Namespace):
    """Each engine's URL: a new SQLite file unless --sqlite-url, a fresh MySQL database unless
    --reuse."""
    for engine in args.engines.split(","):
        if engine == "sqlite":
            yield args.sqlite_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        else:
            if not args.reuse:
                _mysql_reset(args.mysql_url)
            yield args.mysql_url


def main() -> None:
    args = arguments("python benchmarks/bench_queue.py", __doc__.split("\n")[0])
    for url in engine_urls(args):
        print(f"\n== {db.describe_url(url)}: {args.tickets:,} tickets (median of {RUNS} runs, ms) ==")
        print(f"{'operation':<54} {'itsm-tui':>9} {'same SQL':>9} {'ratio':>6} {'naive SQL':>10}")
        for name, *figures in run_engine(url, args.tickets):
            if len(figures) == 1:
                seed = figures[0]
                print(f"{name:<54} {'(reused)' if seed is None else f'{seed:.1f}':>9}")
                continue
            ours, same, plain = figures
            tail = f"{plain:>10.2f}" if plain is not None else ""
            print(f"{name:<54} {ours:>9.2f} {same:>9.2f} {ours / same:>6.2f} {tail}")


if __name__ == "__main__":
    main()
