"""Write, and reconcile when someone else saved first: the one conflict flow of every screen.

A write carries the version the operator saw; a ``ConflictError`` means the record changed in
between. The operator then reloads (their change is not applied) or re-applies the same change
on the version stored now, which is read again just before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from itsm_tui.core.errors import ConflictError
from itsm_tui.ui.failures import SHOWN_ERRORS
from itsm_tui.ui.modals.panels import ConflictModal

Result = TypeVar("Result")


@dataclass
class Outcome(Generic[Result]):
    """What became of a write: ``result`` once written (at first or re-applied), else why not:
    ``conflict`` when the operator chose to reload, ``error`` when a write failed."""

    result: Result | None = None
    conflict: ConflictError | None = None
    error: BaseException | None = None
    reapplied: bool = False

    @property
    def written(self) -> bool:
        return self.conflict is None and self.error is None


async def reconcile(
    app, conflict: ConflictError, write: Callable[[int], Result], current_version: Callable[[], int]
) -> Outcome[Result]:
    """Ask what to do about ``conflict``; on "apply again", ``write(current_version())`` in a thread."""
    if await app.push_screen_wait(ConflictModal(str(conflict))) != "reapply":
        return Outcome(conflict=conflict)
    try:
        return Outcome(await asyncio.to_thread(lambda: write(current_version())), reapplied=True)
    except SHOWN_ERRORS as again:
        return Outcome(error=again, reapplied=True)


async def write_and_reconcile(
    app, write: Callable[[int], Result], version: int, current_version: Callable[[], int]
) -> Outcome[Result]:
    """``write(version)`` in a thread; a conflict goes to :func:`reconcile`."""
    try:
        return Outcome(await asyncio.to_thread(write, version))
    except ConflictError as exc:
        return await reconcile(app, exc, write, current_version)
    except SHOWN_ERRORS as exc:
        return Outcome(error=exc)
