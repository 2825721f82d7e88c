"""Issue 21 over HTTP, through the real ASGI app on both engines: delete, merge, links, tags, a
ticket's team, macros, teams and their members, categories admin, my devices."""

from __future__ import annotations

from api_helpers import desk

from itsm_tui.core.store.models import AuditEntry, Category, Comment, Ticket
from itsm_tui.core.tickets import macros
from itsm_tui.core.tickets.macros import Fields

__all__ = ["desk"]


def _send(desk, who: str, method: str, path: str, json=None, version=None):
    headers = desk.headers(who, **({"If-Match": f'"{version}"'} if version is not None else {}))
    return desk.client.request(method, path, json=json, headers=headers)


def test_admins_delete_a_ticket_and_the_log_keeps_its_number(desk):
    ticket = desk.new_ticket(title="Spam")
    path = f"/api/v1/tickets/{ticket['number']}"
    assert _send(desk, "agent", "DELETE", path, version=ticket["version"]).status_code == 403
    assert _send(desk, "admin", "DELETE", path).status_code == 428
    gone = _send(desk, "admin", "DELETE", path, version=ticket["version"])
    assert gone.status_code == 200, gone.text
    assert ticket["number"] in gone.json()["deleted"] and "requester" in gone.json()["deleted"]
    assert desk.get("admin", path).status_code == 404
    entry = AuditEntry.get((AuditEntry.action == "delete") & (AuditEntry.entity_type == "ticket"))
    assert entry.channel == "api" and ticket["number"] in entry.summary


def test_merge_moves_the_conversation_and_closes_the_duplicate(desk):
    kept, dup = desk.new_ticket(title="VPN down"), desk.new_ticket(title="VPN down again")
    desk.post("requester", f"/api/v1/tickets/{dup['number']}/comments", {"body": "still down"})
    path = f"/api/v1/tickets/{dup['number']}/merge"
    assert _send(desk, "requester", "POST", path, {"into": kept["number"]}, dup["version"]).status_code == 403
    stale = _send(desk, "agent", "POST", path, {"into": kept["number"]}, dup["version"] - 1)
    assert stale.status_code == 409
    merged = _send(desk, "agent", "POST", path, {"into": kept["number"]}, dup["version"])
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "closed" and merged.headers["etag"] == f'"{merged.json()["version"]}"'
    assert Comment.select().where(Comment.ticket == kept["id"]).count() == 1
    links = desk.get("agent", f"/api/v1/tickets/{kept['number']}/links").json()
    assert [(link["words"], link["ticket"]) for link in links] == [("merged from", dup["number"])]


def test_links_are_added_listed_and_removed_from_either_side(desk):
    parent, child = desk.new_ticket(title="Outage"), desk.new_ticket(title="My mail")
    path = f"/api/v1/tickets/{parent['number']}/links"
    assert desk.post("requester", path, {"kind": "parent", "ticket": child["number"]}).status_code == 403
    made = desk.post("agent", path, {"kind": "parent", "ticket": child["number"]})
    assert made.status_code == 201, made.text
    assert made.json()["words"] == "parent of" and made.json()["ticket"] == child["number"]
    again = desk.post("agent", path, {"kind": "parent", "ticket": child["number"]})
    assert again.status_code == 422 and again.json()["field"] == "ticket"
    seen = desk.get("agent", f"/api/v1/tickets/{child['number']}/links").json()
    assert [(link["words"], link["ticket"]) for link in seen] == [("child of", parent["number"])]
    link_id = made.json()["id"]
    assert (
        _send(desk, "agent", "DELETE", f"/api/v1/tickets/{child['number']}/links/{link_id}").status_code
        == 204
    )
    assert desk.get("agent", path).json() == []
    assert _send(desk, "agent", "DELETE", f"{path}/{link_id}").status_code == 404


def test_tags_are_set_added_removed_and_filtered_by(desk):
    ticket = desk.new_ticket()
    path = f"/api/v1/tickets/{ticket['number']}/tags"
    assert _send(desk, "requester", "PUT", path, {"tags": ["vip"]}).status_code == 403
    assert _send(desk, "agent", "PUT", path, {"tags": ["VIP", "printer"]}).json() == ["printer", "vip"]
    assert _send(desk, "agent", "PATCH", path, {"add": ["floor-2"], "remove": ["vip"]}).json() == [
        "floor-2",
        "printer",
    ]
    assert desk.get("agent", f"/api/v1/tickets/{ticket['number']}").json()["tags"] == ["floor-2", "printer"]
    assert _send(desk, "agent", "PUT", path, {"tags": ["printer"]}).json() == ["printer"]
    bad = _send(desk, "agent", "PUT", path, {"tags": ["no spaces please"]})
    assert bad.status_code == 422 and bad.json()["detail"]
    assert desk.get("agent", f"/api/v1/tickets/{ticket['number']}").json()["tags"] == ["printer"]
    found = desk.get("agent", "/api/v1/tickets", params={"q": "tag:printer"}).json()["items"]
    assert [row["number"] for row in found] == [ticket["number"]]


