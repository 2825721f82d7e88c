"""A database failure in words for the screen: what failed (``core.db_errors`` says it) and
what became of the input. Forms show it and stay open with what was typed."""

from __future__ import annotations

from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import db_errors

# a service's refusal or a database failure: said in words to the operator, never a crash
SHOWN_ERRORS = (ItsmError, *db_errors.DATABASE_ERRORS)


def db_message(exc: BaseException, outcome: str = "nothing was saved; what you typed is kept") -> str:
    return f"{db_errors.reason(exc)}; {outcome}. Try again in a moment."
