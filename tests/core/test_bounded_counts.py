"""The activity log's and the inventory lists' counts as their screens show them (issue 22):
exact up to the bound, "N+" beyond it when counting them all takes too long, stopped from
another thread when the filter changes; the exact counts of the CLI and exports unchanged. On
both engines; a small bound stands for the 10,000 of a real desk."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from queue import Queue as queue_of

import pytest
from peewee import SQL

from itsm_tui.core.audit import activity
from itsm_tui.core.inventory import lists, service
from itsm_tui.core.store import db, limits
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets.queue import Count


def _systems(admin, count: int) -> None:
    for n in range(count):
        values = {"hostname": f"scanner-{n}", "asset_tag": f"SC-{n}", "type": "laptop", "status": "in use"}
        service.create(admin, "system", values)


def _counts(admin, bounded: bool) -> dict[str, object]:
    """The systems that are laptops, and the log's entries about systems, counted both ways."""
    if bounded:
        return {
            "systems": str(lists.count_bounded(admin, "system", "type:laptop")),
            "entries": str(activity.count_bounded(admin, "type:system")),
        }
    return {
        "systems": lists.count(admin, "system", "type:laptop"),
        "entries": activity.count(admin, "type:system"),
    }


def test_exact_below_the_bound_and_a_lower_bound_beyond_it(engine, people, monkeypatch):
    admin = people["admin"]
    _systems(admin, 5)
    monkeypatch.setattr(queue, "COUNT_BOUND", 10)
    assert lists.count_bounded(admin, "system", "scanner") == Count(5, True)
    assert activity.count_bounded(admin, "scanner") == Count(5, True)  # "created system scanner-n"
    assert _counts(admin, True) == {"systems": "5", "entries": "5"}
    monkeypatch.setattr(queue, "COUNT_BOUND", 3)
    assert _counts(admin, True) == {"systems": "5", "entries": "5"}  # beyond the bound, but quick

    def too_slow(query, seconds):
        raise limits.Stopped()

    monkeypatch.setattr(limits, "rows_within", too_slow)  # counting beyond the bound takes too long
    assert _counts(admin, True) == {"systems": "3+", "entries": "3+"}
    assert _counts(admin, False) == {"systems": 5, "entries": 5}  # the CLI and exports: exact
    assert lists.count_bounded(admin, "department", "") == Count(0, True)


def test_a_count_that_runs_out_of_time_gives_what_it_counted(engine, people, monkeypatch):
    """On a desk where even the first rows take longer than the count's time: "N+" (MySQL,
    which counts in the server: "0+"), never a wait."""
    admin = people["admin"]
    _systems(admin, 2)
    monkeypatch.setattr(activity, "compile_filter", lambda actor, text: _slow())
    monkeypatch.setattr(lists, "compile_filter", lambda actor, kind, text: _slow())
    start = time.monotonic()
    for total in (activity.count_bounded(admin, "x"), lists.count_bounded(admin, "system", "x")):
        assert not total.exact and str(total) == f"{total.value}+"
    assert time.monotonic() - start < 5


def _slow():
    """A WHERE clause that takes a minute or more on either engine."""
    if db.is_mysql():
        return SQL("SLEEP(60) = 0")
    return SQL(
        "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000000) "
        "SELECT COUNT(*) FROM n) > 0"
    )


@pytest.mark.parametrize("which", ["log", "system"])
def test_a_running_count_is_stopped_when_the_filter_changes(engine, people, monkeypatch, which):
    """The screen's Stopper stops the count of the filter it no longer shows, from its own thread."""
    admin = people["admin"]
    _systems(admin, 1)
    monkeypatch.setattr(queue, "COUNT_SECONDS", 60)  # the count's own time would end it first
    monkeypatch.setattr(activity, "compile_filter", lambda actor, text: _slow())
    monkeypatch.setattr(lists, "compile_filter", lambda actor, kind, text: _slow())
    counters = {
        "log": lambda stopper: activity.count_bounded(admin, "x", stopper),
        "system": lambda stopper: lists.count_bounded(admin, "system", "x", stopper),
    }
    stoppers = queue_of()

    def count() -> Count:
        stoppers.put(stopper := limits.Stopper())
        try:
            return counters[which](stopper)
        finally:
            db.database.close()

    start = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(count)
        stopper = stoppers.get(timeout=10)
        time.sleep(0.3)  # the statement is running
        stopper.stop()
        with pytest.raises(limits.Stopped):
            running.result(timeout=10)
    assert time.monotonic() - start < 10


def test_the_stamp_changes_with_writes_and_not_for_filters_that_follow_the_clock(engine, people):
    admin = people["admin"]
    _systems(admin, 1)
    before = activity.stamp("scanner"), lists.stamp("system", "scanner")
    assert before[0] is not None and before == (activity.stamp("type:system"), lists.stamp("stock", "toner"))
    service.create(admin, "stock", {"name": "Toner", "unit_price": "30"})
    assert (activity.stamp("scanner"), lists.stamp("system", "scanner")) != before
    assert activity.stamp("at:today") is None
    assert lists.stamp("system", "warranty:<today") is None
