"""Benchmark: the HTTP API (``itsm-tui serve``, loopback) under concurrent clients, beside the
same service calls made in-process, so the API's own cost shows.

    python benchmarks/bench_api.py [--tickets 10000] [--engines sqlite,mysql] [--clients 16]
        [--seconds 15] [--workers 2] [--threads 4] [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench_api]
        [--reuse] [--db PATH] [--seed-only]

The load comes from ``wrk`` (Debian's package; C, one event loop per thread), not from Python
threads, which would take the cores the server needs. For each operation (first page, filtered
page, get one, create, comment): p50/p95/p99 and requests per second with ``--clients`` keep-alive
connections for ``--seconds`` (after 3 s of the same as a warm-up: a worker still starting when
the connections are made would leave them all to the other); then one connection alone for a third
of that: its p50, and the server processes' CPU time per request (read from /proc, so the client's
own cost is left out); beside them, the same service call in-process (median wall time and CPU
time of 200 calls). "overhead" is the server's CPU per request minus the in-process CPU per call:
the API's own work; "loaded", the server's CPU per request under the many connections (the
workers then contend for 2 cores with each other and with wrk). Prints figures; asserts nothing.
The MySQL database named in the URL is dropped and re-created unless --reuse; ``--db PATH``
keeps the SQLite database in that file (seeded only up to --tickets, so a second run reuses it).
``--seed-only`` seeds and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from bench_queue import _prepare, engine_urls

from itsm_tui.core import demo
from itsm_tui.core.people import tokens, users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets

FILTER = "status:open prio:critical,high cat:network"
INSIDE_CALLS = 200

# One request per operation, in wrk's Lua: KIND picks it; a ticket number is drawn at random
# from 1..TOP; a new ticket's or comment's text is three of the seed's WORDS, as a seeded
# ticket's (a run's thousands of like rows at the head of the update order would slow a later
# bench_search's walks); done() prints the figures as one JSON line (wrk's latencies are
# microseconds).
LUA = """
local token, top, kind, path, words = %s, %s, %s, %s, %s
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(os.time() * 100 + (seed or 0)) end
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
local function number() return string.format("INC%%06d", math.random(1, top)) end
local function about()
  local a, b, c = words[math.random(#words)], words[math.random(#words)], words[math.random(#words)]
  return a .. " " .. b .. " " .. c
end
function request()
  if kind == "get" then return wrk.format("GET", "/api/v1/tickets/" .. number()) end
  if kind == "create" then
    local text = about()
    local body = string.format(
      '{"title": "%%s issue", "description": "Ticket about %%s.", "category": "Network"}', text, text)
    return wrk.format("POST", "/api/v1/tickets", nil, body)
  end
  if kind == "comment" then
    local body = string.format('{"body": "Seen again: %%s."}', about())
    return wrk.format("POST", "/api/v1/tickets/" .. number() .. "/comments", nil, body)
  end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  if status >= 400 and not shown then shown = true; io.stderr:write(status .. " " .. body .. "\\n") end
end
function done(summary, latency, requests)
  local line = '{"requests": %%d, "seconds": %%f, "bad": %%d, "p50": %%f, "p95": %%f, "p99": %%f}\\n'
  io.write(string.format(line,
    summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, workers: int, threads: int):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "itsm_tui", "--db", url, "serve", "--port", str(port), "--jobs-every", "3600"]
        + ["--workers", str(workers), "--threads", str(threads)],
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


def _processes():
    """(pid, name, parent's pid, CPU seconds used so far) of every process, read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()  # state, parent's pid, ..., utime and stime at 11 and 12
        yield stat.parent.name, name, fields[1], (int(fields[11]) + int(fields[12])) / ticks


def _server_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server process and each of its worker processes (by pid)."""
    return {each: cpu for each, _, parent, cpu in _processes() if str(pid) in (each, parent)}


def _database_cpu() -> float:
    """CPU seconds used so far by a MariaDB/MySQL server on this machine (0 when there is none):
    on 2 cores the database's work takes from the server's."""
    return sum(cpu for _, name, _, cpu in _processes() if name in ("mariadbd", "mysqld"))


def _spent(before: dict[str, float], after: dict[str, float]) -> tuple[float, list[float]]:
    """The CPU seconds spent between two readings, in all and by each worker (largest first)."""
    each = sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)
    return sum(each), each


def _wrk(base: str, script: str, connections: int, seconds: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
             "--timeout", "30s", "-s", handle.name, f"{base}/"],
            stdout=subprocess.PIPE, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    return json.loads(out.strip().splitlines()[-1])


def _inside(call) -> tuple[float, float]:
    """The in-process call's median wall time and mean CPU time, in ms, over INSIDE_CALLS calls."""
    call()
    walls = []
    cpu = time.process_time()
    for _ in range(INSIDE_CALLS):
        start = time.perf_counter()
        call()
        walls.append((time.perf_counter() - start) * 1000)
    return statistics.median(walls), (time.process_time() - cpu) * 1000 / INSIDE_CALLS


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
    words = "{" + ", ".join(json.dumps(word) for word in demo.WORDS) + "}"  # a Lua table

    def lua(kind: str, query: str = "") -> str:
        path = "/api/v1/tickets?" + urlencode({"q": query})
        return LUA % (*(json.dumps(v) for v in (token, top, kind, path)), words)

    def about() -> str:
        return " ".join(random.choice(demo.WORDS) for _ in range(3))

    cases = [
        (
            "first page: status:open",
            lua("page", "status:open"),
            lambda: queue.page(actor, "status:open", sort),
        ),
        (
            f"filtered: {FILTER}",
            lua("page", FILTER),
            lambda: queue.page(actor, FILTER, sort),
        ),
        ("get one ticket", lua("get"), lambda: tickets.get(actor, random.randint(1, top))),
        (
            "create a ticket",
            lua("create"),
            lambda: tickets.create(actor, f"{about()} issue", f"Ticket about {about()}.", category="Network"),
        ),
        (
            "comment on a ticket",
            lua("comment"),
            lambda: tickets.comment(actor, random.randint(1, top), f"Seen again: {about()}."),
        ),
    ]
    print(
        f"\n== {db.describe_url(url)}: {args.tickets:,} tickets; seed {seconds or 0:.0f} s; "
        f"{args.workers} server process(es) of {args.threads} threads =="
    )
    print(
        f"{'operation':<50} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>6} | {'1 conn':>6} {'in-proc':>7} "
        f"| {'srv CPU':>7} {'in-proc':>7} {'overhead':>8} {'loaded':>7}   (ms; {args.clients} connections)"
    )
    process, base = _serve(url, args.workers, args.threads)
    try:
        for query in ("status:open", FILTER):  # the requests wrk sends are the calls timed in-process
            path = "/api/v1/tickets?" + urlencode({"q": query})
            served = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}).json()["items"]
            if [row["number"] for row in served] != [row["number"] for row in queue.page(actor, query).rows]:
                raise SystemExit(f"the API's page of {query!r} is not the in-process page")
        for name, script, call in cases:
            _wrk(base, script, args.clients, 3)  # warm-up: every worker up and its caches read in
            before, database_before = _server_cpu(process.pid), _database_cpu()
            many = _wrk(base, script, args.clients, args.seconds)
            spent, each = _spent(before, _server_cpu(process.pid))
            loaded_cpu = spent * 1000 / max(1, many["requests"])
            database_cpu = (_database_cpu() - database_before) * 1000 / max(1, many["requests"])
            database = f"  (database server's CPU {database_cpu:.2f})" if db.is_mysql() else ""
            uneven = (
                f"  (workers' CPU {'/'.join(f'{100 * s / spent:.0f}' for s in each[:2])}%)" if each else ""
            )
            before = _server_cpu(process.pid)
            one = _wrk(base, script, 1, args.seconds / 3)
            server_cpu = _spent(before, _server_cpu(process.pid))[0] * 1000 / max(1, one["requests"])
            inside, inside_cpu = _inside(call)
            bad = f"  ({many['bad'] + one['bad']} failed requests)" if many["bad"] + one["bad"] else ""
            print(
                f"{name:<50} {many['p50']:>6.1f} {many['p95']:>6.1f} {many['p99']:>6.1f} "
                f"{many['requests'] / many['seconds']:>6.0f} | {one['p50']:>6.2f} {inside:>7.2f} "
                f"| {server_cpu:>7.2f} {inside_cpu:>7.2f} {server_cpu - inside_cpu:>8.2f} "
                f"{loaded_cpu:>7.2f}{uneven}{database}{bad}"
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
    parser.add_argument("--workers", type=int, default=2, help="itsm-tui serve --workers (one per core)")
    parser.add_argument("--threads", type=int, default=4, help="itsm-tui serve --threads (its default)")
    parser.add_argument("--seconds", type=float, default=15, help="per operation under load")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench_api")
    parser.add_argument("--sqlite-url", help="reuse this SQLite database (default: a new temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep the MySQL database if it has the tickets")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database file to seed or reuse")
    parser.add_argument("--seed-only", action="store_true", help="seed the databases and stop")
    args = parser.parse_args()
    if not args.seed_only and shutil.which("wrk") is None:
        raise SystemExit("bench_api drives the server with wrk: apt-get install wrk")
    if args.db:
        args.sqlite_url = f"sqlite:///{os.path.abspath(args.db)}"
    for url in engine_urls(args):
        run_engine(url, args)


if __name__ == "__main__":
    main()
