"""The e-mail intake: one incoming message becomes a new ticket, a comment, a reopened ticket,
a note about a bounce, or nothing (an automatic reply, a refused or rate-limited sender).

Each message is processed once, by its Message-ID (recorded in ``mail_message`` in the same
transaction as what it wrote), whether an IMAP fetch is repeated after a crash or an MTA retries.
Beside it goes the message's content key (its Message-ID, sender and content hashed): another
message that reuses a taken Message-ID (other sender or content) is processed under its key.
A reply finds its ticket by the Message-IDs it quotes (sent or received by the desk), else by
``[INC000123]`` in the subject, either only when the sender is that ticket's requester, a Cc of
it or staff; anyone else's message is a new one under the domain policy.
Everything is written under ``audit.acting("mail")``: the log says it came by e-mail.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from peewee import IntegrityError, fn

from itsm_tui.core import clock, config
from itsm_tui.core.errors import ItsmError, ValidationError
from itsm_tui.core.mail import classify
from itsm_tui.core.mail.parse import Parsed, parse
from itsm_tui.core.mail.trim import trim
from itsm_tui.core.notify import mailer
from itsm_tui.core.people import users
from itsm_tui.core.people.permissions import is_staff
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import MailMessage, Ticket, TicketCc, User, ticket_number
from itsm_tui.core.tickets import links
from itsm_tui.core.tickets import service as tickets

SUBJECT_NUMBER = re.compile(r"\[(INC\d{6,12})\]", re.IGNORECASE)
BODY_MAX = tickets.BODY_MAX - 200  # room for the note saying that the text was cut
NO_TEXT = "(The message has no text; see its attachments.)"


class Unprocessable(ItsmError):
    """A message that can never be processed (no sender address): the MTA should bounce it."""


@dataclass(frozen=True)
class Outcome:
    outcome: str  # ticket, comment, reopened, follow-up, auto-reply, bounce, refused, limited, duplicate
    ticket_id: int | None = None

    def describe(self) -> str:
        where = f" {ticket_number(self.ticket_id)}" if self.ticket_id else ""
        return f"{self.outcome}{where}"


def ingest(raw: bytes) -> Outcome:
    """Process one message (the raw bytes as delivered). Raises ``Unprocessable`` for a message
    that never can be; a database error propagates (the caller retries later)."""
    mail = parse(raw)
    if not mail.from_address:
        raise Unprocessable("the message names no sender (no From, Reply-To or Return-Path)")
    key = content_key(mail)
    with audit.acting("mail"):
        try:
            return _ingest(mail, key)
        except IntegrityError:  # its key is taken: another process processed it at the same moment
            if MailMessage.select().where(MailMessage.message_id == key).exists():
                return Outcome("duplicate")
            raise
        except ValidationError as exc:  # the same on every retry: never processable
            raise Unprocessable(f"the message cannot become a ticket: {exc}") from None


def content_key(mail: Parsed) -> str:
    """``<ID.CONTENT@itsm-tui.invalid>``: hashes of the Message-ID, and of the sender, subject,
    text and attachments (what a redelivery keeps, unlike its Received headers)."""
    content = hashlib.sha256()
    for piece in (mail.from_address, mail.subject, mail.body):
        content.update(piece.encode("utf-8", "surrogatepass") + b"\0")
    for attachment in mail.attachments:
        content.update(hashlib.sha256(attachment.content).digest())
    return f"{_key_prefix(mail.message_id)}{content.hexdigest()[:32]}@itsm-tui.invalid>"


def _key_prefix(message_id: str) -> str:
    """How the content keys of one Message-ID begin (in any case: MariaDB compares IDs so)."""
    return f"<{hashlib.sha256(message_id.lower().encode('utf-8', 'surrogatepass')).hexdigest()[:32]}."


@transactional
def _ingest(mail: Parsed, key: str) -> Outcome:
    # Taken first (the Message-ID is unique), then the content key: a message processed before,
    # or by a second process at the same moment, stops here.
    try:
        row = _record(mail, mail.message_id, "pending")
    except IntegrityError:  # taken: by this message before, or by another one reusing the ID
        keys = MailMessage.select(MailMessage.message_id).where(
            MailMessage.message_id.startswith(_key_prefix(mail.message_id))
        )
        known = {found.message_id for found in keys}
        if key in known or not known:  # none at all: processed before content keys were kept
            return Outcome("duplicate")
        row = _record(mail, key, "pending")
    else:
        _record(mail, key, "content-key")
    outcome = _process(mail, row)
    MailMessage.update(outcome=outcome.outcome, ticket=outcome.ticket_id).where(
        MailMessage.id == row.id
    ).execute()
    return outcome


@transactional  # a savepoint: a taken Message-ID leaves the transaction usable
def _record(mail: Parsed, message_id: str, outcome: str) -> MailMessage:
    return MailMessage.create(
        message_id=message_id,
        direction="in",
        sender=mail.from_address[:254],
        outcome=outcome,
        created_at=clock.now(),
    )


def _process(mail: Parsed, row: MailMessage) -> Outcome:
    kind = classify.kind(mail)
    if kind == classify.BOUNCE:
        return _bounce(mail)
    if kind == classify.AUTO_REPLY:
        return Outcome("auto-reply")
    sender = _user_by_address(mail.from_address)
    ticket = _thread(mail, sender)
    if ticket is not None:
        while (survivor := links.merged_into(ticket.id)) is not None:  # merges never form a cycle
            ticket = survivor
        return _reply(mail, sender, ticket, row)
    return _new_ticket(mail, sender, row)


def _user_by_address(address: str) -> User | None:
    return (
        User.select()
        .where(fn.LOWER(User.email) == address.lower(), User.is_active == True)
        .order_by(User.id)
        .first()
    )


# ---------------------------------------------------------------- threading


def _thread(mail: Parsed, sender: User | None) -> Ticket | None:
    """The ticket a reply adds to: the first one named by a Message-ID it quotes, else by
    ``[INC000123]`` in its subject, and only one the sender takes part in (its requester, a Cc
    of it, or staff): knowing a Message-ID or a number lets no stranger into a ticket."""
    named = _named_tickets(mail)
    if not named:
        return None
    found = {ticket.id: ticket for ticket in Ticket.select().where(Ticket.id.in_(named))}
    ordered = [found[ticket_id] for ticket_id in named if ticket_id in found]
    if not ordered or (sender is not None and is_staff(sender)):
        return ordered[0] if ordered else None
    own = {t.id for t in ordered if sender is not None and t.requester_id == sender.id}
    if ordered[0].id in own:
        return ordered[0]  # the usual reply: no need to read the Cc's
    copied = {
        row.ticket_id
        for row in TicketCc.select(TicketCc.ticket).where(
            TicketCc.ticket.in_(list(found)), TicketCc.address == mail.from_address
        )
    }
    return next((t for t in ordered if t.id in own or t.id in copied), None)


def _named_tickets(mail: Parsed) -> list[int]:
    """The ids of the tickets a message names, in order: by the Message-IDs it quotes (sent or
    received by the desk), then by the numbers in its subject."""
    named: list[int] = []
    if mail.in_reply_to:
        known = {
            row.message_id: row.ticket_id
            for row in MailMessage.select(MailMessage.message_id, MailMessage.ticket).where(
                MailMessage.message_id.in_(mail.in_reply_to[:50]), MailMessage.ticket.is_null(False)
            )
        }
        named += [known[message_id] for message_id in mail.in_reply_to if message_id in known]
    named += [int(number[3:]) for number in SUBJECT_NUMBER.findall(mail.subject)]
    return list(dict.fromkeys(named))


# ---------------------------------------------------------------- replies


def _reply(mail: Parsed, sender: User | None, ticket: Ticket, row: MailMessage) -> Outcome:
    author = sender or _new_requester(mail)
    settings = config.mail_settings()
    text = trim(mail.body) if mail.body else NO_TEXT
    if ticket.status in ("resolved", "closed"):
        resolved = ticket.resolved_at or ticket.closed_at or ticket.updated_at
        if ticket.status == "closed" or clock.now() - resolved > timedelta(days=settings.reopen_days):
            follow_up = _new_ticket(mail, author, row, follows=ticket)
            return Outcome("follow-up", follow_up.ticket_id) if follow_up.ticket_id else follow_up
        tickets.change_status(users.system_actor(), ticket.id, ticket.version, "in_progress")
        outcome = "reopened"
    elif ticket.status == "waiting_on_user" and not is_staff(author):
        tickets.change_status(users.system_actor(), ticket.id, ticket.version, "in_progress")
        outcome = "comment"
    else:
        outcome = "comment"
    comment = _fit(text)
    tickets.comment_from_mail(author, ticket.id, comment)
    _keep_ccs(ticket.id, mail, author)
    uploader = author if is_staff(author) or author.id == ticket.requester_id else users.system_actor()
    _attach(mail, uploader, ticket.id, original=comment != mail.body)  # trimmed or cut
    return Outcome(outcome, ticket.id)


# ---------------------------------------------------------------- new tickets


def _new_ticket(
    mail: Parsed, sender: User | None, row: MailMessage, follows: Ticket | None = None
) -> Outcome:
    settings = config.mail_settings()
    if _recent(mail.from_address) >= settings.rate_limit:
        return Outcome("limited")
    if sender is None and not settings.allows(mail.from_address.rpartition("@")[2]):
        mailer.refuse(mail.from_address, mail.subject, mail.message_id)
        return Outcome("refused")
    requester = sender or _new_requester(mail)
    description = mail.body or NO_TEXT
    if follows is not None:
        description = (
            f"Follow-up to {follows.number} (reopened by e-mail after it was closed).\n\n{description}"
        )
    fitted = _fit(description)
    ticket = tickets.create(requester, _title(mail.subject), fitted, channel=mailer.EMAIL_CHANNEL)
    _keep_ccs(ticket.id, mail, requester)
    _attach(mail, requester, ticket.id, original=fitted != description)
    if follows is not None:
        tickets.comment(
            users.system_actor(),
            follows.id,
            f"{requester.email} wrote again: see {ticket.number}",
            internal=True,
        )
    if settings.acknowledge:
        mailer.acknowledge(ticket, mail.from_address, mail.message_id)
    return Outcome("ticket", ticket.id)


def _recent(address: str) -> int:
    since = clock.now() - timedelta(hours=1)
    return (
        MailMessage.select()
        .where(
            MailMessage.sender == address,
            MailMessage.outcome.in_(("ticket", "refused", "follow-up")),
            MailMessage.created_at > since,
        )
        .count()
    )


def _title(subject: str) -> str:
    return subject[: tickets.TITLE_MAX].strip() or "(no subject)"


def _fit(text: str) -> str:
    if len(text) <= BODY_MAX:
        return text
    return text[:BODY_MAX] + "\n\n[The text was cut here; the whole message is attached.]"


_USERNAME_CHARS = re.compile(r"[^a-z0-9._-]+")


def _new_requester(mail: Parsed) -> User:
    return new_requester(mail.from_address, mail.from_name)


def new_requester(address: str, full_name: str) -> User:
    """A requester account without a password for an address the desk does not know yet (a
    sender, or a person signing up), named after the address's local part."""
    base = _USERNAME_CHARS.sub("-", address.partition("@")[0].lower()).strip("._-")[:50] or "mail"
    if len(base) < 2:
        base = f"{base}-mail"
    actor, full_name = users.system_actor(), (full_name or address)[:100]
    for n in range(1, 1000):
        name = f"{base}-{n}" if n > 1 else base
        try:  # the name is usually free: try it rather than ask first
            return users.create_user(actor, name, "requester", full_name=full_name, email=address)
        except ValidationError as exc:
            if exc.field != "username" or not User.select().where(User.username == name).exists():
                raise Unprocessable(f"cannot take requests from {address!r}: {exc}") from None
    raise Unprocessable(f"cannot take requests from {address!r}: no free user name for {base!r}")


