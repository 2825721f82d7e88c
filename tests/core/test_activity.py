"""Tests for the activity log list (itsm_tui.core.audit.activity) on SQLite and MariaDB.

A log is written by the services themselves (tickets, inventory, logins, user administration).
Every list is compared with an independent computation in Python over the entries read back
with plain peewee.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from itsm_tui.core import clock, demo
from itsm_tui.core.audit import activity
from itsm_tui.core.errors import AuthError, NotFound, PermissionDenied, QueryError, ValidationError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import auth, users
from itsm_tui.core.store import audit
from itsm_tui.core.store.models import AuditEntry, Department, Network, StockItem, System, User
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.queue import END

BASE = datetime(2024, 3, 1, 8, 0)
NOW = datetime(2024, 3, 10, 12, 0)
PAGE = 4
D = datetime


@dataclass
class Log:
    people: dict
    ids: dict  # names of records -> their ids

    def entries(self) -> list[dict]:
        names = {u.id: u.username for u in User.select()}
        return [
            {
                "id": e.id,
                "at": e.at,
                "actor": names.get(e.actor_id),
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "entity_version": e.entity_version,
                "summary": e.summary,
                "failed": e.action == "login_failed",
                "entity_name": name_of(e.entity_type, e.entity_id),
            }
            for e in AuditEntry.select().order_by(AuditEntry.id)
        ]


NAMED = {
    "system": (System, "hostname"),
    "stock": (StockItem, "name"),
    "user": (User, "username"),
    "department": (Department, "name"),
    "network": (Network, "name"),
}


def name_of(entity_type: str, entity_id: int | None) -> str | None:
    """The record's current name, read one by one (None: no name, or no such record)."""
    if entity_type not in NAMED or entity_id is None:
        return None
    model, column = NAMED[entity_type]
    record = model.get_or_none(model.id == entity_id)
    return getattr(record, column) if record else None


def newest_first(rows: list[dict]) -> list[int]:
    return [r["id"] for r in sorted(rows, key=lambda r: (r["at"], r["id"]), reverse=True)]


def visible_to(role: str, row: dict) -> bool:
    return role in ("supervisor", "admin") or row["entity_type"] in audit.WORK_ENTITIES


@pytest.fixture
def log(engine, system, people) -> Log:
    agent, supervisor, admin = people["agent"], people["supervisor"], people["admin"]
    ids = {}
    with clock.frozen(BASE):
        dept = inventory.create(admin, "department", {"name": "Finance"})
        host = inventory.create(
            agent,
            "system",
            {"hostname": "ws-printer-01", "asset_tag": "AT-1", "type": "desktop", "department": "Finance"},
        )
        ticket = tickets.create(agent, "Printer jams", "Every job", requester="requester", system=host.id)
        item = inventory.create(agent, "stock", {"name": "Toner", "quantity": 10, "unit_price": "80"})
    ids.update(
        department=dept.id, system=host.id, ticket=ticket.id, ticket_number=ticket.number, stock=item.id
    )
    with clock.frozen(BASE + timedelta(hours=1)):  # several entries share this second
        ticket = tickets.assign(supervisor, ticket.id, ticket.version, "agent")
        tickets.comment(agent, ticket.id, "On it")
        tickets.comment(agent, ticket.id, "VIP user", internal=True)
    with clock.frozen(D(2024, 3, 3, 9, 30)):
        with pytest.raises(AuthError):
            auth.login("agent", "wrong password")
        with pytest.raises(AuthError):
            auth.login("nobody", "whatever")
        auth.login("agent", "agent-password-1")
    with clock.frozen(D(2024, 3, 5, 14, 0)):
        host = inventory.update(supervisor, "system", host.id, host.version, {"status": "in repair"})
        inventory.adjust_stock(agent, item.id, -2, "printer refill")
        second = tickets.create(people["requester"], "VPN down", "from home")
    ids["second_ticket"] = second.id
    with clock.frozen(D(2024, 3, 6, 8, 0)):
        # An entry of another type with the system's id (ids of different tables coincide).
        audit.record(
            admin,
            "update",
            "network",
            host.id,
            f"updated network #{host.id}: vlan (an old entry: vlan_id)",
            {"vlan": [10, 20]},
            entity_version=2,
        )
    with clock.frozen(D(2024, 3, 9, 23, 59)):
        requester2 = people["requester2"]
        users.update_user(admin, requester2.id, requester2.version, full_name="Requester Two")
        tickets.change_status(agent, ticket.id, ticket.version, "resolved", "Replaced the drum")
    with clock.frozen(NOW - timedelta(hours=1)):
        auth.login("supervisor", "supervisor-password-1")
        with pytest.raises(AuthError):
            auth.login("supervisor", "oops")
        tickets.comment(people["requester"], second.id, "Still down")
    with clock.frozen(NOW):
        yield Log(people, ids)


