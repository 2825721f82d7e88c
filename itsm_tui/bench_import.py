"""Benchmark: ServiceNow import throughput (events per second) on each engine.

    python -m itsm_tui.bench_import [--file servicenow_incident_events_sample.csv]
        [--replicate 10] [--engines sqlite,mysql]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench_import]

Each engine gets a fresh database: the file is imported (every event written), then imported
again (nothing to do: the idempotent rerun, which still reads and checks every row).
``--replicate N`` first writes a
synthetic file holding the sample N times over, each copy's incident numbers renamed, so the
database grows N-fold. Prints figures; asserts nothing. The MySQL database named in the URL is
dropped and re-created, so never point it at real data.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from .bench import engine_urls
from .core import db, setup, users
from .importers.servicenow import import_servicenow

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "servicenow_incident_events_sample.csv"


def replicate(source: Path, times: int, target: Path) -> Path:
    """``source`` ``times`` over; copy k renames INC0000045 to INC<k>0000045 (copy 0 keeps it)."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for copy in range(times):
            for row in rows:
                number = row["number"]
                writer.writerow({**row, "number": f"{number[:3]}{copy}{number[3:]}" if copy else number})
    return target


def run_engine(url: str, path: Path) -> list[tuple[str, float, int, int]]:
    """(step, seconds, rows read, events written) for the first import and the rerun."""
    setup.open_database(url, check=False)
    setup.initialise()
    actor = users.system_actor()
    results = []
    for step in ("first import", "second import (no changes)"):
        start = time.perf_counter()
        report = import_servicenow(actor, path)
        results.append((step, time.perf_counter() - start, report.rows, report.events))
    db.database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m itsm_tui.bench_import",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=SAMPLE, help="a ServiceNow incident export")
    parser.add_argument("--replicate", type=int, default=1, metavar="N",
                        help="import a synthetic file holding the file N times (renamed numbers)")
    parser.add_argument("--engines", default="sqlite,mysql")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench_import")
    parser.add_argument("--sqlite-url", help="use this SQLite database (default: a new temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep the MySQL database as it is")
    args = parser.parse_args()
    path = args.file
    if args.replicate > 1:
        path = replicate(path, args.replicate, Path(tempfile.mkdtemp()) / f"x{args.replicate}_{path.name}")
    try:
        for url in engine_urls(args):
            print(f"\n== {db.describe_url(url)}: {path.name} ==")
            print(f"{'step':<30} {'rows':>8} {'events':>8} {'seconds':>8} {'rows/s':>9} {'events/s':>9}")
            for step, seconds, rows, events in run_engine(url, path):
                print(f"{step:<30} {rows:>8} {events:>8} {seconds:>8.2f} {rows / seconds:>9.0f} "
                      f"{events / seconds:>9.0f}")
    finally:
        if path != args.file:
            path.unlink()


if __name__ == "__main__":
    main()
