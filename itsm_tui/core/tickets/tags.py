"""Free tags on tickets: short words ("vpn", "printer-3f") an agent adds and removes; the queue
shows them and filters by them (``tag:vpn``)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from peewee import IntegrityError

from itsm_tui.core.errors import ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import database, transactional
from itsm_tui.core.store.models import TicketTag, User
from itsm_tui.core.tickets.service import get

TAG_RE = re.compile(r"^[\w][\w.+-]{0,39}$")


def normal(tag: str) -> str:
    """A tag as stored: lower case, no spaces, composed accents (NFC: "é" typed as e and an
    accent is the same tag); refused unless letters, digits and ._+-."""
    text = unicodedata.normalize("NFC", (tag or "").strip().lower().lstrip("#"))
    if not TAG_RE.match(text):
        raise ValidationError(
            f"{tag!r} is not a tag: up to 40 letters, digits and . _ + - (no spaces)", "tag"
        )
    return text


def of(ticket_ids: list[int]) -> dict[int, list[str]]:
    """{ticket id: its tags, sorted} for the tickets in ``ticket_ids``, in one query."""
    found: dict[int, list[str]] = defaultdict(list)
    if ticket_ids:
        query = TicketTag.select(TicketTag.ticket, TicketTag.tag).where(TicketTag.ticket.in_(ticket_ids))
        for ticket_id, tag in query.order_by(TicketTag.tag).tuples():
            found[ticket_id].append(tag)
    return dict(found)


def tagged(page):
    """``page`` (a queue page) with each row's tags under "tags", in one more query."""
    found = of([row["id"] for row in page.rows])
    for row in page.rows:
        row["tags"] = found.get(row["id"], [])
    return page


@transactional
def change(actor: User, ticket_id: int, add: Sequence[str] = (), remove: Sequence[str] = ()) -> list[str]:
    """Add and remove tags on a ticket (one log entry); its tags afterwards."""
    require(actor, "ticket.tag")
    ticket = get(actor, ticket_id)
    before = of([ticket.id]).get(ticket.id, [])
    adding = {normal(t) for t in add} - set(before)
    removing = {normal(t) for t in remove} & set(before)
    for tag in sorted(adding):
        try:
            with database.atomic():  # a savepoint: a refused insert must not end the transaction
                TicketTag.create(ticket=ticket, tag=tag)
        except IntegrityError:
            # The ticket has it already: added at the same moment by someone else, or, to
            # MariaDB's collation, a tag it has is the same word ("cafe" is "café").
            adding.discard(tag)
    if removing:
        TicketTag.delete().where(
            (TicketTag.ticket == ticket.id) & TicketTag.tag.in_(sorted(removing))
        ).execute()
    after = sorted((set(before) | adding) - removing)
    if after != before:
        words = [f"+{t}" for t in sorted(adding)] + [f"-{t}" for t in sorted(removing)]
        audit.record(
            actor,
            "tag",
            "ticket",
            ticket.id,
            f"tags on {ticket.number}: {' '.join(words)}",
            {"tags": [before, after]},
        )
    return after
