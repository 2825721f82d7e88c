"""A database failure in words: what failed and what became of the input, never a traceback,
the driver's raw text or a password. Forms show it and stay open with what was typed."""

from __future__ import annotations

from peewee import DatabaseError, InterfaceError

from .crash import mask

DB_ERRORS = (DatabaseError, InterfaceError)
UNREACHABLE = {2002, 2003, 2005, 2006, 2013, 2055}  # MySQL client: cannot connect, gone away, lost


def db_message(exc: BaseException, outcome: str = "nothing was saved; what you typed is kept") -> str:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    reason = str(exc.args[-1] if exc.args else exc)
    low = reason.lower()
    if "locked" in low or "busy" in low:
        what = "the database is busy (another program is writing to it)"
    elif "readonly" in low or "read-only" in low or "read only" in low:
        what = "the database cannot be written to (read-only)"
    elif "unable to open" in low:
        what = "the database file cannot be opened (is it there, and may this account write to it?)"
    elif isinstance(exc, InterfaceError) or code in UNREACHABLE or "connect" in low:
        what = "the database server cannot be reached"
    else:
        what = f"the database refused: {mask(reason)[:200]}"
    return f"{what}; {outcome}. Try again in a moment."
