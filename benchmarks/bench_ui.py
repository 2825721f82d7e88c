"""Benchmark of the terminal app: Pilot drives the real app over N tickets per engine, then
the inventory's systems list and the activity log (issue 4).

    python benchmarks/bench_ui.py [--tickets 1000000] [--systems 100000] [--log-entries 1000000]
        [--engines sqlite,mysql] [--sqlite-url URL]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench] [--reuse]

Each key is timed two ways, by turns: by ``pilot.press`` (what the issue's targets are set
in, with the same press on a trivial app for the ratio) and in the app, from the key event to
the first repaint showing its effect (see ``_app_key``). Prints figures; it asserts nothing.
Each engine is measured in a process of its own, so its peak memory is its own; run with
PYTHONTRACEMALLOC=1 to add the Python heap's peak (tracing slows every other figure). Without
--reuse the MySQL database is dropped and re-created.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import random
import resource
import statistics
import time
import tracemalloc
import unicodedata

import textual
from bench_queue import OPEN, _prepare, _sql, _timed, arguments, deferred, engine_urls
from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry, Peripheral, System, Ticket
from itsm_tui.core.tickets import queue, views
from itsm_tui.ui.app import ItsmApp
from itsm_tui.ui.screens.inventory import InventoryScreen
from itsm_tui.ui.screens.log import EntryModal, LogScreen
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.system import SystemScreen
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.widgets.ticket_table import TicketTable

SIZE = (120, 40)
RUNS = 60  # presses per key, half timed by Pilot and half in the app (30 each: a p95 of 15 is their maximum)
PAGE_DOWNS = 2 * RUNS  # past the window more than once (the list reads ahead, see PagedTable)
USERNAME, PASSWORD = "agent1", "benchmark-password"  # made by bench._prepare
FILTER = "status:open prio:high"
# Structured filters, as an operator narrows a list; the log's free text over 1M entries has no
# full-text index (a rare word is a full scan), so it is not a key-press figure.
INVENTORY_FILTER = "type:server status:in_use"
LOG_FILTER = "action:update type:system"
TYPED, TYPED_RUNS = "zzzqx", 6  # a word no ticket holds, typed key by key
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


class Repaints:
    """When the app's screen was last repainted: the compositor's updates, timed as they reach
    ``App._display`` (which the headless test driver then discards)."""

    def __init__(self, app: App) -> None:
        self.times: list[float] = []
        display = app._display

        def timed(screen, renderable) -> None:
            if renderable is not None:
                self.times.append(time.perf_counter())
            display(screen, renderable)

        app._display = timed

    def after(self, moment: float) -> float | None:
        """The first repaint after ``moment``, if any yet."""
        return min((t for t in self.times if t > moment), default=None)


def _key_event(key: str) -> events.Key:
    """The Key event ``pilot.press(key)`` sends."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def _app_key(app: App, repaints: Repaints, key: str, done, timeout: float = LOST_AFTER) -> float | None:
    """Milliseconds from the key reaching the app to the first repaint after ``done()`` began
    to hold, without Pilot's waits for the whole process to go idle (None: the key was lost).

    ``pilot.press`` waits until the process uses no CPU for a while, in 20 ms steps, so work in
    any thread of the app (a page read on SQLite, which runs in-process) adds whole steps to
    its figure; this one is what an operator sees."""
    event = _key_event(key)
    event.set_sender(app)
    start = last_not_done = time.perf_counter()
    app._driver.send_message(event)
    deadline = start + timeout
    while not done():
        last_not_done = time.perf_counter()
        if last_not_done > deadline:
            return None
        await asyncio.sleep(0.0005)
    while (painted := repaints.after(last_not_done)) is None:
        if time.perf_counter() > last_not_done + 1.0:  # nothing on screen changed
            return _ms(start)
        await asyncio.sleep(0.0005)
    return (painted - start) * 1000


class _Counter(Static, can_focus=True):
    BINDINGS = [("j", "bump"), ("enter", "open")]
    presses = 0

    def action_bump(self) -> None:
        self.presses += 1
        self.update(str(self.presses))

    def action_open(self) -> None:
        self.app.push_screen(_Page())  # a new screen each time, as the app's are


class _Page(Screen):
    """A screen of one paragraph and a footer: what opening any screen costs in Textual."""

    BINDINGS = [("escape", "app.pop_screen", "Back")]

    def compose(self):
        yield Static("A page of text. " * 40)
        yield Footer()


class _Trivial(App):
    def compose(self):
        yield _Counter("0")


