"""Reads that may not run long: a time limit on one statement, and stopping the statement a
thread is running from another thread (a filter typed key by key stops the previous count).

MySQL/MariaDB: ``SET STATEMENT max_statement_time=N FOR ...`` and ``KILL QUERY id`` from a
second connection. SQLite: a progress handler that gives up after the deadline, and
``Connection.interrupt()``.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from peewee import SQL, InternalError, OperationalError, fn

from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import AuditEntry

# MySQL: query killed; statement time exceeded (MariaDB, MySQL); InnoDB's full-text search
# aborted by either (HA_ERR_ABORTED_BY_USER)
_INTERRUPTED = (1317, 1969, 3024, 188)


class Stopped(Exception):
    """The statement ran out of time or was stopped (:meth:`Stopper.stop`)."""


def rows_within(query, seconds: float) -> list[tuple]:
    """The rows of a peewee ``query``, or :class:`Stopped` when it runs longer than ``seconds``."""
    sql, params = query.sql()
    if is_mysql():
        return _execute(f"SET STATEMENT max_statement_time={seconds:.3f} FOR {sql}", params)
    connection = database.connection()
    deadline = time.monotonic() + seconds
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        return _execute(sql, params)
    finally:
        connection.set_progress_handler(None, 0)


def count_within(query, seconds: float, stopper: Stopper | None = None) -> tuple[int, bool]:
    """How many rows ``query`` gives (it has its own LIMIT) when they take at most ``seconds``:
    (all of them, True); out of time, a lower bound: (those counted by then, False). SQLite
    counts the rows as they come; MySQL in the server (its client reads a row in Python: 50 ms
    for 10,000), which says nothing when stopped: 0. ``stopper``: another thread may stop it
    (:class:`Stopped`)."""
    if stopper is not None and stopper.stopped.is_set():
        raise Stopped()
    sql, params = query.sql()
    if is_mysql():
        try:
            rows = _execute(
                f"SET STATEMENT max_statement_time={seconds:.3f} FOR SELECT COUNT(*) FROM ({sql}) AS n",
                params,
            )
        except Stopped:
            if stopper is not None and stopper.stopped.is_set():
                raise
            return 0, False
        counted, ended = rows[0][0], True
    else:
        counted, ended = _streamed(sql, params, time.monotonic() + seconds)
    if stopper is not None and stopper.stopped.is_set():  # MySQL ends some stopped statements
        raise Stopped()  # with a result (SLEEP: 1); SQLite's interrupt looks like the deadline
    return counted, ended


def _streamed(sql: str, params, deadline: float) -> tuple[int, bool]:
    """SQLite: the rows of ``sql`` counted as they come, until ``deadline``."""
    connection = database.connection()
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    cursor = connection.cursor()
    counted = 0
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(500):
            counted += len(rows)
    except sqlite3.OperationalError as exc:
        if not _interrupted(exc):
            raise
        return counted, False
    finally:
        cursor.close()
        connection.set_progress_handler(None, 0)
    return counted, True


def _interrupted(exc: Exception) -> bool:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    return code in _INTERRUPTED or "interrupted" in str(exc)


def _execute(sql: str, params) -> list[tuple]:
    try:
        return list(database.execute_sql(sql, params).fetchall())
    except (OperationalError, InternalError, sqlite3.OperationalError) as exc:  # the fetch: unwrapped
        if _interrupted(exc):
            raise Stopped() from None
        raise


class Stopper:
    """Lets another thread stop what the thread that made it runs on its connection, until that
    thread calls :meth:`done` (or leaves the ``with`` block): a worker thread is pooled, and its
    next job reuses the connection, so a stop and the end of the read take turns (a lock), and a
    stop after the end does nothing. MySQL: ``KILL QUERY`` from a second connection to the same
    node (on another node of a cluster the id is another session's)."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._done = False
        self._connection = database.connection()
        mysql = is_mysql()
        self._mysql_id = self._connection.thread_id() if mysql else None
        self._node = (self._connection.host, self._connection.port) if mysql else None

    def __enter__(self) -> Stopper:
        return self

    def __exit__(self, *exc) -> None:
        self.done()

    def done(self) -> None:
        """The reading thread is done with the connection: :meth:`stop` leaves it alone."""
        with self._lock:
            self._done = True

    def stop(self) -> None:
        """Stop the running statement (if any); the reading thread gets :class:`Stopped`."""
        self.stopped.set()
        if self._mysql_id is None or self._node is None:
            with self._lock:
                if not self._done:
                    self._connection.interrupt()
            return
        try:
            other = database.obj.open_on(*self._node)  # a second connection: the first one is busy
        except Exception:  # noqa: BLE001 (the server went away: so did the statement)
            return
        try:
            with self._lock, other.cursor() as cursor:
                if not self._done and self._connection.open:  # not after a reconnect: a new id
                    cursor.execute(f"KILL QUERY {int(self._mysql_id)}")
        except Exception:  # noqa: BLE001 (the statement may have ended meanwhile)
            pass
        finally:
            other.close()


def bounded_count(query, bound: int, deadline: float, stopper: Stopper | None = None) -> tuple[int, bool]:
    """How many rows ``query`` (a peewee select, without LIMIT) gives, by ``deadline`` (a
    ``time.monotonic()`` moment): exact, True, up to ``bound`` and beyond it when counting them
    all fits in the time left; otherwise a lower bound, False: ``bound``, or the rows counted
    by then. ``stopper`` lets another thread stop it (:class:`Stopped`) when the filter changes.
    The rule behind the "10,000+" of every list that is not exported (the exports count all)."""
    seen, ended = _counted_up_to(query, bound, deadline, stopper)
    if not ended or seen <= bound:
        return seen, ended
    try:
        ((total,),) = rows_within(query.select(fn.COUNT(SQL("*"))), _left(deadline))
    except Stopped:
        if stopper is not None and stopper.stopped.is_set():
            raise
        return bound, False
    return total, True


# MySQL counts in the server, which says nothing of a count it stops: first up to these, each a
# lower bound ("1,000+", not "0+") when the next runs out of time.
STEPS = (100, 1_000)


def _counted_up_to(query, bound: int, deadline: float, stopper: Stopper | None) -> tuple[int, bool]:
    """The rows of ``query``, up to ``bound + 1`` (see :func:`bounded_count`); MySQL in
    ``STEPS`` (a count of few rows reads them all at the first step)."""
    if not is_mysql():
        return count_within(query.limit(bound + 1), _left(deadline), stopper)
    seen = 0
    for limit in (*(step for step in STEPS if step < bound), bound):
        counted, ended = count_within(query.limit(limit + 1), _left(deadline), stopper)
        if not ended or counted <= limit:
            return (counted, True) if ended else (seen, False)
        seen = limit
    return bound + 1, True


def _left(deadline: float) -> float:
    """The seconds to ``deadline``, and at least a few: a statement gets some time to run."""
    return max(deadline - time.monotonic(), 0.005)


def written() -> int | None:
    """The newest log entry: every write through a service adds one (the log is append-only),
    so a count whose filter does not follow the clock need not run again while this stays the
    same. Read from the primary key's index."""
    return AuditEntry.select(fn.MAX(AuditEntry.id)).scalar()
