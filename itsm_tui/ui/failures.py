"""A database failure in words for the screen: what failed (``core.db_errors`` says it) and
what became of the input. Forms show it and stay open with what was typed."""

from __future__ import annotations

import asyncio

from textual.worker import Worker

from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import db_errors

# a service's refusal or a database failure: said in words to the operator, never a crash
SHOWN_ERRORS = (ItsmError, *db_errors.DATABASE_ERRORS)


def db_message(exc: BaseException, outcome: str = "nothing was saved; what you typed is kept") -> str:
    return f"{db_errors.reason(exc)}; {outcome}. Try again in a moment."


def said(exc: BaseException, outcome: str = "nothing was changed") -> str:
    """One of SHOWN_ERRORS for the operator: a refusal's own words, or what failed in the
    database and what became of the change (never the driver's text: codes, hosts, SQL)."""
    if not db_errors.is_database_error(exc):
        return str(exc)
    if db_errors.may_have_been_written(exc):
        outcome = "it may have been done: look before doing it again"
    return db_message(exc, outcome)


def read_failed(exc: BaseException, outcome: str = "nothing was changed") -> str:
    """:func:`said` for a read, which cannot have written anything: a lost connection is not
    "it may have been done"."""
    return db_message(exc, outcome) if db_errors.is_database_error(exc) else str(exc)


async def attempted(app, call, *args):
    """``call(*args)`` in a thread: (True, its result), or (False, None) with the error shown to
    the operator as a notification (an ItsmError's or the database's, in one line)."""
    try:
        return True, await asyncio.to_thread(call, *args)
    except SHOWN_ERRORS as exc:
        app.notify(said(exc), severity="error", timeout=8)
        return False, None


class SaysFailedWorkers:
    """Mixed into every screen and dialog: a worker of theirs that fails (the database gone,
    or a defect) is said by the app as its own are (``ItsmApp.on_worker_state_changed``).
    Textual tells only the node that ran a worker (``Worker.StateChanged`` does not bubble):
    without this a key whose read failed did nothing, and said nothing."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        says = getattr(self.app, "on_worker_state_changed", None)
        if says is not None:  # (a dialog tested on its own runs in a bare app)
            says(event)
