"""The background jobs: one pass of everything the desk does on a timer.

The terminal app's monitor (``ui/sla_monitor.py``), ``itsm-tui sla check`` (for cron) and any
long-running process (the API server) run :func:`run_due`. Each job returns what it did, as
counts; one job's failure (a mail server down) does not stop the others, and is reported.
A new background job is one entry in ``JOBS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from itsm_tui.core.mail import imap
from itsm_tui.core.notify import mailer, webhooks
from itsm_tui.core.tickets import alerts


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

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)


def run_due() -> PassReport:
    """Run every job once, in order; each job's error is kept, not raised."""
    report = PassReport()
    for name, job in JOBS:
        try:
            report.counts.update(job())
        except Exception as exc:  # the database or a server went away: said, retried next pass
            report.errors[name] = str(exc) or type(exc).__name__
    return report