def test_teams_members_and_a_tickets_team(desk):
    assert desk.post("agent", "/api/v1/teams", {"name": "Network"}).status_code == 403
    assert desk.post("admin", "/api/v1/teams", {"name": "Network"}).status_code == 201
    member = "/api/v1/teams/Network/members/agent"
    assert _send(desk, "agent", "PUT", member).status_code == 403
    assert _send(desk, "admin", "PUT", member).status_code == 204
    assert _send(desk, "admin", "PUT", "/api/v1/teams/Network/members/requester").status_code == 422
    assert desk.get("agent", "/api/v1/teams").json() == [
        {"name": "Network", "members": ["agent"], "assignment": None}
    ]
    assert desk.get("requester", "/api/v1/teams").status_code == 403
    ticket = desk.new_ticket()
    path = f"/api/v1/tickets/{ticket['number']}/team"
    moved = _send(desk, "agent", "PUT", path, {"team": "network"}, ticket["version"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["team"] == "Network"
    assert _send(desk, "agent", "PUT", path, {"team": "Nope"}, moved.json()["version"]).status_code == 404
    assert _send(desk, "admin", "DELETE", member).status_code == 204
    assert _send(desk, "admin", "DELETE", member).status_code == 404


def test_macros_are_listed_and_applied_with_the_version(desk, people):
    macros.create(people["admin"], "Fixed", "Fixed, {requester}.", fields=Fields(status="resolved"))
    assert desk.get("requester", "/api/v1/macros").status_code == 403
    listed = desk.get("agent", "/api/v1/macros").json()
    assert [(m["name"], m["team"]) for m in listed] == [("Fixed", None)]
    assert "Resolved" in listed[0]["does"]
    ticket = desk.new_ticket()
    path = f"/api/v1/tickets/{ticket['number']}/macro"
    assert _send(desk, "agent", "POST", path, {"macro": "Fixed"}).status_code == 428
    done = _send(desk, "agent", "POST", path, {"macro": "fixed"}, ticket["version"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved" and done.json()["resolution_note"].startswith("Fixed, ")
    assert _send(desk, "agent", "POST", path, {"macro": "Nope"}, done.json()["version"]).status_code == 404


def test_admins_add_rename_deactivate_and_merge_categories(desk):
    assert desk.post("admin", "/api/v1/categories", {"name": "Printers"}).status_code == 201
    assert desk.post("admin", "/api/v1/categories", {"name": "Printing"}).status_code == 201
    ticket = desk.new_ticket(category="Printers")
    assert _send(desk, "agent", "PATCH", "/api/v1/categories/Printers", {"name": "X"}).status_code == 403
    renamed = _send(desk, "admin", "PATCH", "/api/v1/categories/printers", {"name": "Print queue"})
    assert renamed.json() == {"name": "Print queue", "active": True, "tickets": None}
    assert desk.get("agent", f"/api/v1/tickets/{ticket['number']}").json()["category"] == "Print queue"
    moved = desk.post("admin", "/api/v1/categories/Print queue/merge", {"into": "Printing"})
    assert moved.json() == {"moved": 1}
    assert Ticket.get_by_id(ticket["id"]).category.name == "Printing"
    off = _send(desk, "admin", "PATCH", "/api/v1/categories/Printing", {"active": False})
    assert off.json()["active"] is False
    assert "Printing" not in [c["name"] for c in desk.get("agent", "/api/v1/categories").json()]
    every = {c["name"]: c for c in desk.get("admin", "/api/v1/categories?all=true").json()}
    assert every["Printing"] == {"name": "Printing", "active": False, "tickets": 1}
    assert desk.get("agent", "/api/v1/categories?all=true").status_code == 403
    assert _send(desk, "admin", "PATCH", "/api/v1/categories/Nope", {"active": False}).status_code == 404
    assert Category.select().where(Category.name == "Print queue").get().is_active is False


def test_my_devices_are_the_systems_assigned_to_me(desk):
    system = {"hostname": "ws-7", "asset_tag": "AT-7", "type": "laptop", "assigned_user": "requester"}
    made = desk.post("agent", "/api/v1/systems", system)
    assert made.status_code == 201, made.text
    assert desk.get("requester", "/api/v1/me/devices").json() == [
        {"kind": "system", "id": made.json()["id"], "asset_tag": "AT-7", "name": "ws-7", "detail": "laptop"}
    ]
    assert desk.get("requester2", "/api/v1/me/devices").json() == []
    mine = desk.new_ticket("requester", system="AT-7")
    assert mine["system"] == "ws-7"
    screen = {"name": "Screen 7", "asset_tag": "AT-70", "kind": "monitor", "system": "ws-7"}
    assert desk.post("agent", "/api/v1/peripherals", screen).status_code == 201
    assert desk.new_ticket("requester", peripheral="AT-70")["peripheral"] == "Screen 7"
    assert desk.new_ticket("agent", requester="requester2", system="ws-7")["system"] == "ws-7"
    theirs = {**system, "hostname": "ws-8", "asset_tag": "AT-8", "assigned_user": "requester2"}
    assert desk.post("agent", "/api/v1/systems", theirs).status_code == 201
    # Someone else's device is as unknown to a requester as one that does not exist.
    for fields, detail in (
        ({"system": "ws-7"}, "no system 'ws-7'"),
        ({"system": "ws-nope"}, "no system 'ws-nope'"),
        ({"peripheral": "AT-70"}, "no peripheral 'AT-70'"),
        ({"system": "ws-8", "peripheral": "AT-70"}, "no peripheral 'AT-70'"),  # on someone else's system
    ):
        answer = desk.post("requester2", "/api/v1/tickets", {"title": "x", "description": "y", **fields})
        assert (answer.status_code, answer.json()["detail"]) == (422, detail)
