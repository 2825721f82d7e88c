"""Tests for the inventory lists (itsm_tui.core.inventory.lists) on SQLite and MariaDB.

An inventory is made through the services. Every list, filter and sort is compared with an
independent computation in Python over the rows read back with plain peewee.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from itsm_tui.core import clock, demo
from itsm_tui.core.errors import NotFound, PermissionDenied, QueryError, ValidationError
from itsm_tui.core.inventory import lists as assets
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.inventory.lists import AssetSort
from itsm_tui.core.people import users
from itsm_tui.core.store.models import (
    ASSET_STATUSES,
    PERIPHERAL_KINDS,
    SYSTEM_TYPES,
    AuditEntry,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    User,
)
from itsm_tui.core.store.natural import natural_key
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.queue import END

BASE = datetime(2026, 1, 5, 9, 0)
NOW = datetime(2026, 3, 15, 10, 30)
TODAY = NOW.date()
PAGE = 4
N_SYSTEMS = 24
N_PERIPHERALS = 14

DEPARTMENTS = ("Finance", "sales", "Électronique", "Legal")  # Legal stays empty
NETWORKS = (
    ("Office LAN", "10.10.0.0/22", 10, "HQ"),
    ("Datacenter", "10.20.0.0/24", None, None),
    ("guest wi-fi", "192.168.50.0/24", 50, "HQ, all floors"),
)
STOCK = (  # name, quantity, unit price, reorder level
    ("USB-C charger", 24, "39.90", 10),
    ("toner 26A", 6, "89.00", 8),
    ("Keyboard", 5, "24.50", 5),
    ("mouse", 30, "19.99", 10),
    ("HDMI cable", 40, "7.50", 15),
    ("DisplayPort cable", 0, "9.90", 0),
    ("Cable tie pack", 10, "3.00", 2),
    ("Sticker roll", 100, "0.30", 2),
    ("SSD 1TB", 3, "0.10", 4),
)


def system_values(i: int, names: dict) -> dict:
    prefix = ("ws", "srv", "lap", "vm", "kiosk")[i % 5]
    net = (names["Office LAN"], names["Datacenter"], None, names["guest wi-fi"], names["Office LAN"])[i % 5]
    ip = None
    if net == names["Office LAN"] and i % 3:
        ip = f"10.10.{i % 4}.{i * 7 % 250 + 1}"
    elif net == names["Datacenter"]:
        ip = f"10.20.0.{i * 11 % 250 + 1}"
    elif net is None and i % 2:
        ip = f"172.16.{i}.9"  # an IP without a network
    warranty = None if i % 5 == 2 else date(2025, 9, 1) + timedelta(days=41 * i)
    return {
        "hostname": f"{prefix}-{i:03d}",
        "asset_tag": f"AT-{1000 + i * 37 % 101}",
        "type": SYSTEM_TYPES[i % 5],
        "manufacturer": ("Dell", "Lenovo", "HP")[i % 3],
        "model_name": f"Model {i % 4}",
        "serial": {5: "SN_50%X", 6: "SN5050X"}.get(i, f"SN{i * 7919 % 100000:05d}" if i % 6 else None),
        "os": ("Windows 11", "Debian 12", None)[i % 3],
        "ip": ip,
        "mac": f"aa:bb:cc:00:{i:02x}:{i * 3 % 256:02x}" if i % 4 else None,
        "department": (names["Finance"], names["sales"], names["Électronique"], None)[i % 4],
        "network": net,
        "assigned_user": (names["alice"], names["bob"], None)[i % 3],
        "status": ASSET_STATUSES[i // 2 % 4],
        "purchase_date": warranty - timedelta(days=3 * 365) if warranty else None,
        "warranty_end": warranty,
        "notes": f"note {i}" if i % 7 == 0 else None,
    }


@dataclass
class World:
    engine: str
    people: dict
    systems: list  # System rows in creation order
    tickets: dict

    def collate(self, text: str) -> str:
        """The engine's text order: binary on SQLite; case- and accent-blind on MariaDB."""
        if self.engine.startswith("sqlite"):
            return text
        decomposed = unicodedata.normalize("NFD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@pytest.fixture
def world(engine, system, people) -> World:
    with clock.frozen(BASE):
        names = {}
        for name in DEPARTMENTS:
            names[name] = inventory.create(system, "department", {"name": name}).id
        for name, cidr, vlan, location in NETWORKS:
            names[name] = inventory.create(
                system, "network", {"name": name, "cidr": cidr, "vlan": vlan, "location": location}
            ).id
        names["alice"] = users.create_user(system, "alice", "requester", department="Finance").id
        names["bob"] = users.create_user(system, "bob", "requester", department="sales").id
        made = [inventory.create(system, "system", system_values(i, names)) for i in range(N_SYSTEMS)]
        for i in range(N_PERIPHERALS):
            kind = PERIPHERAL_KINDS[i % len(PERIPHERAL_KINDS)]
            inventory.create(
                system,
                "peripheral",
                {
                    "name": f"{kind.title() if i % 2 else kind} {i}",
                    "kind": kind,
                    "asset_tag": f"PR-{3000 + i * 13 % 29}",
                    "serial": f"PS{i:03d}" if i % 4 else None,
                    "system": made[i % 4].id if i % 3 else None,
                    "department": (names["Finance"], None, names["sales"])[i % 3],
                    "network": (names["Office LAN"], names["Datacenter"], None, None)[i % 4],
                    "status": ASSET_STATUSES[i % 4],
                },
            )
        for name, quantity, price, reorder in STOCK:
            inventory.create(
                system,
                "stock",
                {"name": name, "quantity": quantity, "unit_price": price, "reorder_level": reorder},
            )
    agent = people["agent"]
    made_tickets = {}
    with clock.frozen(BASE + timedelta(days=1)):
        made_tickets["old"] = tickets.create(agent, "Fan noise", "loud", requester="alice", system=made[0].id)
    with clock.frozen(BASE + timedelta(days=2)):
        moved = tickets.create(agent, "Screen flickers", "on and off", requester="bob", system=made[0].id)
        made_tickets["moved"] = tickets.update(agent, moved.id, moved.version, system=made[1].id)
    with clock.frozen(BASE + timedelta(days=3)):
        made_tickets["new"] = tickets.create(
            agent, "Disk full", "C: at 100%", requester="alice", system=made[0].id
        )
        tickets.create(agent, "No asset", "nothing linked", requester="bob")
    with clock.frozen(BASE + timedelta(days=4)):
        s0 = System.get_by_id(made[0].id)
        inventory.update(people["supervisor"], "system", s0.id, s0.version, {"status": "in repair"})
    with clock.frozen(NOW):
        yield World(engine, people, made, made_tickets)


# --- the expected rows, read back with plain peewee ------------------------------------------


def expected_rows(kind: str) -> list[dict]:
    depts = {d.id: d.name for d in Department.select()}
    nets = {n.id: n.name for n in Network.select()}
    if kind == "system":
        names = {u.id: u.username for u in User.select()}
        return [
            {
                "id": s.id,
                "version": s.version,
                "hostname": s.hostname,
                "asset_tag": s.asset_tag,
                "type": s.type,
                "ip": s.ip,
                "mac": s.mac,
                "manufacturer": s.manufacturer,
                "model_name": s.model_name,
                "serial": s.serial,
                "os": s.os,
                "department": depts.get(s.department_id),
                "network": nets.get(s.network_id),
                "assigned_user": names.get(s.assigned_user_id),
                "status": s.status,
                "purchase_date": s.purchase_date,
                "warranty_end": s.warranty_end,
                "notes": s.notes,
            }
            for s in System.select().order_by(System.id)
        ]
    if kind == "peripheral":
        hosts = {s.id: s.hostname for s in System.select()}
        return [
            {
                "id": p.id,
                "version": p.version,
                "name": p.name,
                "kind": p.kind,
                "asset_tag": p.asset_tag,
                "serial": p.serial,
                "system": hosts.get(p.system_id),
                "system_id": p.system_id,
                "department": depts.get(p.department_id),
                "network": nets.get(p.network_id),
                "status": p.status,
            }
            for p in Peripheral.select().order_by(Peripheral.id)
        ]
    if kind == "stock":
        rows = []
        for item in StockItem.select().order_by(StockItem.id):
            price = Decimal(str(item.unit_price)).quantize(Decimal("0.01"))
            rows.append(
                {
                    "id": item.id,
                    "version": item.version,
                    "name": item.name,
                    "description": item.description,
                    "quantity": item.quantity,
                    "unit_price": price,
                    "reorder_level": item.reorder_level,
                    "low": item.quantity <= item.reorder_level,
                    "value": price * item.quantity,
                }
            )
        return rows
    if kind == "department":
        return [
            {
                "id": d.id,
                "version": d.version,
                "name": d.name,
                "systems": System.select().where(System.department == d.id).count(),
                "peripherals": Peripheral.select().where(Peripheral.department == d.id).count(),
                "users": User.select().where(User.department == d.id).count(),
            }
            for d in Department.select().order_by(Department.id)
        ]
    return [
        {
            "id": n.id,
            "version": n.version,
            "name": n.name,
            "cidr": n.cidr,
            "vlan": n.vlan,
            "location": n.location,
            "systems": System.select().where(System.network == n.id).count(),
        }
        for n in Network.select().order_by(Network.id)
    ]


def has(value, needle: str) -> bool:
    return value is not None and needle.casefold() in str(value).casefold()


def text_of(kind: str, row: dict, needle: str) -> bool:
    fields = {
        "system": ("hostname", "asset_tag", "serial", "ip", "mac"),
        "peripheral": ("name", "asset_tag", "serial"),
        "stock": ("name",),
        "department": ("name",),
        "network": ("name", "cidr"),
    }[kind]
    return any(has(row[f], needle) for f in fields)


def day(moment: datetime | date | None) -> datetime | None:
    return None if moment is None else datetime.combine(moment, time())


D = date
FILTERS = {
    "system": [
        ("dept:finance", lambda r: r["department"] == "Finance"),
        ("department:FINANCE,Sales", lambda r: r["department"] in ("Finance", "sales")),
        ("dept:électronique", lambda r: r["department"] == "Électronique"),
        ("dept:ÉLECTRONIQUE", lambda r: r["department"] == "Électronique"),
        ("dept:legal", lambda r: False),
        ('net:"office lan"', lambda r: r["network"] == "Office LAN"),
        ('network:datacenter,"GUEST WI-FI"', lambda r: r["network"] in ("Datacenter", "guest wi-fi")),
        ("type:laptop", lambda r: r["type"] == "laptop"),
        ('type:"virtual machine",server', lambda r: r["type"] in ("virtual machine", "server")),
        ("type:Virtual_Machine", lambda r: r["type"] == "virtual machine"),
        ("status:in_use", lambda r: r["status"] == "in use"),
        ('status:"in use","in repair"', lambda r: r["status"] in ("in use", "in repair")),
        ("status:in-stock,RETIRED", lambda r: r["status"] in ("in stock", "retired")),
        ("user:alice", lambda r: r["assigned_user"] == "alice"),
        ("user:none", lambda r: r["assigned_user"] is None),
        ("user:BOB,none", lambda r: r["assigned_user"] in ("bob", None)),
        (
            "warranty:<2026-12-31",
            lambda r: r["warranty_end"] is not None and r["warranty_end"] < D(2026, 12, 31),
        ),
        ("warranty:<today", lambda r: r["warranty_end"] is not None and r["warranty_end"] < TODAY),
        ("warranty:>=today", lambda r: r["warranty_end"] is not None and r["warranty_end"] >= TODAY),
        ("warranty:2025-10-12", lambda r: r["warranty_end"] == D(2025, 10, 12)),
        (
            "warranty:>2026-06-30",
            lambda r: r["warranty_end"] is not None and r["warranty_end"] > D(2026, 6, 30),
        ),
        (
            "warranty:<=2026-06-30T12:00",
            lambda r: r["warranty_end"] is not None and r["warranty_end"] <= D(2026, 6, 30),
        ),
        (
            "warranty:2026-01-01..2026-12-31",
            lambda r: r["warranty_end"] is not None and D(2026, 1, 1) <= r["warranty_end"] <= D(2026, 12, 31),
        ),
        ("ws", lambda r: text_of("system", r, "ws")),
        ("SRV-00", lambda r: text_of("system", r, "srv-00")),
        ("at-100", lambda r: text_of("system", r, "at-100")),
        ("10.20.0", lambda r: text_of("system", r, "10.20.0")),
        ("AA:BB:CC:00:0", lambda r: text_of("system", r, "aa:bb:cc:00:0")),  # bare: a MAC is text
        ('"aa:bb:cc:00:1"', lambda r: text_of("system", r, "aa:bb:cc:00:1")),
        ("-aa:bb", lambda r: not text_of("system", r, "aa:bb")),
        ("sn_50", lambda r: text_of("system", r, "sn_50")),
        ("50%", lambda r: text_of("system", r, "50%")),
        ("_", lambda r: text_of("system", r, "_")),
        ('"srv-0" 10.20', lambda r: text_of("system", r, "srv-0") and text_of("system", r, "10.20")),
        ("-dept:finance", lambda r: r["department"] != "Finance"),
        ('-net:datacenter,"office lan"', lambda r: r["network"] not in ("Datacenter", "Office LAN")),
        ("-user:none", lambda r: r["assigned_user"] is not None),
        ("-user:alice", lambda r: r["assigned_user"] != "alice"),
        ("-warranty:<today", lambda r: not (r["warranty_end"] is not None and r["warranty_end"] < TODAY)),
        ("-type:laptop,desktop", lambda r: r["type"] not in ("laptop", "desktop")),
        ("-status:in_use", lambda r: r["status"] != "in use"),
        ("-ws", lambda r: not text_of("system", r, "ws")),
        (
            "dept:finance,sales -status:retired user:alice,none",
            lambda r: (
                r["department"] in ("Finance", "sales")
                and r["status"] != "retired"
                and r["assigned_user"] in ("alice", None)
            ),
        ),
        (
            'net:"office lan" warranty:>=2026-01-01 -lap',
            lambda r: (
                r["network"] == "Office LAN"
                and r["warranty_end"] is not None
                and r["warranty_end"] >= D(2026, 1, 1)
                and not text_of("system", r, "lap")
            ),
        ),
    ],
    "peripheral": [
        ("kind:printer", lambda r: r["kind"] == "printer"),
        ('kind:"docking station",Monitor', lambda r: r["kind"] in ("docking station", "monitor")),
        ("kind:access_point", lambda r: r["kind"] == "access point"),
        ("system:ws-000", lambda r: r["system"] == "ws-000"),
        ("system:WS-000,srv-001", lambda r: r["system"] in ("ws-000", "srv-001")),
        ("system:none", lambda r: r["system"] is None),
        ("-system:none", lambda r: r["system"] is not None),
        ("dept:finance", lambda r: r["department"] == "Finance"),
        ("net:datacenter", lambda r: r["network"] == "Datacenter"),
        ("-net:datacenter", lambda r: r["network"] != "Datacenter"),
        ("status:retired,in_repair", lambda r: r["status"] in ("retired", "in repair")),
        ("printer", lambda r: text_of("peripheral", r, "printer")),
        ("pr-301", lambda r: text_of("peripheral", r, "pr-301")),
        ("ps00", lambda r: text_of("peripheral", r, "ps00")),
        (
            "-printer -kind:monitor",
            lambda r: not text_of("peripheral", r, "printer") and r["kind"] != "monitor",
        ),
    ],
    "stock": [
        ("is:low", lambda r: r["quantity"] <= r["reorder_level"]),
        ("-is:low", lambda r: r["quantity"] > r["reorder_level"]),
        ("IS:LOW", lambda r: r["quantity"] <= r["reorder_level"]),
        ("cable", lambda r: text_of("stock", r, "cable")),
        ("CABLE -is:low", lambda r: text_of("stock", r, "cable") and r["quantity"] > r["reorder_level"]),
    ],
    "department": [
        ("FIN", lambda r: text_of("department", r, "fin")),
        ("-fin", lambda r: not text_of("department", r, "fin")),
    ],
    "network": [
        ("lan", lambda r: text_of("network", r, "lan")),
        ("10.20", lambda r: text_of("network", r, "10.20")),
        ("-wi-fi", lambda r: not text_of("network", r, "wi-fi")),
    ],
}
EMPTY_ON_PURPOSE = {"dept:legal"}


def listed(actor, kind, text, sort=None, batch=PAGE) -> list[dict]:
    return list(assets.iterate(actor, kind, text, sort, batch=batch))


def strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "_cursor"}


