"""Benchmark: seeding and the queue's queries on a three-node Galera cluster beside one MariaDB.

    python benchmarks/bench_cluster.py [--tickets 100000] [--folder /tmp/itsm-bench-galera]
        [--single-url mysql://root@127.0.0.1:3306/itsm_bench]

Starts the cluster of tests/galera.py on free ports (and stops it at the end), seeds the
same tickets on both, and prints each figure with the cluster's ratio to the single server. It
asserts nothing; the databases named are dropped and re-created.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import bench_queue as bench  # noqa: E402
import galera  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--single-url", default="mysql://root@127.0.0.1:3306/itsm_bench")
    parser.add_argument("--folder", help="the cluster's folder (default: a new one under /tmp)")
    args = parser.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="itsm-bench-galera-"))
    cluster = galera.Cluster(folder, base_port=galera.free_base())
    cluster.start()
    try:
        node_url = cluster.url("itsm_bench", nodes=[cluster.nodes[0]])
        results = {}
        for label, url in (("one MariaDB", args.single_url), ("Galera, 3 nodes", node_url)):
            bench._mysql_reset(url)
            results[label] = bench.run_engine(url, args.tickets)
    finally:
        cluster.stop()
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)
    single, clustered = results["one MariaDB"], results["Galera, 3 nodes"]
    print(
        f"\n== {args.tickets:,} tickets: one MariaDB 10.11 vs a 3-node Galera cluster on one "
        f"machine (median of {bench.RUNS} runs) =="
    )
    print(f"{'operation':<54} {'one server':>11} {'cluster':>9} {'ratio':>6}")
    for (name, *one), (_, *many) in zip(single, clustered):
        label = name if len(one) == 1 else f"{name} (ms)"
        a, b = one[0], many[0]
        print(f"{label:<54} {a:>11.2f} {b:>9.2f} {b / a:>6.2f}")


if __name__ == "__main__":
    main()
