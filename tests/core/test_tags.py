"""Tags on tickets (issue 21): one tag per word however its accents were typed, on both engines."""

from itsm_tui.core.store.db import is_mysql
from itsm_tui.core.store.models import AuditEntry
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets import tags


def _entries():
    return AuditEntry.select().where(AuditEntry.action == "tag").count()


def test_a_tag_typed_with_a_combining_accent_is_the_composed_tag(people):
    ticket = tickets.create(people["agent"], "Cafe printer", "d")
    assert tags.change(people["agent"], ticket.id, add=["Cafe\u0301"]) == ["caf\u00e9"]
    assert tags.change(people["agent"], ticket.id, add=["caf\u00e9"]) == ["caf\u00e9"]
    assert tags.change(people["agent"], ticket.id, remove=["CAFE\u0301"]) == []


def test_a_word_the_database_holds_as_a_tag_the_ticket_has_is_not_added_again(people):
    ticket = tickets.create(people["agent"], "Cafe printer", "d")
    tags.change(people["agent"], ticket.id, add=["café", "straße"])
    before = _entries()
    got = tags.change(people["agent"], ticket.id, add=["cafe", "strasse", "vpn"])
    if is_mysql():  # its collation equates accents and ß with ss: the ticket has those tags
        assert got == ["café", "straße", "vpn"]
        assert AuditEntry.select().order_by(AuditEntry.id.desc()).first().summary.endswith(": +vpn")
    else:
        assert got == ["cafe", "café", "strasse", "straße", "vpn"]
    assert tags.of([ticket.id])[ticket.id] == got
    assert _entries() == before + 1
    assert tags.change(people["agent"], ticket.id, add=["CAFE"]) == got  # nothing new: no entry
    assert _entries() == before + 1