# --- rows -------------------------------------------------------------------------------------

ROW_KEYS = {
    "system": [
        "id",
        "version",
        "hostname",
        "asset_tag",
        "type",
        "ip",
        "mac",
        "manufacturer",
        "model_name",
        "serial",
        "os",
        "department",
        "network",
        "assigned_user",
        "status",
        "purchase_date",
        "warranty_end",
        "notes",
        "_cursor",
    ],
    "peripheral": [
        "id",
        "version",
        "name",
        "kind",
        "asset_tag",
        "serial",
        "system",
        "system_id",
        "department",
        "network",
        "status",
        "_cursor",
    ],
    "stock": [
        "id",
        "version",
        "name",
        "description",
        "quantity",
        "unit_price",
        "reorder_level",
        "low",
        "value",
        "_cursor",
    ],
    "department": ["id", "version", "name", "systems", "peripherals", "users", "_cursor"],
    "network": ["id", "version", "name", "cidr", "vlan", "location", "systems", "_cursor"],
}


@pytest.mark.parametrize("kind", assets.KINDS)
def test_rows_carry_every_column(world, kind):
    agent = world.people["agent"]
    expected = {r["id"]: r for r in expected_rows(kind)}
    rows = listed(agent, kind, "")
    assert sorted(r["id"] for r in rows) == sorted(expected)
    for row in rows:
        assert list(row) == ROW_KEYS[kind]
        assert strip(row) == expected[row["id"]], row
        assert row["_cursor"].id == row["id"]
    if kind == "stock":
        assert all(isinstance(r["unit_price"], Decimal) and isinstance(r["value"], Decimal) for r in rows)
        assert {r["name"]: r["value"] for r in rows}["USB-C charger"] == Decimal("957.60")
    if kind == "department":
        legal = next(r for r in rows if r["name"] == "Legal")
        assert (legal["systems"], legal["peripherals"], legal["users"]) == (0, 0, 0)
        finance = next(r for r in rows if r["name"] == "Finance")
        assert finance["users"] == 1 and finance["systems"] == 6


