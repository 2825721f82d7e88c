"""Every message the UI sends, typed, in one place.

The one pattern by which the UI calls the core: a thread worker calls a service and posts what
came back as one of these messages (``post_message`` is thread-safe); the handler, on the UI
thread, owns the state it changes and checks that the answer is still wanted (a newer read, or
another record on the screen, makes it stale). Worker results go to the widget or screen that
asked, and do not bubble further.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from itsm_tui.core.tickets.queue import Page
    from itsm_tui.reports.export import Done, Progress


# ---------------------------------------------------------------- widgets' events


class RowOpened(Message):
    """Enter on a row of a paged table."""

    def __init__(self, row_id: int) -> None:
        super().__init__()
        self.row_id = row_id


class LoadFailed(Message):
    """A paged table could not read its rows (it keeps the ones it shows, marked as old)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class RowsLoaded(Message):
    """Rows or marks changed (the screen updates its status line)."""


class RowHighlighted(Message):
    """The row under a table's cursor changed (None: no row)."""

    def __init__(self, row: dict | None) -> None:
        super().__init__()
        self.row = row


class ExportProgressed(Message):
    """An export read or wrote another batch of rows."""

    def __init__(self, step: Progress) -> None:
        super().__init__()
        self.step = step


# ---------------------------------------------------------------- worker results


class ExportFinished(Message, bubble=False):
    """An export ended: ``done`` (where and how many rows), or ``problem`` in words; neither
    when the operator cancelled it."""

    def __init__(self, done: Done | None, problem: str | None) -> None:
        super().__init__()
        self.done, self.problem = done, problem


class ImportProgressed(Message, bubble=False):
    """An import wrote another batch: ``done`` of ``total`` rows."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total


class ImportFinished(Message, bubble=False):
    """An import ended: its ``report``, or the ``error`` that stopped it."""

    def __init__(self, report: Any = None, error: Exception | None = None) -> None:
        super().__init__()
        self.report, self.error = report, error


class NotificationsPolled(Message, bubble=False):
    """The operator's notifications since the last one seen (``fresh``), and how many are unread."""

    def __init__(self, user: Any, fresh: list, unread: int) -> None:
        super().__init__()
        self.user, self.fresh, self.unread = user, fresh, unread


class PageRead(Message, bubble=False):
    """A page of rows for a paged table's read number ``generation``; ``apply`` puts it in place."""

    def __init__(self, generation: int, page: Page, apply: Callable[[Page], None], fresh: bool) -> None:
        super().__init__()
        self.generation, self.page, self.apply, self.fresh = generation, page, apply, fresh


class PageFailed(Message, bubble=False):
    """A paged table's read number ``generation`` failed, in words for the operator."""

    def __init__(self, generation: int, error: str) -> None:
        super().__init__()
        self.generation, self.error = generation, error


class Counted(Message, bubble=False):
    """How many rows a list's filter ``text`` matches (None: the count failed; the table says
    why; ``bounded``: at least that many), and for stock their total value."""

    def __init__(
        self,
        text: str,
        total: int | None,
        value: Decimal | None = None,
        kind: str = "",
        bounded: bool = False,
    ) -> None:
        super().__init__()
        self.text, self.total, self.value, self.kind = text, total, value, kind
        self.bounded = bounded


class RecordRead(Message, bubble=False):
    """A record screen's data, read for the record ``record_id`` by the screen's read number
    ``generation`` (a read started earlier can end later: see record_reads.RecordReads)."""

    def __init__(self, record_id: int, view: Any, generation: int = 0) -> None:
        super().__init__()
        self.record_id, self.view, self.generation = record_id, view, generation


class RecordUnread(Message, bubble=False):
    """A record screen's read number ``generation`` of the record ``record_id`` failed: the
    database's ``reason``, in words. The screen keeps what it shows and says so."""

    def __init__(self, record_id: int, reason: str, generation: int) -> None:
        super().__init__()
        self.record_id, self.reason, self.generation = record_id, reason, generation


class RecordGone(Message, bubble=False):
    """The record ``record_id`` cannot be shown (deleted, or not the operator's to see)."""

    def __init__(self, record_id: int, error: str) -> None:
        super().__init__()
        self.record_id, self.error = record_id, error
