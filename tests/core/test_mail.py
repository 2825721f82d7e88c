"""E-mail of notifications over SMTP, against a local aiosmtpd server the test starts: off
unless configured, delivery with credentials, retries after failures, never sent twice."""

import email
import email.policy
import socket
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from itsm_tui.core import clock
from itsm_tui.core.notify import mailer
from itsm_tui.core.people import users
from itsm_tui.core.store.models import EmailMessage
from itsm_tui.core.tickets import service as tickets

NOW = datetime(2026, 3, 2, 10, 0)
# The test server takes a login over plain text; aiosmtpd rightly warns about that.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """A local SMTP server that wants a login (over plain text: it is a test), and the
    environment pointing at it."""
    inbox, port = Inbox(), free_port()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"desk" and auth_data.password == b"s3cret-pass"
        return AuthResult(success=ok)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    for name, value in {
        "ITSM_SMTP_HOST": "127.0.0.1",
        "ITSM_SMTP_PORT": str(port),
        "ITSM_SMTP_STARTTLS": "0",
        "ITSM_SMTP_USER": "desk",
        "ITSM_SMTP_PASSWORD": "s3cret-pass",
        "ITSM_SMTP_FROM": "helpdesk@example.org",
        "ITSM_SMTP_TIMEOUT": "2",
    }.items():
        monkeypatch.setenv(name, value)
    controller.start()
    inbox.controller = controller
    yield inbox
    controller.stop()


def _assign_to_agent(people):
    with clock.frozen(NOW):
        users.update_user(
            people["admin"], people["agent"].id, people["agent"].version, email="agent@example.org"
        )
        t = tickets.create(people["requester"], "Printer on fire", "d")
        return tickets.assign(people["supervisor"], t.id, t.version, "agent")


def test_no_mail_unless_configured(engine, people, monkeypatch):
    monkeypatch.delenv("ITSM_SMTP_HOST", raising=False)
    _assign_to_agent(people)
    assert EmailMessage.select().count() == 0
    assert mailer.send_due(NOW) == (0, 0)


def test_notification_is_mailed_with_the_configured_credentials(engine, people, smtp):
    t = _assign_to_agent(people)
    queued = EmailMessage.get()
    assert (queued.to_address, queued.sent_at) == ("agent@example.org", None)
    assert mailer.send_due(NOW) == (1, 0)
    (envelope,) = smtp.messages
    assert envelope.mail_from == "helpdesk@example.org" and envelope.rcpt_tos == ["agent@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert (
        mail["Subject"].strip() == f"[itsm-tui] {t.number} was assigned to you by supervisor: Printer on fire"
    )
    assert "Printer on fire" in mail.get_content()
    assert EmailMessage.get().sent_at == NOW
    assert mailer.send_due(NOW + timedelta(minutes=10)) == (0, 0)  # never twice
    assert len(smtp.messages) == 1


def test_users_without_an_address_get_no_mail(engine, people, smtp):
    with clock.frozen(NOW):
        t = tickets.create(people["requester"], "x", "d")
        tickets.assign(people["supervisor"], t.id, t.version, "agent")  # agent has no e-mail address
    assert EmailMessage.select().count() == 0


def test_failures_are_retried_later_and_then_delivered(engine, people, smtp, monkeypatch):
    _assign_to_agent(people)
    monkeypatch.setenv("ITSM_SMTP_PASSWORD", "wrong")
    assert mailer.send_due(NOW) == (0, 1)
    failed = EmailMessage.get()
    assert failed.attempts == 1 and failed.sent_at is None and failed.last_error  # refused (or hung up)
    assert failed.next_attempt_at == NOW + timedelta(minutes=1)
    assert mailer.send_due(NOW + timedelta(seconds=30)) == (0, 0)  # not due yet
    monkeypatch.setenv("ITSM_SMTP_PORT", str(free_port()))  # nobody listening
    assert mailer.send_due(NOW + timedelta(minutes=1)) == (0, 1)
    assert EmailMessage.get().next_attempt_at == NOW + timedelta(minutes=6)  # then 5 minutes
    monkeypatch.setenv("ITSM_SMTP_PORT", str(smtp.controller.port))
    monkeypatch.setenv("ITSM_SMTP_PASSWORD", "s3cret-pass")
    assert mailer.send_due(NOW + timedelta(minutes=6)) == (1, 0)
    assert len(smtp.messages) == 1 and EmailMessage.get().attempts == 3


def test_gives_up_after_the_last_attempt(engine, people, smtp, monkeypatch):
    _assign_to_agent(people)
    monkeypatch.setenv("ITSM_SMTP_PORT", str(free_port()))
    moment = NOW
    for _ in range(mailer.MAX_ATTEMPTS):
        assert mailer.send_due(moment) == (0, 1)
        moment = EmailMessage.get().next_attempt_at
    assert mailer.send_due(moment + timedelta(days=1)) == (0, 0)
    assert EmailMessage.get().attempts == mailer.MAX_ATTEMPTS


def test_a_message_claimed_by_another_sender_is_left_alone(engine, people, smtp):
    _assign_to_agent(people)
    message = EmailMessage.get()
    assert mailer._claim(message, NOW)  # another instance took it a moment ago
    assert mailer.send_due(NOW) == (0, 0) and smtp.messages == []