def test_the_world_is_as_designed(world):
    rows = expected_rows("system")
    assert len(rows) == N_SYSTEMS
    for field in ("ip", "department", "network", "assigned_user", "warranty_end"):
        assert any(r[field] is None for r in rows) and any(r[field] is not None for r in rows), field
    assert {r["type"] for r in rows} == set(SYSTEM_TYPES)
    assert {r["status"] for r in rows} == set(ASSET_STATUSES)
    for row in rows:  # every IP of a system on a network lies inside it
        if row["ip"] and row["network"]:
            cidr = next(c for n, c, _, _ in NETWORKS if n == row["network"])
            assert ipaddress.ip_address(row["ip"]) in ipaddress.ip_network(cidr)
    stock = expected_rows("stock")
    assert 0 < sum(r["low"] for r in stock) < len(stock)
    assert len({r["value"] for r in stock}) < len(stock)  # a tie in value


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", assets.KINDS)
def test_filters(world, kind):
    agent = world.people["agent"]
    rows = expected_rows(kind)
    default = AssetSort.parse(kind, None)
    problems = []
    for text, predicate in FILTERS[kind]:
        expected = sorted_ids(world, kind, [r for r in rows if predicate(r)], default)
        if text not in EMPTY_ON_PURPOSE and not 0 < len(expected) < len(rows):
            problems.append(f"{text!r}: the test data selects {len(expected)} of {len(rows)}")
            continue
        got = [r["id"] for r in listed(agent, kind, text)]
        if got != expected:
            problems.append(f"{text!r}: listed {got}, expected {expected}")
        counted = assets.count(agent, kind, text)
        if counted != len(expected):
            problems.append(f"{text!r}: count {counted}, expected {len(expected)}")
    assert not problems, "\n".join(problems)


