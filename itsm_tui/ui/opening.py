"""Opening a record's screen (a ticket, a system) once its data is read, so that the screen is
laid out and painted once, complete: an empty screen first, then again with the data, costs
twice the time. A read slower than SHOW_LOADING_AFTER shows the screen at once, reading for
itself ("loading…").

Each kind of record screen is made once per session and shown again with the next record
(``reused_screen``): a new screen costs Textual's compose and mount, and then a second layout
and paint of the whole screen once its widgets are mounted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual.screen import Screen

from itsm_tui.core.store.models import User
from itsm_tui.ui.failures import SHOWN_ERRORS, read_failed

SHOW_LOADING_AFTER = 0.2  # seconds

View = TypeVar("View")
AnyScreen = TypeVar("AnyScreen", bound=Screen)


def reused_screen(app, cls: type[AnyScreen], *args) -> AnyScreen:
    """The app's ``cls`` screen, set to show ``args`` (``cls(*args)`` on first use, installed so
    that popping it keeps it; ``showing(*args)`` after); a new one when that one is on the stack
    already (a ticket opened from a system opened from a ticket). ``cls`` has ``forget()``."""
    screen = app.reused_screens.get(cls)
    if screen is None:
        screen = app.reused_screens[cls] = cls(*args)
        app.install_screen(screen, f"reused:{cls.__name__}")
        return screen
    return cls(*args) if screen in app.screen_stack else screen.showing(*args)


def forget_reused_screens(app) -> None:
    """At log-out: the reused screens drop the last user's record (they stay installed, for the
    next session to show its own records on)."""
    for screen in app.reused_screens.values():
        screen.forget()


class OpenWhenRead(Generic[View]):
    """``read(user)`` in a worker thread, then push ``make(view)`` (``make(None)`` at once when
    the read is slow: that screen reads for itself)."""

    def __init__(
        self, app, read: Callable[[User], View], make: Callable[[View | None], Screen], group: str
    ) -> None:
        self.app, self.user, self.read, self.make = app, app.user, read, make
        self.done = False
        self.timer = app.set_timer(SHOW_LOADING_AFTER, self._push)
        # exclusive: a second Enter before the first read ends opens only the second record
        self.worker = app.run_worker(
            self._read, thread=True, group=group, exclusive=True, exit_on_error=False
        )

    def _read(self) -> None:
        try:
            view, error = self.read(self.user), None
        except SHOWN_ERRORS as exc:  # shown to the operator, nothing opens
            view, error = None, read_failed(exc)
        self.app.call_from_thread(self._arrived, view, error)

    def _arrived(self, view: View | None, error: str | None) -> None:
        if error is None:
            self._push(view)
        elif self._settle():
            self.app.notify(error, severity="error")

    def _push(self, view: View | None = None) -> None:
        if self._settle():
            self.app.push_screen(self.make(view))

    def _settle(self) -> bool:
        """True the first time, unless a newer opening or a log-out overtook this one."""
        if self.done or self.worker.is_cancelled or self.app.user is not self.user:
            return False
        self.done = True
        self.timer.stop()
        return True
