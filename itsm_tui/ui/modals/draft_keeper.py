"""Keeping what is typed into a form or prompt (``core.drafts``) and saying so when a save fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.timer import Timer

from itsm_tui.core import drafts
from itsm_tui.core.store.db_errors import may_have_been_written, reason


def kept_message(exc: BaseException) -> str:
    """A failed save, in one line: why, and that the text waits for another ctrl+s."""
    if may_have_been_written(exc):
        return (
            f"{reason(exc)}; it may have been saved: what you typed is kept, press ctrl+s to try "
            "again (it will not be saved twice)"
        )
    return f"{reason(exc)}; what you typed is kept: press ctrl+s to try again"


@dataclass(frozen=True)
class Draft:
    """Where a form keeps what is typed into it (see ``core.drafts``): the operator and a key
    naming the form and its record ("comment:12", "system:new")."""

    username: str
    key: str


class DraftKeeper:
    """Writes a form's fields to its draft a moment after the last key, in a thread, in order;
    nothing when the form has no draft. ``pending`` tells which write is the newest."""

    DELAY = 0.4
    _lock = threading.Lock()  # one writer at a time: an older write never lands after a newer one

    def __init__(self, owner, draft: Draft | None, read: Callable[[], dict]):
        self.owner, self.draft, self.read = owner, draft, read
        self.timer: Timer | None = None
        self.sequence = 0
        self.written = 0

    def load(self) -> dict:
        return (drafts.load(self.draft.username, self.draft.key) or {}) if self.draft else {}

    def changed(self) -> None:
        if self.draft is None:
            return
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.owner.set_timer(self.DELAY, self._write_later)

    def _write_later(self) -> None:
        self.timer = None
        self.sequence += 1
        self.owner.run_worker(
            partial(self._write, self.sequence, self.read()), thread=True, group="draft", exit_on_error=False
        )

    def _write(self, sequence: int, fields: dict | None) -> None:
        """Keep ``fields``; None (nothing changed, or changed back): no draft."""
        with self._lock:
            if sequence <= self.written:
                return
            self.written = sequence
            try:
                if fields:
                    drafts.save(self.draft.username, self.draft.key, fields)
                else:
                    drafts.discard(self.draft.username, self.draft.key)
            except OSError:  # a full or read-only disk: the form itself still holds the text
                pass

    def request_key(self) -> str | None:
        """The draft written now (as it stands), and its request key: a retry sends the same."""
        if self.draft is None:
            return None
        self._stop()
        with self._lock:
            self.sequence += 1
            self.written = self.sequence
            try:
                drafts.save(self.draft.username, self.draft.key, self.read() or {})
                return drafts.request_key(self.draft.username, self.draft.key)
            except OSError:
                return None

    def discard(self) -> None:
        if self.draft is None:
            return
        self._stop()
        with self._lock:
            self.sequence += 1
            self.written = self.sequence  # a write still waiting for the lock is skipped
            try:
                drafts.discard(self.draft.username, self.draft.key)
            except OSError:
                pass

    def _stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
