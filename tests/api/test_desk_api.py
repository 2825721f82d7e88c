"""The rest of the desk over HTTP, on both engines: inventory, users, categories, the activity
log, analytics and exports, walking the role matrix."""

from __future__ import annotations

import csv
import io

from api_helpers import desk

from itsm_tui.core.store.models import AuditEntry
from itsm_tui.core.tickets import analytics


def test_inventory_crud_with_versions_and_stock_adjustments(desk):
    assert desk.get("requester", "/api/v1/systems").status_code == 403
    assert desk.post("agent", "/api/v1/departments", {"name": "Finance"}).status_code == 201
    net = desk.post("agent", "/api/v1/networks", {"name": "Office", "cidr": "10.1.0.0/24"}).json()
    system = {"hostname": "ws-10", "asset_tag": "A-10", "type": "desktop", "department": "Finance",
              "network": "Office", "ip": "10.1.0.10"}  # fmt: skip
    made = desk.post("agent", "/api/v1/systems", system)
    assert made.status_code == 201, made.text
    assert made.json()["network"] == net["id"] and made.headers["etag"] == '"1"'
    desk.post("agent", "/api/v1/systems", {**system, "hostname": "ws-9", "asset_tag": "A-9", "ip": None})
    names = [
        r["hostname"]
        for r in desk.get("agent", "/api/v1/systems", params={"sort": "hostname"}).json()["items"]
    ]
    assert names == ["ws-9", "ws-10"]
    page = desk.get("agent", "/api/v1/systems", params={"q": "dept:finance", "limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = desk.get("agent", "/api/v1/systems", params={"q": "dept:finance", "cursor": page["next_cursor"]})
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    path = f"/api/v1/systems/{made.json()['id']}"
    changed = desk.client.patch(
        path, json={"os": "Debian 12"}, headers=desk.headers("agent", **{"If-Match": '"1"'})
    )
    assert changed.json()["os"] == "Debian 12"
    stale = desk.client.patch(path, json={"os": "x"}, headers=desk.headers("agent2", **{"If-Match": '"1"'}))
    assert stale.status_code == 409 and "agent changed os" in stale.json()["detail"]
    bad = desk.post(
        "agent", "/api/v1/systems", {**system, "hostname": "ws-11", "asset_tag": "A-11", "ip": "nope"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "ip"
    assert desk.client.delete(path, headers=desk.headers("agent", **{"If-Match": "2"})).status_code == 200
    assert desk.get("agent", path).status_code == 404
    item = desk.post("agent", "/api/v1/stock", {"name": "Toner", "quantity": 3, "unit_price": "19.90"}).json()
    assert item["unit_price"] == "19.90"
    taken = desk.post("agent", f"/api/v1/stock/{item['id']}/adjust", {"delta": -2, "reason": "Printer 3"})
    assert taken.json()["quantity"] == 1
    refused = desk.post("agent", f"/api/v1/stock/{item['id']}/adjust", {"delta": -5, "reason": "too many"})
    assert refused.status_code == 422 and "only 1 in stock" in refused.json()["detail"]
    assert (
        desk.client.post(
            "/api/v1/departments", json={"name": "HR"}, headers=desk.headers("agent", read_only=True)
        ).status_code
        == 403
    )


def test_users_and_categories_by_role(desk):
    assert desk.get("requester", "/api/v1/users").status_code == 403
    assert "agent2" in [
        u["username"] for u in desk.get("agent", "/api/v1/users", params={"role": "agent"}).json()
    ]
    new = {"username": "newbie", "role": "requester", "email": "newbie@example.com"}
    assert desk.post("supervisor", "/api/v1/users", new).status_code == 403
    made = desk.post("admin", "/api/v1/users", new)
    assert made.status_code == 201 and "password" not in made.text
    promoted = desk.client.patch(
        "/api/v1/users/newbie",
        json={"role": "agent"},
        headers=desk.headers("admin", **{"If-Match": made.headers["etag"]}),
    )
    assert promoted.json()["role"] == "agent"
    assert desk.post("admin", "/api/v1/users", {**new, "username": "x"}).json()["field"] == "username"
    refusals = [  # the same whether or not the user exists: no list of names to be had
        desk.client.patch(
            f"/api/v1/users/{name}", json={"role": "admin"}, headers=desk.headers(who, **{"If-Match": '"1"'})
        )
        for who in ("requester", "agent")
        for name in ("agent2", "nosuchuser")
    ]
    assert [r.status_code for r in refusals] == [403] * 4
    assert refusals[0].json() == refusals[1].json() and refusals[2].json() == refusals[3].json()
    missing = desk.client.patch(
        "/api/v1/users/nosuchuser",
        json={"role": "admin"},
        headers=desk.headers("admin", **{"If-Match": '"1"'}),
    )
    assert missing.status_code == 404
    assert "General" in [c["name"] for c in desk.get("requester", "/api/v1/categories").json()]
    assert desk.post("agent", "/api/v1/categories", {"name": "Printers"}).status_code == 403
    assert desk.post("admin", "/api/v1/categories", {"name": "Printers"}).status_code == 201


def test_activity_analytics_and_streamed_exports(desk, people):
    desk.new_ticket("requester", title="Mouse broken")
    desk.new_ticket("requester2", title='=HYPERLINK("x")')
    assert desk.get("requester", "/api/v1/activity").status_code == 403
    log = desk.get("agent", "/api/v1/activity", params={"q": "type:ticket", "limit": 1}).json()
    assert log["items"][0]["entity_type"] == "ticket" and log["next_cursor"]
    assert desk.get("agent", "/api/v1/activity", params={"q": "type:user"}).json()["items"] == []
    figures = desk.get("supervisor", "/api/v1/analytics", params={"period": "7d"}).json()
    expected = analytics.figures(people["supervisor"], "7d")
    assert figures["totals"] == expected["totals"] and figures["scope"] == {"kind": "desk"}
    assert desk.get("agent", "/api/v1/analytics").json()["scope"]["kind"] == "agent"
    assert desk.get("requester", "/api/v1/analytics").status_code == 403
    for period in ("soon", "9999-12-31..9999-12-31", "0001-01-01..0001-01-01", "1900-01-01..2999-12-31"):
        answer = desk.get("supervisor", "/api/v1/analytics", params={"period": period})
        assert answer.status_code == 422 and answer.json()["field"] == "period", answer.text
    century = desk.get("supervisor", "/api/v1/analytics", params={"period": "1990-01-01..2089-12-31"})
    assert century.json()["period"]["label"] == "1990-01-01 to 2089-12-31"
    answer = desk.get("requester", "/api/v1/exports/tickets", params={"format": "csv"})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and "Mouse broken" in rows[1]  # the requester's own ticket only
    staff = list(
        csv.reader(io.StringIO(desk.get("agent", "/api/v1/exports/tickets").content.decode("utf-8-sig")))
    )
    assert any(cell.startswith("'=HYPERLINK") for row in staff for cell in row)  # a formula stays text
    pdf = desk.get("agent", "/api/v1/exports/tickets", params={"format": "pdf", "q": "mouse"})
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    assert AuditEntry.select().where(AuditEntry.action == "export").count() == 3
    assert desk.get("agent", "/api/v1/exports/tickets", params={"sort": "colour"}).status_code == 400
