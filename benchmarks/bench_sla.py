"""Benchmark: the SLA monitor's pass on an existing database, and the largest UI stall while
passes run back to back in the real app.

    python benchmarks/bench_sla.py --db URL [--db URL ...] [--as supervisor] [--passes 7]
        [--period 30d] [--no-alerts] [--ui-seconds 10]

A pass is what the app's worker does: the analytics figures (every count of screen 4, by SQL
aggregation) and the SLA alerts (which write notifications; ``--no-alerts`` leaves them out,
for a shared database). The stall is measured by a 10 ms timer on the app's event loop: the
largest lateness of any tick while the monitor runs with no pause between passes; a cursor
key every half second is timed in the app, from the key event to the repaint (as bench_ui's
"in app" column: Pilot's own press waits for the whole process to go idle, passes included).
Prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench_ui import LOST_AFTER, Repaints, _app_key

from itsm_tui.core import setup
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket, User
from itsm_tui.core.tickets import alerts, analytics

TICK = 0.01


def _actor(username: str | None) -> User:
    if username:
        return users.by_username(username)
    boss = User.select().where(User.role == "supervisor", User.is_active).order_by(User.id).first()
    return boss or users.system_actor()


def time_passes(actor: User, period: str, passes: int, with_alerts: bool) -> list[float]:
    """Wall time of each pass in seconds, after one warm-up pass."""
    analytics.figures(actor, period)
    samples = []
    for _ in range(passes):
        start = time.perf_counter()
        analytics.figures(actor, period)
        if with_alerts:
            alerts.raise_alerts()
        samples.append(time.perf_counter() - start)
    return samples


async def _sample(app, repaints, seconds: float) -> tuple[list[float], list[float]]:
    """Tick lateness and cursor-key times (seconds) over ``seconds``: a 10 ms sleep on the
    event loop, and a j or k pressed every half second."""
    table = app.screen.table
    lateness, keys = [], []
    end = time.perf_counter() + seconds
    expected = time.perf_counter() + TICK
    next_key = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        await asyncio.sleep(TICK)
        now = time.perf_counter()
        lateness.append(max(0.0, now - expected))
        if now >= next_key:
            key, target = ("j", table.cursor + 1) if len(keys) % 2 == 0 else ("k", table.cursor - 1)
            ms = await _app_key(app, repaints, key, lambda: table.cursor == target)
            keys.append(LOST_AFTER if ms is None else ms / 1000)
            next_key = time.perf_counter() + 0.5
        expected = time.perf_counter() + TICK
    return lateness, keys


async def ui_stall(url: str, actor: User, seconds: float, period: str) -> dict:
    """The app on the queue: first with the monitor stopped (the baseline), then with passes
    back to back for ``seconds``. Largest and median tick lateness, slowest key, passes done."""
    from itsm_tui.ui.app import ItsmApp

    app = ItsmApp(url)
    repaints = Repaints(app)
    app.sla_monitor.interval = 0.05  # a new pass right after each one: the worst case
    app.sla_monitor._shown = lambda: True  # with the figures, as while the analytics screen is open
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        app.logged_in(actor)
        app.sla_monitor.stop()
        await pilot.pause(1.0)  # the queue's first page
        idle = await _sample(app, repaints, min(seconds, 5.0))
        app.sla_monitor.period = period
        app.sla_monitor.start(actor)
        first = app.sla_monitor.passes
        busy = await _sample(app, repaints, seconds)
        done = app.sla_monitor.passes - first
        app.sla_monitor.stop()
        await pilot.pause(0.2)
    return {
        "passes": done,
        **{
            f"{name}_{k}": v
            for name, (ticks, keys) in (("idle", idle), ("busy", busy))
            for k, v in (
                ("stall", max(ticks)),
                ("median", statistics.median(ticks)),
                ("key", max(keys, default=0.0)),
                ("key_median", statistics.median(keys) if keys else 0.0),
            )
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_sla.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--db", action="append", required=True, metavar="URL", help="a database to measure (repeat)"
    )
    parser.add_argument("--as", dest="as_user", help="the operator (default: the first supervisor)")
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--period", default="30d")
    parser.add_argument(
        "--no-alerts",
        dest="alerts",
        action="store_false",
        help="leave the alerts out of the pass (they write notifications)",
    )
    parser.add_argument("--ui-seconds", type=float, default=10.0, help="0: skip the UI measurement")
    args = parser.parse_args()
    for url in args.db:
        setup.open_database(url)
        actor = _actor(args.as_user)
        tickets = Ticket.select().count()
        samples = time_passes(actor, args.period, args.passes, args.alerts)
        print(
            f"{db.describe_url(url)}: {tickets:,} tickets, pass as {actor.username} ({args.period}"
            f"{', with alerts' if args.alerts else ', no alerts'}): "
            f"median {statistics.median(samples):.3f} s, "
            f"min {min(samples):.3f} s, max {max(samples):.3f} s over {len(samples)} passes"
        )
        if args.ui_seconds > 0:
            ui = asyncio.run(ui_stall(url, actor, args.ui_seconds, args.period))
            for name, label in (
                ("idle", "monitor stopped"),
                ("busy", f"passes back to back, {ui['passes']} passes"),
            ):
                print(
                    f"  UI, {label}: largest stall {ui[name + '_stall'] * 1000:.0f} ms, median tick lateness "
                    f"{ui[name + '_median'] * 1000:.1f} ms, cursor key (in app) median "
                    f"{ui[name + '_key_median'] * 1000:.1f} ms, slowest {ui[name + '_key'] * 1000:.0f} ms"
                )
        db.database.close()


if __name__ == "__main__":
    main()
