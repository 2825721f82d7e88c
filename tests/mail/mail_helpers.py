"""What the e-mail tests share: the desk's settings, messages written as mail clients write
them, and a local SMTP server (aiosmtpd) that catches what the desk sends."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from aiosmtpd.controller import Controller
from servers import free_port

from itsm_tui.core.mail import intake
from itsm_tui.core.store.models import EmailMessage as Outbox

DESK = "helpdesk@example.org"


@pytest.fixture
def desk(monkeypatch):
    """The e-mail channel configured: example.org senders welcome, SMTP on (nothing sent
    unless a test starts a server and sends)."""
    for name, value in {
        "ITSM_MAIL_ADDRESS": DESK,
        "ITSM_MAIL_ALLOWED_DOMAINS": "example.org",
        "ITSM_SMTP_HOST": "127.0.0.1",
        "ITSM_SMTP_PORT": "1",
        "ITSM_SMTP_STARTTLS": "0",
        "ITSM_SMTP_FROM": DESK,
    }.items():
        monkeypatch.setenv(name, value)


def message(
    sender="anna@example.org",
    subject="Printer on fire",
    body="The printer on floor 2 is on fire.",
    cc=(),
    in_reply_to=None,
    references=(),
    headers=None,
    html=None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = DESK
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(email.utils.localtime())
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example.org")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = " ".join([*references, in_reply_to])
    for name, value in (headers or {}).items():
        mail[name] = value
    if html is not None and body is None:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(body)
        if html is not None:
            mail.add_alternative(html, subtype="html")
    return mail


def ingest(mail: EmailMessage | bytes) -> intake.Outcome:
    return intake.ingest(mail if isinstance(mail, bytes) else mail.as_bytes())


def outbox() -> list[email.message.EmailMessage]:
    """The queued mail as the desk would send it (headers included)."""
    from itsm_tui.core.notify import mailer

    smtp = mailer.settings()
    return [mailer._mail(smtp, row) for row in Outbox.select().order_by(Outbox.id)]


class Catcher:
    """Keeps each delivered message parsed, with the envelope's recipients; and the envelope
    senders (``MAIL FROM``), in the same order."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.senders: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.senders.append(envelope.mail_from)
        return "250 OK"


@pytest.fixture
def smtp(desk, monkeypatch):
    """A local SMTP server catching what the desk sends."""
    inbox, port = Catcher(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    monkeypatch.setenv("ITSM_SMTP_PORT", str(port))
    controller.start()
    yield inbox
    controller.stop()
