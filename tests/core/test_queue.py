"""Tests for the ticket list (itsm_tui.core.tickets.queue) against real data on SQLite and MariaDB.

A desk of 42 tickets is made through the services. Every result of the queue is compared with
an independent computation in Python over all tickets read back with plain peewee.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import PermissionDenied, QueryError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store.models import (
    OPEN_STATUSES,
    STATUSES,
    Category,
    Department,
    Peripheral,
    System,
    Ticket,
    User,
    ticket_number,
)
from itsm_tui.core.tickets import categories, queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.query import parse
from itsm_tui.core.tickets.queue import Sort

N = 42  # a multiple of the page size: the last page of the unfiltered list is full
PAGE = 7
BASE = datetime(2024, 3, 1, 8, 0, 0)
SAME_CREATED = {11: 10, 12: 10, 21: 20}  # ticket index -> index whose creation time it shares


def created_at(i: int) -> datetime:
    return BASE + timedelta(hours=6 * SAME_CREATED.get(i, i))


NOW = created_at(30) + timedelta(days=3)  # ticket 30 is exactly 3 days old

TITLES = [
    "VPN down",
    "Laptop will not boot",
    "Disk 100% full",
    "Disk 1000 errors",
    "printer jam",
    "Printer jam",
    "Share 50_50 split",
    "Share 50x50 split",
    "Outlook asks for password",
    "VPN down",
    "Excel crashes",
    "Monitor flickers",
    "Wifi drops in room 3",
    "Account locked",
    "Écran noir au démarrage",
    "New starter accounts",
    "Toner order",
    "Zebra label printer",
    "apple keyboard missing keys",
    "Cannot reach intranet",
    "Slow file share",
    "MFA token lost",
    "Teams camera broken",
    "Switch port flapping",
    "Docking station dead",
    "Update failed",
    "Access to Finance share",
    "Password reset",
    "Server fans loud",
    "Visio install",
    "Meeting room screen",
    "Badge reader offline",
    "Phone has no dial tone",
    "Backup job failed",
    "Mailbox full",
    "vpn slow from hotel",
    "Licence expired",
    "Mouse not working",
    "Projector bulb",
    "Request loaner laptop",
    "Shared calendar missing",
    "Webcam blurry",
]
REQUESTERS = ["alice", "bob", "carol", "dave", "requester", "requester2", "alice"]
CATEGORIES = ["Hardware", "Software", "Network", "Access", "General", "printers", "Écrans"]
ASSIGNEES = [None, "agent", "agent2", "supervisor", "agent"]
STATUS_PATHS = [
    [],
    ["in_progress"],
    ["waiting_on_user"],
    ["in_progress", "waiting_on_vendor"],
    ["resolved"],
    ["in_progress", "resolved", "closed"],
    ["in_progress"],
    [],
]
DESCRIPTIONS = {
    6: "The kerberos ticket expired overnight.",
    13: "User says KERBEROS fails too.",
    22: "The ÉCRAN of the laptop stays black.",
    31: "Nothing about 100 per cent here, just 1000 log lines.",
}
SYSTEM_LINKS = {3: "ws", 17: "ws", 8: "db", 25: "db"}
PERIPHERAL_LINKS = {8, 20}
SOURCE_NUMBERS = {7: "OLD-4471"}
PRIORITY_OVERRIDES = {9: 1}


@dataclass
class Row:
    """One ticket as read back with plain peewee, with its related names."""

    id: int
    title: str
    description: str
    source: str | None
    status: str
    priority: int
    category: str
    requester: str
    dept: str | None
    assignee: str | None
    hostname: str | None
    system_tag: str | None
    peripheral_tag: str | None
    created: datetime
    updated: datetime
    resolved: datetime | None
    due: datetime


@dataclass
class Desk:
    ids: list[int]  # ticket ids in creation order (index i -> ticket i)
    people: dict
    engine: str

    def rows(self) -> list[Row]:
        return snapshot()

    def collate(self, text: str) -> str:
        """The sort key the engine's text collation implies (binary on SQLite,
        utf8mb4_unicode_ci on MariaDB: case- and accent-insensitive)."""
        if self.engine.startswith("sqlite"):
            return text
        decomposed = unicodedata.normalize("NFD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def snapshot() -> list[Row]:
    people = {u.id: u for u in User.select()}
    depts = {d.id: d.name for d in Department.select()}
    cats = {c.id: c.name for c in Category.select()}
    systems = {s.id: s for s in System.select()}
    peripherals = {p.id: p for p in Peripheral.select()}
    rows = []
    for t in Ticket.select().order_by(Ticket.id).dicts():
        requester = people[t["requester"]]
        system = systems.get(t["system"])
        rows.append(
            Row(
                id=t["id"],
                title=t["title"],
                description=t["description"],
                source=t["source_number"],
                status=t["status"],
                priority=t["priority"],
                category=cats[t["category"]],
                requester=requester.username,
                dept=depts.get(requester.department_id),
                assignee=people[t["assignee"]].username if t["assignee"] else None,
                hostname=system.hostname if system else None,
                system_tag=system.asset_tag if system else None,
                peripheral_tag=peripherals[t["peripheral"]].asset_tag if t["peripheral"] else None,
                created=t["created_at"],
                updated=t["updated_at"],
                resolved=t["resolved_at"],
                due=t["resolution_due"],
            )
        )
    return rows


@pytest.fixture
def desk(engine, system, people) -> Desk:
    agent, supervisor = people["agent"], people["supervisor"]
    with clock.frozen(BASE - timedelta(days=30)):
        for name in ("Finance", "Électronique", "Sales", "Legal"):
            inventory.create(system, "department", {"name": name})
        users.create_user(system, "alice", "requester", department="Finance")
        users.create_user(system, "bob", "requester", department="Électronique")
        users.create_user(system, "carol", "requester", department="Sales")
        users.create_user(system, "dave", "requester")
        requester = people["requester"]
        users.update_user(system, requester.id, requester.version, department="Finance")
        categories.add(system, "printers")
        categories.add(system, "Écrans")
        assets = {
            "ws": inventory.create(
                system, "system", {"hostname": "ws-001", "asset_tag": "at-1001", "type": "desktop"}
            ),
            "db": inventory.create(
                system, "system", {"hostname": "srv-db1", "asset_tag": "AT-2002", "type": "server"}
            ),
        }
        inventory.create(system, "system", {"hostname": "spare-01", "asset_tag": "AT-9999", "type": "laptop"})
        printer = inventory.create(
            system, "peripheral", {"name": "Printer 3F", "kind": "printer", "asset_tag": "PR-3001"}
        )
    ids = []
    for i in range(N):
        start = created_at(i)
        with clock.frozen(start):
            ticket = tickets.create(
                agent,
                TITLES[i],
                DESCRIPTIONS.get(i, f"Details of case {i}."),
                category=CATEGORIES[i % 7],
                impact=i % 3 + 1,
                urgency=i // 3 % 3 + 1,
                requester="agent" if i == 5 else REQUESTERS[i % 7],
            )
        ids.append(ticket.id)
        if ASSIGNEES[i % 5]:
            with clock.frozen(start + timedelta(minutes=30)):
                ticket = tickets.assign(supervisor, ticket.id, ticket.version, ASSIGNEES[i % 5])
        with clock.frozen(start + timedelta(minutes=60)):
            for status in STATUS_PATHS[i % 8]:
                note = "Fixed." if status == "resolved" else None
                ticket = tickets.change_status(agent, ticket.id, ticket.version, status, note)
        changes = {}
        if i in SYSTEM_LINKS:
            changes["system"] = assets[SYSTEM_LINKS[i]].id
        if i in PERIPHERAL_LINKS:
            changes["peripheral"] = printer.id
        if i in PRIORITY_OVERRIDES:
            changes["priority"] = PRIORITY_OVERRIDES[i]
        if changes:
            with clock.frozen(start + timedelta(minutes=90)):
                ticket = tickets.update(agent, ticket.id, ticket.version, **changes)
    for i, number in SOURCE_NUMBERS.items():  # no service sets it yet (imports will)
        Ticket.update(source_number=number).where(Ticket.id == ids[i]).execute()
    with clock.frozen(NOW):
        yield Desk(ids, people, engine)


# --- helpers ------------------------------------------------------------------------------


def text_has(row: Row, needle: str) -> bool:
    needle = needle.casefold()
    return any(needle in (field or "").casefold() for field in (row.title, row.description, row.source))


def age(row: Row) -> timedelta:
    return NOW - row.created


def between(moment: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    """A moment never reached (resolved_at of an open ticket) is in no span."""
    return moment is not None and (start is None or moment >= start) and (end is None or moment < end)


D = datetime
DAY = timedelta(days=1)

# group -> [(query, predicate(row) as seen by the agent)]
FILTERS = {
    "status": [
        ("status:new", lambda r: r.status == "new"),
        ("status:open", lambda r: r.status in OPEN_STATUSES),
        ("status:waiting", lambda r: r.status in ("waiting_on_user", "waiting_on_vendor")),
        ("st:Resolved,CLOSED", lambda r: r.status in ("resolved", "closed")),
        (
            "status:in-progress,waiting",
            lambda r: r.status in ("in_progress", "waiting_on_user", "waiting_on_vendor"),
        ),
    ],
    "priority": [
        ("priority:critical", lambda r: r.priority == 1),
        ("prio:high,low", lambda r: r.priority in (2, 4)),
        ("p:3", lambda r: r.priority == 3),
        ("p:crit,med", lambda r: r.priority in (1, 3)),
    ],
    "category": [
        ("category:hardware", lambda r: r.category == "Hardware"),
        ("cat:NETWORK,Printers", lambda r: r.category in ("Network", "printers")),
        ("cat:Écrans", lambda r: r.category == "Écrans"),
        ("cat:écrans", lambda r: r.category == "Écrans"),
        ("cat:ÉCRANS", lambda r: r.category == "Écrans"),
    ],
    "assignee": [
        ("assignee:me", lambda r: r.assignee == "agent"),
        ("assignee:unassigned", lambda r: r.assignee is None),
        ("assigned:none", lambda r: r.assignee is None),
        ("assignee:AGENT2", lambda r: r.assignee == "agent2"),
        ("assignee:me,unassigned", lambda r: r.assignee in ("agent", None)),
        ("assignee:agent2,supervisor", lambda r: r.assignee in ("agent2", "supervisor")),
    ],
    "requester": [
        ("requester:alice", lambda r: r.requester == "alice"),
        ("req:Alice,bob", lambda r: r.requester in ("alice", "bob")),
        ("requester:me", lambda r: r.requester == "agent"),
        ("requester:me,dave", lambda r: r.requester in ("agent", "dave")),
    ],
    "department": [
        ("department:finance", lambda r: r.dept == "Finance"),
        ("dept:FINANCE,sales", lambda r: r.dept in ("Finance", "Sales")),
        ("dept:Électronique", lambda r: r.dept == "Électronique"),
        ("dept:électronique", lambda r: r.dept == "Électronique"),
        ("dept:ÉLECTRONIQUE", lambda r: r.dept == "Électronique"),
        ("dept:legal", lambda r: False),
    ],
    "asset": [
        ("asset:ws-001", lambda r: r.hostname == "ws-001"),
        ("asset:WS-001", lambda r: r.hostname == "ws-001"),
        ("asset:at-1001", lambda r: r.system_tag == "AT-1001"),
        ("asset:pr-3001", lambda r: r.peripheral_tag == "PR-3001"),
        ("asset:srv-db1,PR-3001", lambda r: r.hostname == "srv-db1" or r.peripheral_tag == "PR-3001"),
        ("asset:spare-01", lambda r: False),
    ],
    "created": [
        ("created:2024-03-05", lambda r: between(r.created, D(2024, 3, 5), D(2024, 3, 6))),
        ("created:2024-03-03..2024-03-06", lambda r: between(r.created, D(2024, 3, 3), D(2024, 3, 7))),
        ("created:>2024-03-09", lambda r: r.created >= D(2024, 3, 10)),
        ("created:<=2024-03-02", lambda r: r.created < D(2024, 3, 3)),
        ("created:<2024-03-02", lambda r: r.created < D(2024, 3, 2)),
        ("created:2024-03-05T14:00", lambda r: r.created == D(2024, 3, 5, 14)),
        ("created:<2024-03-05T14:00", lambda r: r.created < D(2024, 3, 5, 14)),  # end excluded
        ("created:2024-03-05T13:59..2024-03-05T13:59", lambda r: False),
        ("created:>=2024-03-03T20:00", lambda r: r.created >= D(2024, 3, 3, 20)),
        ("created:yesterday", lambda r: between(r.created, D(2024, 3, 10), D(2024, 3, 11))),
        ("created:..2024-03-01", lambda r: r.created < D(2024, 3, 2)),
    ],
    "updated": [
        ("updated:today", lambda r: between(r.updated, D(2024, 3, 11), D(2024, 3, 12))),
        ("updated:2024-03-04..2024-03-04", lambda r: between(r.updated, D(2024, 3, 4), D(2024, 3, 5))),
        ("updated:<2024-03-03", lambda r: r.updated < D(2024, 3, 3)),
        ("updated:2024-03-03T09:30", lambda r: r.updated == D(2024, 3, 3, 9, 30)),
        ("updated:<2024-03-03T09:30", lambda r: r.updated < D(2024, 3, 3, 9, 30)),
    ],
    "resolved": [
        ("resolved:2024-03-06", lambda r: between(r.resolved, D(2024, 3, 6), D(2024, 3, 7))),
        ("resolved:2024-03-03..2024-03-06", lambda r: between(r.resolved, D(2024, 3, 3), D(2024, 3, 7))),
        ("resolved:<2024-03-04", lambda r: between(r.resolved, None, D(2024, 3, 4))),
        ("resolved:>=-3d", lambda r: between(r.resolved, D(2024, 3, 8), None)),
        ("-resolved:2024-03-06", lambda r: not between(r.resolved, D(2024, 3, 6), D(2024, 3, 7))),
    ],
    "age": [
        # AgeRange: the age must be >= min and < max (ticket 30 is exactly 3 days old).
        ("age:>3d", lambda r: age(r) >= 3 * DAY),
        ("age:<3d", lambda r: age(r) < 3 * DAY),
        ("age:>=1w", lambda r: age(r) >= 7 * DAY),
        ("age:2d..5d", lambda r: 2 * DAY <= age(r) < 5 * DAY),
        ("age:<7h", lambda r: age(r) < timedelta(hours=7)),
        ("age:>72h", lambda r: age(r) >= 3 * DAY),
    ],
    "text": [
        ("vpn", lambda r: text_has(r, "vpn")),
        ("VPN down", lambda r: text_has(r, "vpn") and text_has(r, "down")),
        ('"vpn down"', lambda r: text_has(r, "vpn down")),
        ("kerberos", lambda r: text_has(r, "kerberos")),
        ("old-4471", lambda r: r.source == "OLD-4471"),
        ("écran", lambda r: text_has(r, "écran")),
        ("ÉCRAN", lambda r: text_has(r, "écran")),
    ],
    "negation": [
        ("-assignee:agent", lambda r: r.assignee != "agent"),
        ("-assignee:unassigned", lambda r: r.assignee is not None),
        ("-assignee:me,agent2", lambda r: r.assignee not in ("agent", "agent2")),
        ("-status:closed", lambda r: r.status != "closed"),
        ("-status:open", lambda r: r.status not in OPEN_STATUSES),
        ("-priority:critical,high", lambda r: r.priority not in (1, 2)),
        ("-cat:hardware", lambda r: r.category != "Hardware"),
        ("-requester:alice", lambda r: r.requester != "alice"),
        ("-dept:finance", lambda r: r.dept != "Finance"),
        ("-asset:ws-001", lambda r: r.hostname != "ws-001"),
        ("-asset:pr-3001", lambda r: r.peripheral_tag != "PR-3001"),
        ("-vpn", lambda r: not text_has(r, "vpn")),
        ("-kerberos", lambda r: not text_has(r, "kerberos")),
        ("-age:>3d", lambda r: age(r) < 3 * DAY),
        ("-created:2024-03-05", lambda r: not between(r.created, D(2024, 3, 5), D(2024, 3, 6))),
    ],
    "combined": [
        (
            "status:open prio:critical,high -assignee:unassigned",
            lambda r: r.status in OPEN_STATUSES and r.priority in (1, 2) and r.assignee is not None,
        ),
        (
            "cat:network vpn age:>2d",
            lambda r: r.category == "Network" and text_has(r, "vpn") and age(r) >= 2 * DAY,
        ),
        (
            "dept:finance -status:closed assignee:agent,agent2",
            lambda r: r.dept == "Finance" and r.status != "closed" and r.assignee in ("agent", "agent2"),
        ),
        (
            "-assignee:agent -assignee:unassigned status:open",
            lambda r: r.assignee not in ("agent", None) and r.status in OPEN_STATUSES,
        ),
        (
            "requester:alice,bob cat:hardware,software,écrans -status:resolved,closed",
            lambda r: (
                r.requester in ("alice", "bob")
                and r.category in ("Hardware", "Software", "Écrans")
                and r.status not in ("resolved", "closed")
            ),
        ),
        (
            "created:2024-03-02..2024-03-08 -age:<5d -vpn priority:3,4",
            lambda r: (
                between(r.created, D(2024, 3, 2), D(2024, 3, 9))
                and age(r) >= 5 * DAY
                and not text_has(r, "vpn")
                and r.priority in (3, 4)
            ),
        ),
    ],
}
EMPTY_ON_PURPOSE = {"dept:legal", "asset:spare-01", "created:2024-03-05T13:59..2024-03-05T13:59"}


def listed_ids(actor, text, sort=Sort("number", False), batch=5) -> list[int]:
    return [row["id"] for row in queue.iterate(actor, text, sort, batch=batch)]


def check_filters(desk: Desk, actor, cases) -> list[str]:
    rows = desk.rows()
    problems = []
    for text, predicate in cases:
        expected = [r.id for r in rows if predicate(r)]
        if text not in EMPTY_ON_PURPOSE and not 0 < len(expected) < len(rows):
            problems.append(f"{text!r}: the test data selects {len(expected)} of {len(rows)} tickets")
            continue
        got = listed_ids(actor, text)
        if got != expected:
            problems.append(f"{text!r}: listed {got}, expected {expected}")
        counted = queue.count(actor, text)
        if counted != len(got) or counted != len(expected):
            problems.append(f"{text!r}: count {counted}, listed {len(got)}, expected {len(expected)}")
    return problems


# --- filters ------------------------------------------------------------------------------


def test_desk_is_as_designed(desk):
    rows = desk.rows()
    assert len(rows) == N
    assert {r.status for r in rows} == set(STATUSES)
    assert {r.priority for r in rows} == {1, 2, 3, 4}
    assert {r.assignee for r in rows} == {None, "agent", "agent2", "supervisor"}
    assert len({r.created for r in rows}) < N and len({r.updated for r in rows}) < N
    assert [r.created for r in rows if r.id == desk.ids[30]] == [NOW - 3 * DAY]
    assert queue.count(desk.people["agent"]) == N
    assert listed_ids(desk.people["agent"], None) == [r.id for r in rows]
    assert listed_ids(desk.people["agent"], "   ") == [r.id for r in rows]


@pytest.mark.parametrize("group", list(FILTERS))
def test_filter(desk, group):
    problems = check_filters(desk, desk.people["agent"], FILTERS[group])
    assert not problems, "\n".join(problems)


def test_me_is_the_actor(desk):
    """``me`` resolves to whoever asks, not to a fixed user."""
    problems = check_filters(
        desk,
        desk.people["agent2"],
        [
            ("assignee:me", lambda r: r.assignee == "agent2"),
            ("-assignee:me", lambda r: r.assignee != "agent2"),
        ],
    )
    problems += check_filters(
        desk,
        desk.people["supervisor"],
        [
            ("assignee:me,unassigned", lambda r: r.assignee in ("supervisor", None)),
        ],
    )
    assert not problems, "\n".join(problems)


def test_text_finds_ticket_numbers(desk):
    agent = desk.people["agent"]
    target = desk.ids[12]
    for text in (ticket_number(target), ticket_number(target).lower()):
        assert listed_ids(agent, text) == [target], text
        assert queue.count(agent, text) == 1, text
    # Only our own format is our number: INC0000013 is another system's (ServiceNow's seven
    # digits), INC13 no number at all.
    for text in (f"INC{target}", f"INC{target:07d}", f"INC{target:010d}"):
        assert listed_ids(agent, text) == [], text
    others = [i for i in desk.ids if i != target]
    assert listed_ids(agent, f"-{ticket_number(target)}") == others
    assert listed_ids(agent, f"{ticket_number(target)} status:closed") == (
        [target] if Ticket.get_by_id(target).status == "closed" else []
    )
    missing = max(desk.ids) + 1000
    assert listed_ids(agent, ticket_number(missing)) == []
    assert queue.count(agent, ticket_number(missing)) == 0


def test_text_treats_like_wildcards_literally(desk):
    agent = desk.people["agent"]
    rows = {r.title: r.id for r in desk.rows()}
    assert listed_ids(agent, "100%") == [rows["Disk 100% full"]]
    assert listed_ids(agent, '"disk 100%"') == [rows["Disk 100% full"]]
    assert listed_ids(agent, "50_50") == [rows["Share 50_50 split"]]
    assert listed_ids(agent, "%") == [rows["Disk 100% full"]]
    assert listed_ids(agent, "_") == [rows["Share 50_50 split"]]
    assert queue.count(agent, "100%") == 1 and queue.count(agent, "_") == 1
    # and without the wildcard both disks match
    assert listed_ids(agent, "disk 100") == [rows["Disk 100% full"], rows["Disk 1000 errors"]]
    assert listed_ids(agent, r"\%") == []  # a backslash is literal too, not an escape


def test_age_follows_the_clock(desk):
    agent = desk.people["agent"]
    rows = desk.rows()
    for moment in (NOW, NOW + 10 * DAY, created_at(41)):
        with clock.frozen(moment):
            expected = [r.id for r in rows if moment - r.created >= 3 * DAY]
            assert listed_ids(agent, "age:>3d") == expected, moment
            assert queue.count(agent, "age:>3d") == len(expected)


# --- sorting and keyset pagination ------------------------------------------------------

SORT_KEYS = {
    "number": lambda desk, r: r.id,
    "priority": lambda desk, r: r.priority,
    "status": lambda desk, r: STATUSES.index(r.status),
    "title": lambda desk, r: desk.collate(r.title),
    "requester": lambda desk, r: desk.collate(r.requester),
    "assignee": lambda desk, r: desk.collate(r.assignee or ""),
    "category": lambda desk, r: desk.collate(r.category),
    "created": lambda desk, r: r.created,
    "updated": lambda desk, r: r.updated,
    "due": lambda desk, r: r.due,
}


def expected_order(desk: Desk, rows: list[Row], sort: Sort) -> list[int]:
    key = SORT_KEYS[sort.key]
    ordered = sorted(rows, key=lambda r: (key(desk, r), r.id), reverse=sort.descending)
    return [r.id for r in ordered]


def read_forward(actor, text, sort, size=PAGE) -> tuple[list[dict], list[queue.Page]]:
    pages = [queue.page(actor, text, sort, limit=size)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == size
        assert len(pages) <= N, "pagination does not end"
        pages.append(queue.page(actor, text, sort, after=pages[-1].last, limit=size))
    return [row for p in pages for row in p.rows], pages


def read_backward(actor, text, sort, size=PAGE) -> tuple[list[dict], list[queue.Page]]:
    pages = [queue.page(actor, text, sort, before=queue.END, limit=size)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == size
        assert len(pages) <= N, "pagination does not end"
        pages.append(queue.page(actor, text, sort, before=pages[-1].first, limit=size))
    return [row for p in reversed(pages) for row in p.rows], pages


def test_sort_keys_are_all_tested():
    assert set(SORT_KEYS) == set(queue.SORTS)


PAGED_FILTERS = ("", "status:open -assignee:agent", "-vpn prio:2,3,4")


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", list(queue.SORTS))
def test_keyset_pagination(desk, key, descending):
    agent = desk.people["agent"]
    sort = Sort(key, descending)
    everything = desk.rows()
    by_id = {r.id: r for r in everything}
    for text in PAGED_FILTERS:
        matching = everything if not text else [by_id[i] for i in listed_ids(agent, text)]
        expected = expected_order(desk, matching, sort)
        assert 0 < len(expected)

        forward, pages = read_forward(agent, text, sort)
        assert [row["id"] for row in forward] == expected, f"forward {text!r}"
        assert pages[-1].has_more is False and len(pages) == -(-len(expected) // PAGE)
        assert all(p.has_more for p in pages[:-1])
        beyond = queue.page(agent, text, sort, after=pages[-1].last, limit=PAGE)
        assert beyond.rows == [] and beyond.has_more is False

        backward, pages = read_backward(agent, text, sort)
        assert [row["id"] for row in backward] == expected, f"backward {text!r}"
        assert pages[-1].has_more is False and all(p.has_more for p in pages[:-1])
        assert len(pages[0].rows) == min(PAGE, len(expected))
        before_first = queue.page(agent, text, sort, before=pages[-1].first, limit=PAGE)
        assert before_first.rows == [] and before_first.has_more is False

        assert [row["id"] for row in queue.iterate(agent, text, sort, batch=PAGE)] == expected
        assert queue.count(agent, text) == len(expected)

        # A page read backwards from the middle ends where the forward page before it ends.
        middle = forward[2 * PAGE : 3 * PAGE]
        if middle:
            back = queue.page(agent, text, sort, before=middle[0]["_cursor"], limit=PAGE)
            assert [row["id"] for row in back.rows] == expected[PAGE : 2 * PAGE]
            assert back.has_more is True


def test_one_big_page_and_the_default_sort(desk):
    agent = desk.people["agent"]
    rows = desk.rows()
    result = queue.page(agent, limit=N + 5)
    assert [row["id"] for row in result.rows] == expected_order(desk, rows, Sort("updated", True))
    assert result.has_more is False
    exact = queue.page(agent, limit=N)
    assert len(exact.rows) == N and exact.has_more is False
    short = queue.page(agent, limit=N - 1)
    assert len(short.rows) == N - 1 and short.has_more is True


def test_page_rows_carry_the_ticket_columns(desk):
    agent = desk.people["agent"]
    by_id = {r.id: r for r in desk.rows()}
    rows, _ = read_forward(agent, None, Sort("number", False))
    assert len(rows) == N
    for row in rows:
        expected = by_id[row["id"]]
        assert row["number"] == ticket_number(expected.id)
        assert (row["title"], row["status"], row["priority"]) == (
            expected.title,
            expected.status,
            expected.priority,
        )
        assert (row["category"], row["requester"], row["assignee"]) == (
            expected.category,
            expected.requester,
            expected.assignee,
        )
        assert (row["created_at"], row["updated_at"], row["resolution_due"]) == (
            expected.created,
            expected.updated,
            expected.due,
        )
        assert row["_cursor"] == queue.Cursor(expected.id, expected.id)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, culprit",
    [
        ("status:open category:nosuch", "nosuch"),
        ("cat:hardware,Nosuch", "Nosuch"),
        ('-cat:"no such thing"', '"no such thing"'),
        ("assignee:agent,ghost", "ghost"),
        ("assignee:me,ghost", "ghost"),
        ("requester:ghost", "ghost"),
        ("req:me,unassigned", "unassigned"),  # only assignee knows 'unassigned'
        ("department:finance,nowhere", "nowhere"),
        ("dept:Finance dept:Atlantis", "Atlantis"),
        ("asset:ws-001,nothing", "nothing"),
        ("vpn -asset:XX-0000", "XX-0000"),
    ],
)
def test_unknown_names_point_at_the_value(desk, text, culprit):
    agent = desk.people["agent"]
    for call in (
        lambda: queue.count(agent, text),
        lambda: queue.page(agent, text),
        lambda: list(queue.iterate(agent, text)),
    ):
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.position == text.rindex(culprit), info.value


@pytest.mark.parametrize(
    "text, position",
    [
        ("status:bogus", 7),
        ("prio:urgent", 5),
        ('vpn "down', 4),
        ("colour:red", 0),
        ("age:3d", 4),
        ("created:2024-02-30", 8),
        ("cat:", 4),
        ("-", 0),
    ],
)
def test_malformed_queries_raise(desk, text, position):
    agent = desk.people["agent"]
    for call in (lambda: queue.count(agent, text), lambda: queue.page(agent, text)):
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.position == position


# --- what a requester sees ----------------------------------------------------------------

REQUESTER_FILTERS = [
    ("", lambda r: True),
    ("requester:bob", lambda r: r.requester == "bob"),
    ("requester:alice", lambda r: r.requester == "alice"),
    ("requester:me", lambda r: r.requester == "alice"),
    ("-requester:alice", lambda r: r.requester != "alice"),
    ("-requester:me", lambda r: r.requester != "alice"),
    ("dept:sales", lambda r: r.dept == "Sales"),
    ("dept:finance", lambda r: r.dept == "Finance"),
    ("assignee:unassigned", lambda r: r.assignee is None),
    ("-assignee:agent", lambda r: r.assignee != "agent"),
    ("status:open", lambda r: r.status in OPEN_STATUSES),
    ("vpn", lambda r: text_has(r, "vpn")),
    ("-vpn", lambda r: not text_has(r, "vpn")),
    ("asset:ws-001", lambda r: r.hostname == "ws-001"),
    ("-status:closed -cat:network", lambda r: r.status != "closed" and r.category != "Network"),
]


def test_requester_sees_only_own_tickets(desk):
    alice = User.get(User.username == "alice")
    rows = desk.rows()
    own = [r for r in rows if r.requester == "alice"]
    assert 0 < len(own) < N
    problems = []
    for text, predicate in REQUESTER_FILTERS:
        expected = [r.id for r in own if predicate(r)]
        got = listed_ids(alice, text)
        if got != expected:
            problems.append(f"{text!r}: listed {got}, expected {expected}")
        if queue.count(alice, text) != len(expected):
            problems.append(f"{text!r}: count {queue.count(alice, text)}, expected {len(expected)}")
    assert not problems, "\n".join(problems)
    assert queue.count(alice, "requester:bob") == 0
    assert queue.page(alice, "requester:bob").rows == []
    # Other people's tickets do not leak through a ticket number either.
    foreign = next(r.id for r in rows if r.requester == "bob")
    assert listed_ids(alice, ticket_number(foreign)) == []
    assert queue.count(alice, ticket_number(foreign)) == 0


@pytest.mark.parametrize("key", ["number", "requester", "updated"])
def test_requester_pagination_stays_in_own_tickets(desk, key):
    alice = User.get(User.username == "alice")
    own = [r for r in desk.rows() if r.requester == "alice"]
    for descending in (False, True):
        sort = Sort(key, descending)
        expected = expected_order(desk, own, sort)
        forward, _ = read_forward(alice, None, sort, size=4)
        backward, _ = read_backward(alice, None, sort, size=4)
        assert [row["id"] for row in forward] == expected
        assert [row["id"] for row in backward] == expected


def test_a_parsed_query_gives_the_same_list(desk):
    agent = desk.people["agent"]
    text = "status:open -assignee:agent prio:2,3,4 -vpn"
    parsed = parse(text, now=NOW)
    assert listed_ids(agent, parsed) == listed_ids(agent, text)
    assert queue.count(agent, parsed) == queue.count(agent, text) > 0


def test_a_disabled_user_lists_nothing(desk):
    alice = User.get(User.username == "alice")
    alice = users.update_user(users.system_actor(), alice.id, alice.version, is_active=False)
    with pytest.raises(PermissionDenied):
        queue.count(alice)
    with pytest.raises(PermissionDenied):
        queue.page(alice)


def test_the_pages_of_one_list_share_a_plan_until_something_changes(desk, monkeypatch):
    """PagePlans (the app's queue): the pages after the first reuse its plan (the filter's text
    lookups); a write, a changed role or a disabled account is seen at the next page, and a
    filter on the clock is planned for every page."""
    planned, made = [], queue.plan
    monkeypatch.setattr(queue, "plan", lambda *a, **k: planned.append(a[1]) or made(*a, **k))
    agent, sort = desk.people["agent"], Sort("number", False)
    plans, pages = queue.PagePlans(), []

    def every_page(text: str) -> list[int]:
        ids, after = [], None
        while True:
            page = plans.page(agent, text, sort, after, None, PAGE)
            pages.append(page)
            ids += [row["id"] for row in page.rows]
            if not page.has_more:
                return ids
            after = page.last

    listed = every_page("")
    assert planned == [""] and listed == listed_ids(agent, "", sort) and len(listed) == N
    new = tickets.create(User.get(User.username == "alice"), "VPN down again", "since this morning")
    planned.clear()
    assert every_page("") == [*listed, new.id]  # the write moved the stamp: planned again
    assert planned == [""]
    planned.clear()
    pages.clear()
    every_page("age:>1d")
    assert len(planned) == len(pages) > 1  # on the clock: planned for every page
    demoted = users.update_user(users.system_actor(), agent.id, agent.version, role="requester")
    agent.version = demoted.version
    own = every_page("")  # only the tickets they asked for, with the plan made again
    assert own == listed_ids(demoted, "", sort) and len(own) < N
    assert {Ticket.get_by_id(i).requester_id for i in own} <= {agent.id}
    users.update_user(users.system_actor(), agent.id, demoted.version, is_active=False)
    with pytest.raises(PermissionDenied):
        plans.page(agent, "", sort, None, None, PAGE)


# --- Sort.parse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-priority", Sort("priority", True)),
        ("priority:desc", Sort("priority", True)),
        ("priority", Sort("priority", False)),
        ("priority:asc", Sort("priority", False)),
        ("+priority", Sort("priority", False)),
        ("  Priority:DESC ", Sort("priority", True)),
        ("-updated", Sort("updated", True)),
        ("due", Sort("due", False)),
        (None, Sort("updated", True)),
        ("", Sort("updated", True)),
    ],
)
def test_sort_parse(text, expected):
    assert Sort.parse(text) == expected


@pytest.mark.parametrize("key", list(queue.SORTS))
def test_sort_parse_accepts_every_key(key):
    assert Sort.parse(key) == Sort(key, False)
    assert Sort.parse(f"-{key}") == Sort(key, True)
    assert Sort.parse(f"{key}:desc") == Sort(key, True)


@pytest.mark.parametrize("text", ["colour", "-colour", "colour:desc", "priority:down", "prio", "-"])
def test_sort_parse_rejects_unknown_keys(text):
    with pytest.raises(QueryError) as info:
        Sort.parse(text)
    assert "cannot sort by" in info.value.message


@pytest.mark.parametrize("text", ["-priority:asc", "--priority", "+priority:desc", "priority:up"])
def test_sort_parse_rejects_contradictions(text):
    with pytest.raises(QueryError, match="cannot sort by"):
        queue.Sort.parse(text)


def test_requesters_cannot_probe_names(people, system):
    """Unknown names are errors for staff but match nothing for requesters, so a requester
    cannot learn which users, departments or assets exist."""
    inventory.create(system, "system", {"hostname": "secret-srv", "asset_tag": "AT-9", "type": "server"})
    requester = people["requester"]
    tickets.create(requester, "Mine", "d")
    for query in ("assignee:ghost", "requester:admin", "dept:Nowhere", "asset:secret-srv", "asset:nothing"):
        assert queue.count(requester, query) == 0
    with pytest.raises(QueryError):
        queue.count(people["agent"], "asset:nothing")


def test_an_age_beyond_the_calendar_matches_nothing_instead_of_crashing(people):
    tickets.create(people["requester"], "t", "d")
    assert queue.count(people["agent"], "age:>1000000d") == 0
    assert queue.count(people["agent"], "age:<1000000d") == 1


# Several priorities in one category: one ordered read per priority (queue._reads).
SPLIT_FILTERS = (
    "prio:1,2,3,4 cat:network",
    "prio:2,3,4 cat:printers",
    "prio:1,2,3,4 cat:hardware -status:closed",
)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_several_priorities_read_per_priority_give_the_plain_pages(desk, monkeypatch, descending):
    agent = desk.people["agent"]
    sort = Sort("updated", descending)
    split = {}
    for text in SPLIT_FILTERS:
        assert queue._reads(parse(text), sort)[0], text
        forward, pages = read_forward(agent, text, sort, size=2)
        backward, _ = read_backward(agent, text, sort, size=2)
        split[text] = ([r["id"] for r in forward], [p.has_more for p in pages], [r["id"] for r in backward])
        assert len(forward) > 2, text
    monkeypatch.setattr(queue, "_reads", lambda query, sort: (None, None))
    for text in SPLIT_FILTERS:
        forward, pages = read_forward(agent, text, sort, size=2)
        backward, _ = read_backward(agent, text, sort, size=2)
        plain = ([r["id"] for r in forward], [p.has_more for p in pages], [r["id"] for r in backward])
        assert split[text] == plain, text
        assert (
            plain[0]
            == plain[2]
            == expected_order(desk, [r for r in desk.rows() if r.id in set(plain[0])], sort)
        )
