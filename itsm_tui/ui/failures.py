"""A database failure in words for the screen: what failed (``core.db_errors`` says it) and
what became of the input. Forms show it and stay open with what was typed."""

from __future__ import annotations

import asyncio

from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import db_errors

# a service's refusal or a database failure: said in words to the operator, never a crash
SHOWN_ERRORS = (ItsmError, *db_errors.DATABASE_ERRORS)


def db_message(exc: BaseException, outcome: str = "nothing was saved; what you typed is kept") -> str:
    return f"{db_errors.reason(exc)}; {outcome}. Try again in a moment."


async def attempted(app, call, *args):
    """``call(*args)`` in a thread: (True, its result), or (False, None) with the error shown to
    the operator as a notification (an ItsmError's or the database's, in one line)."""
    try:
        return True, await asyncio.to_thread(call, *args)
    except SHOWN_ERRORS as exc:
        app.notify(str(exc), severity="error", timeout=8)
        return False, None
