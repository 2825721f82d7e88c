"""Replies thread onto their ticket, written as Outlook, Gmail and Apple Mail write them: the
quote and signature trimmed (the whole message kept as an attachment); a reply-all from a Cc
adds to the same ticket; an out-of-office answer opens nothing and sends nothing; a requester's
reply resumes a ticket waiting on them and reopens a resolved one (a new linked ticket later)."""

from __future__ import annotations

from datetime import datetime, timedelta

from mail_helpers import DESK, desk, ingest, message, outbox

from itsm_tui.core import clock
from itsm_tui.core.store.models import Attachment, Comment, EmailMessage, Ticket, User
from itsm_tui.core.tickets import links
from itsm_tui.core.tickets import service as tickets

NOW = datetime(2026, 3, 2, 10, 0)


def _opened(cc=()):
    """A ticket opened by Anna's mail; (ticket, her message, the desk's acknowledgement)."""
    first = message(sender="Anna Berg <anna@example.org>", cc=cc)
    ticket = Ticket.get_by_id(ingest(first).ticket_id)
    return ticket, first, outbox()[-1]


def _comments(ticket):
    return list(Comment.select().where(Comment.ticket == ticket.id).order_by(Comment.id))


OUTLOOK_TEXT = """Still broken after the restart.

Anna Berg
IT Purchasing

-----Original Message-----
From: Help Desk <helpdesk@example.org>
Sent: Monday, March 2, 2026 10:00 AM
To: Anna Berg <anna@example.org>
Subject: [{number}] Printer on fire

Thank you: your message is now {number}.
"""

GMAIL_TEXT = """Thanks, it works now.

On Mon, Mar 2, 2026 at 10:00 AM Help Desk <helpdesk@example.org>
wrote:

> Thank you: your message is now {number}.
> We will answer by e-mail.
"""
GMAIL_HTML = """<div dir="ltr">Thanks, it works now.</div><br><div class="gmail_quote"><div dir="ltr"
class="gmail_attr">On Mon, Mar 2, 2026 at 10:00 AM Help Desk &lt;<a href="mailto:helpdesk@example.org">
helpdesk@example.org</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px
0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Thank you: your message is now {number}.
</blockquote></div>"""

APPLE_HTML = """<html><head></head><body style="overflow-wrap: break-word;"><div>The toner arrived,
thank you!</div><div><br></div><div>Sent from my iPhone</div><div><br><blockquote type="cite">
<div>On 2 Mar 2026, at 10:00, Help Desk &lt;helpdesk@example.org&gt; wrote:</div><br>
<div><div>Thank you: your message is now {number}.</div></div></blockquote></div></body></html>"""

OUTLOOK_HTML = """<html><body><div>Could you call me instead?</div><div><br></div>
<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">
<font face="Calibri, sans-serif"><b>From:</b> Help Desk &lt;helpdesk@example.org&gt;<br>
<b>Sent:</b> Monday, March 2, 2026 10:00<br><b>To:</b> Anna Berg<br>
<b>Subject:</b> [{number}] Printer on fire</font><div>&nbsp;</div></div>
<div>Thank you: your message is now {number}.</div></body></html>"""


