"""Issue 21: editing and deleting tickets, categories, links and merges, tags, my devices."""

import pytest

from itsm_tui.core.audit import activity
from itsm_tui.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from itsm_tui.core.inventory import devices
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store.models import (
    Attachment,
    AttachmentBlob,
    AuditEntry,
    Category,
    Comment,
    Notification,
    Ticket,
    TicketLink,
)
from itsm_tui.core.tickets import categories, links, queue, tags, timeline
from itsm_tui.core.tickets import service as tickets


def _ticket(people, title="Printer jams", requester="requester"):
    return tickets.create(people["agent"], title, "Every page", requester=requester)


def _history(people, ticket_id):
    return [e.text for e in timeline.timeline(people["admin"], ticket_id) if e.kind == "history"]


def test_edit_title_description_category_with_history_and_locking(people):
    ticket = _ticket(people)
    edited = tickets.update(
        people["agent"],
        ticket.id,
        ticket.version,
        title="Printer 3F jams",
        description="Tray 2",
        category="hardware",
    )
    assert (edited.title, edited.description, edited.category.name) == (
        "Printer 3F jams",
        "Tray 2",
        "Hardware",
    )
    assert (
        "category: General → Hardware; title: Printer jams → Printer 3F jams; description edited"
        in _history(people, ticket.id)
    )
    with pytest.raises(ConflictError):
        tickets.update(people["agent2"], ticket.id, ticket.version, title="Stale")
    with pytest.raises(ValidationError):
        tickets.update(people["agent"], ticket.id, edited.version, title="  ")
    with pytest.raises(PermissionDenied):
        tickets.update(people["requester"], ticket.id, edited.version, title="Mine")


def test_admin_deletes_a_ticket_and_the_log_keeps_number_title_requester(people):
    ticket = _ticket(people)
    tickets.comment(people["agent"], ticket.id, "Looking")
    tickets.attach(people["agent"], ticket.id, "jam.txt", b"paper")
    assert tickets.what_goes(ticket.id) == "1 comment, 1 attachment"
    with pytest.raises(PermissionDenied):
        tickets.delete(people["agent"], ticket.id, ticket.version)
    with pytest.raises(ConflictError):
        tickets.delete(people["admin"], ticket.id, ticket.version - 1)
    tickets.delete(people["admin"], ticket.id, ticket.version)
    assert not Ticket.select().where(Ticket.id == ticket.id).exists()
    assert Comment.select().count() == 0 and Attachment.select().count() == 0
    assert AttachmentBlob.select().count() == 0
    entry = AuditEntry.get((AuditEntry.entity_id == ticket.id) & (AuditEntry.action == "delete"))
    assert (
        ticket.number in entry.summary and "'Printer jams'" in entry.summary and "requester" in entry.summary
    )
    with pytest.raises(NotFound):
        tickets.get(people["admin"], ticket.number)


def test_categories_add_rename_deactivate_merge_keep_history_readable(people):
    admin = people["admin"]
    printrs = categories.add(admin, "Printrs")
    ticket = tickets.create(people["agent"], "VPN down", "Since 9", category="Printrs")
    categories.rename(admin, "printrs", "Printers")
    assert tickets.get(admin, ticket.id).category.name == "Printers"
    with pytest.raises(ValidationError, match="already exists"):
        categories.add(admin, "printers")
    with pytest.raises(PermissionDenied):
        categories.rename(people["supervisor"], "Printers", "Print")
    categories.set_active(admin, "Printers", False)
    with pytest.raises(ValidationError, match="unknown category"):
        tickets.create(people["agent"], "Another", "x", category="Printers")
    categories.set_active(admin, "Printers", True)
    edited = tickets.update(people["agent"], ticket.id, ticket.version, category="General")
    categories.rename(admin, "Printers", "Printing")
    assert any("category: Printers → General" in h for h in _history(people, ticket.id))  # the name then
    tickets.update(people["agent"], ticket.id, edited.version, category="Printing")
    categories.add(admin, "Print")
    assert categories.merge(admin, "Printing", "Print") == 1
    assert tickets.get(admin, ticket.id).category.name == "Print"
    assert "category: Printing → Print" in _history(people, ticket.id)  # the ticket's own history
    assert not Category.get_by_id(printrs.id).is_active
    with pytest.raises(ValidationError):
        categories.set_active(admin, "General", False)
    assert {c.name: n for c, n in categories.every(admin)}["Print"] == 1