async def _trivial() -> dict[str, dict[str, list[float]]]:
    """The same press on an app with one focused widget whose binding updates its text, and
    Enter opening a screen of one paragraph and a footer (Textual's own cost of a new screen),
    each timed both ways (Pilot, and in the app)."""
    app = _Trivial()
    repaints = Repaints(app)
    async with app.run_test(size=SIZE) as pilot:
        counter = app.query_one(_Counter)
        counter.focus()
        await pilot.pause()
        press, push = {"pilot": [], "app": []}, {"pilot": [], "app": []}
        for i in range(1, RUNS + 1):
            press["pilot"].append(await _key(pilot, "j", lambda: counter.presses == 2 * i - 1))
            press["app"].append(await _app_key(app, repaints, "j", lambda: counter.presses == 2 * i))
            await pilot.pause()
        for i in range(RUNS):
            opened = lambda: isinstance(app.screen, _Page)  # noqa: E731
            if i % 2:
                push["app"].append(await _app_key(app, repaints, "enter", opened))
            else:
                push["pilot"].append(await _key(pilot, "enter", opened))
            await pilot.press("escape")
            await _settle(pilot, lambda: app.screen is counter.screen)
        return {"press": press, "push": push}


async def _drive(url: str) -> tuple[dict[str, float], dict[str, list[float]], list[str], object]:
    """Start, log in, then time each key on the queue; returns (one-off ms, key samples in ms,
    what went wrong on the way, the user)."""
    start = time.perf_counter()
    app = ItsmApp(url)
    app.bench_repaints = Repaints(app)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot, lambda: isinstance(app.screen, LoginScreen))
        once = {"start → login screen": _ms(start)}
        app.screen.query_one("#username", Input).value = USERNAME
        app.screen.query_one("#password", Input).value = PASSWORD
        app.screen.query_one("#password", Input).focus()
        await pilot.pause()

        # Timed in the app: Pilot's press would wait for the SLA monitor's first pass too.
        def first_page() -> bool:
            screen = app.screen
            tables = screen.query(TicketTable) if isinstance(screen, QueueScreen) else ()
            return any(t.rows and not t.fetching for t in tables)  # none until composed

        once["login → first queue page"] = await _app_key(app, app.bench_repaints, "enter", first_page, 60.0)
        screen, table, user = app.screen, app.screen.table, app.user
        samples: dict[str, list[float]] = {}
        notes: list[str] = []
        # The SLA monitor's pass runs in a thread of this process; Pilot's press waits for the
        # whole process to go idle, so a pass would count as the key's time. Its effect on
        # keys is bench_sla's figure (timed in the app while passes run back to back).
        app.sla_monitor.stop()
        await _settle(pilot, lambda: not app.sla_monitor.running)
        notes.append(
            "the SLA monitor was stopped after its first pass (see bench_sla for keys while it runs)"
        )
        await pilot.pause()
        if app.focused is not table:
            notes.append(f"after login the focus was on {app.focused!r}, not on the list: escape pressed")
        view_query = screen.filter_text
        await _time_list(
            pilot,
            screen,
            table,
            samples,
            notes,
            "",
            FILTER,
            view_query,
            lambda text: screen.filter_text == text,
            ("enter", lambda: isinstance(app.screen, TicketScreen) and app.screen.view, "escape"),
        )
        await _type_word(pilot, screen, table, samples, notes, view_query)
        await _step(
            pilot,
            table,
            "2",
            lambda: (
                isinstance(app.screen, InventoryScreen)
                and app.screen.table.rows
                and not app.screen.table.fetching
            ),
            notes,
        )
        inventory = app.screen
        await _time_list(
            pilot,
            inventory,
            inventory.table,
            samples,
            notes,
            "inventory: ",
            INVENTORY_FILTER,
            inventory.state.text,
            lambda text: inventory.state.text == text,
            ("enter", lambda: isinstance(app.screen, SystemScreen) and app.screen.view, "escape"),
        )
        await _step(
            pilot,
            inventory.table,
            "3",
            lambda: (
                isinstance(app.screen, LogScreen) and app.screen.table.rows and not app.screen.table.fetching
            ),
            notes,
        )
        log = app.screen
        await _time_list(
            pilot,
            log,
            log.table,
            samples,
            notes,
            "log: ",
            LOG_FILTER,
            log.filter_text,
            lambda text: log.filter_text == text,
            ("enter", lambda: isinstance(app.screen, EntryModal), "q"),
        )
    return once, samples, notes, user


