"""The one source of "now" for the core: naive UTC, whole seconds, replaceable in tests.

Whole seconds because MySQL DATETIME drops fractions; both engines then store the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


_now: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _now()


@contextmanager
def frozen(at: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Make ``now()`` return ``at`` (or call it) inside the block."""
    global _now
    previous = _now
    _now = at if callable(at) else (lambda: at)
    try:
        yield
    finally:
        _now = previous
