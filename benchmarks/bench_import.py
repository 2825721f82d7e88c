"""Benchmark: ServiceNow import throughput (events per second) on each engine, beside a floor.

    python benchmarks/bench_import.py [--file servicenow_incident_events_sample.csv]
        [--replicate 14] [--engines sqlite,mysql]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench_import]

Each engine gets a fresh database: the file is imported (every event written), then imported
again (nothing to do: the idempotent rerun, which still reads and checks every row). The floor,
measured in the same run on the same database, is the csv module reading the file plus a bare
multi-row insert of its rows (every cell, into a table with no index), committed as often as the
import commits. Each step runs in a child process of its own, so its peak RSS is its own; its
CPU seconds are printed beside the elapsed time (steadier when others load the machine; the
MySQL server's own work is not in them). ``--replicate N`` first writes a synthetic file
holding the sample N times over, each copy's incident numbers renamed (14 copies: about
145,000 events). Prints figures; asserts nothing.
The MySQL database named in the URL is dropped and re-created, so never point it at real data.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from bench_queue import engine_urls

from itsm_tui.core import setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.importers.servicenow import BATCH_SIZE, import_servicenow


def _sample() -> Path:
    """``shared/data/`` beside the repository (the main checkout's ``../shared``), or above."""
    name = "servicenow_incident_events_sample.csv"
    repo = Path(__file__).resolve().parents[1]
    found = [p / "shared" / "data" / name for p in repo.parents if (p / "shared" / "data" / name).exists()]
    return found[0] if found else repo.parent / "shared" / "data" / name


SAMPLE = _sample()
FLOOR_ROWS = BATCH_SIZE * 6  # rows per commit in the floor: about what one import batch holds


def replicate(source: Path, times: int, target: Path) -> Path:
    """``source`` ``times`` over; copy k renames INC0000045 to INC<k>0000045 (copy 0 keeps it)."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    column = header.index("number")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for copy in range(times):
            for row in rows:
                number = row[column]
                writer.writerow(
                    row[:column] + [f"{number[:3]}{copy}{number[3:]}" if copy else number] + row[column + 1 :]
                )
    return target


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu() -> float:
    """CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _floor(url: str, path: Path) -> list[tuple[str, float, float, int, float]]:
    """Read the file with the csv module and insert every row, bare, in multi-row inserts."""
    setup.open_database(url, check=False)
    database = db.database
    with path.open(newline="", encoding="utf-8") as handle:
        width = len(next(csv.reader(handle)))
    columns = [f"c{i}" for i in range(width)]
    database.execute_sql("DROP TABLE IF EXISTS bench_floor")
    database.execute_sql(f"CREATE TABLE bench_floor ({', '.join(f'{c} TEXT' for c in columns)})")
    sql = f"INSERT INTO bench_floor ({', '.join(columns)}) VALUES ({', '.join([database.param] * width)})"
    start, cpu, count = time.perf_counter(), _cpu(), 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        chunk: list[list[str]] = []
        for row in reader:
            chunk.append(row)
            if len(chunk) == FLOOR_ROWS:
                with database.atomic():
                    database.cursor().executemany(sql, chunk)
                count, chunk = count + len(chunk), []
        with database.atomic():
            database.cursor().executemany(sql, chunk)
        count += len(chunk)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    database.execute_sql("DROP TABLE bench_floor")
    database.close()
    return [("csv read + bare insert (floor)", seconds, cpu, count, _peak_mb())]


def _imports(url: str, path: Path) -> list[tuple[str, float, float, int, float]]:
    setup.open_database(url, check=False)
    setup.initialise()
    actor = users.system_actor()
    results = []
    for step in ("first import", "second import (no changes)"):
        start, cpu = time.perf_counter(), _cpu()
        report = import_servicenow(actor, path)
        results.append((step, time.perf_counter() - start, _cpu() - cpu, report.events, _peak_mb()))
        if report.skipped:
            print(f"  ({step}: {len(report.skipped)} rows skipped)")
    db.database.close()
    return results


def _child(step, url: str, path: Path, out) -> None:
    try:
        out.send(step(url, path))
    except BaseException as exc:  # reported by the parent
        out.send(exc)


def in_child(step, url: str, path: Path) -> list:
    """``step(url, path)`` in a child process (its own peak RSS)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(step, url, path, send))
    process.start()
    result = receive.recv()
    process.join()
    if isinstance(result, BaseException):
        raise result
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_import.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--file", type=Path, default=SAMPLE, help="a ServiceNow incident export")
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        metavar="N",
        help="import a synthetic file holding the file N times (renamed numbers)",
    )
    parser.add_argument("--engines", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench_import")
    parser.add_argument("--sqlite-url", help="use this SQLite database (default: a new temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep the MySQL database as it is")
    args = parser.parse_args()
    path = args.file
    if args.replicate > 1:
        path = replicate(path, args.replicate, Path(tempfile.mkdtemp()) / f"x{args.replicate}_{path.name}")
    size = path.stat().st_size / 2**20
    try:
        for url in engine_urls(args):
            print(f"\n== {db.describe_url(url)}: {path.name} ({size:.0f} MB) ==")
            print(f"{'step':<32} {'events':>8} {'seconds':>8} {'events/s':>9} {'CPU s':>6} {'peak RSS':>9}")
            results = in_child(_floor, url, path) + in_child(_imports, url, path)
            for step, seconds, cpu, events, peak in results:
                print(
                    f"{step:<32} {events:>8} {seconds:>8.2f} {events / seconds:>9.0f} {cpu:>6.2f} "
                    f"{peak:>6.0f} MB"
                )
            floor, first = results[0], results[1]
            print(
                f"the first import takes {first[1] / floor[1]:.1f} times the floor's time "
                f"({first[2] / floor[2]:.1f} times its CPU time)"
            )
    finally:
        if path != args.file:
            path.unlink()


if __name__ == "__main__":
    main()