async def _type_word(pilot, screen, table, samples, notes, reset: str) -> None:
    """Type a rare word into the queue's filter bar one key at a time, as an operator does (the
    filter applies at each pause): each key's time to the repainted bar, and from the last key
    to the list showing the word's tickets (issue 22: typing never waits for a search)."""
    app = screen.app
    bar = screen.query_one("#filter", Input)
    keys = samples.setdefault(f"filter: type {TYPED!r} key by key", {"pilot": [], "app": []})
    applied = samples.setdefault(f"filter: last key of {TYPED!r} → its rows", {"pilot": [], "app": []})
    for _ in range(TYPED_RUNS):
        await _step(pilot, table, "slash", lambda: app.focused is bar, notes)
        bar.value = ""
        await pilot.pause()
        for n, char in enumerate(TYPED, 1):
            ms = await _app_key(app, app.bench_repaints, char, lambda n=n: bar.value == TYPED[:n])
            if ms is None:
                notes.append(f"typing {TYPED!r}: the key {char!r} was lost")
            else:
                keys["app"].append(ms)
        start = time.perf_counter()
        if await _settle(pilot, lambda: screen.filter_text == TYPED and not table.fetching, 60.0):
            applied["app"].append(_ms(start))
        bar.value = reset
        await _step(pilot, table, "enter", lambda: screen.filter_text == reset and not table.fetching, notes)


def _in_app_turn(name: str, timed: dict[str, list[float]]) -> bool:
    """Whether the next press is timed in the app (else by Pilot). The two ways take turns in
    pairs, in an order drawn at random (seeded by the name and the pair), so that a cost that
    comes every other press (a read ahead every second PageDown) falls on both alike: strict
    turns gave it all to one of them, depending on where the run started."""
    done = len(timed["pilot"]) + len(timed["app"])
    if done % 2:  # the second of a pair: the way the first was not
        return len(timed["app"]) < len(timed["pilot"])
    return random.Random(f"{name}:{done}").random() < 0.5


async def _step(
    pilot,
    table,
    key: str,
    done,
    notes: list[str],
    name: str | None = None,
    samples: dict[str, dict[str, list[float]]] | None = None,
) -> None:
    """Press ``key`` once the list is idle (a timed refresh or a read ahead may be under
    way); record the time under ``name``, by Pilot and in the app by turns (``_in_app_turn``)."""
    await _settle(pilot, lambda: not table.fetching and not table.prefetching)
    timed = samples.setdefault(name, {"pilot": [], "app": []}) if name else None
    in_app = timed is not None and _in_app_turn(name, timed)
    if in_app:
        ms = await _app_key(pilot.app, pilot.app.bench_repaints, key, done)
        await pilot.pause()  # settle as a Pilot press does before the next key
    else:
        ms = await _key(pilot, key, done)
    if ms is None:
        notes.append(f"{key!r} had no effect within {LOST_AFTER:.0f} s (not timed)")
    elif timed is not None:
        timed["app" if in_app else "pilot"].append(ms)


async def _time_list(
    pilot, screen, table, samples, notes, prefix: str, filter_text: str, reset: str, applied, opening
) -> None:
    """Time j, PageDown, G, g, a filter and opening the highlighted row on one paged list.
    ``applied(text)`` tells the screen uses that filter; ``opening`` is (key, shown(), back key)."""
    app = screen.app

    async def step(key, done, name=None):
        await _step(pilot, table, key, done, notes, name and prefix + name, samples)

    async def focus_table() -> None:
        await pilot.pause()  # a hidden widget's Hide event may still be on its way
        if app.focused is not table:
            await step("escape", lambda: app.focused is table)

    await focus_table()
    order = [r["id"] for r in table.loader(None, None, RUNS + (PAGE_DOWNS + 1) * table.visible_rows).rows]

    def moved_to(index: int):
        return lambda: not table.fetching and table.current["id"] == order[min(index, len(order) - 1)]

    for _ in range(RUNS):
        await step("j", moved_to(order.index(table.current["id"]) + 1), "j (down)")
    for _ in range(PAGE_DOWNS):
        reads = table.more_after and table.cursor + table.visible_rows >= len(table.rows)
        await step(
            "pagedown",
            moved_to(order.index(table.current["id"]) + table.visible_rows),
            f"PageDown ({'waits for a read' if reads else 'rows read already'})",
        )
    for _ in range(RUNS):
        await step("G", lambda: not table.fetching and not table.more_after, "G (last page)")
        await step("g", lambda: not table.fetching and not table.more_before, "g (first page)")
    bar, unfocused = screen.query_one("#filter", Input), 0
    for text, name in [(filter_text, f"filter {filter_text!r}"), (reset, None)] * RUNS:
        await step("slash", lambda: app.focused is bar)  # a screen key: it works unfocused too
        bar.value = text
        rows = table.rows
        await step("enter", lambda: applied(text) and table.rows is not rows and not table.fetching, name)
        await pilot.pause()
        unfocused += app.focused is None
    if unfocused:
        notes.append(f"{prefix}after {unfocused} of {2 * RUNS} filter changes nothing had the focus")
    await focus_table()
    key, shown, back = opening
    for _ in range(RUNS):
        await step(key, shown, "enter (open)")
        await step(back, lambda: app.screen is screen)
        await step("j", lambda: True)


