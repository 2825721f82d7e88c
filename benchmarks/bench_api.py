"""Benchmark: the HTTP API (``itsm-tui serve``, loopback) under concurrent clients, beside the
same service calls made in-process, so the API's own cost shows.

    python benchmarks/bench_api.py [--tickets 10000] [--engines sqlite,mysql] [--clients 16]
        [--requests 800] [--workers 1] [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench] [--reuse]
        [--db PATH] [--seed-only]

For each operation (first page, filtered page, get one, create, comment): p50/p95/p99 and
requests per second with ``--clients`` concurrent keep-alive clients (``--requests`` in all,
and at most ``--seconds`` per operation), the p50 of one client alone, and the p50 of the same
service call in-process; "overhead" is one client's p50 minus the in-process p50. Prints
figures; asserts nothing. The MySQL database named in the URL is dropped and re-created unless
--reuse; ``--db PATH`` keeps the SQLite database in that file (seeded only up to --tickets,
so a second run reuses it). ``--seed-only`` seeds and stops (seed once, run many times). Each
operation stops after --seconds for the concurrent clients and again for the single client, so
a run ends within about 10 * --seconds plus the seeding.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time

import httpx
from bench_queue import _prepare, _timed, engine_urls

from itsm_tui.core.people import tokens, users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets

FILTER = "status:open prio:critical,high cat:network"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, workers: int = 1):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "itsm_tui", "--db", url, "serve", "--port", str(port), "--jobs-every", "3600"]
        + ["--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("itsm-tui serve did not start")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _drive(base: str, token: str, request, clients: int, total: int, seconds: float):
    """``total`` requests over ``clients`` threads (each its own keep-alive connection), stopped
    after ``seconds``; returns (latencies in ms, wall seconds)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    per_client = max(1, total // clients)

    def client(n: int) -> None:
        rng = random.Random(n)
        mine = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for _ in range(per_client):
                if time.perf_counter() > deadline:
                    break
                start = time.perf_counter()
                answer = request(http, rng)
                mine.append((time.perf_counter() - start) * 1000)
                if answer.status_code >= 400:
                    raise SystemExit(f"{answer.status_code}: {answer.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start


def run_engine(url: str, args) -> None:
    seconds = _prepare(url, args.tickets)
    if args.seed_only:
        print(f"{db.describe_url(url)}: {Ticket.select().count():,} tickets; seed {seconds or 0:.0f} s")
        db.database.close()
        return
    actor = users.by_username("agent1")
    token = tokens.create(actor, f"bench-{time.time_ns()}")[1]
    top = Ticket.select(Ticket.id).order_by(Ticket.id.desc()).scalar()
    sort = queue.Sort("updated", True)
    body = {"title": "Benchmark ticket", "description": "made by bench_api", "category": "Network"}
    cases = [
        (
            "first page: status:open",
            lambda http, rng: http.get("/api/v1/tickets", params={"q": "status:open"}),
            lambda: queue.page(actor, "status:open", sort),
        ),
        (
            f"filtered: {FILTER}",
            lambda http, rng: http.get("/api/v1/tickets", params={"q": FILTER}),
            lambda: queue.page(actor, FILTER, sort),
        ),
        (
            "get one ticket",
            lambda http, rng: http.get(f"/api/v1/tickets/INC{rng.randint(1, top):06d}"),
            lambda: tickets.get(actor, random.randint(1, top)),
        ),
        (
            "create a ticket",
            lambda http, rng: http.post("/api/v1/tickets", json=body),
            lambda: tickets.create(actor, body["title"], body["description"], category="Network"),
        ),
        (
            "comment on a ticket",
            lambda http, rng: http.post(
                f"/api/v1/tickets/INC{rng.randint(1, top):06d}/comments", json={"body": "hi"}
            ),
            lambda: tickets.comment(actor, random.randint(1, top), "hi"),
        ),
    ]
    print(
        f"\n== {db.describe_url(url)}: {args.tickets:,} tickets; seed {seconds or 0:.0f} s; "
        f"{args.workers} server process(es) =="
    )
    print(
        f"{'operation':<52} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>6} | {'1 client':>8} "
        f"{'in-proc':>8} {'overhead':>8}   (ms; {args.clients} clients)"
    )
    process, base = _serve(url, args.workers)
    try:
        for name, request, call in cases:
            many, wall = _drive(base, token, request, args.clients, args.requests, args.seconds)
            one, _ = _drive(base, token, request, 1, min(100, args.requests), args.seconds)
            inside = _timed(call)
            alone = statistics.median(one)
            print(
                f"{name:<52} {_percentile(many, 0.5):>6.1f} {_percentile(many, 0.95):>6.1f} "
                f"{_percentile(many, 0.99):>6.1f} {len(many) / wall:>6.0f} | {alone:>8.2f} {inside:>8.2f} "
                f"{alone - inside:>8.2f}"
            )
    finally:
        process.terminate()
        process.wait(10)
        db.database.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_api.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,mysql")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="itsm-tui serve --workers")
    parser.add_argument("--requests", type=int, default=800, help="per operation, over all clients")
    parser.add_argument("--seconds", type=float, default=60, help="at most this long per operation")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench_api")
    parser.add_argument("--sqlite-url", help="reuse this SQLite database (default: a new temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep the MySQL database if it has the tickets")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database file to seed or reuse")
    parser.add_argument("--seed-only", action="store_true", help="seed the databases and stop")
    args = parser.parse_args()
    if args.db:
        args.sqlite_url = f"sqlite:///{os.path.abspath(args.db)}"
    for url in engine_urls(args):
        run_engine(url, args)


if __name__ == "__main__":
    main()
