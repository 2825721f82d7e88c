"""Benchmark of the terminal app: Pilot drives the real app over N tickets per engine.

    python -m itsm_tui.bench_ui [--tickets 1000000] [--engines sqlite,mysql] [--sqlite-url URL]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench] [--reuse]

Then the same keys on the inventory's Systems tab and on the activity log (bench seeds 100,000
systems and 1,000,000 log entries beside the tickets). Prints figures; it asserts nothing. Each engine is measured in a process of its own, so its
peak memory is its own; run with PYTHONTRACEMALLOC=1 to add the Python heap's peak (tracing
slows every other figure). Without --reuse the MySQL database is dropped and re-created.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import resource
import statistics
import time
import tracemalloc

import textual
from textual.app import App
from textual.widgets import Input, Static

from .bench import OPEN, _prepare, _sql, _timed, arguments, deferred, engine_urls
from .core import db, queue, views
from .ui.app import ItsmApp
from .ui.screens.login import LoginScreen
from .ui.screens.queue import QueueScreen
from .ui.screens.ticket import TicketScreen

SIZE = (120, 40)
RUNS = 25
PAGE_DOWNS = 2 * RUNS  # about half of them read a page from the database
USERNAME, PASSWORD = "agent1", "benchmark-password"  # made by bench._prepare
FILTER = "status:open prio:high"
INVENTORY_FILTER = "type:server"
LOG_FILTER = "type:ticket action:assign"
LOST_AFTER = 10.0  # seconds: a key whose effect has not shown by then was dropped


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


async def _settle(pilot, condition, timeout: float = 60.0) -> bool:
    """Let the app run until ``condition()`` holds, then let it repaint; False on timeout."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.001)
    await pilot.pause()
    return True


async def _key(pilot, key: str, done, timeout: float = LOST_AFTER) -> float | None:
    """Milliseconds from pressing ``key`` to the repainted screen where ``done()`` holds (None:
    the key was lost)."""
    start = time.perf_counter()
    await pilot.press(key)
    return _ms(start) if await _settle(pilot, done, timeout) else None


class _Counter(Static, can_focus=True):
    BINDINGS = [("j", "bump")]
    presses = 0

    def action_bump(self) -> None:
        self.presses += 1
        self.update(str(self.presses))


class _Trivial(App):
    def compose(self):
        yield _Counter("0")


async def _trivial() -> list[float]:
    """The same press on an app with one focused widget whose binding updates its text."""
    app = _Trivial()
    async with app.run_test(size=SIZE) as pilot:
        counter = app.query_one(_Counter)
        counter.focus()
        await pilot.pause()
        return [await _key(pilot, "j", lambda i=i: counter.presses == i) for i in range(1, RUNS + 1)]


async def _drive(url: str) -> tuple[dict[str, float], dict[str, list[float]], list[str], object]:
    """Start, log in, then time each key on the queue, the inventory and the log; returns (one-off ms, key samples in ms,
    what went wrong on the way, the user)."""
    start = time.perf_counter()
    app = ItsmApp(url)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, lambda: isinstance(app.screen, LoginScreen))
        once = {"start → login screen": _ms(start)}
        app.screen.query_one("#username", Input).value = USERNAME
        app.screen.query_one("#password", Input).value = PASSWORD
        app.screen.query_one("#password", Input).focus()
        await pilot.pause()
        once["login → first queue page"] = await _key(pilot, "enter", lambda: isinstance(app.screen, QueueScreen)
                                                       and app.screen.table.rows and not app.screen.table.fetching, 60.0)
        screen, table, user = app.screen, app.screen.table, app.user
        samples: dict[str, list[float]] = {}
        notes, lost, unfocused = [], 0, 0

        async def step(key: str, done, name: str | None = None) -> None:
            """Press ``key`` once the table is idle (it drops a move key while a page loads, a
            timed refresh included); record the time under ``name``."""
            nonlocal lost
            await _settle(pilot, lambda: not table.fetching)
            ms = await _key(pilot, key, done)
            if ms is None:
                lost += 1
            elif name:
                samples.setdefault(name, []).append(ms)

        async def focus_table() -> None:
            """Escape closes the filter bar and focuses the list, as an operator would do."""
            await pilot.pause()  # a hidden widget's Hide event may still be on its way
            if app.focused is not table:
                await step("escape", lambda: app.focused is table)

        def moved_to(index: int):
            return lambda: not table.fetching and table.current["id"] == order[min(index, len(order) - 1)]

        await pilot.pause()
        if app.focused is not table:
            notes.append(f"after login the focus was on {app.focused!r}, not on the list: escape pressed")
            await focus_table()
        view_query = screen.filter_text
        order = [r["id"] for r in queue.page(user, view_query, screen.sort,
                                             limit=RUNS + (PAGE_DOWNS + 1) * table.visible_rows).rows]
        for _ in range(RUNS):
            await step("j", moved_to(order.index(table.current["id"]) + 1), "j (down)")
        for _ in range(PAGE_DOWNS):
            reads = table.more_after and table.cursor + table.visible_rows >= len(table.rows)
            await step("pagedown", moved_to(order.index(table.current["id"]) + table.visible_rows),
                       f"PageDown ({'reads a page' if reads else 'rows in memory'})")
        for _ in range(RUNS):
            await step("G", lambda: not table.fetching and not table.more_after, "G (last page)")
            await step("g", lambda: not table.fetching and not table.more_before, "g (first page)")
        bar = screen.query_one("#filter", Input)
        for text, name in [(FILTER, f"filter {FILTER!r}"), (view_query, None)] * RUNS:
            await step("slash", lambda: app.focused is bar)  # a screen key: it works unfocused too
            bar.value = text
            rows = table.rows
            await step("enter", lambda: screen.filter_text == text and table.rows is not rows
                       and not table.fetching, name)
            await pilot.pause()
            unfocused += app.focused is None
        if unfocused:
            notes.append(f"after {unfocused} of {2 * RUNS} filter changes nothing had the focus (keys went nowhere)")
        await focus_table()
        for _ in range(RUNS):
            await step("enter", lambda: isinstance(app.screen, TicketScreen) and app.screen.view, "enter (open ticket)")
            await step("escape", lambda: app.screen is screen)
            await step("j", lambda: True)
        from .ui.screens.inventory import InventoryScreen
        from .ui.screens.log import EntryModal, LogScreen
        from .ui.screens.system import SystemScreen

        for section, kind, text, opened in (
            ("2", InventoryScreen, INVENTORY_FILTER, lambda: isinstance(app.screen, SystemScreen) and app.screen.view),
            ("3", LogScreen, LOG_FILTER, lambda: isinstance(app.screen, EntryModal)),
        ):
            lost += await _browse(pilot, app, section, kind, text, opened, samples)
    if lost:
        notes.append(f"{lost} keys had no effect within {LOST_AFTER:.0f} s (not timed)")
    return once, samples, notes, user