# --- rows and order ---------------------------------------------------------------------------

ROW_KEYS = [
    "id",
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "entity_version",
    "summary",
    "failed",
    "_cursor",
    "entity_name",
]


def listed(actor, text="", batch=PAGE) -> list[dict]:
    return list(activity.iterate(actor, text, batch=batch))


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_newest_first_with_every_column(log, role):
    actor = log.people[role]
    entries = log.entries()
    visible = [e for e in entries if visible_to(role, e)]
    assert 0 < len(visible) <= len(entries)
    rows = listed(actor)
    assert [r["id"] for r in rows] == newest_first(visible)
    by_id = {e["id"]: e for e in entries}
    for row in rows:
        assert list(row) == ROW_KEYS
        assert {k: v for k, v in row.items() if k != "_cursor"} == by_id[row["id"]]
        assert row["_cursor"].id == row["id"]
    assert activity.count(actor) == len(visible)


def test_the_log_is_as_designed(log):
    entries = log.entries()
    types = {e["entity_type"] for e in entries}
    assert {"ticket", "system", "stock", "department", "user"} <= types
    assert any(e["actor"] is None and e["entity_id"] is None for e in entries)  # unknown name
    assert any(e["actor"] is None and e["entity_id"] is not None for e in entries)  # wrong password
    assert len({e["at"] for e in entries}) < len(entries)  # ties in time: the id decides
    assert len({e["entity_id"] for e in entries if e["entity_id"] == log.ids["system"]}) == 1
    shared = log.ids["system"]
    assert len({e["entity_type"] for e in entries if e["entity_id"] == shared}) > 1


def test_agents_never_see_logins_or_user_administration(log):
    agent = log.people["agent"]
    rows = listed(agent)
    assert rows and all(r["entity_type"] in audit.WORK_ENTITIES for r in rows)
    assert not any(r["action"] in ("login", "login_failed") for r in rows)
    for text in ("is:login", "is:failed", "type:user", "actor:none", "action:login"):
        assert activity.count(agent, text) == 0 and activity.page(agent, text).rows == []
    assert activity.count(log.people["supervisor"], "is:login") > 0


