"""Which reads a record screen (a ticket, a system, the categories) shows: each runs in a worker
thread, and a read started earlier can end later."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from itsm_tui.core import clock


class RecordReads:
    """Each read is numbered as it starts. One that ends is shown when it is newer than the read
    shown last and was not started before the screen's last write or change of record (it may
    hold what was there before: the next edit would be a conflict, ``x`` on a system could
    detach the wrong peripheral). A timed refresh waits while a read is under way: a slow
    database would pile them up, and none would be shown. A read that fails (the database)
    leaves what is shown, and says since when it is shown (:attr:`stale`)."""

    def __init__(self) -> None:
        self.started = 0
        self.shown = 0
        self.floor = 0  # reads numbered below it were started before the last write
        self.running: set[int] = set()  # the worker threads remove their own number
        self.read_at: datetime | None = None  # when what is shown was read
        self.stale = ""  # why what is shown may be old: the newest read failed ("" when it did not)

    def start(self, after_write: bool = False) -> int:
        self.started += 1
        if after_write:
            self.floor = self.started
        self.running.add(self.started)
        return self.started

    def ended(self, number: int) -> None:
        """Called by the worker thread as it ends, whatever became of the read."""
        self.running.discard(number)

    def forget(self) -> None:
        """The screen shows another record (or the one given with it): no read so far counts."""
        self.floor = self.started + 1
        self.read_at, self.stale = None, ""

    def take(self, number: int) -> bool:
        """Whether to show the read ``number`` (and count it as shown)."""
        if number < self.floor or number <= self.shown:
            return False
        self.shown, self.read_at, self.stale = number, clock.now(), ""
        return True

    def given(self) -> None:
        """What the screen shows was read just now, before it was opened."""
        self.read_at, self.stale = clock.now(), ""

    def failed(self, number: int, what: str, reason: str) -> bool:
        """The read ``number`` of ``what`` ("the ticket") failed for ``reason`` (in words):
        whether this is news (the newest read so far, and the first to fail since one was
        shown: say it once, not at every refresh)."""
        if number < self.floor or number <= self.shown:
            return False
        news = not self.stale
        shown = (
            f"Showing {what} as read at {self.read_at:%H:%M}" if self.read_at else f"Could not read {what}"
        )
        self.stale = f"{shown}: {reason}. It is read again every few seconds."
        return news

    def unread(self, app, event, what: str, view, draw, placeholder) -> None:
        """A read of ``what`` failed (a ``RecordUnread`` ``event``): say so once, then draw the
        ``view`` shown again (``draw(view)``: with the line saying since when), or the line
        alone in ``placeholder`` (a Static) when nothing was read yet."""
        if self.failed(event.generation, what, event.reason):
            app.notify(self.stale, severity="warning", timeout=8)
        if view is not None:
            draw(view)
        elif self.stale:
            placeholder.update(self.stale_line())

    def stale_line(self) -> Text | None:
        """The line that says so, above what is shown (None when it is fresh)."""
        return Text(self.stale, style="bold yellow") if self.stale else None

    @property
    def busy(self) -> bool:
        return bool(self.running)
