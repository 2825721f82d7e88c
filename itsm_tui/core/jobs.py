"""The background jobs: one pass of everything the desk does on a timer.

The terminal app's monitor (``ui/sla_monitor.py``), ``itsm-tui sla check`` (for cron) and any
long-running process (the API server) run :func:`run_due`. Each job returns what it did, as
counts; one job's failure (a mail server down) does not stop the others, and is reported.
A new background job is one entry in ``JOBS``.

On a team desk every operator's terminal runs the monitor, and a server or cron may too. Each job
has a lease, so one process runs it at a time, desk-wide: twenty open terminals poll the mailbox
and scan for SLA breaches once, not twenty times. The process holding a lease renews it on every
pass; when it stops (a terminal closed, a server gone), another takes the job over once the
lease has run out. Claims and Message-ID idempotency already made the jobs safe to run twice;
the lease makes them cheap.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsm_tui.core import clock
from itsm_tui.core.mail import imap
from itsm_tui.core.notify import mailer, webhooks
from itsm_tui.core.settings import compare_and_set, get_setting
from itsm_tui.core.store import db_errors
from itsm_tui.core.store.models import Setting
from itsm_tui.core.tickets import alerts

LEASE = timedelta(minutes=2)  # longer than any runner's interval between passes
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process


def _sla_alerts() -> dict[str, int]:
    return {"alerts raised": alerts.raise_alerts()}


def _mail_out() -> dict[str, int]:
    sent, failed = mailer.send_due()
    return {"e-mails sent": sent, "e-mails failed": failed}


def _mail_in() -> dict[str, int]:
    """The IMAP mailbox, when one is configured (before sending: acknowledgements go out at once)."""
    if not imap.configured():
        return {}
    report = imap.fetch()
    return {"e-mails received": report.processed, "e-mails not processed": report.failed}


JOBS: list[tuple[str, Callable[[], dict[str, int]]]] = [
    ("SLA alerts", _sla_alerts),
    ("e-mail intake", _mail_in),
    ("e-mail", _mail_out),
    ("webhooks", webhooks.run_due),
]


@dataclass
class PassReport:
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # job name -> one-line message
    elsewhere: list[str] = field(default_factory=list)  # jobs another process holds the lease of

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)


def run_due() -> PassReport:
    """Run once, in order, every job whose lease this process holds or can take; each job's error
    is kept, not raised."""
    report = PassReport()
    for name, job in JOBS:
        try:
            if claim(name):
                report.counts.update(job())
            else:
                report.elsewhere.append(name)
        except Exception as exc:  # the database or a server went away: said, retried next pass
            report.errors[name] = _said(exc)
    return report


def release() -> None:
    """Give up this process's leases: a one-shot run (``sla check`` from cron) that is done
    must not keep the terminals and the server off the jobs until its leases run out."""
    Setting.delete().where(
        Setting.key.in_([_lease(name) for name, _ in JOBS]) & Setting.value.contains(f'"holder": "{HOLDER}"')
    ).execute()


def release_on_exit() -> None:
    """:func:`release`, for a process on its way out (the server stopped, a terminal closed): the
    next process of the desk runs the jobs at once, not when the leases run out. A database
    that is gone by now keeps them until then (logged)."""
    try:
        release()
    except Exception as exc:
        if not db_errors.is_database_error(exc):
            raise
        logging.getLogger(__name__).warning("could not release the job leases: %s", db_errors.reason(exc))


def _said(exc: Exception) -> str:
    """A job's failure in one line: a database error in words (never the driver's text, with
    its codes and host), anything else (a mail server's refusal) as it says."""
    if db_errors.is_database_error(exc):
        return db_errors.reason(exc)
    return str(exc) or type(exc).__name__


def _lease(name: str) -> str:
    return f"job lease:{name}"


def claim(name: str) -> bool:
    """Take or renew the lease of job ``name`` for this process: False while another process
    holds it. The lease is a settings row; taking it over is a compare-and-set on the value
    read, so of two processes that find it expired only one wins."""
    now = clock.now()
    held = get_setting(_lease(name))
    if held is not None and held["holder"] != HOLDER and datetime.fromisoformat(held["until"]) > now:
        return False
    return compare_and_set(_lease(name), held, {"holder": HOLDER, "until": (now + LEASE).isoformat()})
