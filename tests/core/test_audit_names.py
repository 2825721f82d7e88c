"""A log entry names the records its change points at (the category, the requester), as they
were named when it was written: from the records a create already holds, else read."""

from __future__ import annotations

from itsm_tui.core.store import audit
from itsm_tui.core.store.models import AuditEntry, Category, User
from itsm_tui.core.tickets import service as tickets


def _names(entity_type: str, entity_id: int) -> dict:
    entry = AuditEntry.get(
        AuditEntry.entity_type == entity_type,
        AuditEntry.entity_id == entity_id,
        AuditEntry.action == "create",
    )
    return audit.names_of(entry)


def test_a_created_ticket_names_its_category_and_requester(engine, people):
    ticket = tickets.create(people["agent"], "VPN down", "since 9", requester=people["requester"])
    names = _names("ticket", ticket.id)
    assert names["category"] == [None, "General"]
    assert names["requester"] == [None, people["requester"].username]


def test_a_bare_reference_is_named_from_the_database(engine, people):
    general = Category.get(Category.name == "General")
    changes = audit.diff({}, {"category": Category(id=general.id), "requester": User(id=people["agent"].id)})
    named = audit.with_names(changes, rows={"category": Category(id=general.id)})
    assert named[audit.NAMES_KEY] == {"category": [None, "General"], "requester": [None, "agent"]}