def test_links_both_sides_and_open_children(people):
    parent, child, other = _ticket(people, "Outage"), _ticket(people, "No mail"), _ticket(people, "Slow")
    links.link(people["agent"], parent.id, child.number, "parent")
    links.link(people["agent"], other.id, str(parent.id), "caused_by")  # the digits, as typed
    assert [(x.words, x.other_number) for x in links.links_of(people["agent"], parent.id)] == [
        ("parent of", child.number),
        ("cause of", other.number),
    ]
    assert [(x.words, x.other_number) for x in links.links_of(people["agent"], child.id)] == [
        ("child of", parent.number)
    ]
    assert [t.id for t in links.open_children(people["agent"], parent.id)] == [child.id]
    with pytest.raises(ValidationError, match="already linked"):
        links.link(people["agent"], child.id, parent.id, "child")
    with pytest.raises(PermissionDenied):
        links.link(people["requester"], parent.id, child.id, "related")
    assert any(f"{parent.number} parent of {child.number}" in h for h in _history(people, child.id))
    link_id = links.links_of(people["agent"], parent.id)[0].id
    links.unlink(people["agent"], child.id, link_id)
    assert links.open_children(people["agent"], parent.id) == []
    logged = activity.page(people["admin"], "type:ticket").rows
    assert {"link", "unlink"} <= {row["action"] for row in logged}


def test_merge_moves_comments_and_attachments_and_closes_with_pointer(people):
    duplicate = _ticket(people, "Printer jams again", requester="requester2")
    target = _ticket(people)
    tickets.comment(people["requester2"], duplicate.id, "Still jams")
    tickets.attach(people["agent"], duplicate.id, "photo.jpg", b"jpeg")
    merged = links.merge(people["agent"], duplicate.id, duplicate.version, target.number)
    assert merged.status == "closed" and target.number in merged.resolution_note
    assert Comment.select().where(Comment.ticket == target.id).count() == 1
    assert Attachment.select().where(Attachment.ticket == target.id).count() == 1
    assert links.merged_into(duplicate.id).id == target.id
    assert [x.words for x in links.links_of(people["agent"], target.id)] == ["merged from"]
    summary = f"{duplicate.number} merged into {target.number}"
    assert any(summary in h for h in _history(people, duplicate.id))
    assert any(summary in h for h in _history(people, target.id))
    told = Notification.get(Notification.kind == "merged")
    assert (told.user_id, told.ticket_id) == (people["requester2"].id, duplicate.id)
    with pytest.raises(ValidationError, match="already merged"):
        links.merge(people["agent"], duplicate.id, merged.version, target.id)
    assert tickets.get(people["requester2"], duplicate.number).status == "closed"  # still opens
    assert TicketLink.select().count() == 1


def test_tags_change_show_and_filter(people):
    first, second = _ticket(people, "VPN"), _ticket(people, "Mail")
    assert tags.change(people["agent"], first.id, add=["VPN", "#remote"]) == ["remote", "vpn"]
    tags.change(people["agent"], second.id, add=["remote"])
    tags.change(people["agent"], first.id, remove=["remote"])
    assert tags.of([first.id, second.id]) == {first.id: ["vpn"], second.id: ["remote"]}
    with pytest.raises(ValidationError):
        tags.change(people["agent"], first.id, add=["two words"])
    with pytest.raises(PermissionDenied):
        tags.change(people["requester"], first.id, add=["mine"])
    assert [r["number"] for r in queue.iterate(people["agent"], "tag:vpn", queue.Sort.parse("number"))] == [
        first.number
    ]
    assert any("tags on" in h for h in _history(people, first.id))


def test_my_devices_and_opening_a_ticket_on_one(people, system):
    laptop = inventory.create(
        system,
        "system",
        {"hostname": "ws-7", "asset_tag": "AT-7", "type": "laptop", "assigned_user": "requester"},
    )
    inventory.create(system, "system", {"hostname": "ws-8", "asset_tag": "AT-8", "type": "laptop"})
    inventory.create(
        system, "peripheral", {"name": "Dell 24", "kind": "monitor", "asset_tag": "MN-1", "system": "ws-7"}
    )
    mine = devices.of_user(people["requester"])
    assert [(d.kind, d.name) for d in mine] == [("system", "ws-7"), ("peripheral", "Dell 24")]
    assert devices.of_user(people["agent"], people["requester"].id) == mine
    with pytest.raises(PermissionDenied):
        devices.of_user(people["requester2"], people["requester"].id)
    ticket = tickets.create(people["requester"], "Laptop slow", "Fan loud", system=laptop.id)
    assert ticket.system_id == laptop.id
    with pytest.raises(ValidationError, match="no system 'ws-8'"):  # as for one that does not exist
        tickets.create(people["requester"], "Not mine", "x", system="ws-8")