def test_requesters_may_not_read_the_log(log):
    requester = log.people["requester"]
    some_id = log.entries()[0]["id"]
    for call in (
        lambda: activity.page(requester),
        lambda: activity.count(requester),
        lambda: activity.entry(requester, some_id),
        lambda: list(activity.iterate(requester)),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_disabled_supervisor_reads_nothing(log):
    supervisor = log.people["supervisor"]
    users.update_user(
        log.people["admin"], supervisor.id, User.get_by_id(supervisor.id).version, is_active=False
    )
    with pytest.raises(PermissionDenied):
        activity.page(supervisor)


def test_a_demoted_supervisor_loses_the_full_log_at_once(log):
    session_copy = users.by_username("supervisor")
    assert activity.count(session_copy, "is:login") > 0
    users.update_user(log.people["admin"], session_copy.id, session_copy.version, role="agent")
    assert activity.count(session_copy, "is:login") == 0


def test_work_entities_are_the_audit_ones():
    assert activity.WORK_ENTITIES == audit.WORK_ENTITIES


# --- filters ----------------------------------------------------------------------------------


def filters(log: Log) -> list[tuple[str, object]]:
    ids = log.ids
    return [
        ("actor:agent", lambda r: r["actor"] == "agent"),
        ("actor:AGENT,supervisor", lambda r: r["actor"] in ("agent", "supervisor")),
        ("actor:none", lambda r: r["actor"] is None),
        ("actor:admin,none", lambda r: r["actor"] in ("admin", None)),
        ("-actor:none", lambda r: r["actor"] is not None),
        ("-actor:agent", lambda r: r["actor"] != "agent"),
        ("action:update", lambda r: r["action"] == "update"),
        ("action:login,CREATE", lambda r: r["action"] in ("login", "create")),
        ("action:stock_adjust", lambda r: r["action"] == "stock_adjust"),
        ('action:"Stock adjusted",logged_in', lambda r: r["action"] in ("stock_adjust", "login")),
        ("-action:comment,note", lambda r: r["action"] not in ("comment", "note")),
        ("type:system", lambda r: r["entity_type"] == "system"),
        ("type:ticket,stock", lambda r: r["entity_type"] in ("ticket", "stock")),
        ("type:user", lambda r: r["entity_type"] == "user"),
        ("-type:ticket", lambda r: r["entity_type"] != "ticket"),
        (
            f"entity:{ids['ticket_number']}",
            lambda r: (r["entity_type"], r["entity_id"]) == ("ticket", ids["ticket"]),
        ),
        (
            f"entity:{ids['ticket_number'].lower()}",
            lambda r: (r["entity_type"], r["entity_id"]) == ("ticket", ids["ticket"]),
        ),
        (
            f"entity:INC{ids['second_ticket']}",
            lambda r: (r["entity_type"], r["entity_id"]) == ("ticket", ids["second_ticket"]),
        ),
        (f"entity:{ids['system']}", lambda r: r["entity_id"] == ids["system"]),
        (
            f"type:system entity:{ids['system']}",
            lambda r: (r["entity_type"], r["entity_id"]) == ("system", ids["system"]),
        ),
        (
            f"entity:{ids['stock']},{ids['ticket_number']}",
            lambda r: (
                r["entity_id"] == ids["stock"]
                or (r["entity_type"], r["entity_id"]) == ("ticket", ids["ticket"])
            ),
        ),
        (
            f"-entity:{ids['ticket_number']}",
            lambda r: (r["entity_type"], r["entity_id"]) != ("ticket", ids["ticket"]),
        ),
        ("at:2024-03-05", lambda r: D(2024, 3, 5) <= r["at"] < D(2024, 3, 6)),
        ("date:2024-03-01..2024-03-03", lambda r: D(2024, 3, 1) <= r["at"] < D(2024, 3, 4)),
        ("at:>2024-03-05", lambda r: r["at"] >= D(2024, 3, 6)),
        ("at:<2024-03-03T09:30", lambda r: r["at"] < D(2024, 3, 3, 9, 30)),
        ("at:2024-03-01T09:00", lambda r: D(2024, 3, 1, 9) <= r["at"] < D(2024, 3, 1, 9, 1)),
        ("at:today", lambda r: D(2024, 3, 10) <= r["at"] < D(2024, 3, 11)),
        ("at:yesterday", lambda r: D(2024, 3, 9) <= r["at"] < D(2024, 3, 10)),
        ("-at:<2024-03-05", lambda r: r["at"] >= D(2024, 3, 5)),
        ("is:login", lambda r: r["action"] in ("login", "login_failed")),
        ("is:failed", lambda r: r["action"] == "login_failed"),
        ("is:login,failed", lambda r: r["action"] in ("login", "login_failed")),
        ("-is:login", lambda r: r["action"] not in ("login", "login_failed")),
        ("toner", lambda r: "toner" in r["summary"].lower()),
        ('"login failed"', lambda r: "login failed" in r["summary"].lower()),
        (ids["ticket_number"], lambda r: ids["ticket_number"].lower() in r["summary"].lower()),
        ("-inc", lambda r: "inc" not in r["summary"].lower()),
        ("_", lambda r: "_" in r["summary"]),
        (
            "actor:agent type:ticket -action:comment at:<2024-03-06",
            lambda r: (
                r["actor"] == "agent"
                and r["entity_type"] == "ticket"
                and r["action"] != "comment"
                and r["at"] < D(2024, 3, 6)
            ),
        ),
        (
            "is:failed actor:none at:2024-03-03",
            lambda r: (
                r["action"] == "login_failed"
                and r["actor"] is None
                and D(2024, 3, 3) <= r["at"] < D(2024, 3, 4)
            ),
        ),
    ]


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_filters(log, role):
    actor = log.people[role]
    entries = log.entries()
    visible = [e for e in entries if visible_to(role, e)]
    problems = []
    for text, predicate in filters(log):
        expected = newest_first([e for e in visible if predicate(e)])
        # The supervisor's run checks that each case selects some but not all of the log.
        if role == "supervisor" and not 0 < len(expected) < len(visible):
            problems.append(f"{text!r}: the test log selects {len(expected)} of {len(visible)}")
            continue
        got = [r["id"] for r in listed(actor, text)]
        if got != expected:
            problems.append(f"{text!r}: listed {got}, expected {expected}")
        if activity.count(actor, text) != len(expected):
            problems.append(f"{text!r}: count {activity.count(actor, text)}, expected {len(expected)}")
    assert not problems, "\n".join(problems)


def test_every_filter_key_is_tested(log):
    keys = {text.lstrip("-").split(":")[0] for text, _ in filters(log) if ":" in text}
    assert {"actor", "action", "type", "entity", "at", "date", "is"} <= keys


def test_an_unknown_id_matches_nothing(log):
    supervisor = log.people["supervisor"]
    assert activity.count(supervisor, "entity:987654") == 0
    assert activity.count(supervisor, "entity:INC000987654") == 0


@pytest.mark.parametrize(
    "text, culprit",
    [
        ("actor:agent,ghost", "ghost"),
        ("-actor:Nobody", "Nobody"),
        ("entity:abc", "abc"),
        ("entity:12,INC12x", "INC12x"),
        ("entity:-5", "-5"),
        ("entity:99999999999", "99999999999"),
        ("is:foo", "foo"),
        ("is:login,lgoin", "lgoin"),
        ("at:2024-02-30", "2024-02-30"),
        ("at:2024-03-01,2024-03-02", "2024-03-02"),
        ("date:soon", "soon"),
    ],
)
def test_bad_values_point_at_the_value(log, text, culprit):
    supervisor = log.people["supervisor"]
    for call in (lambda: activity.count(supervisor, text), lambda: activity.page(supervisor, text)):
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.position == text.rindex(culprit), info.value


@pytest.mark.parametrize(
    "text, position",
    [
        ("colour:red", 0),
        ("vpn -status:open", 5),
        ('"unterminated', 0),
        ("actor:", 6),
        ("-", 0),
    ],
)
def test_malformed_filters_raise(log, text, position):
    with pytest.raises(QueryError) as info:
        activity.page(log.people["supervisor"], text)
    assert info.value.position == position
    if text.startswith("colour"):
        assert "actor" in info.value.message and "entity" in info.value.message


# --- paging -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "agent"])
@pytest.mark.parametrize("text", ["", "-action:comment", "type:ticket", "actor:agent,none"])
def test_keyset_pagination(log, role, text):
    actor = log.people[role]
    expected = [r["id"] for r in listed(actor, text, batch=1000)]
    assert expected == newest_first([e for e in log.entries() if e["id"] in set(expected)])
    pages = [activity.page(actor, text, limit=PAGE)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == PAGE and len(pages) < 100
        pages.append(activity.page(actor, text, after=pages[-1].last, limit=PAGE))
    assert [r["id"] for p in pages for r in p.rows] == expected
    assert activity.page(actor, text, after=pages[-1].last, limit=PAGE).rows == []

    pages = [activity.page(actor, text, before=END, limit=PAGE)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == PAGE and len(pages) < 100
        pages.append(activity.page(actor, text, before=pages[-1].first, limit=PAGE))
    assert [r["id"] for p in reversed(pages) for r in p.rows] == expected
    assert activity.page(actor, text, before=pages[-1].first, limit=PAGE).rows == []
    assert activity.count(actor, text) == len(expected)

    if len(expected) > 3 * PAGE:
        middle = activity.page(actor, text, limit=3 * PAGE).rows[2 * PAGE]
        back = activity.page(actor, text, before=middle["_cursor"], limit=PAGE)
        assert [r["id"] for r in back.rows] == expected[PAGE : 2 * PAGE] and back.has_more


def test_entries_are_labelled_by_the_records_current_name(log):
    """The Entity column names the record as it is called now (a rename shows on its older
    entries too); a deleted record falls back to its id, marked as such."""
    supervisor, admin = log.people["supervisor"], log.people["admin"]
    host = System.get_by_id(log.ids["system"])
    inventory.update(supervisor, "system", host.id, host.version, {"hostname": "ws-renamed"})
    item = StockItem.get_by_id(log.ids["stock"])
    inventory.delete(admin, "stock", item.id, item.version)
    rows = listed(supervisor)
    labels = {
        (r["entity_type"], r["entity_id"]): activity.entity_label(
            r["entity_type"], r["entity_id"], r["entity_name"]
        )
        for r in rows
    }
    assert labels[("system", host.id)] == "system ws-renamed"
    assert labels[("stock", item.id)] == f"stock #{item.id}"
    assert labels[("ticket", log.ids["ticket"])] == log.ids["ticket_number"]
    assert labels[("department", log.ids["department"])] == "department Finance"
    assert labels[("user", log.people["requester2"].id)] == "user requester2"
    unknown = next(r for r in rows if r["entity_type"] == "user" and r["entity_id"] is None)
    assert activity.entity_label(unknown["entity_type"], None, None) == "user"


# --- one entry --------------------------------------------------------------------------------


def test_entry_with_its_changes(log):
    agent = log.people["agent"]
    raw = AuditEntry.get(
        (AuditEntry.entity_type == "ticket")
        & (AuditEntry.entity_id == log.ids["ticket"])
        & (AuditEntry.actor == log.people["supervisor"].id)
    )
    found, changes = activity.entry(agent, raw.id)
    assert found.id == raw.id and found.actor.username == "supervisor"
    assert changes["assignee"] == [None, "agent"]  # the name, not the user's id
    assert set(changes) == set(map(activity.field_label, audit.changes_of(raw)))
    adjust = AuditEntry.get(AuditEntry.action == "stock_adjust")
    assert activity.entry(agent, adjust.id)[1]["quantity"] == ["10", "8"]


def test_the_log_shows_words_not_internals(people):
    agent = people["agent"]
    t = tickets.create(agent, "Slow", "d", impact="medium", urgency="medium")  # priority Medium
    t = tickets.update(agent, t.id, t.version, impact="high")
    entries = list(
        AuditEntry.select()
        .where((AuditEntry.entity_type == "ticket") & (AuditEntry.action == "update"))
        .order_by(AuditEntry.id)
    )
    words = activity.changes_in_words(entries[0])
    assert words["impact"] == ["Medium", "High"] and words["priority"] == ["Medium", "High"]
    assert not any("_" in field for field in words)  # e.g. resolution_risk_at, priority_overridden
    assert "_" not in entries[0].summary.split(":", 1)[1]  # the summary written names fields in words
    assert activity.action_label("stock_adjust") == "Stock adjusted"
    assert activity.action_label("login_failed") == "Login failed"
    assert activity.action_label("some_new_action") == "Some new action"
    away = users.create_user(people["admin"], "agent9", "agent")
    from itsm_tui.core.tickets import assignment

    assignment.set_away(away, "agent9", True)
    flag = AuditEntry.select().where(AuditEntry.entity_type == "user").order_by(AuditEntry.id.desc()).first()
    assert activity.changes_in_words(flag)["away"] == ["no", "yes"]


def test_entry_of_an_unknown_login(log):
    supervisor = log.people["supervisor"]
    unknown = AuditEntry.get((AuditEntry.action == "login_failed") & AuditEntry.entity_id.is_null())
    found, changes = activity.entry(supervisor, unknown.id)
    assert found.actor_id is None and changes == {} and "nobody" not in found.summary
    assert "unknown username (6 characters)" in found.summary  # never what was typed


def test_hidden_and_missing_entries_are_not_found(log):
    agent = log.people["agent"]
    for action in ("login", "login_failed"):
        hidden = AuditEntry.get(AuditEntry.action == action)
        with pytest.raises(NotFound):
            activity.entry(agent, hidden.id)
        assert activity.entry(log.people["admin"], hidden.id)[0].id == hidden.id
    user_entry = AuditEntry.get(AuditEntry.entity_type == "user")
    with pytest.raises(NotFound):
        activity.entry(agent, user_entry.id)
    top = max(e["id"] for e in log.entries())
    for missing in (top + 1, 0, -3, 2**40, "12"):
        with pytest.raises(NotFound):
            activity.entry(log.people["supervisor"], missing)


# --- bulk data --------------------------------------------------------------------------------


def test_seed_bulk_log(engine, system, people):
    tickets.create(people["agent"], "t", "d")
    before = AuditEntry.select().count()
    now = datetime(2025, 6, 1, 12, 0)
    with clock.frozen(now):
        assert demo.seed_bulk_log(system, 700, batch=150) == 700
    rows = list(AuditEntry.select().where(AuditEntry.id > 0).order_by(AuditEntry.id))[before:]
    assert len(rows) == 701  # and one entry recording the seeding
    generated, seed = rows[:-1], rows[-1]
    assert seed.action == "seed" and "700" in seed.summary
    assert all(now - timedelta(days=366) <= e.at <= now for e in generated)
    assert [e.at for e in generated] == sorted(e.at for e in generated)  # ids grow with time
    actions = {e.action for e in generated}
    assert {"create", "update", "comment", "login", "login_failed"} <= actions
    assert {"ticket", "system", "user"} <= {e.entity_type for e in generated}
    failed = [e for e in generated if e.action == "login_failed"]
    assert failed and all(e.actor_id is None for e in failed)
    assert any(e.entity_id is None for e in failed) and any(e.entity_id for e in failed)
    for e in generated:
        if e.changes:
            assert isinstance(json.loads(e.changes), dict)
    supervisor = people["supervisor"]
    with clock.frozen(now):
        assert activity.count(supervisor, "is:failed") == len(failed)
        assert activity.count(supervisor) == AuditEntry.select().count()
        top = activity.page(supervisor, limit=3).rows
        assert [r["id"] for r in top] == newest_first(
            [{"id": e.id, "at": e.at} for e in AuditEntry.select()]
        )[:3]


def test_seed_bulk_log_needs_the_right(engine, people):
    with pytest.raises(PermissionDenied):
        demo.seed_bulk_log(people["supervisor"], 10)
    with pytest.raises(ValidationError):
        demo.seed_bulk_log(users.system_actor(), 0)


@pytest.mark.parametrize("few", [0, activity.FEW], ids=["common-types", "rare-types"])
def test_type_filters_page_alike_whichever_index_serves_them(log, monkeypatch, few):
    """On SQLite a rare type is read through the entity index and sorted; a common one through
    the ``at`` index. Both must give the same pages."""
    monkeypatch.setattr(activity, "FEW", few)
    supervisor = log.people["supervisor"]
    for text in ("type:ticket", "type:system,stock", "type:ticket -actor:agent"):
        expected = newest_first(
            [e for e in log.entries() if e["id"] in {r["id"] for r in listed(supervisor, text, batch=1000)}]
        )
        assert listed(supervisor, text, batch=3) == listed(supervisor, text, batch=1000)
        assert [r["id"] for r in listed(supervisor, text, batch=3)] == expected
        back, cursor = [], END
        while True:
            page = activity.page(supervisor, text, before=cursor, limit=3)
            back = [r["id"] for r in page.rows] + back
            if not page.has_more:
                break
            cursor = page.first
        assert back == expected
