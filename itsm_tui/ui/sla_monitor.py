"""The background SLA monitor of the terminal app.

One pass, in a thread worker: the desk's background jobs (``core/jobs.py``: the at-risk and
breached alerts, any e-mail due; the network waits never block the UI) and, while a screen
that shows them is open, the analytics figures of the logged-in operator (SLA states, age
buckets and the rest, by aggregation in SQL: most of a pass's statements, so not kept warm for nobody). A pass
reschedules the next one with ``set_timer`` only after it has finished, so passes never
overlap however slow the database is; an operator's change asks for a pass at once (a pass
already running is followed by another right after it).
"""

from __future__ import annotations

import os
from time import perf_counter

from itsm_tui.core import jobs
from itsm_tui.core.people.permissions import allowed, is_staff
from itsm_tui.core.store.models import User
from itsm_tui.core.tickets import analytics

DEFAULT_INTERVAL = 30.0


def interval_from_env() -> float:
    """``ITSM_SLA_INTERVAL`` seconds between passes (default 30; at least 1)."""
    raw = os.environ.get("ITSM_SLA_INTERVAL", "")
    try:
        return max(1.0, float(raw)) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


class SlaMonitor:
    def __init__(self, app, interval: float | None = None) -> None:
        self.app = app
        self.interval = interval if interval is not None else interval_from_env()
        self.period = "30d"
        self.figures: dict | None = None
        self.error: str | None = None
        self.passes = 0
        self.last_seconds: float | None = None
        self._user: User | None = None
        self._timer = None
        self._running = False
        self._again = False

    @property
    def running(self) -> bool:
        """A pass is under way (in its thread)."""
        return self._running

    def start(self, user: User) -> None:
        """Begin the passes for a freshly logged-in staff member (requesters have no figures)."""
        self.stop()
        if is_staff(user) and allowed(user.role, "analytics.view_own"):
            self._user = user
            self.run_now()

    def stop(self) -> None:
        self._user, self.figures, self.error = None, None, None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def set_period(self, period: str) -> None:
        self.period = period
        self.run_now()

    def run_now(self) -> None:
        if self._user is None:
            return
        if self._running:
            self._again = True
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._running = True
        user, period, shown = self._user, self.period, self._shown()
        self.app.run_worker(
            lambda: self._pass(user, period, shown),
            thread=True,
            group="sla-monitor",
            name="SLA monitor",
            exit_on_error=False,
        )

    def _shown(self) -> bool:
        """Whether a screen that shows the figures is open (on the stack: it has ``figures_ready``)."""
        return any(hasattr(screen, "figures_ready") for screen in self.app.screen_stack)

    def _pass(self, user: User, period: str, shown: bool) -> None:
        """Runs in the worker thread: database work only, results handed to the UI thread."""
        started = perf_counter()
        figures, error, raised = None, None, 0
        try:
            if shown:
                figures = analytics.figures(user, period)
            report = jobs.run_due()
            raised = report.count("alerts raised")
            if report.errors:
                error = "; ".join(f"{name}: {message}" for name, message in report.errors.items())
        except Exception as exc:  # the database went away, a bad custom period...: shown, retried
            error = str(exc) or type(exc).__name__
        self.app.call_from_thread(
            self._finished, user, period, figures, error, raised, perf_counter() - started
        )

    def _finished(self, user: User, period: str, figures, error, raised: int, seconds: float) -> None:
        self._running = False
        self.passes += 1
        self.last_seconds = seconds
        if self._user is None or self._user.id != user.id:
            return  # logged out meanwhile
        if period == self.period:
            if error is not None and error != self.error:  # said once, not every pass
                self.app.notify(error, title="SLA figures could not be computed", severity="error")
            self.figures, self.error = (figures, None) if error is None else (self.figures, error)
            for screen in self.app.screen_stack:
                if hasattr(screen, "figures_ready"):
                    screen.figures_ready(self)
        if raised:
            self.app.poll_notifications()
        if self._again or period != self.period:
            self._again = False
            self.run_now()
        else:
            self._timer = self.app.set_timer(self.interval, self.run_now)