def _generated_sql(call) -> tuple[str, list]:
    """The last statement ``call()`` sends to the database, with its parameters."""
    real = db.database.obj
    sent = []
    execute = real.execute_sql
    real.execute_sql = lambda sql, params=None, *args, **kwargs: (
        sent.append((sql, params)),
        execute(sql, params, *args, **kwargs),
    )[1]
    try:
        call()
    finally:
        del real.execute_sql
    return sent[-1]


def _measure(url: str) -> None:
    """One engine, in its own process: the app, the trivial app, the page query, memory."""
    once, samples, notes, user = asyncio.run(_drive(url))
    trivial = asyncio.run(_trivial())
    cost = user.password_hash.split("$")[2]
    print(f"{'start → login screen':<44} {once['start → login screen']:>9.1f} ms")
    print(
        f"{f'login → first queue page (in app, bcrypt {cost})':<44} "
        f"{once['login → first queue page']:>9.1f} ms"
    )
    print(
        f"\n{f'key → repainted screen (Textual {textual.__version__})':<44} "
        f"{'Pilot: runs':>11} {'median':>7} "
        f"{'p95':>6} {'×trivial':>8} {'in app: runs':>13} {'median':>7} {'p95':>6}"
    )
    base = statistics.median(trivial["press"]["pilot"])
    for name, timed in [
        ("trivial app: j (one focused widget)", trivial["press"]),
        ("trivial app: enter opens a screen (Textual)", trivial["push"]),
        *samples.items(),
    ]:
        line = f"{name:<44}"
        for how, width in (("pilot", 11), ("app", 13)):
            values = timed[how]
            if not values:
                line += f" {0:>{width}} {'-':>7} {'-':>6}" + (f" {'-':>8}" if how == "pilot" else "")
                continue
            median = statistics.median(values)
            p95 = sorted(values)[math.ceil(0.95 * len(values)) - 1]  # nearest rank
            line += f" {len(values):>{width}} {median:>7.1f} {p95:>6.1f}"
            line += f" {median / base:>8.2f}" if how == "pilot" else ""  # the targets are Pilot's
        print(line)
    for note in notes:
        print(f"note: {note}")
    view = views.default_view(user)
    page = lambda: queue.page(user, view.query, queue.Sort.parse(view.sort))  # noqa: E731
    ours = _timed(page)
    generated = _generated_sql(page)
    alone = _timed(lambda: db.database.execute_sql(*generated).fetchall())
    same = _timed(_sql(deferred(f"t.status IN {OPEN}", "t.resolution_due ASC, t.id ASC")))
    print(f"\nqueue.page, default view {view.name!r} ({view.query}, sort {view.sort}), 50 rows:")
    print(
        f"  its SQL, run alone: {alone:.2f} ms; the same hand-written SQL (status open, soonest due first): "
        f"{same:.2f} ms; ratio {alone / same:.2f}"
    )
    print(
        f"  the whole call (the role check, building the SQL, rows as dicts): {ours:.2f} ms; "
        f"ratio to the hand-written SQL {ours / same:.2f}"
    )
    print(
        f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (ru_maxrss)", end=""
    )
    print(
        f", {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MB (tracemalloc)"
        if tracemalloc.is_tracing()
        else ""
    )


def main() -> None:
    args = arguments("python benchmarks/bench_ui.py", __doc__.split("\n")[0])
    for url in engine_urls(args):
        print(
            f"\n== {db.describe_url(url)}: {args.tickets:,} tickets, Pilot at {SIZE[0]}x{SIZE[1]} "
            f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs) =="
        )
        seconds = _prepare(url, args.tickets, args.systems, args.log_entries)
        counts = ", ".join(
            f"{model.select().count():,} {name}"
            for model, name in (
                (Ticket, "tickets"),
                (System, "systems"),
                (Peripheral, "peripherals"),
                (AuditEntry, "log entries"),
            )
        )
        db.database.close()
        print(f"data: {counts}")
        print(f"{'seed (s)':<44} {'(reused)' if seconds is None else f'{seconds:.1f}':>9}", flush=True)
        child = multiprocessing.get_context("spawn").Process(target=_measure, args=(url,))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(f"the run on {db.describe_url(url)} failed (exit code {child.exitcode})")


if __name__ == "__main__":
    main()
