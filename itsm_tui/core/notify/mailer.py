"""Optional e-mail for notifications, over SMTP; off unless ``ITSM_SMTP_HOST`` is set.

Settings (environment): ``ITSM_SMTP_HOST``, ``ITSM_SMTP_PORT`` (default 587), ``ITSM_SMTP_STARTTLS``
(1 or 0; default 1), ``ITSM_SMTP_USER`` and ``ITSM_SMTP_PASSWORD`` (log in when a user is set),
``ITSM_SMTP_FROM`` (default ``itsm-tui@localhost``), ``ITSM_SMTP_TIMEOUT`` seconds (default 10).

A notification to a user with an e-mail address queues a message in the outbox
(``email_message``) in the notification's own transaction. :func:`send_due` delivers what is due:
the app's SLA monitor calls it from its worker thread (never the UI thread), and so does
``itsm-tui mail send`` (for cron). A failed attempt is retried later (1, 5, 15, 60, 240 minutes),
giving up after ``MAX_ATTEMPTS``; two senders never send the same message twice, because each
claims a message with a conditional update just before sending it (a claim per message, so a
long pass over a slow relay never outlives its claims). Whatever goes wrong with one message is
that message's failed attempt: the others of the pass are still sent.

The e-mail channel (issue 20) threads what it sends: a ticket that came in by e-mail has its
public comments and its resolution mailed to the requester and the Cc's (:func:`thread_mail`),
new ones are acknowledged (:func:`acknowledge`), refused senders get one polite answer
(:func:`refuse`). Each carries ``[INC000123]`` in the subject, our own Message-ID (recorded, so a
reply finds the ticket), In-Reply-To/References to the thread and Reply-To the desk; the
automatic ones say ``Auto-Submitted: auto-replied`` and go out with a null envelope sender
(RFC 3834). Internal notes never leave, and
what came in by mail is not mailed back out.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as Mail
from email.utils import make_msgid

from itsm_tui.core import clock, config
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.store import audit
from itsm_tui.core.store.models import EmailMessage, MailMessage, Notification, Ticket, TicketCc, User
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
    """Put a notification in the outbox when e-mail is on and the user has an address (the
    requester of an e-mail ticket gets the comment itself instead, by ``thread_mail``)."""
    if settings() is None or not user.email:
        return None
    ticket = notification.ticket
    if notification.kind == "comment" and ticket and ticket.contact_type == EMAIL_CHANNEL:
        if ticket.requester_id == user.id:
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


EMAIL_CHANNEL = "e-mail"
REFERENCES_KEPT = 10  # the thread's first Message-ID and the latest ones


def desk_address() -> str:
    smtp = settings()
    return config.mail_settings().address or (smtp.sender if smtp else "itsm-tui@localhost")


def thread_mail(ticket: Ticket, author: User, kind: str, text: str) -> EmailMessage | None:
    """Mail a public comment (``kind`` "comment") or the resolution ("resolved") of an e-mail
    ticket to its requester and Cc's, the author left out; nothing for what came in by mail."""
    if audit.current().channel == "mail":
        return None
    recipients = mailed_to(ticket, author)
    if not recipients:
        return None
    who = author.full_name or author.username
    if kind == "resolved":
        days = config.mail_settings().reopen_days
        body = (
            f"{ticket.number} was resolved by {who}:\n\n{text}\n\n"
            f"If this did not fix it, reply to this message within {days} days to reopen it.\n"
        )
    else:
        body = f"{who} wrote:\n\n{text}\n\n-- \nReply to this message to add to {ticket.number}.\n"
    return _thread_message(
        ticket, recipients[0], recipients[1:], f"Re: [{ticket.number}] {ticket.title}", body
    )


def mailed_to(ticket: Ticket, author: User) -> list[str]:
    """Who a public comment by ``author`` on ``ticket`` is mailed to: the requester and the Cc's
    of an e-mail ticket, the author left out (none when e-mail is off). The ticket screen says
    it before the comment is sent."""
    if settings() is None or ticket.contact_type != EMAIL_CHANNEL:
        return []
    requester = User.get_by_id(ticket.requester_id)
    addresses = dict.fromkeys(a.lower() for a in [requester.email, *cc_addresses(ticket.id)] if a)
    return [a for a in addresses if a != (author.email or "").lower()]


def acknowledge(ticket: Ticket, address: str, answering: str) -> EmailMessage | None:
    """Tell the sender of a new e-mail ticket its number (an automatic reply to their message,
    whose Message-ID is ``answering``)."""
    if settings() is None:
        return None
    body = (
        f'Thank you: your message is now {ticket.number}, "{ticket.title}".\n'
        "We will answer by e-mail. Reply to this message to add to it; keep "
        f"[{ticket.number}] in the subject.\n"
    )
    subject = f"[{ticket.number}] {ticket.title}"
    return _thread_message(ticket, address, [], subject, body, automatic=True, thread=[(answering, "in")])