def test_every_filter_key_is_tested():
    tested = {
        kind: {text.lstrip("-").split(":")[0].lower() for text, _ in cases if ":" in text}
        for kind, cases in FILTERS.items()
    }
    aliases = {"dept": "department", "net": "network"}
    for kind, keys in assets.FILTERS.items():
        assert {aliases.get(k, k) for k in tested[kind]} >= set(keys), kind


def test_no_key_could_be_mistaken_for_a_mac_address():
    """Bare words like aa:bb:cc are free text; that must never shadow a key."""
    assert not any(all(c in "abcdef" for c in word) for word in assets._ALIASES)


def test_warranty_follows_the_clock(world):
    agent = world.people["agent"]
    rows = expected_rows("system")
    for moment in (NOW, NOW + timedelta(days=200), datetime(2020, 1, 1)):
        with clock.frozen(moment):
            expected = [r for r in rows if r["warranty_end"] and r["warranty_end"] < moment.date()]
            assert assets.count(agent, "system", "warranty:<today") == len(expected), moment


@pytest.mark.parametrize(
    "kind, text, culprit",
    [
        ("system", "dept:finance,nowhere", "nowhere"),
        ("system", 'net:"no such net"', '"no such net"'),
        ("system", "-network:Datacenter,atlantis", "atlantis"),
        ("system", "user:alice,ghost", "ghost"),
        ("system", "type:laptop,vm", "vm"),
        ("system", "status:broken", "broken"),
        ("system", "ws warranty:2026-02-30", "2026-02-30"),
        ("system", "warranty:someday", "someday"),
        ("system", "warranty:today,tomorrow", "tomorrow"),
        ("peripheral", "system:ws-000,nohost", "nohost"),
        ("peripheral", "kind:toaster", "toaster"),
        ("peripheral", "dept:nowhere", "nowhere"),
        ("stock", "is:high", "high"),
        ("stock", "is:low,cheap", "cheap"),
    ],
)
def test_unknown_names_and_values_point_at_the_value(world, kind, text, culprit):
    agent = world.people["agent"]
    for call in (lambda: assets.count(agent, kind, text), lambda: assets.page(agent, kind, text)):
        with pytest.raises(QueryError) as info:
            call()
        assert info.value.position == text.rindex(culprit), info.value