def _keep_ccs(ticket_id: int, mail: Parsed, author: User) -> None:
    if not mail.cc:
        return
    leave_out = (mailer.desk_address().lower(), mail.from_address, (author.email or "").lower())
    for address in mail.cc:
        if address not in leave_out:
            TicketCc.insert(ticket=ticket_id, address=address[:254]).on_conflict_ignore().execute()


def _attach(mail: Parsed, author: User, ticket_id: int, original: bool) -> None:
    """Store the attachments (and the whole message when its text was trimmed or cut); what is
    over the size limit, or too large for the database server to take, becomes an internal note
    naming it and why."""
    files = [(a.name, a.content) for a in mail.attachments]
    if original:
        files.append(("original-message.eml", mail.raw))
    if not files:
        return
    dropped = []
    for name, content in files:
        refusal = tickets.attachment_refusal(len(content))
        if refusal:
            dropped.append(f"{name} ({len(content):,} bytes): {refusal}")
        else:
            tickets.attach(author, ticket_id, name, content)
    if dropped:
        text = "Attachments not stored: " + "; ".join(dropped)
        tickets.comment(users.system_actor(), ticket_id, text, internal=True)


# ---------------------------------------------------------------- bounces


def _bounce(mail: Parsed) -> Outcome:
    found = classify.bounce(mail)
    if found is None:
        return Outcome("bounce")
    row = (
        MailMessage.select(MailMessage.ticket)
        .where(
            MailMessage.message_id.in_(list(found.original_ids) or [""]), MailMessage.ticket.is_null(False)
        )
        .first()
    )
    if row is None:
        return Outcome("bounce")
    recipient = found.recipient or "a recipient"
    tickets.comment(
        users.system_actor(),
        row.ticket_id,
        f"Mail to {recipient} could not be delivered: {found.reason}",
        internal=True,
    )
    return Outcome("bounce", row.ticket_id)
