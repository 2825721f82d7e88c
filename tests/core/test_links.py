"""Links between tickets (issue 21): chains that may not loop, children a requester may see,
ticket references that are no ticket, and what a merge tells a requester."""

import pytest

from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.store.models import Comment, TicketLink
from itsm_tui.core.tickets import links, timeline
from itsm_tui.core.tickets import service as tickets


def _ticket(people, title, requester="requester"):
    return tickets.create(people["agent"], title, "d", requester=requester)


def test_a_requester_is_offered_only_their_own_open_children(people):
    parent = _ticket(people, "Outage")
    mine, theirs = _ticket(people, "No mail"), _ticket(people, "No VPN", requester="requester2")
    for child in (mine, theirs):
        links.link(people["agent"], parent.id, child.id, "parent")
    assert [t.id for t in links.open_children(people["agent"], parent.id)] == [mine.id, theirs.id]
    assert [t.id for t in links.open_children(people["requester"], parent.id)] == [mine.id]


@pytest.mark.parametrize("kind", ["parent", "duplicate", "caused_by"])
def test_a_chain_of_links_cannot_loop(people, kind):
    a, b, c = (_ticket(people, title) for title in ("A", "B", "C"))
    links.link(people["agent"], a.id, b.id, kind)
    links.link(people["agent"], b.id, c.id, kind)
    for source, target in ((c, a), (b, a), (c, b)):  # through another ticket, and directly
        with pytest.raises(ValidationError, match=f"{target.number} is already"):
            links.link(people["agent"], source.id, target.id, kind)
    with pytest.raises(ValidationError, match="already linked so"):
        links.link(people["agent"], a.id, b.id, kind)
    links.link(people["agent"], a.id, c.id, kind)  # a shortcut is no loop
    links.link(people["agent"], c.id, a.id, "related")  # nor is a link of another kind
    assert TicketLink.select().count() == 4


def test_a_child_cannot_be_made_the_parent_of_its_ancestor(people):
    grandparent, parent, child = (_ticket(people, title) for title in ("G", "P", "C"))
    links.link(people["agent"], grandparent.id, parent.id, "parent")
    links.link(people["agent"], child.id, parent.id, "child")  # typed from the child's side
    with pytest.raises(ValidationError, match="cannot be parent of"):
        links.link(people["agent"], grandparent.id, child.id, "child")


@pytest.mark.parametrize("ref", ["99999999999999999999999", "#12345678901234567890", 10**20, -1])
def test_a_number_no_ticket_can_have_is_not_found(people, ref):
    ticket = _ticket(people, "A")
    with pytest.raises(NotFound):
        links.link(people["agent"], ticket.id, ref, "related")
    with pytest.raises(NotFound):
        links.merge(people["agent"], ticket.id, ticket.version, ref)
    assert TicketLink.select().count() == 0


def test_a_merge_tells_a_requester_of_public_comments_only(people):
    """The merge's summary is on both tickets' history, which the requester reads: counting the
    internal notes that moved would tell them there are some."""
    duplicate, target = _ticket(people, "Printer jams again"), _ticket(people, "Printer jams")
    tickets.comment(people["requester"], duplicate.id, "Still jams")
    tickets.comment(people["agent"], duplicate.id, "Requester keeps jamming it", internal=True)
    tickets.comment(people["agent"], duplicate.id, "Their manager asked twice", internal=True)
    links.merge(people["agent"], duplicate.id, duplicate.version, target.number)
    assert Comment.select().where(Comment.ticket == target.id).count() == 3  # the notes move too
    for ticket in (duplicate, target):
        merges = [
            e.text
            for e in timeline.timeline(people["requester"], ticket.id)
            if e.kind == "history" and "merged into" in e.text
        ]
        assert merges == [
            f"{duplicate.number} merged into {target.number} (1 comment and 0 attachments moved)"
        ]
