"""A list screen's count, read off the UI thread (issue 22): bounded by the service
(``count_bounded``: "10,000+"), the count of a filter no longer shown stopped rather than
queued, and the timed refresh counting again only when what the count reads has changed."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from textual import work

from itsm_tui.core.store import limits
from itsm_tui.ui.messages import Counted


class BoundedCounts:
    """A screen mixin. The screen says what one count reads (:meth:`read_count`), what it
    posts when the count fails (:meth:`uncounted`) and what changes the count
    (:meth:`count_stamp`); :meth:`start_count` does the rest."""

    _count_stopper: limits.Stopper | None = None  # stops the count running in the worker
    _counted: tuple | None = None  # the key and stamp last counted

    def read_count(self, key: Hashable, stopper: limits.Stopper) -> Counted:
        """Runs in the worker thread: the count of ``key``, through ``stopper``."""
        raise NotImplementedError

    def uncounted(self, key: Hashable) -> Counted:
        """What to post when the count of ``key`` failed (the table reports the error)."""
        raise NotImplementedError

    def count_stamp(self, key: Hashable) -> object | None:
        """Runs in the worker thread: what changes when the count of ``key`` may have changed;
        None: count again every time."""
        raise NotImplementedError

    def stamp_moved(self, key: Hashable) -> None:
        """Runs in the worker thread when a timed count finds the stamp moved (something was
        written) or has none (a filter on the clock): a screen may read its rows again too."""

    def start_count(self, key: Hashable, timed: bool = False) -> None:
        """Count ``key`` in a worker; a count still running for an older key is stopped."""
        if self._count_stopper is not None:  # stopping may connect (MySQL's KILL QUERY): not here
            threading.Thread(target=self._count_stopper.stop, daemon=True).start()
            self._count_stopper = None
        self._count_worker(key, timed)

    @work(exclusive=True, group="bounded-count", thread=True, exit_on_error=False)
    def _count_worker(self, key: Hashable, timed: bool) -> None:
        """``timed``: the timed refresh, which counts nothing again while the stamp is the
        one of the last count of this key."""
        try:
            stamp = self.count_stamp(key)
            if timed and stamp is not None and (key, stamp) == self._counted:
                return
            if timed:
                self.stamp_moved(key)
            with limits.Stopper() as stopper:
                self._count_stopper = stopper
                counted = self.read_count(key, stopper)
            self._counted = (key, stamp)
        except limits.Stopped:
            return  # a newer key's count is on its way
        except Exception:  # noqa: BLE001 (the table reports the same error)
            self._counted = None  # counted again at the next refresh, changed or not
            counted = self.uncounted(key)
        self.post_message(counted)


def shown_total(total: int, bounded: bool, table) -> tuple[int, str]:
    """The total a status line shows, and "+" when it is a lower bound. A count cut short is at
    least the rows already read (MariaDB's count out of time says nothing by then: 0), and
    exactly those rows when the table holds the whole list (read to its end, from its start)."""
    if not bounded:
        return total, ""
    if not (table.more_after or table.more_before or table.fetching or table.stale):
        return len(table.rows), ""
    return max(total, len(table.rows)), "+"
