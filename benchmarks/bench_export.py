"""Benchmark: ticket exports (PDF time and peak memory, CSV time) beside plain baselines.

    python benchmarks/bench_export.py [--pdf sqlite:////work/bench/export_10000.db,...]
        [--csv sqlite:////work/bench/bench.db,mysql://root@127.0.0.1:3306/itsm_bench]
        [--baseline-timeout 300] [--seed N]

For each PDF database: our list PDF of every ticket (the queue's default columns and sort) and
a plain reportlab baseline on the same rows: one platypus ``Table`` with a repeated header in a
SimpleDocTemplate, strings only. For each CSV database: our CSV export, a bare ``csv.writer``
over the same query, and a raw SQL baseline (one hand-written SELECT of the exported columns
with the driver's rows written as they come: the speed of the rows). ``--seed N`` first seeds
each CSV database to N tickets (benchmarks/bench_queue.py's seeding). Each CSV line gives its
time as a multiple of the raw SQL baseline's, and the CPU time of the exporting process (on a
shared machine the steadier figure; a MySQL server's own work is not in it).
Each measurement runs in its own process so its peak memory
(the child's maximum resident set size) is its own. The databases are only read: the export's
audit entry is not written (``export.write_list``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TARGETS = "targets: 10,000 tickets to PDF under 3 s; 100,000 under 300 MB peak; CSV within 1.5x raw"


def _rows(url: str):
    from itsm_tui.core import setup
    from itsm_tui.core.people import users
    from itsm_tui.core.tickets import queue
    from itsm_tui.reports.lists import LISTS, display

    setup.open_database(url)
    actor = users.system_actor()
    kind = LISTS["tickets"]
    columns = [kind.column(key) for key in kind.defaults]
    return actor, kind, columns, queue, display


def measure(mode: str, url: str) -> dict:
    """One measurement in this process: seconds and rows."""
    from itsm_tui.reports import export

    actor, kind, columns, queue, display = _rows(url)
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryFile() as out:
        if mode in ("pdf", "csv"):
            rows, pages = export.write_list(actor, export.ListJob("tickets", mode, ""), out)
        elif mode == "baseline-pdf":
            rows, pages = _baseline_pdf(out, actor, kind, columns, queue, display)
        elif mode == "raw-csv":
            rows, pages = _raw_csv(out)
        else:
            rows, pages = _baseline_csv(out, actor, columns, queue)
        size = out.tell()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "pages": pages, "bytes": size}


def _baseline_pdf(out, actor, kind, columns, queue, display):
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table

    data = [[c.header for c in columns]]
    data += [[display(c.value(row)) for c in columns] for row in queue.iterate(actor, "", queue.Sort())]
    doc = SimpleDocTemplate(out, pagesize=landscape(A4))
    doc.build([Table(data, repeatRows=1)])
    return len(data) - 1, doc.page


def _baseline_csv(out, actor, columns, queue):
    import csv
    import io

    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow([c.header for c in columns])
    count = 0
    for row in queue.iterate(actor, "", queue.Sort()):
        writer.writerow([c.value(row) for c in columns])
        count += 1
    text.flush()
    text.detach()
    return count, None


RAW_SQL = (  # the default columns (the SLA as its due time), newest update first
    "SELECT t.id, t.priority, t.status, t.response_due, t.title, r.username, "
    "a.username, c.name, t.created_at, t.resolution_due FROM ticket t "
    "JOIN {user} r ON r.id = t.requester_id LEFT JOIN {user} a ON a.id = t.assignee_id "
    "JOIN category c ON c.id = t.category_id ORDER BY t.updated_at DESC, t.id DESC"
)


def _raw_csv(out):
    import csv
    import io

    from itsm_tui.core.store import db

    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    user = "`user`" if db.is_mysql() else '"user"'
    cursor = db.database.execute_sql(RAW_SQL.format(user=user))
    count = 0
    while rows := cursor.fetchmany(1000):
        writer.writerows(rows)
        count += len(rows)
    text.flush()
    text.detach()
    return count, None


def _child(mode: str, url: str, timeout: float) -> dict:
    """Run one measurement in a child process; adds its peak resident memory in MB."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, url], stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            usage = os.wait4(process.pid, 0)[2]
            return {"timeout": timeout, "peak_mb": usage.ru_maxrss / 1024}
        time.sleep(0.05)
    output = process.stdout.read()
    process.stdout.close()
    if status != 0:
        return {"error": f"exit status {status}"}
    result = json.loads(output)
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def _line(label: str, result: dict, raw: dict | None = None) -> str:
    if "timeout" in result:
        return (
            f"  {label:<22} did not finish within {result['timeout']:.0f} s (stopped; "
            f"peak {result['peak_mb']:.1f} MB by then)"
        )
    if "error" in result:
        return f"  {label:<22} failed: {result['error']}"
    pages = f", {result['pages']:,} pages" if result.get("pages") else ""
    times = f"{result['seconds']:8.2f} s (CPU {result['cpu']:6.2f} s)"
    if raw and "seconds" in raw:
        times += f" {result['seconds'] / raw['seconds']:4.2f}x raw"
    return (
        f"  {label:<22} {times}   peak {result['peak_mb']:7.1f} MB   "
        f"{result['rows']:,} rows{pages}, {result['bytes'] / 1e6:.1f} MB file"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_export.py")
    parser.add_argument(
        "--pdf", default="sqlite:////work/bench/export_10000.db,sqlite:////work/bench/export_100000.db"
    )
    parser.add_argument("--csv", default="sqlite:////work/bench/bench.db")
    parser.add_argument("--baseline-timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seed each CSV database to N tickets")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(*args.child)))
        return 0
    from itsm_tui.core.store.db import describe_url

    if args.seed:
        from bench_queue import _prepare

        for url in filter(None, args.csv.split(",")):
            _prepare(url, args.seed)
    print(f"ticket exports ({TARGETS}); load average {os.getloadavg()[0]:.2f}")
    for url in filter(None, args.pdf.split(",")):
        print(f"PDF, {describe_url(url)}")
        print(_line("itsm-tui list PDF", _child("pdf", url, 3600)))
        print(_line("one-Table baseline", _child("baseline-pdf", url, args.baseline_timeout)))
    for url in filter(None, args.csv.split(",")):
        print(f"CSV, {describe_url(url)} (CPU: this process's, not a server's)")
        raw = _child("raw-csv", url, 3600)
        print(_line("itsm-tui CSV", _child("csv", url, 3600), raw))
        print(_line("bare csv.writer", _child("baseline-csv", url, 3600), raw))
        print(_line("raw SQL + csv.writer", raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
