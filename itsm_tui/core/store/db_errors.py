"""What a database error means, in words an operator can act on.

Drivers say ``(2003, "Can't connect to MySQL server on '10.0.0.5' ...")``, ``(0, '')`` or
``cannot rollback - no transaction is active``: codes, host names and SQL that mean nothing to an
operator and can name what should stay private. ``explain`` turns any of them into one sentence;
the raw error goes to the log only.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

import peewee

try:  # PyMySQL is a dependency, but the words for SQLite must not need it
    from pymysql import err as _mysql_err
except ImportError:  # pragma: no cover
    _mysql_err = None

log = logging.getLogger("itsm_tui.database")

UNREACHABLE = "the database server cannot be reached"
LOST = "the connection to the database was lost"
TIMED_OUT = "the database did not answer in time"
DISK_FULL = "the database's disk is full"
READ_ONLY = "the database is read-only"
LOCKED = "the database is locked by another writer"
NODE_NOT_READY = "the database cluster node is not ready (it has lost contact with the others)"
RACE = "another change was saved at the same moment"
REFUSED = "the database account is not allowed to do this"
NO_DATABASE = "the database does not exist"
CANNOT_OPEN = "the database file cannot be opened (is it there, and may this account write to it?)"
TOO_LONG = "a value is too long for the database to keep (or holds characters its column cannot)"
OTHER = "the database reported an unexpected error (details are in the log)"

DATABASE_ERRORS: tuple[type[BaseException], ...] = (peewee.PeeweeException, sqlite3.Error) + (
    (_mysql_err.MySQLError,) if _mysql_err else ()
)

# A row read by its id that is not there: someone deleted it meanwhile. Its text holds the SQL
# that looked for it, never shown.
ROW_GONE: tuple[type[BaseException], ...] = (peewee.DoesNotExist,)

_MYSQL_CODES: dict[int | None, str] = {
    1044: REFUSED,
    1045: REFUSED,
    1142: REFUSED,
    1143: REFUSED,
    1227: REFUSED,
    1370: REFUSED,
    1049: NO_DATABASE,
    1021: DISK_FULL,
    1114: DISK_FULL,
    1036: READ_ONLY,
    1290: READ_ONLY,
    1792: READ_ONLY,
    1205: LOCKED,
    1213: RACE,
    1366: TOO_LONG,  # MariaDB's word for text cut inside a character
    1406: TOO_LONG,
    1047: NODE_NOT_READY,
    2002: UNREACHABLE,
    2003: UNREACHABLE,
    2005: UNREACHABLE,
    2006: LOST,
    2013: LOST,
    2014: LOST,
    2055: LOST,
    0: LOST,
}
_SQLITE_TEXTS = (
    ("database or disk is full", DISK_FULL),
    ("readonly database", READ_ONLY),
    ("read-only", READ_ONLY),
    ("database is locked", LOCKED),
    ("database table is locked", LOCKED),
    ("unable to open database file", CANNOT_OPEN),
    ("disk i/o error", DISK_FULL),
)


def is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_ERRORS)


def _original(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def _causes(exc: BaseException | None):
    """The error and what it was raised from or during (SQLite's failed rollback hides the
    'disk is full' that made the transaction fail)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def reason(exc: BaseException) -> str:
    """One sentence for any database error; the raw one is logged."""
    log.warning("database error: %r", _original(exc))
    found = [_classify(cause) for cause in _causes(exc)]
    # The first specific reason wins over the generic one, wherever it sits in the chain.
    return next((words for words in found if words and words not in (OTHER, LOST)), None) or next(
        (words for words in found if words), OTHER
    )


def _classify(exc: BaseException) -> str | None:
    original = _original(exc)
    if isinstance(original, (TimeoutError,)) or "timed out" in str(original).lower():
        return TIMED_OUT
    if isinstance(original, OSError) and original.errno == errno.ENOSPC:
        return DISK_FULL
    args: tuple = getattr(original, "args", ())
    if _mysql_err is not None and isinstance(original, _mysql_err.MySQLError):
        code = args[0] if args and isinstance(args[0], int) else None
        text = str(args[1]) if len(args) > 1 else ""
        if code == 3 and "28" in text:  # "Error writing file ... (Errcode: 28 "No space left")"
            return DISK_FULL
        if code == 2013 and "timed out" in text.lower():
            return TIMED_OUT
        return _MYSQL_CODES.get(code, LOST if isinstance(original, _mysql_err.InterfaceError) else OTHER)
    if isinstance(original, sqlite3.Error) or isinstance(exc, peewee.PeeweeException):
        text = str(original).lower()
        for fragment, words in _SQLITE_TEXTS:
            if fragment in text:
                return words
        if "no transaction is active" in text:
            return None  # a failed rollback after the real error: look further down the chain
        return OTHER if isinstance(exc, DATABASE_ERRORS) else None
    return None


def may_have_been_written(exc: BaseException) -> bool:
    """True when a write failed in a way that leaves it unknown whether it committed (the
    connection dropped after the statement was sent): the retry must not write it twice."""
    return any(_classify(cause) in (LOST, TIMED_OUT) for cause in _causes(exc))
