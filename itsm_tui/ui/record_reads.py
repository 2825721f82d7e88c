"""Which reads a record screen (a ticket, a system, the categories) shows: each runs in a worker
thread, and a read started earlier can end later."""

from __future__ import annotations


class RecordReads:
    """Each read is numbered as it starts. One that ends is shown when it is newer than the read
    shown last and was not started before the screen's last write or change of record (it may
    hold what was there before: the next edit would be a conflict, ``x`` on a system could
    detach the wrong peripheral). A timed refresh waits while a read is under way: a slow
    database would pile them up, and none would be shown."""

    def __init__(self) -> None:
        self.started = 0
        self.shown = 0
        self.floor = 0  # reads numbered below it were started before the last write
        self.running: set[int] = set()  # the worker threads remove their own number

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

    def take(self, number: int) -> bool:
        """Whether to show the read ``number`` (and count it as shown)."""
        if number < self.floor or number <= self.shown:
            return False
        self.shown = number
        return True

    @property
    def busy(self) -> bool:
        return bool(self.running)