@pytest.mark.parametrize(
    "kind, text, position, words",
    [
        ("system", "kind:printer", 0, "systems"),
        ("system", "ws -kind:printer", 4, "systems"),
        ("system", "system:ws-000", 0, "systems"),
        ("system", "is:low", 0, "systems"),
        ("peripheral", "type:laptop", 0, "peripherals"),
        ("peripheral", "user:alice", 0, "peripherals"),
        ("peripheral", "warranty:<today", 0, "peripherals"),
        ("stock", "dept:finance", 0, "stock items"),
        ("stock", "cable status:in_use", 6, "stock items"),
        ("department", "net:datacenter", 0, "departments"),
        ("network", "-dept:finance", 1, "networks"),
    ],
)
def test_keys_that_do_not_apply_name_the_list(world, kind, text, position, words):
    with pytest.raises(QueryError) as info:
        assets.count(world.people["agent"], kind, text)
    assert info.value.position == position
    assert words in info.value.message and "does not apply" in info.value.message


@pytest.mark.parametrize(
    "text, position",
    [
        ("colour:red", 0),
        ("ws -colour:red", 4),
        ('"unterminated', 0),
        ("dept:", 5),
        ("-", 0),
        ("type:", 5),
        ('status:"in use', 7),
    ],
)
def test_malformed_filters_raise(world, text, position):
    with pytest.raises(QueryError) as info:
        assets.page(world.people["agent"], "system", text)
    assert info.value.position == position


def test_the_leftmost_error_wins(world):
    with pytest.raises(QueryError) as info:
        assets.count(world.people["agent"], "system", "dept:nowhere kind:printer colour:red")
    assert info.value.position == 5