async def _browse(pilot, app, section: str, kind, text: str, opened, samples) -> int:
    """Time the moves, a filter and opening a row on the inventory's Systems tab or the log,
    under ``'<screen>: <key>'``; returns the number of keys that had no visible effect."""
    lost = 0
    await _settle(pilot, lambda: True)
    await pilot.press(section)
    await _settle(pilot, lambda: isinstance(app.screen, kind) and app.screen.table.rows
                  and not app.screen.table.fetching)
    screen = app.screen
    table, label = screen.table, kind.__name__.removesuffix("Screen").lower()

    async def step(key: str, done, name: str | None = None) -> None:
        nonlocal lost
        await _settle(pilot, lambda: not table.fetching)
        ms = await _key(pilot, key, done)
        if ms is None:
            lost += 1
        elif name:
            samples.setdefault(f"{label}: {name}", []).append(ms)

    for _ in range(RUNS):
        index = table.cursor
        await step("j", lambda: table.cursor == index + 1 and not table.fetching, "j (down)")
    for _ in range(PAGE_DOWNS):
        first = table.current["id"]
        await step("pagedown", lambda: not table.fetching and table.current["id"] != first, "PageDown")
    for _ in range(RUNS):
        await step("G", lambda: not table.fetching and not table.more_after, "G (last page)")
        await step("g", lambda: not table.fetching and not table.more_before, "g (first page)")
    bar = screen.query_one("#filter", Input)
    for value, name in [(text, f"filter {text!r}"), ("", None)] * RUNS:
        await step("slash", lambda: app.focused is bar)
        bar.value = value
        rows = table.rows
        await step("enter", lambda: table.rows is not rows and not table.fetching, name)
        if app.focused is not table:
            await step("escape", lambda: app.focused is table)
    for _ in range(RUNS):
        await step("enter", opened, "enter (open)")
        await step("escape", lambda: app.screen is screen)
        await step("j", lambda: True)
    return lost


def _measure(url: str) -> None:
    """One engine, in its own process: the app, the trivial app, the page query, memory."""
    once, samples, notes, user = asyncio.run(_drive(url))
    trivial = asyncio.run(_trivial())
    cost = user.password_hash.split("$")[2]
    print(f"{'start → login screen':<44} {once['start → login screen']:>9.1f} ms")
    print(f"{f'login → first queue page (bcrypt cost {cost})':<44} {once['login → first queue page']:>9.1f} ms")
    print(f"\n{f'key → repainted screen (Textual {textual.__version__})':<44} "
          f"{'runs':>5} {'median':>9} {'p95':>9} {'× trivial':>10}")
    base = statistics.median(trivial)
    for name, values in [("trivial app: j (one focused widget)", trivial), *samples.items()]:
        median = statistics.median(values)
        p95 = sorted(values)[math.ceil(0.95 * len(values)) - 1]  # nearest rank
        print(f"{name:<44} {len(values):>5} {median:>9.1f} {p95:>9.1f} {median / base:>10.2f}")
    for note in notes:
        print(f"note: {note}")
    view = views.default_view(user)
    ours = _timed(lambda: queue.page(user, view.query, queue.Sort.parse(view.sort)))
    same = _timed(_sql(deferred(f"t.status IN {OPEN}", "t.resolution_due ASC, t.id ASC")))
    print(f"\nqueue.page, default view {view.name!r} ({view.query}, sort {view.sort}), 50 rows: {ours:.2f} ms; "
          f"same SQL (status open, soonest due first): {same:.2f} ms; ratio {ours / same:.2f}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (ru_maxrss)", end="")
    print(f", {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MB (tracemalloc)" if tracemalloc.is_tracing() else "")


def main() -> None:
    args = arguments("python -m itsm_tui.bench_ui", __doc__.split("\n")[0])
    for url in engine_urls(args):
        print(f"\n== {db.describe_url(url)}: {args.tickets:,} tickets, Pilot at {SIZE[0]}x{SIZE[1]} "
              f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs) ==")
        seconds = _prepare(url, args.tickets, systems=args.tickets // 10, log_entries=args.tickets)
        db.database.close()
        print(f"{'seed (s)':<44} {'(reused)' if seconds is None else f'{seconds:.1f}':>9}", flush=True)
        child = multiprocessing.get_context("spawn").Process(target=_measure, args=(url,))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(f"the run on {db.describe_url(url)} failed (exit code {child.exitcode})")


if __name__ == "__main__":
    main()
