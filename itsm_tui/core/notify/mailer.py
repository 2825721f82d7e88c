"""Optional e-mail for notifications, over SMTP; off unless ``ITSM_SMTP_HOST`` is set.

Settings (environment): ``ITSM_SMTP_HOST``, ``ITSM_SMTP_PORT`` (default 587), ``ITSM_SMTP_STARTTLS``
(1 or 0; default 1), ``ITSM_SMTP_USER`` and ``ITSM_SMTP_PASSWORD`` (log in when a user is set),
``ITSM_SMTP_FROM`` (default ``itsm-tui@localhost``), ``ITSM_SMTP_TIMEOUT`` seconds (default 10).

A notification to a user with an e-mail address queues a message in the outbox
(``email_message``) in the notification's own transaction. :func:`send_due` delivers what is due:
the app's SLA monitor calls it from its worker thread (never the UI thread), and so does
``itsm-tui mail send`` (for cron). A failed attempt is retried later (1, 5, 15, 60, 240 minutes),
giving up after ``MAX_ATTEMPTS``; two senders never send the same message twice, because each
claims a message with a conditional update before sending it.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as Mail

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.store.models import EmailMessage, Notification, User
from itsm_tui.core.text import strip_controls

RETRY_MINUTES = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
CLAIM = timedelta(minutes=5)  # a claimed message is left alone this long by other senders
BATCH = 50


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    sender: str = "itsm-tui@localhost"
    timeout: float = 10.0


def settings() -> SmtpSettings | None:
    """The SMTP settings from the environment, or None when e-mail is off."""
    host = os.environ.get("ITSM_SMTP_HOST", "").strip()
    if not host:
        return None
    return SmtpSettings(
        host=host,
        port=int(_number("ITSM_SMTP_PORT", 587)),
        starttls=os.environ.get("ITSM_SMTP_STARTTLS", "1").strip().lower() not in ("0", "no", "false", "off"),
        user=os.environ.get("ITSM_SMTP_USER") or None,
        password=os.environ.get("ITSM_SMTP_PASSWORD") or None,
        sender=os.environ.get("ITSM_SMTP_FROM") or "itsm-tui@localhost",
        timeout=_number("ITSM_SMTP_TIMEOUT", 10),
    )


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValidationError(f"{name} must be a number, got {raw!r}") from None


def queue(user: User, notification: Notification) -> EmailMessage | None:
    """Put a notification in the outbox when e-mail is on and the user has an address."""
    if settings() is None or not user.email:
        return None
    text = strip_controls(notification.message)
    now = clock.now()
    return EmailMessage.create(
        notification=notification,
        to_address=user.email,
        subject=f"[itsm-tui] {text}"[:200],
        body=f"{text}\n\nOpen itsm-tui to see the ticket.\n",
        next_attempt_at=now,
        created_at=now,
    )


def send_due(now: datetime | None = None, limit: int = BATCH) -> tuple[int, int]:
    """Send the messages whose next attempt is due; returns (sent, failed). Runs in a worker
    thread or the CLI: it blocks on the network."""
    smtp = settings()
    if smtp is None:
        return 0, 0
    now = now or clock.now()
    due = list(
        EmailMessage.select()
        .where(
            EmailMessage.sent_at.is_null(),
            EmailMessage.attempts < MAX_ATTEMPTS,
            EmailMessage.next_attempt_at <= now,
        )
        .order_by(EmailMessage.next_attempt_at, EmailMessage.id)
        .limit(limit)
    )
    mine = [m for m in due if _claim(m, now)]
    if not mine:
        return 0, 0
    sent = failed = 0
    try:
        connection = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for message in mine:
            _failed(message, now, exc)
        return 0, len(mine)
    try:
        for message in mine:
            try:
                connection.send_message(_mail(smtp, message))
            except (OSError, smtplib.SMTPException) as exc:
                _failed(message, now, exc)
                failed += 1
            else:
                EmailMessage.update(sent_at=now, attempts=message.attempts + 1, last_error=None).where(
                    EmailMessage.id == message.id
                ).execute()
                sent += 1
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent, failed


def _claim(message: EmailMessage, now: datetime) -> bool:
    """Take the message for this sender: only one concurrent sender's update matches."""
    claimed = (
        EmailMessage.update(next_attempt_at=now + CLAIM)
        .where(
            EmailMessage.id == message.id,
            EmailMessage.next_attempt_at == message.next_attempt_at,
            EmailMessage.sent_at.is_null(),
        )
        .execute()
    )
    return claimed == 1


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            connection.starttls(context=ssl.create_default_context())
        if smtp.user:
            connection.login(smtp.user, smtp.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _mail(smtp: SmtpSettings, message: EmailMessage) -> Mail:
    mail = Mail()
    mail["From"] = smtp.sender
    mail["To"] = message.to_address
    mail["Subject"] = strip_controls(message.subject)
    mail.set_content(message.body)
    return mail


def _failed(message: EmailMessage, now: datetime, exc: Exception) -> None:
    attempts = message.attempts + 1
    wait = RETRY_MINUTES[min(attempts, len(RETRY_MINUTES)) - 1]
    error = strip_controls(f"{type(exc).__name__}: {exc}")[:500]
    EmailMessage.update(
        attempts=attempts, last_error=error, next_attempt_at=now + timedelta(minutes=wait)
    ).where(EmailMessage.id == message.id).execute()