# --- sorting and keyset pagination ---------------------------------------------------------------

NAMES = ("hostname", "asset_tag", "name", "department", "network", "assigned_user", "system")  # natural order


def sort_key(world: World, kind: str, key: str, row: dict):
    if kind == "stock" and key == "value":
        return row["value"]
    if key == "status":
        return ASSET_STATUSES.index(row["status"])
    column = {"department": "department", "network": "network"}.get(key, key)
    value = row[column]
    if isinstance(value, str):
        value = world.collate(natural_key(value) if key in NAMES else value)
    return value


def sorted_ids(world: World, kind: str, rows: list[dict], sort: AssetSort) -> list[int]:
    def key(row):
        value = sort_key(world, kind, sort.key, row)
        return ((0,) if value is None else (1, value), row["id"])  # NULLs sort first

    return [r["id"] for r in sorted(rows, key=key, reverse=sort.descending)]


def read_forward(actor, kind, text, sort, size=PAGE):
    pages = [assets.page(actor, kind, text, sort, limit=size)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == size and len(pages) < 100
        pages.append(assets.page(actor, kind, text, sort, after=pages[-1].last, limit=size))
    return [r for p in pages for r in p.rows], pages


def read_backward(actor, kind, text, sort, size=PAGE):
    pages = [assets.page(actor, kind, text, sort, before=END, limit=size)]
    while pages[-1].has_more:
        assert len(pages[-1].rows) == size and len(pages) < 100
        pages.append(assets.page(actor, kind, text, sort, before=pages[-1].first, limit=size))
    return [r for p in reversed(pages) for r in p.rows], pages


PAGED_FILTERS = {
    "system": ("", "-status:retired", "dept:finance,sales"),
    "peripheral": ("", "-system:none"),
    "stock": ("", "-is:low"),
    "department": ("",),
    "network": ("",),
}
SORT_CASES = [(kind, key) for kind, keys in assets.SORTS.items() for key in keys]


def test_sorts_are_as_documented():
    assert {kind: list(keys) for kind, keys in assets.SORTS.items()} == {
        "system": [
            "hostname",
            "asset_tag",
            "type",
            "ip",
            "department",
            "network",
            "assigned_user",
            "status",
            "warranty_end",
        ],
        "peripheral": ["name", "kind", "asset_tag", "system", "department", "network", "status"],
        "stock": ["name", "quantity", "unit_price", "reorder_level", "value"],
        "department": ["name"],
        "network": ["name", "cidr", "vlan"],
    }


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("kind, key", SORT_CASES, ids=[f"{k}-{s}" for k, s in SORT_CASES])
def test_keyset_pagination(world, kind, key, descending):
    agent = world.people["agent"]
    sort = AssetSort(key, descending)
    everything = expected_rows(kind)
    by_id = {r["id"]: r for r in everything}
    for text in PAGED_FILTERS[kind]:
        matching = [by_id[r["id"]] for r in listed(agent, kind, text, batch=100)]
        expected = sorted_ids(world, kind, matching, sort)
        assert expected

        forward, pages = read_forward(agent, kind, text, sort)
        assert [r["id"] for r in forward] == expected, f"forward {text!r}"
        assert pages[-1].has_more is False and all(p.has_more for p in pages[:-1])
        beyond = assets.page(agent, kind, text, sort, after=pages[-1].last, limit=PAGE)
        assert beyond.rows == [] and beyond.has_more is False

        backward, pages = read_backward(agent, kind, text, sort)
        assert [r["id"] for r in backward] == expected, f"backward {text!r}"
        assert pages[-1].has_more is False and all(p.has_more for p in pages[:-1])
        before_first = assets.page(agent, kind, text, sort, before=pages[-1].first, limit=PAGE)
        assert before_first.rows == [] and before_first.has_more is False

        assert assets.count(agent, kind, text) == len(expected)
        middle = forward[2 * PAGE : 3 * PAGE]
        if middle:
            back = assets.page(agent, kind, text, sort, before=middle[0]["_cursor"], limit=PAGE)
            assert [r["id"] for r in back.rows] == expected[PAGE : 2 * PAGE]
            assert back.has_more is True


def test_one_big_page_and_the_default_sort(world):
    agent = world.people["agent"]
    rows = expected_rows("system")
    result = assets.page(agent, "system", limit=N_SYSTEMS + 5)
    assert [r["id"] for r in result.rows] == sorted_ids(world, "system", rows, AssetSort("hostname"))
    assert result.has_more is False
    assert assets.page(agent, "system", limit=N_SYSTEMS).has_more is False
    assert assets.page(agent, "system", limit=N_SYSTEMS - 1).has_more is True


@pytest.mark.parametrize(
    "kind, text, expected",
    [
        ("system", None, AssetSort("hostname")),
        ("system", "", AssetSort("hostname")),
        ("system", "-warranty_end", AssetSort("warranty_end", True)),
        ("system", " Assigned_User:DESC ", AssetSort("assigned_user", True)),
        ("system", "+ip", AssetSort("ip")),
        ("peripheral", None, AssetSort("name")),
        ("stock", "-quantity", AssetSort("quantity", True)),
        ("stock", "value:asc", AssetSort("value")),
        ("department", None, AssetSort("name")),
        ("network", "vlan:desc", AssetSort("vlan", True)),
    ],
)
def test_sort_parse(kind, text, expected):
    assert AssetSort.parse(kind, text) == expected


@pytest.mark.parametrize(
    "kind, text",
    [
        ("system", "quantity"),
        ("system", "colour"),
        ("stock", "hostname"),
        ("peripheral", "-ip"),
        ("network", "name:up"),
        ("department", "-name:asc"),
        ("system", "-"),
    ],
)
def test_sort_parse_rejects_keys_of_other_lists(kind, text):
    with pytest.raises(QueryError, match="cannot sort by"):
        AssetSort.parse(kind, text)


def test_a_sort_of_another_list_is_refused_by_page(world):
    with pytest.raises(QueryError):
        assets.page(world.people["agent"], "stock", sort=AssetSort("hostname"))


def test_an_unknown_list_is_refused(world):
    with pytest.raises(ValidationError):
        assets.page(world.people["agent"], "printers")
    with pytest.raises(ValidationError):
        assets.count(world.people["agent"], "printers")


# --- stock value ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "is:low", "-is:low", "cable", "nothing-like-this"])
def test_stock_value(world, text):
    agent = world.people["agent"]
    ids = {r["id"] for r in listed(agent, "stock", text)}
    expected = sum((r["value"] for r in expected_rows("stock") if r["id"] in ids), Decimal("0.00"))
    value = assets.stock_value(agent, text)
    assert isinstance(value, Decimal) and value == expected
    assert value.as_tuple().exponent == -2


def test_stock_value_of_all_items_in_cents(world):
    total = sum(Decimal(p) * q for _, q, p, _ in STOCK)
    assert assets.stock_value(world.people["agent"]) == total


def test_stock_value_filter_errors(world):
    with pytest.raises(QueryError):
        assets.stock_value(world.people["agent"], "dept:finance")


# --- one system -------------------------------------------------------------------------------


def test_system_detail(world):
    agent = world.people["agent"]
    s0 = world.systems[0]
    detail = assets.system_detail(agent, s0.id)
    expected = next(r for r in expected_rows("system") if r["id"] == s0.id)
    assert strip(detail.system) == expected and list(detail.system) == ROW_KEYS["system"]
    assert detail.system["status"] == "in repair"

    attached = [r for r in expected_rows("peripheral") if r["system_id"] == s0.id]
    assert attached
    assert [strip(r) for r in detail.peripherals] == sorted(
        attached, key=lambda r: (world.collate(natural_key(r["name"])), r["id"])
    )

    # Every ticket ever linked to it, newest first: the one moved to another system too.
    assert [t["id"] for t in detail.tickets] == [
        world.tickets["new"].id,
        world.tickets["moved"].id,
        world.tickets["old"].id,
    ]
    first = detail.tickets[0]
    assert list(first) == ["id", "number", "title", "status", "priority", "created_at"]
    assert (first["number"], first["title"], first["status"]) == (
        world.tickets["new"].number,
        "Disk full",
        "new",
    )
    assert first["created_at"] == BASE + timedelta(days=3)

    history = [e for e in detail.history if not e.action.startswith("ticket_")]
    assert [e.action for e in history] == ["create", "update"]
    assert [e.actor.username for e in history] == ["system", "supervisor"]
    links = [(e.action, e.summary) for e in detail.history if e.action.startswith("ticket_")]
    assert ("ticket_unlinked", f"{world.tickets['moved'].number} unlinked") in links
    assert all(e.entity_type == "system" and e.entity_id == s0.id for e in history)
    assert history[0].at <= history[1].at


def test_system_detail_of_the_system_a_ticket_moved_to(world):
    agent = world.people["agent"]
    detail = assets.system_detail(agent, world.systems[1].id)
    assert [t["id"] for t in detail.tickets] == [world.tickets["moved"].id]


def test_system_detail_of_a_bare_system(world):
    lonely = next(
        s for s in world.systems[6:] if not Peripheral.select().where(Peripheral.system == s.id).exists()
    )
    detail = assets.system_detail(world.people["agent"], lonely.id)
    assert detail.peripherals == [] and detail.tickets == []
    assert [e.action for e in detail.history] == ["create"]


def test_system_detail_of_a_missing_system(world):
    with pytest.raises(NotFound):
        assets.system_detail(world.people["agent"], max(s.id for s in world.systems) + 100)


# --- who may look ------------------------------------------------------------------------------


def test_requesters_see_no_inventory(world):
    requester = world.people["requester"]
    for call in (
        lambda: assets.page(requester, "system"),
        lambda: assets.count(requester, "peripheral"),
        lambda: assets.stock_value(requester),
        lambda: assets.system_detail(requester, world.systems[0].id),
        lambda: list(assets.iterate(requester, "stock")),
    ):
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_staff_see_the_inventory(world, role):
    assert assets.count(world.people[role], "system") == N_SYSTEMS


# --- bulk data --------------------------------------------------------------------------------


def test_seed_bulk_assets(engine, system):
    result = demo.seed_bulk_assets(system, 61, batch=25)
    assert result == {"systems": 61, "peripherals": 20}
    assert System.select().count() == 61
    assert Peripheral.select().count() == 20
    assert Department.select().count() == len(demo.DEPARTMENTS)  # made when there were none
    nets = {n.id: ipaddress.ip_network(n.cidr) for n in Network.select()}
    rows = list(System.select())
    assert len({s.hostname for s in rows}) == len({s.asset_tag for s in rows}) == 61
    assert any(s.network_id is None for s in rows) and any(s.department_id for s in rows)
    for s in rows:
        assert (s.ip is None) == (s.network_id is None)
        if s.ip:
            assert ipaddress.ip_address(s.ip) in nets[s.network_id]
    attached = [p for p in Peripheral.select() if p.system_id]
    assert attached and all(System.get_by_id(p.system_id) for p in attached)
    assert assets.count(system, "system") == 61
    # Again: more systems, no clashes, the same networks reused.
    demo.seed_bulk_assets(system, 30)
    assert System.select().count() == 91
    assert Network.select().count() == len(demo.BULK_NETWORKS)
    assert AuditEntry.select().where(AuditEntry.action == "seed").count() == 2


def test_seed_bulk_assets_needs_the_right(engine, people):
    with pytest.raises(PermissionDenied):
        demo.seed_bulk_assets(people["agent"], 10)
    with pytest.raises(ValidationError):
        demo.seed_bulk_assets(users.system_actor(), 0)


def test_names_with_numbers_list_in_natural_order_page_by_page(engine, system):
    """'ws-2' before 'ws-10', 'Monitor 9' before 'Monitor 24', whatever the case; read a page
    at a time both ways, and after a rename."""
    for n in (10, 2, 1, 24, 9):
        inventory.create(system, "system", {"hostname": f"ws-{n}", "asset_tag": f"at-{n}", "type": "laptop"})
        inventory.create(
            system,
            "peripheral",
            {"name": f"{'monitor' if n % 2 else 'Monitor'} {n}", "kind": "monitor", "asset_tag": f"MN-{n}"},
        )
        inventory.create(system, "stock", {"name": f"Toner {n}", "unit_price": "1"})
    hostnames = ["ws-1", "ws-2", "ws-9", "ws-10", "ws-24"]
    by_host = AssetSort("hostname")
    assert [r["hostname"] for r in read_forward(system, "system", "", by_host, size=2)[0]] == hostnames
    assert [r["hostname"] for r in read_backward(system, "system", "", by_host, size=2)[0]] == hostnames
    tags = [r["asset_tag"] for r in read_forward(system, "system", "", AssetSort("asset_tag"), size=2)[0]]
    assert tags == ["AT-1", "AT-2", "AT-9", "AT-10", "AT-24"]
    names = [r["name"] for r in read_forward(system, "peripheral", "", AssetSort("name"), size=2)[0]]
    assert names == ["monitor 1", "Monitor 2", "monitor 9", "Monitor 10", "Monitor 24"]
    backwards = AssetSort("name", descending=True)
    stock = [r["name"] for r in read_forward(system, "stock", "", backwards, size=2)[0]]
    assert stock == ["Toner 24", "Toner 10", "Toner 9", "Toner 2", "Toner 1"]

    renamed = System.get(System.hostname == "ws-24")
    inventory.update(system, "system", renamed.id, renamed.version, {"hostname": "ws-3"})
    assert [r["hostname"] for r in read_forward(system, "system", "", by_host, size=2)[0]] == [
        "ws-1",
        "ws-2",
        "ws-3",
        "ws-9",
        "ws-10",
    ]


def test_the_users_list_is_in_natural_order(engine, system):
    for name in ("user10", "user2", "User1"):
        users.create_user(system, name, "agent")
    listed = [u.username for u in users.list_users(system) if u.username.startswith("user")]
    assert listed == ["user1", "user2", "user10"]


def test_a_mac_address_is_found_in_the_form_it_was_typed(world):
    """Stored as aa:bb:cc:dd:ee:ff whatever form it came in; the filter takes the same forms."""
    agent = world.people["agent"]
    stored = [r for r in expected_rows("system") if r["mac"]][0]
    digits = stored["mac"].replace(":", "")
    for typed in (
        stored["mac"].upper(),
        stored["mac"].replace(":", "-"),
        f"{digits[:4]}.{digits[4:8]}.{digits[8:]}",
    ):
        assert [r["hostname"] for r in listed(agent, "system", typed)] == [stored["hostname"]], typed
