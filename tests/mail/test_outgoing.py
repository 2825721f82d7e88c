"""What the desk mails, caught by a local SMTP server (aiosmtpd): the acknowledgement, public
comments and the resolution go to the requester and the Cc's with [INC000123] in the subject,
our own Message-ID, In-Reply-To/References to the thread and Reply-To the desk; internal notes
never leave; a reply to any of them threads back."""

from __future__ import annotations

import pytest
from mail_helpers import DESK, desk, ingest, message, smtp

from itsm_tui.core.notify import mailer
from itsm_tui.core.store.models import Comment, MailMessage, Ticket
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