def test_client_replies_thread_with_the_quote_trimmed(engine, system, desk):
    ticket, _, ack = _opened()
    n = ticket.number
    replies = [
        (
            message(
                sender="anna@example.org",
                subject=f"RE: [{n}] Printer on fire",
                body=OUTLOOK_TEXT.format(number=n),
            ),
            "Still broken after the restart.\n\nAnna Berg\nIT Purchasing",
        ),
        (
            message(
                subject=f"Re: [{n}] Printer on fire",
                body=GMAIL_TEXT.format(number=n),
                html=GMAIL_HTML.format(number=n),
            ),
            "Thanks, it works now.",
        ),
        (
            message(subject=f"Re: [{n}] Printer on fire", body=None, html=APPLE_HTML.format(number=n)),
            "The toner arrived, thank you!",
        ),
        (
            message(subject=f"RE: [{n}] Printer on fire", body=None, html=OUTLOOK_HTML.format(number=n)),
            "Could you call me instead?",
        ),
    ]
    for reply, _ in replies:
        reply.replace_header("Subject", "Re: something else")  # thread by Message-ID alone
        reply["In-Reply-To"] = ack["Message-ID"]
        reply["References"] = ack["Message-ID"]
        assert ingest(reply).outcome == "comment"
    bodies = [c.body for c in _comments(ticket)]
    assert bodies == [want for _, want in replies]
    assert all(c.author.email == "anna@example.org" and not c.is_internal for c in _comments(ticket))
    originals = Attachment.select().where(
        Attachment.ticket == ticket.id, Attachment.filename == "original-message.eml"
    )
    assert originals.count() == 4
    assert Ticket.select().count() == 1
    assert EmailMessage.select().count() == 1  # replies by mail are not mailed back out


def test_the_number_in_the_subject_threads_for_participants_only(engine, system, desk):
    ticket, _, _ = _opened(cc=["bob@example.org"])
    by_requester = ingest(message(sender="anna@example.org", subject=f"Re: [{ticket.number}] more"))
    by_cc = ingest(message(sender="bob@example.org", subject=f"Re: [{ticket.number}] me too"))
    stranger = ingest(message(sender="eve@example.org", subject=f"Re: [{ticket.number}] let me in"))
    assert (by_requester.outcome, by_requester.ticket_id) == ("comment", ticket.id)
    assert (by_cc.outcome, by_cc.ticket_id) == ("comment", ticket.id)
    assert stranger.outcome == "ticket" and stranger.ticket_id != ticket.id


def test_a_stranger_quoting_a_message_id_reaches_no_ticket(engine, system, desk):
    ticket, first, ack = _opened()
    inside = message(
        sender="eve@example.org",
        subject="Re: Printer on fire",
        body="Let me in.",
        in_reply_to=ack["Message-ID"],
    )
    outside = message(
        sender="mallory@elsewhere.test",
        subject=f"Re: [{ticket.number}] Printer on fire",
        body="Let me in too.",
        in_reply_to=first["Message-ID"],
    )
    opened, refused = ingest(inside), ingest(outside)
    assert opened.outcome == "ticket" and opened.ticket_id != ticket.id
    assert refused.outcome == "refused"
    assert _comments(ticket) == []
    assert not User.select().where(User.email == "mallory@elsewhere.test").exists()
    assert Ticket.get_by_id(opened.ticket_id).requester.email == "eve@example.org"


def test_a_reply_all_from_a_cc_does_not_open_a_second_ticket(engine, system, desk):
    ticket, first, _ = _opened(cc=["bob@example.org"])
    reply_all = message(
        sender="Bob <bob@example.org>",
        subject="Re: Printer on fire",
        body="Same on floor 3.\n\nOn Mon, 2 Mar 2026 Anna Berg <anna@example.org> wrote:\n> The printer",
        cc=["anna@example.org", DESK],
        in_reply_to=first["Message-ID"],
    )
    outcome = ingest(reply_all)
    assert (outcome.outcome, outcome.ticket_id) == ("comment", ticket.id)
    [comment] = _comments(ticket)
    assert comment.body == "Same on floor 3."
    assert User.get_by_id(comment.author_id).email == "bob@example.org"
    assert Ticket.select().count() == 1