def refuse(address: str, subject: str, in_reply_to: str) -> EmailMessage | None:
    """One polite answer to a sender the desk does not take requests from."""
    if settings() is None:
        return None
    body = (
        "Thank you for your message. This service desk takes requests by e-mail only from "
        "addresses it knows, and yours is not one of them, so no ticket was opened.\n"
        "Please contact your IT department another way.\n"
    )
    headers = {"In-Reply-To": in_reply_to, "References": in_reply_to, "Auto-Submitted": "auto-replied"}
    return _enqueue(
        address, f"Re: {subject}"[:200] if subject else "Your message to the service desk", body, headers
    )


def signup_code(address: str, code: str, minutes: int) -> EmailMessage:
    """The one-time code of a self-service sign-up."""
    body = (
        f"Your code to sign up for the service desk: {code}\n\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this message.\n"
    )
    return _enqueue(address, "Your service desk sign-up code", body, {"Auto-Submitted": "auto-generated"})


def cc_addresses(ticket_id: int) -> list[str]:
    return [
        row.address for row in TicketCc.select().where(TicketCc.ticket == ticket_id).order_by(TicketCc.id)
    ]


def _thread_message(
    ticket: Ticket,
    to: str,
    cc: list[str],
    subject: str,
    body: str,
    automatic: bool = False,
    thread: list[tuple[str, str]] | None = None,
) -> EmailMessage:
    """Queue a message in the ticket's thread: ``thread`` is its (Message-ID, direction) pairs,
    oldest first, read from the database unless the caller knows them."""
    if thread is None:
        thread = list(
            MailMessage.select(MailMessage.message_id, MailMessage.direction)
            .where(MailMessage.ticket == ticket.id)
            .order_by(MailMessage.id)
            .tuples()
        )
    headers: dict[str, str] = {}
    if thread:
        ids = [message_id for message_id, _ in thread]
        received = [message_id for message_id, direction in thread if direction == "in"]
        headers["In-Reply-To"] = (received or ids)[-1]  # the requester's latest, else ours
        headers["References"] = " ".join(ids[:1] + ids[1:][-(REFERENCES_KEPT - 1) :])
    if cc:
        headers["Cc"] = ", ".join(cc)
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
    return _enqueue(to, subject[:200], body, headers, ticket)


def _enqueue(to: str, subject: str, body: str, headers: dict[str, str], ticket: Ticket | None = None):
    now = clock.now()
    desk = desk_address()
    domain = desk.rpartition("@")[2] or "localhost"
    headers = {"Message-ID": make_msgid("itsm", domain=domain), "Reply-To": desk, **headers}
    MailMessage.create(
        message_id=headers["Message-ID"],
        direction="out",
        ticket=ticket,
        sender=desk,
        outcome="sent",
        created_at=now,
    )
    return EmailMessage.create(
        to_address=to,
        subject=strip_controls(subject),
        body=body,
        headers=json.dumps(headers),
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
    if not due:
        return 0, 0
    sent = failed = 0
    try:
        connection = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        mine = [m for m in due if _claim(m, now)]
        for message in mine:
            _failed(message, now, exc)
        return 0, len(mine)
    try:
        for message in due:
            if not _claim(message, now):  # another sender took it (or sent it) meanwhile
                continue
            try:
                mail = _mail(smtp, message)
                recipients = [
                    message.to_address,
                    *[a.strip() for a in str(mail.get("Cc", "")).split(",") if a.strip()],
                ]
                connection.send_message(mail, from_addr=_envelope_sender(mail), to_addrs=recipients)
            except Exception as exc:  # a header it cannot write, a refused recipient, the relay
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
    """Take the message for this sender: only one concurrent sender's update matches. The claim
    runs from this moment (or the pass's ``now``, if later), not from the start of the pass."""
    claimed = (
        EmailMessage.update(next_attempt_at=max(now, clock.now()) + CLAIM)
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
    for name, value in json.loads(message.headers or "{}").items():
        mail[name] = value
    mail.set_content(message.body)
    return mail


def _envelope_sender(mail: Mail) -> str | None:
    """An automatic answer goes out with a null envelope sender, ``MAIL FROM:<>`` (RFC 3834
    3.3), so that nothing answers or bounces it back; anything else from the From address."""
    return "" if mail.get("Auto-Submitted") == "auto-replied" else None


def _failed(message: EmailMessage, now: datetime, exc: Exception) -> None:
    attempts = message.attempts + 1
    wait = RETRY_MINUTES[min(attempts, len(RETRY_MINUTES)) - 1]
    error = strip_controls(f"{type(exc).__name__}: {exc}")[:500]
    EmailMessage.update(
        attempts=attempts, last_error=error, next_attempt_at=now + timedelta(minutes=wait)
    ).where(EmailMessage.id == message.id).execute()
