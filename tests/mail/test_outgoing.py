"""What the desk mails, caught by a local SMTP server (aiosmtpd): the acknowledgement, public
comments and the resolution go to the requester and the Cc's with [INC000123] in the subject,
our own Message-ID, In-Reply-To/References to the thread and Reply-To the desk; internal notes
never leave; a reply to any of them threads back."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from mail_helpers import DESK, Catcher, desk, ingest, message, smtp
from servers import free_port

from itsm_tui.core import clock
from itsm_tui.core.notify import mailer
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Comment, MailMessage, Ticket
from itsm_tui.core.store.models import EmailMessage as Outbox
from itsm_tui.core.tickets import service as tickets

# aiosmtpd warns about a server without TLS or login: it is a test
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_answers_go_out_threaded_to_requester_and_ccs(engine, people, smtp):
    first = message(sender="Anna Berg <anna@example.org>", cc=["bob@example.org"])
    ticket = Ticket.get_by_id(ingest(first).ticket_id)
    tickets.comment(people["agent"], ticket.id, "Internal: check the fuse box", internal=True)
    tickets.comment(people["agent"], ticket.id, "Please switch it off and on again.")
    ticket = Ticket.get_by_id(ticket.id)
    tickets.change_status(people["agent"], ticket.id, ticket.version, "resolved", note="Fuse replaced.")
    assert mailer.send_due() == (3, 0)

    (ack_to, ack), (comment_to, comment), (resolved_to, resolved) = smtp.messages
    assert smtp.senders == ["<>", DESK, DESK]  # the automatic answer: MAIL FROM:<> (RFC 3834)
    assert ack_to == ["anna@example.org"]
    assert ack["Subject"] == f"[{ticket.number}] Printer on fire"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == first["Message-ID"]

    assert sorted(comment_to) == ["anna@example.org", "bob@example.org"]
    assert comment["Subject"] == f"Re: [{ticket.number}] Printer on fire"
    assert comment["Cc"] == "bob@example.org"
    assert comment["Reply-To"] == DESK and comment["From"] == DESK
    assert comment["Auto-Submitted"] is None  # a person's answer, not an automatic one
    assert comment["In-Reply-To"] == first["Message-ID"]
    assert comment["References"].split()[0] == first["Message-ID"]
    assert ack["Message-ID"] in comment["References"]
    assert comment["Message-ID"].endswith("@example.org>")
    assert "Please switch it off and on again." in comment.get_content()
    assert "fuse box" not in comment.get_content()

    assert "Fuse replaced." in resolved.get_content() and "reopen" in resolved.get_content()
    sent_ids = {row.message_id for row in MailMessage.select().where(MailMessage.direction == "out")}
    assert {ack["Message-ID"], comment["Message-ID"], resolved["Message-ID"]} == sent_ids

    reply = message(subject="Re: [x]", body="Thanks!", in_reply_to=comment["Message-ID"])
    assert ingest(reply).ticket_id == ticket.id
    assert Comment.select().where(Comment.ticket == ticket.id, Comment.body == "Thanks!").exists()
    assert mailer.send_due() == (0, 0)  # the requester's own reply is not mailed back out


def test_tickets_from_the_app_keep_their_plain_notifications(engine, people, smtp):
    from itsm_tui.core.people import users

    users.update_user(
        people["admin"], people["requester"].id, people["requester"].version, email="r@example.org"
    )
    ticket = tickets.create(people["requester"], "Screen flickers", "since Monday")
    tickets.comment(people["agent"], ticket.id, "On it.")
    mailer.send_due()
    [(to, mail)] = smtp.messages
    assert to == ["r@example.org"] and mail["Subject"].startswith("[itsm-tui]")


def test_a_refusal_goes_out_with_a_null_envelope_sender(engine, system, smtp):
    assert ingest(message(sender="mallory@elsewhere.test", subject="Hello")).outcome == "refused"
    assert mailer.send_due() == (1, 0)
    [(to, refusal)] = smtp.messages
    assert to == ["mallory@elsewhere.test"] and smtp.senders == ["<>"]
    assert refusal["Auto-Submitted"] == "auto-replied" and refusal["Subject"] == "Re: Hello"


def test_a_folded_message_id_without_brackets_does_not_stop_the_outbox(engine, system, smtp):
    for raw in (
        b"From: anna@example.org\nSubject: first\nMessage-ID: <g1@example.org>\n\nhello\n",
        b"From: bob@example.org\nSubject: folded\nMessage-ID: abc\n\tdef@example.org\n\nhello\n",
        b"From: carl@example.org\nSubject: last\nMessage-ID: <g2@example.org>\n\nhello\n",
    ):
        assert ingest(raw).outcome == "ticket"
    assert mailer.send_due() == (3, 0)
    replies = {to[0]: mail["In-Reply-To"] for to, mail in smtp.messages}
    assert replies["anna@example.org"] == "<g1@example.org>"
    assert replies["bob@example.org"].startswith("<sha256.")  # no ID: known by its bytes' hash
    assert replies["carl@example.org"] == "<g2@example.org>"


def test_a_message_that_cannot_be_written_is_a_failed_attempt_and_the_rest_go_out(engine, system, smtp):
    """A row an earlier version queued with a line break in a header: that message fails (and
    is retried later, up to the limit), the others of the pass are sent."""
    now = clock.now()
    for to, headers in (
        ("anna@example.org", {}),
        ("bob@example.org", {"In-Reply-To": "<abc\n\tdef@x>"}),
        ("carl@example.org", {}),
    ):
        Outbox.create(
            to_address=to,
            subject="s",
            body="b",
            headers=json.dumps(headers),
            next_attempt_at=now,
            created_at=now,
        )
    assert mailer.send_due() == (2, 1)
    assert sorted(to[0] for to, _ in smtp.messages) == ["anna@example.org", "carl@example.org"]
    bad = Outbox.get(Outbox.to_address == "bob@example.org")
    assert (bad.attempts, bad.sent_at) == (1, None)
    assert bad.last_error.startswith("ValueError") and bad.next_attempt_at > now


class SlowRelay(Catcher):
    """A relay that takes two minutes (by the desk's clock) to accept each message."""

    def __init__(self, elapsed: list[timedelta]):
        super().__init__()
        self.elapsed = elapsed

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.3)
        self.elapsed[0] += timedelta(minutes=2)
        return await super().handle_DATA(server, session, envelope)


def test_a_pass_longer_than_a_claim_never_sends_a_message_twice(engine, system, desk, monkeypatch):
    start, elapsed = clock.now(), [timedelta(0)]
    relay, port = SlowRelay(elapsed), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    monkeypatch.setenv("ITSM_SMTP_PORT", str(port))
    controller.start()
    try:
        with clock.frozen(lambda: start + elapsed[0]):
            senders = [f"user{n}@example.org" for n in range(5)]
            for sender in senders:
                ingest(message(sender=sender))  # five acknowledgements due now
            first: list = []

            def first_pass():
                try:
                    first.append(mailer.send_due())
                finally:
                    db.database.close()

            thread = threading.Thread(target=first_pass)
            thread.start()
            deadline = time.monotonic() + 30
            while len(relay.messages) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert elapsed[0] >= timedelta(minutes=6)  # past the first claims' five minutes
            second = mailer.send_due()  # another process's pass, as the first goes on
            thread.join(30)
    finally:
        controller.stop()
    assert first[0][0] + second[0] == 5
    assert sorted(to[0] for to, _ in relay.messages) == senders  # each exactly once