def test_an_out_of_office_reply_to_the_acknowledgement_opens_and_sends_nothing(engine, system, desk):
    ticket, _, ack = _opened()
    ooo = message(
        subject=f"Automatic reply: [{ticket.number}] Printer on fire",
        body="I am out of the office until Monday.",
        in_reply_to=ack["Message-ID"],
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    assert ingest(ooo).outcome == "auto-reply"
    assert _comments(ticket) == [] and Ticket.select().count() == 1
    assert EmailMessage.select().count() == 1  # the acknowledgement only


def test_a_reply_resumes_a_ticket_waiting_on_the_requester(engine, people, desk):
    ticket, _, ack = _opened()
    ticket = tickets.change_status(people["agent"], ticket.id, ticket.version, "waiting_on_user")
    ingest(message(subject="Re: x", body="Here is the serial number: 12345", in_reply_to=ack["Message-ID"]))
    assert Ticket.get_by_id(ticket.id).status == "in_progress"


def test_a_reply_reopens_a_resolved_ticket_and_later_opens_a_linked_one(engine, people, desk):
    with clock.frozen(NOW):
        ticket, _, ack = _opened()
        ticket = tickets.change_status(
            people["agent"], ticket.id, ticket.version, "resolved", note="Replaced fuse"
        )
    with clock.frozen(NOW + timedelta(days=3)):
        again = ingest(message(subject="Re: x", body="It is on fire again.", in_reply_to=ack["Message-ID"]))
    ticket = Ticket.get_by_id(ticket.id)
    assert (again.outcome, ticket.status, ticket.reopen_count) == ("reopened", "in_progress", 1)
    with clock.frozen(NOW + timedelta(days=4)):
        ticket = tickets.change_status(
            people["agent"], ticket.id, ticket.version, "resolved", note="New printer"
        )
    with clock.frozen(NOW + timedelta(days=30)):
        late = ingest(message(subject="Re: x", body="Broken once more.", in_reply_to=ack["Message-ID"]))
    assert late.outcome == "follow-up" and late.ticket_id != ticket.id
    follow_up = Ticket.get_by_id(late.ticket_id)
    assert follow_up.description.startswith(f"Follow-up to {ticket.number}")
    assert Ticket.get_by_id(ticket.id).status == "resolved"


def test_a_reply_cut_to_the_comment_limit_attaches_the_whole_message(engine, people, desk):
    ticket, _, ack = _opened()
    log = "\n".join(f"line {i:05d} ERROR something failed in module {i % 7}" for i in range(600))
    reply = message(
        subject="Re: x", body=f"Here is the full log:\n{log}\nEND-OF-LOG", in_reply_to=ack["Message-ID"]
    )
    assert ingest(reply).outcome == "comment"
    [comment] = _comments(ticket)
    assert comment.body.endswith("[The text was cut here; the whole message is attached.]")
    [original] = Attachment.select().where(Attachment.ticket == ticket.id)
    assert original.filename == "original-message.eml"
    _, content = tickets.attachment_content(people["agent"], original.id)
    assert b"END-OF-LOG" in content

    ticket = Ticket.get_by_id(ticket.id)  # a follow-up: the text is cut in the new description
    tickets.change_status(people["agent"], ticket.id, ticket.version, "resolved", note="Restarted")
    text = "x" * (tickets.BODY_MAX - 250) + " END"  # only the follow-up's first line makes it too long
    with clock.frozen(clock.now() + timedelta(days=30)):
        late = ingest(message(subject="Re: x", body=text, in_reply_to=ack["Message-ID"]))
    assert late.outcome == "follow-up"
    assert Ticket.get_by_id(late.ticket_id).description.endswith("the whole message is attached.]")
    [original] = Attachment.select().where(Attachment.ticket == late.ticket_id)
    assert original.filename == "original-message.eml"


def test_a_reply_to_a_merged_ticket_comments_on_the_ticket_it_was_merged_into(engine, people, desk):
    duplicate, _, ack = _opened()
    survivor = Ticket.get_by_id(ingest(message(subject="VPN still down")).ticket_id)
    links.merge(people["agent"], duplicate.id, Ticket.get_by_id(duplicate.id).version, survivor.id)
    reply = message(
        subject="Re: x", body="It works again after the reboot, thanks", in_reply_to=ack["Message-ID"]
    )
    outcome = ingest(reply)
    assert (outcome.outcome, outcome.ticket_id) == ("comment", survivor.id)
    assert [c.body for c in _comments(survivor)] == ["It works again after the reboot, thanks"]
    assert Ticket.select().count() == 2
