"""The inventory service as a helpdesk operator relies on it, checked in the database.

Every test runs on SQLite and on MariaDB (the ``engine`` fixture). Effects are read back from
the tables (rows, versions, audit_log), never from the objects the service returned.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from peewee import fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store import audit
from itsm_tui.core.store.models import (
    AuditEntry,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    Ticket,
    User,
)
from itsm_tui.core.tickets import service as tickets

UNICODE = "Zoë's Łódź printer 王伟 مرحبا 🖨"
MODELS = {
    "department": Department,
    "network": Network,
    "system": System,
    "peripheral": Peripheral,
    "stock": StockItem,
}


# ---------------------------------------------------------------- helpers


def last_audit_id() -> int:
    return AuditEntry.select(fn.MAX(AuditEntry.id)).scalar() or 0


def entries_since(mark: int) -> list[AuditEntry]:
    return list(AuditEntry.select().where(AuditEntry.id > mark).order_by(AuditEntry.id))


def changes(entry: AuditEntry) -> dict:
    return audit.changes_of(entry)


def counts() -> dict:
    return {name: model.select().count() for name, model in MODELS.items()}


def fresh(model, row_id):
    """The row as stored now (a new SELECT), or None."""
    return model.get_or_none(model.id == row_id)


def make_network(actor, name="Office LAN", cidr="10.10.1.0/24", **extra):
    return inventory.create(actor, "network", {"name": name, "cidr": cidr, **extra})


def system_data(**overrides) -> dict:
    data = {
        "hostname": "ws-001",
        "asset_tag": "AT-1001",
        "type": "laptop",
        "manufacturer": "Lenovo",
        "model_name": "ThinkPad T14",
        "serial": "SN123",
        "os": "Windows 11",
        "ip": "10.10.1.11",
        "mac": "aa:bb:cc:dd:ee:01",
        "network": "Office LAN",
        "status": "in use",
        "purchase_date": "2024-01-10",
        "warranty_end": "2027-01-10",
    }
    data.update(overrides)
    return data


def make_system(actor, **overrides):
    return inventory.create(actor, "system", system_data(**overrides))


def make_peripheral(actor, name="Printer 1", asset_tag="PR-2001", **extra):
    return inventory.create(
        actor,
        "peripheral",
        {"name": name, "kind": extra.pop("kind", "printer"), "asset_tag": asset_tag, **extra},
    )


def make_stock(actor, name="Toner", quantity=10, unit_price="12.50", **extra):
    return inventory.create(
        actor, "stock", {"name": name, "quantity": quantity, "unit_price": unit_price, **extra}
    )


def make_ticket(actor, system_id, title="Laptop will not boot"):
    return tickets.create(actor, title, "It beeps three times.", category="Hardware", system=system_id)


@pytest.fixture
def agent(people):
    return people["agent"]


@pytest.fixture
def world(agent):
    """A small inventory: a department, a network, a system, a peripheral and a stock item."""
    return {
        "department": inventory.create(agent, "department", {"name": "IT"}),
        "network": make_network(agent),
        "system": make_system(agent),
        "peripheral": make_peripheral(agent),
        "stock": make_stock(agent),
    }


# ---------------------------------------------------------------- create / update / delete

# entity -> (create data, JSON "after" values expected in the create entry, update data,
#            the exact {field: [before, after]} the update entry must record)
CRUD = {
    "department": (
        {"name": "Finance"},
        {"name": "Finance"},
        {"name": "Accounting"},
        {"name": ["Finance", "Accounting"]},
    ),
    "network": (
        {"name": "Server LAN", "cidr": "10.20.0.0/24", "vlan": 20, "location": "HQ"},
        {"name": "Server LAN", "cidr": "10.20.0.0/24", "vlan": 20, "location": "HQ"},
        {"vlan": "21", "location": "HQ basement"},
        {"vlan": [20, 21], "location": ["HQ", "HQ basement"]},
    ),
    "system": (
        system_data(hostname="WS-002", asset_tag="at-1002", ip="10.10.1.12"),
        {
            "hostname": "ws-002",
            "asset_tag": "AT-1002",
            "type": "laptop",
            "ip": "10.10.1.12",
            "purchase_date": "2024-01-10",
            "warranty_end": "2027-01-10",
            "status": "in use",
        },
        {"os": "Debian 12", "status": "in repair"},
        {"os": ["Windows 11", "Debian 12"], "status": ["in use", "in repair"]},
    ),
    "peripheral": (
        {"name": "Printer 2", "kind": "Printer", "asset_tag": "pr-2002", "serial": "PS1"},
        {"name": "Printer 2", "kind": "printer", "asset_tag": "PR-2002", "serial": "PS1", "status": "in use"},
        {"name": "Printer 2nd floor", "serial": "PS2"},
        {"name": ["Printer 2", "Printer 2nd floor"], "serial": ["PS1", "PS2"]},
    ),
    "stock": (
        {"name": "USB-C cable", "quantity": 10, "unit_price": "12.5", "reorder_level": 3},
        {"name": "USB-C cable", "quantity": 10, "unit_price": "12.50", "reorder_level": 3},
        {"description": "1 m, braided", "reorder_level": 5},
        {"description": [None, "1 m, braided"], "reorder_level": [3, 5]},
    ),
}


@pytest.mark.parametrize("entity", list(CRUD))
def test_create_stores_row_and_exactly_one_audit_entry(world, agent, entity):
    data, expected_after, _, _ = CRUD[entity]
    mark = last_audit_id()
    before = counts()[entity]

    row = inventory.create(agent, entity, data)

    assert counts()[entity] == before + 1
    stored = fresh(MODELS[entity], row.id)
    assert stored.version == 1
    for field, value in expected_after.items():
        got = getattr(stored, field)
        assert (got == Decimal(value)) if isinstance(got, Decimal) else (audit.plain(got) == value)
    [entry] = entries_since(mark)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("create", entity, row.id)
    assert entry.actor_id == agent.id
    assert entry.entity_version == 1
    recorded = changes(entry)
    for field, value in expected_after.items():
        assert recorded[field] == [None, value], field


@pytest.mark.parametrize("entity", list(CRUD))
def test_update_records_before_and_after_of_changed_fields_only(world, agent, entity):
    data, _, update, expected = CRUD[entity]
    row = inventory.create(agent, entity, data)
    mark = last_audit_id()

    result = inventory.update(agent, entity, row.id, 1, update)

    stored = fresh(MODELS[entity], row.id)
    assert stored.version == 2
    for field, (_, after) in expected.items():
        assert audit.plain(getattr(stored, field)) == after
    [entry] = entries_since(mark)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("update", entity, row.id)
    assert entry.actor_id == agent.id
    assert entry.entity_version == 2
    assert changes(entry) == expected  # nothing else claimed to have changed
    assert result.version == 2


@pytest.mark.parametrize("entity", list(CRUD))
def test_update_without_a_change_writes_nothing(world, agent, entity):
    data = CRUD[entity][0]
    row = inventory.create(agent, entity, data)
    mark = last_audit_id()

    same = {k: v for k, v in data.items() if k != "quantity"}
    inventory.update(agent, entity, row.id, 1, same)

    assert fresh(MODELS[entity], row.id).version == 1
    assert entries_since(mark) == []


@pytest.mark.parametrize("entity", list(CRUD))
def test_delete_removes_row_with_one_audit_entry(world, agent, entity):
    data, expected_after, _, _ = CRUD[entity]
    row = inventory.create(agent, entity, data)
    mark = last_audit_id()

    inventory.delete(agent, entity, row.id, expected_version=1)

    assert fresh(MODELS[entity], row.id) is None
    [entry] = entries_since(mark)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("delete", entity, row.id)
    assert entry.actor_id == agent.id
    recorded = changes(entry)
    for field, value in expected_after.items():
        before, after = recorded[field]
        if field == "unit_price":  # SQLite hands a DECIMAL back as REAL: "12.5" (see report)
            before = str(Decimal(before).quantize(Decimal("0.01")))
        assert [before, after] == [value, None], field


def test_delete_of_a_missing_record_is_not_found(world, agent):
    mark = last_audit_id()
    with pytest.raises(NotFound, match="system 999999 does not exist"):
        inventory.delete(agent, "system", 999999)
    assert entries_since(mark) == []


def test_stale_delete_is_refused_and_keeps_the_row(world, people, agent):
    dept = world["department"]
    inventory.update(people["agent2"], "department", dept.id, 1, {"name": "IT Ops"})
    mark = last_audit_id()
    with pytest.raises(ConflictError, match="agent2 changed name"):
        inventory.delete(agent, "department", dept.id, expected_version=1)
    assert fresh(Department, dept.id).name == "IT Ops"
    assert entries_since(mark) == []


def test_change_and_audit_entry_commit_together(world, agent, monkeypatch):
    """When the audit entry cannot be written, the change is rolled back with it."""
    system = world["system"]

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        inventory.create(agent, "department", {"name": "Finance"})
    with pytest.raises(RuntimeError):
        inventory.update(agent, "system", system.id, 1, {"os": "Debian 12"})
    with pytest.raises(RuntimeError):
        inventory.delete(agent, "peripheral", world["peripheral"].id)
    with pytest.raises(RuntimeError):
        inventory.adjust_stock(agent, world["stock"].id, 5, "delivery")
    monkeypatch.undo()

    assert counts() == before
    assert Department.get_or_none(Department.name == "Finance") is None
    stored = fresh(System, system.id)
    assert (stored.os, stored.version) == ("Windows 11", 1)
    assert fresh(Peripheral, world["peripheral"].id) is not None
    assert fresh(StockItem, world["stock"].id).quantity == 10


# ---------------------------------------------------------------- validation

BASE = {
    "department": lambda: {"name": "Finance"},
    "network": lambda: {"name": "Server LAN", "cidr": "10.20.0.0/24", "vlan": 20},
    "system": lambda: system_data(hostname="ws-002", asset_tag="AT-1002", ip="10.10.1.12"),
    "peripheral": lambda: {"name": "Printer 2", "kind": "printer", "asset_tag": "PR-2002"},
    "stock": lambda: {"name": "Mouse", "quantity": 5, "unit_price": "9.90"},
}

INVALID = [
    # entity, overrides, field the error names, text the message holds
    ("system", {"ip": "10.0.0.256"}, "ip", "IP address"),
    ("system", {"ip": "abc"}, "ip", "'abc' is not a valid"),
    ("system", {"ip": "10.10.1.1/24"}, "ip", "IP address"),
    ("system", {"ip": "10.20.0.5"}, "ip", "not in network Office LAN (10.10.1.0/24)"),
    ("system", {"ip": "2001:db8::1"}, "ip", "not in network Office LAN"),
    ("system", {"mac": "aa:bb:cc:dd:ee"}, "mac", "MAC address"),
    ("system", {"mac": "aa:bb-cc:dd:ee:ff"}, "mac", "MAC address"),
    ("system", {"mac": "aa:bb:cc:dd:ee:fg"}, "mac", "MAC address"),
    ("system", {"mac": "aa:bb:cc:dd:ee:ff:00"}, "mac", "MAC address"),
    ("network", {"cidr": "10.0.0.1/24"}, "cidr", "CIDR '10.0.0.1/24'"),
    ("network", {"cidr": "10.0.0.0/33"}, "cidr", "CIDR '10.0.0.0/33'"),
    ("network", {"cidr": "office"}, "cidr", "CIDR"),
    ("network", {"cidr": ""}, "cidr", "CIDR is required"),
    ("network", {"vlan": 0}, "vlan", "vlan must be between 1 and 4094"),
    ("network", {"vlan": 4095}, "vlan", "vlan must be between 1 and 4094"),
    ("network", {"vlan": "ten"}, "vlan", "vlan must be a whole number"),
    ("network", {"name": "Office LAN"}, "name", "already used"),
    ("network", {"name": "n" * 101}, "name", "too long: 101 characters, at most 100"),
    ("system", {"hostname": "ws-001"}, "hostname", "hostname 'ws-001' is already used"),
    ("system", {"hostname": "WS-001"}, "hostname", "already used"),
    ("system", {"hostname": "ws_002!"}, "hostname", "hostname"),
    ("system", {"hostname": ""}, "hostname", "hostname is required"),
    ("system", {"asset_tag": "AT-1001"}, "asset_tag", "asset tag 'AT-1001' is already used"),
    ("system", {"asset_tag": "at-1001"}, "asset_tag", "already used"),
    ("system", {"asset_tag": "PR-2001"}, "asset_tag", "asset tag 'PR-2001' is already used"),
    ("system", {"asset_tag": "   "}, "asset_tag", "asset tag is required"),
    ("system", {"asset_tag": "A" * 33}, "asset_tag", "asset tag is too long"),
    ("peripheral", {"asset_tag": "AT-1001"}, "asset_tag", "asset tag 'AT-1001' is already used"),
    ("peripheral", {"asset_tag": "pr-2001"}, "asset_tag", "already used"),
    ("peripheral", {"asset_tag": ""}, "asset_tag", "asset tag is required"),
    ("system", {"type": "tablet"}, "type", "type 'tablet' is not one of"),
    ("system", {"type": None}, "type", "type"),
    ("peripheral", {"kind": "toaster"}, "kind", "kind 'toaster' is not one of"),
    ("system", {"status": "lost"}, "status", "status 'lost' is not one of"),
    ("peripheral", {"status": "stolen"}, "status", "status 'stolen' is not one of"),
    ("system", {"warranty_end": "2023-12-31"}, "warranty_end", "warranty end is before the purchase date"),
    ("system", {"purchase_date": "31/12/2024"}, "purchase_date", "purchase date '31/12/2024' is not a date"),
    ("system", {"purchase_date": "yesterday"}, "purchase_date", "purchase date"),
    ("system", {"warranty_end": "2027-02-30"}, "warranty_end", "warranty end '2027-02-30' is not a date"),
    ("system", {"department": "Nowhere"}, "department", "no department 'Nowhere'"),
    ("system", {"network": "Nowhere"}, "network", "no network 'Nowhere'"),
    ("system", {"assigned_user": "nobody"}, "assigned_user", "no assigned user 'nobody'"),
    ("system", {"os": "o" * 65}, "os", "OS is too long"),
    ("system", {"model_name": "m" * 65}, "model_name", "too long"),
    ("system", {"notes": "n" * 20_001}, "notes", "notes is too long"),
    ("peripheral", {"system": "no-such-host"}, "system", "no system 'no-such-host'"),
    ("peripheral", {"name": "p" * 101}, "name", "name is too long: 101 characters"),
    ("stock", {"quantity": -1}, "quantity", "quantity must be between 0"),
    ("stock", {"quantity": "3.5"}, "quantity", "quantity must be a whole number"),
    ("stock", {"unit_price": "-0.01"}, "unit_price", "unit price must be between 0"),
    ("stock", {"unit_price": "1.005"}, "unit_price", "unit price has more than 2 decimal places"),
    ("stock", {"unit_price": "abc"}, "unit_price", "unit price must be an amount"),
    ("stock", {"unit_price": "NaN"}, "unit_price", "unit price"),
    ("stock", {"reorder_level": -1}, "reorder_level", "reorder level must be between 0"),
    ("stock", {"name": "Toner"}, "name", "name 'Toner' is already used"),
    ("department", {"name": "d" * 101}, "name", "name is too long: 101 characters, at most 100"),
    ("department", {"name": ""}, "name", "name is required"),
    ("department", {"name": "   "}, "name", "name is required"),
    ("department", {"name": None}, "name", "name is required"),
    ("department", {"name": "\x1b[0m"}, "name", "name is required"),
    ("department", {"name": "IT"}, "name", "name 'IT' is already used"),
]


@pytest.mark.parametrize(
    "entity, overrides, field, text",
    INVALID,
    ids=[f"{e}-{f}-{i}" for i, (e, _, f, _) in enumerate(INVALID)],
)
def test_create_with_invalid_input_names_the_field_and_stores_nothing(
    world, agent, entity, overrides, field, text
):
    before = counts()
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.create(agent, entity, {**BASE[entity](), **overrides})
    assert caught.value.field == field
    assert text in str(caught.value)
    assert counts() == before
    assert entries_since(mark) == []


UPDATE_INVALID = [
    ("system", {"ip": "10.0.0.256"}, "ip"),
    ("system", {"mac": "aa-bb-cc:dd:ee:ff"}, "mac"),
    ("system", {"ip": "10.20.0.5"}, "ip"),
    ("system", {"hostname": "ws-009"}, "hostname"),
    ("system", {"asset_tag": "PR-2001"}, "asset_tag"),
    ("system", {"warranty_end": "2020-01-01"}, "warranty_end"),
    ("system", {"type": "phone"}, "type"),
    ("peripheral", {"asset_tag": "AT-1001"}, "asset_tag"),
    ("peripheral", {"kind": "kettle"}, "kind"),
    ("network", {"cidr": "10.10.1.1/24"}, "cidr"),
    ("network", {"vlan": 4095}, "vlan"),
    ("stock", {"unit_price": "3.999"}, "unit_price"),
    ("stock", {"reorder_level": -5}, "reorder_level"),
    ("department", {"name": "x" * 101}, "name"),
    ("department", {"name": ""}, "name"),
]


@pytest.mark.parametrize(
    "entity, overrides, field",
    UPDATE_INVALID,
    ids=[f"{e}-{f}-{i}" for i, (e, _, f) in enumerate(UPDATE_INVALID)],
)
def test_update_with_invalid_input_leaves_the_row_unchanged(world, agent, entity, overrides, field):
    make_system(agent, hostname="ws-009", asset_tag="AT-1009", ip="10.10.1.19")
    row = world[entity]
    stored_before = dict(fresh(MODELS[entity], row.id).__data__)
    mark = last_audit_id()

    with pytest.raises(ValidationError) as caught:
        inventory.update(agent, entity, row.id, 1, overrides)

    assert caught.value.field == field
    assert dict(fresh(MODELS[entity], row.id).__data__) == stored_before
    assert entries_since(mark) == []


@pytest.mark.parametrize("vlan", [1, 4094])
def test_vlan_bounds_are_accepted(agent, vlan):
    net = make_network(agent, vlan=vlan)
    assert fresh(Network, net.id).vlan == vlan


def test_longest_name_is_accepted_in_any_script(agent):
    name = "Ł" * 99 + "🖨"
    dept = inventory.create(agent, "department", {"name": name})
    assert fresh(Department, dept.id).name == name


def test_a_network_cannot_move_away_from_its_systems(world, agent):
    """Editing a CIDR must not leave systems with an IP outside their network."""
    net = world["network"]
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.update(agent, "network", net.id, 1, {"cidr": "10.30.0.0/24"})
    assert caught.value.field == "cidr"
    assert "ws-001" in str(caught.value)
    assert fresh(Network, net.id).cidr == "10.10.1.0/24"
    assert entries_since(mark) == []
    # widening it keeps the system inside and is fine
    inventory.update(agent, "network", net.id, 1, {"cidr": "10.10.0.0/16"})
    assert fresh(Network, net.id).cidr == "10.10.0.0/16"


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "given", ["AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff", "AABB.CCDD.EEFF", " Aa:Bb:Cc:Dd:Ee:Ff "]
)
def test_mac_is_stored_lower_case_with_colons(agent, given):
    make_network(agent)
    system = make_system(agent, mac=given)
    assert fresh(System, system.id).mac == "aa:bb:cc:dd:ee:ff"


def test_mac_normalised_on_update_and_in_the_audit_entry(world, agent):
    system = world["system"]
    mark = last_audit_id()
    inventory.update(agent, "system", system.id, 1, {"mac": "00-1A-2B-3C-4D-5E"})
    assert fresh(System, system.id).mac == "00:1a:2b:3c:4d:5e"
    [entry] = entries_since(mark)
    assert changes(entry) == {"mac": ["aa:bb:cc:dd:ee:01", "00:1a:2b:3c:4d:5e"]}


def test_ipv6_network_and_address_are_accepted_and_normalised(agent):
    net = make_network(agent, name="v6 LAN", cidr="2001:DB8:0:1::/64")
    assert fresh(Network, net.id).cidr == "2001:db8:0:1::/64"
    system = make_system(agent, network="v6 LAN", ip="2001:0DB8:0000:0001:0000:0000:0000:00AB")
    assert fresh(System, system.id).ip == "2001:db8:0:1::ab"
    with pytest.raises(ValidationError) as caught:
        make_system(agent, hostname="ws-002", asset_tag="AT-1002", network="v6 LAN", ip="2001:db8:0:2::1")
    assert caught.value.field == "ip"


def test_ip_without_a_network_needs_only_a_valid_address(agent):
    system = make_system(agent, network=None, ip="192.168.7.7")
    stored = fresh(System, system.id)
    assert (stored.ip, stored.network_id) == ("192.168.7.7", None)


def test_hostname_and_asset_tag_are_normalised(agent):
    make_network(agent)
    system = make_system(agent, hostname="WS-001.Corp.Example", asset_tag="at-1001")
    stored = fresh(System, system.id)
    assert (stored.hostname, stored.asset_tag) == ("ws-001.corp.example", "AT-1001")


def test_names_are_unique_in_any_case_on_both_engines(world, agent):
    """Finance, finance and FINANCE are one department, as MariaDB's collation says: SQLite
    took all three."""
    inventory.create(agent, "department", {"name": "Finance"})
    inventory.create(agent, "stock", {"name": "Paper A4", "unit_price": "3"})
    for kind, name in (("department", "finance"), ("department", "FINANCE"), ("stock", "PAPER a4")):
        with pytest.raises(ValidationError, match="already used"):
            inventory.create(
                agent, kind, {"name": name, "unit_price": "3"} if kind == "stock" else {"name": name}
            )
    it = world["department"]
    with pytest.raises(ValidationError, match="already used"):
        inventory.update(agent, "department", it.id, it.version, {"name": "fInAnCe"})
    assert inventory.update(agent, "department", it.id, it.version, {"name": "it"}).name == "it"  # its own


def test_price_is_stored_with_two_decimals(agent):
    item = make_stock(agent, unit_price="7.5")
    assert fresh(StockItem, item.id).unit_price == Decimal("7.50")
    item = make_stock(agent, name="Dock", unit_price=199)
    assert fresh(StockItem, item.id).unit_price == Decimal("199.00")


# ---------------------------------------------------------------- text: unicode and controls


def test_unicode_round_trips_in_names_notes_and_audit(agent):
    make_network(agent)
    dept = inventory.create(agent, "department", {"name": UNICODE})
    peripheral = make_peripheral(agent, name=UNICODE, department=UNICODE)
    system = make_system(agent, notes=f"{UNICODE}\nsecond line", department=UNICODE)
    item = make_stock(agent, name=UNICODE, description=UNICODE)

    assert fresh(Department, dept.id).name == UNICODE
    assert fresh(Peripheral, peripheral.id).name == UNICODE
    assert fresh(Peripheral, peripheral.id).department_id == dept.id
    assert fresh(System, system.id).notes == f"{UNICODE}\nsecond line"
    assert (fresh(StockItem, item.id).name, fresh(StockItem, item.id).description) == (UNICODE, UNICODE)
    created = AuditEntry.get((AuditEntry.entity_type == "department") & (AuditEntry.entity_id == dept.id))
    assert changes(created)["name"] == [None, UNICODE]
    assert UNICODE in created.summary

    inventory.update(agent, "department", dept.id, 1, {"name": UNICODE + " 2"})
    assert fresh(Department, dept.id).name == UNICODE + " 2"


def test_control_characters_are_stripped_from_stored_text(agent):
    make_network(agent)
    dept = inventory.create(agent, "department", {"name": "\x1b[31mred\x1b[0m"})
    peripheral = make_peripheral(agent, name="Print\x9b2Jer \u202eevil")
    item = make_stock(agent, name="Ton\x07er\x00", description="a\x1b]0;title\x07b")
    system = make_system(
        agent, notes="first line\n\x1b[2Jsecond\tline\r\nthird\u202e\x9b", manufacturer="\x1b[1mDell"
    )

    assert fresh(Department, dept.id).name == "red"
    assert fresh(Peripheral, peripheral.id).name == "Printer evil"
    assert fresh(StockItem, item.id).name == "Toner"
    assert fresh(StockItem, item.id).description == "ab"
    stored = fresh(System, system.id)
    assert stored.notes == "first line\nsecond\tline\nthird"
    assert stored.manufacturer == "Dell"
    entry = AuditEntry.get((AuditEntry.entity_type == "department") & (AuditEntry.entity_id == dept.id))
    assert "\x1b" not in entry.changes and "\x1b" not in entry.summary


def test_control_characters_are_stripped_on_update(world, agent):
    system = world["system"]
    inventory.update(agent, "system", system.id, 1, {"notes": "ok\x1b[31m\nstill \u202aok\x9b"})
    assert fresh(System, system.id).notes == "ok\nstill ok"


# ---------------------------------------------------------------- optimistic locking


def test_stale_update_names_who_changed_which_fields_and_keeps_their_change(world, people, agent):
    system = world["system"]
    inventory.update(people["agent2"], "system", system.id, 1, {"os": "Debian 12", "serial": "SN999"})
    mark = last_audit_id()

    with pytest.raises(ConflictError) as caught:
        inventory.update(agent, "system", system.id, 1, {"os": "Windows 10"})

    message = str(caught.value)
    assert "agent2 changed os, serial" in message
    assert "ws-001" in message
    stored = fresh(System, system.id)
    assert (stored.os, stored.serial, stored.version) == ("Debian 12", "SN999", 2)
    assert entries_since(mark) == []
    # with the current version the second change goes through
    inventory.update(agent, "system", system.id, 2, {"os": "Windows 10"})
    assert fresh(System, system.id).os == "Windows 10"


def test_stale_stock_edit_after_an_adjustment_is_a_conflict(world, people, agent):
    item = world["stock"]
    inventory.adjust_stock(people["agent2"], item.id, 4, "delivery")
    with pytest.raises(ConflictError, match="agent2 changed quantity, reason"):
        inventory.update(agent, "stock", item.id, 1, {"reorder_level": 2})
    stored = fresh(StockItem, item.id)
    assert (stored.quantity, stored.reorder_level, stored.version) == (14, 0, 2)


# ---------------------------------------------------------------- deleting a system


def test_delete_system_keeps_peripherals_and_tickets_unlinked(world, agent):
    system = world["system"]
    p1 = make_peripheral(agent, name="Monitor", asset_tag="PR-3001", kind="monitor", system="ws-001")
    p2 = make_peripheral(agent, name="Dock", asset_tag="PR-3002", kind="docking station", system=system.id)
    loose = world["peripheral"]
    t1 = make_ticket(agent, system.id)
    t2 = make_ticket(agent, system.id, title="Fan is loud")
    other = make_system(agent, hostname="ws-002", asset_tag="AT-1002", ip="10.10.1.12")
    make_ticket(agent, other.id, title="Other machine")

    assert inventory.linked_records(agent, "system", system.id) == {"peripherals": 2, "tickets": 2}
    mark = last_audit_id()

    effects = inventory.delete(agent, "system", system.id, expected_version=1)

    assert effects == {"peripherals": 2, "tickets": 2}
    assert fresh(System, system.id) is None
    assert fresh(System, other.id) is not None
    for p in (p1, p2):
        stored = fresh(Peripheral, p.id)
        assert stored is not None
        assert stored.system_id is None
        assert stored.version == 2
    assert fresh(Peripheral, loose.id).version == 1
    for t in (t1, t2):
        stored = fresh(Ticket, t.id)
        assert stored is not None and stored.system_id is None
        assert stored.version == t.version + 1  # an open ticket form sees a conflict
    new = entries_since(mark)
    unlinked = [e for e in new if e.entity_type == "ticket"]
    assert sorted(e.entity_id for e in unlinked) == sorted([t1.id, t2.id])
    assert all(changes(e) == {"system": [system.id, None]} for e in unlinked)
    detached = [e for e in new if e.entity_type == "peripheral"]
    assert sorted(e.entity_id for e in detached) == sorted([p1.id, p2.id])
    for entry in detached:
        assert entry.action == "update"
        assert changes(entry) == {"system": [system.id, None]}
        assert "ws-001" in entry.summary
    [deleted] = [e for e in new if e.entity_type == "system"]
    assert (deleted.action, deleted.entity_id) == ("delete", system.id)
    assert changes(deleted)["hostname"] == ["ws-001", None]
    assert len(new) == 5


def test_stale_system_delete_rolls_back_the_detaching(world, people, agent):
    system = world["system"]
    monitor = make_peripheral(agent, name="Monitor", asset_tag="PR-3001", kind="monitor", system=system.id)
    inventory.update(people["agent2"], "system", system.id, 1, {"os": "Debian 12"})
    mark = last_audit_id()

    with pytest.raises(ConflictError, match="agent2 changed os"):
        inventory.delete(agent, "system", system.id, expected_version=1)

    assert fresh(System, system.id) is not None
    stored = fresh(Peripheral, monitor.id)
    assert (stored.system_id, stored.version) == (system.id, 1)
    assert entries_since(mark) == []


@pytest.mark.parametrize("entity, column", [("department", "department"), ("network", "network")])
def test_delete_department_or_network_unlinks_assets_with_audit(world, agent, entity, column):
    target = world[entity]
    system = world["system"]
    inventory.update(agent, "system", system.id, 1, {column: target.id})
    peripheral = world["peripheral"]
    inventory.update(agent, "peripheral", peripheral.id, 1, {column: target.id})
    system_version = fresh(System, system.id).version

    expected = {"systems": 1, "peripherals": 1} | ({"users": 0} if entity == "department" else {})
    assert inventory.linked_records(agent, entity, target.id) == expected
    mark = last_audit_id()
    effects = inventory.delete(agent, entity, target.id)

    assert effects == expected
    stored_system, stored_peripheral = fresh(System, system.id), fresh(Peripheral, peripheral.id)
    assert getattr(stored_system, f"{column}_id") is None
    assert getattr(stored_peripheral, f"{column}_id") is None
    # an edit form opened before the delete must now see a conflict, not a vanished reference
    assert stored_system.version == system_version + 1
    new = entries_since(mark)
    assert {(e.entity_type, e.entity_id, e.action) for e in new} == {
        ("system", system.id, "update"),
        ("peripheral", peripheral.id, "update"),
        (entity, target.id, "delete"),
    }
    for entry in new:
        if entry.action == "update":
            assert changes(entry) == {column: [target.id, None]}


def test_linked_records_counts_without_changing_anything(world, agent):
    system = world["system"]
    mark = last_audit_id()
    assert inventory.linked_records(agent, "system", system.id) == {"peripherals": 0, "tickets": 0}
    make_ticket(agent, system.id)
    assert inventory.linked_records(agent, "system", system.id)["tickets"] == 1
    assert inventory.linked_records(agent, "peripheral", world["peripheral"].id) == {
        "tickets": 0,
        "system": 0,
    }
    assert inventory.linked_records(agent, "network", world["network"].id) == {"systems": 1, "peripherals": 0}
    assert inventory.linked_records(agent, "stock", world["stock"].id) == {}
    assert inventory.linked_records(agent, "department", world["department"].id)["users"] == 0
    assert fresh(System, system.id).version == 1
    # only the ticket's creation, and its link noted on the system: counting wrote nothing
    assert {(e.entity_type, e.action) for e in entries_since(mark)} == {
        ("ticket", "create"),
        ("system", "ticket_linked"),
    }


# ---------------------------------------------------------------- attach / detach


def test_attach_and_detach_a_peripheral(world, agent):
    system, peripheral = world["system"], world["peripheral"]
    mark = last_audit_id()

    inventory.attach_peripheral(agent, peripheral.id, 1, system.id)

    stored = fresh(Peripheral, peripheral.id)
    assert (stored.system_id, stored.version) == (system.id, 2)
    entry, on_system = entries_since(mark)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("update", "peripheral", peripheral.id)
    assert (on_system.action, on_system.entity_type, on_system.entity_id) == (
        "peripheral_attached",
        "system",
        system.id,
    )
    assert on_system.summary == "PR-2001 (Printer 1) attached"
    assert changes(entry) == {"system": [None, system.id], "network": [None, world["network"].id]}
    assert entry.summary == "PR-2001 attached to ws-001"
    assert entry.actor_id == agent.id
    assert inventory.linked_records(agent, "system", system.id)["peripherals"] == 1

    mark = last_audit_id()
    inventory.attach_peripheral(agent, peripheral.id, 2, None)

    stored = fresh(Peripheral, peripheral.id)
    assert (stored.system_id, stored.version) == (None, 3)
    entry, on_system = entries_since(mark)
    assert changes(entry) == {"system": [system.id, None]}
    assert entry.summary == "PR-2001 detached"
    assert (on_system.action, on_system.entity_id) == ("peripheral_detached", system.id)


def test_an_attached_peripheral_takes_its_systems_department_and_network(world, agent):
    """Attached (by attach, create or edit) it sits where the system sits; detached it keeps them."""
    system, peripheral = world["system"], world["peripheral"]
    finance = inventory.create(agent, "department", {"name": "Finance"})
    lab = make_network(agent, name="Lab", cidr="10.99.0.0/24")
    inventory.update(agent, "system", system.id, 1, {"department": "IT"})
    inventory.update(agent, "peripheral", peripheral.id, 1, {"department": "Finance", "network": "Lab"})
    mark = last_audit_id()

    inventory.attach_peripheral(agent, peripheral.id, 2, system.id)

    stored = fresh(Peripheral, peripheral.id)
    it, office = world["department"].id, world["network"].id
    assert (stored.system_id, stored.department_id, stored.network_id) == (system.id, it, office)
    entry, _ = entries_since(mark)
    assert changes(entry) == {
        "system": [None, system.id],
        "department": [finance.id, it],
        "network": [lab.id, office],
    }

    inventory.attach_peripheral(agent, peripheral.id, 3, None)
    stored = fresh(Peripheral, peripheral.id)
    assert (stored.system_id, stored.department_id, stored.network_id) == (None, it, office)

    made = make_peripheral(
        agent,
        name="Dock",
        asset_tag="PR-3001",
        kind="docking station",
        system="ws-001",
        department="Finance",
        network="Lab",
    )
    edited = inventory.update(
        agent, "peripheral", peripheral.id, 4, {"system": "ws-001", "department": "Finance"}
    )
    for row in (made, edited):
        assert (row.department_id, row.network_id) == (it, office)


def test_attached_peripherals_follow_their_system_each_with_its_entry(world, agent):
    system = world["system"]
    p1 = make_peripheral(agent, name="Monitor", asset_tag="PR-3001", kind="monitor", system="ws-001")
    p2 = make_peripheral(agent, name="Dock", asset_tag="PR-3002", kind="docking station", system="ws-001")
    loose = world["peripheral"]
    inventory.create(agent, "department", {"name": "Finance"})
    lab = make_network(agent, name="Lab", cidr="10.99.0.0/24")
    mark = last_audit_id()

    inventory.update(
        agent, "system", system.id, 1, {"department": "Finance", "network": "Lab", "ip": "10.99.0.5"}
    )

    finance = Department.get(Department.name == "Finance")
    for p in (p1, p2):
        stored = fresh(Peripheral, p.id)
        assert (stored.department_id, stored.network_id, stored.version) == (finance.id, lab.id, 2)
    assert fresh(Peripheral, loose.id).version == 1
    moved = [e for e in entries_since(mark) if e.entity_type == "peripheral"]
    assert sorted(e.entity_id for e in moved) == sorted([p1.id, p2.id])
    for entry in moved:
        assert changes(entry) == {"department": [None, finance.id], "network": [world["network"].id, lab.id]}
        assert entry.summary.endswith("follows ws-001")
        assert entry.entity_version == 2

    mark = last_audit_id()
    inventory.update(agent, "system", system.id, 2, {"os": "Debian 12"})
    assert [e.entity_type for e in entries_since(mark)] == ["system"]  # nothing to follow


def test_a_system_move_and_its_peripherals_commit_together(world, agent, monkeypatch):
    system = world["system"]
    attached = make_peripheral(agent, name="Monitor", asset_tag="PR-3001", kind="monitor", system="ws-001")
    inventory.create(agent, "department", {"name": "Finance"})
    real_record = audit.record

    def failing_for_peripherals(actor, action, entity_type, *args, **kwargs):
        if entity_type == "peripheral":
            raise RuntimeError("audit log unavailable")
        return real_record(actor, action, entity_type, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_for_peripherals)
    with pytest.raises(RuntimeError):
        inventory.update(agent, "system", system.id, 1, {"department": "Finance"})
    monkeypatch.undo()

    assert (fresh(System, system.id).department_id, fresh(System, system.id).version) == (None, 1)
    assert (fresh(Peripheral, attached.id).department_id, fresh(Peripheral, attached.id).version) == (None, 1)


def test_attach_with_stale_version_or_unknown_system_changes_nothing(world, people, agent):
    system, peripheral = world["system"], world["peripheral"]
    inventory.update(people["agent2"], "peripheral", peripheral.id, 1, {"name": "Printer A"})
    mark = last_audit_id()
    with pytest.raises(ConflictError, match="agent2 changed name"):
        inventory.attach_peripheral(agent, peripheral.id, 1, system.id)
    with pytest.raises(NotFound, match="system 999999 does not exist"):
        inventory.attach_peripheral(agent, peripheral.id, 2, 999999)
    stored = fresh(Peripheral, peripheral.id)
    assert (stored.system_id, stored.version) == (None, 2)
    assert entries_since(mark) == []


# ---------------------------------------------------------------- stock


def test_adjust_stock_up_and_down_records_the_reason(world, agent):
    item = world["stock"]
    mark = last_audit_id()

    returned = inventory.adjust_stock(agent, item.id, 5, "delivery from supplier")
    assert fresh(StockItem, item.id).quantity == 15
    assert returned.quantity == 15
    [entry] = entries_since(mark)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("stock_adjust", "stock", item.id)
    assert changes(entry) == {"quantity": [10, 15], "reason": [None, "delivery from supplier"]}
    assert "delivery from supplier" in entry.summary
    assert entry.entity_version == 2

    mark = last_audit_id()
    inventory.adjust_stock(agent, item.id, -3, "issued to INC000001")
    assert fresh(StockItem, item.id).quantity == 12
    [entry] = entries_since(mark)
    assert changes(entry) == {"quantity": [15, 12], "reason": [None, "issued to INC000001"]}
    assert entry.actor_id == agent.id
    assert fresh(StockItem, item.id).version == 3


def test_taking_more_than_in_stock_is_refused(world, agent):
    item = world["stock"]
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.adjust_stock(agent, item.id, -11, "issued")
    assert caught.value.field == "quantity"
    assert "only 10 in stock" in str(caught.value)
    stored = fresh(StockItem, item.id)
    assert (stored.quantity, stored.version) == (10, 1)
    assert entries_since(mark) == []
    # taking exactly everything is fine
    inventory.adjust_stock(agent, item.id, -10, "issued")
    assert fresh(StockItem, item.id).quantity == 0


@pytest.mark.parametrize(
    "delta, reason, field",
    [
        (0, "nothing", "quantity"),
        ("0", "nothing", "quantity"),
        ("two", "delivery", "quantity"),
        (1.5, "delivery", "quantity"),
        (5, "", "reason"),
        (5, "\x1b[0m", "reason"),
        (5, "r" * 201, "reason"),
    ],
)
def test_invalid_adjustment_is_refused(world, agent, delta, reason, field):
    item = world["stock"]
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.adjust_stock(agent, item.id, delta, reason)
    assert caught.value.field == field
    stored = fresh(StockItem, item.id)
    assert (stored.quantity, stored.version) == (10, 1)
    assert entries_since(mark) == []


def test_adjustment_beyond_the_largest_quantity_is_refused(agent):
    item = make_stock(agent, quantity=2_000_000_000)
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.adjust_stock(agent, item.id, 200_000_000, "miscounted delivery")
    assert caught.value.field == "quantity"
    assert fresh(StockItem, item.id).quantity == 2_000_000_000
    assert entries_since(mark) == []


def test_adjusting_a_missing_item_is_not_found(agent):
    with pytest.raises(NotFound):
        inventory.adjust_stock(agent, 999999, 1, "delivery")


def test_adjustment_updates_the_change_time(agent):
    with clock.frozen(datetime(2025, 3, 1, 9, 0, 0)):
        item = make_stock(agent)
    with clock.frozen(datetime(2025, 3, 2, 14, 30, 0)):
        inventory.adjust_stock(agent, item.id, 2, "delivery")
    stored = fresh(StockItem, item.id)
    assert stored.created_at == datetime(2025, 3, 1, 9, 0, 0)
    assert stored.updated_at == datetime(2025, 3, 2, 14, 30, 0)


@pytest.mark.parametrize("quantity", [99, 11, "9"])
def test_update_refuses_to_set_the_quantity(world, agent, quantity):
    item = world["stock"]
    mark = last_audit_id()
    with pytest.raises(ValidationError) as caught:
        inventory.update(agent, "stock", item.id, 1, {"quantity": quantity, "reorder_level": 4})
    assert caught.value.field == "quantity"
    assert "adjustment" in str(caught.value)
    stored = fresh(StockItem, item.id)
    assert (stored.quantity, stored.reorder_level, stored.version) == (10, 0, 1)
    assert entries_since(mark) == []


def test_update_accepts_the_unchanged_quantity_a_form_sends_back(world, agent):
    item = world["stock"]
    inventory.update(agent, "stock", item.id, 1, {"quantity": 10, "reorder_level": 4})
    stored = fresh(StockItem, item.id)
    assert (stored.quantity, stored.reorder_level, stored.version) == (10, 4, 2)


def test_stock_edit_keeps_quantity_and_price(world, agent):
    item = world["stock"]
    inventory.update(agent, "stock", item.id, 1, {"name": "Toner black"})
    stored = fresh(StockItem, item.id)
    assert (stored.name, stored.quantity, stored.unit_price) == ("Toner black", 10, Decimal("12.50"))


# ---------------------------------------------------------------- permissions


def _every_operation(actor, world):
    """(name, call) for every inventory operation on the world's records."""
    system, peripheral, item = world["system"], world["peripheral"], world["stock"]
    return [
        ("create", lambda: inventory.create(actor, "department", {"name": "Finance"})),
        ("update", lambda: inventory.update(actor, "system", system.id, 1, {"os": "Debian 12"})),
        ("attach", lambda: inventory.attach_peripheral(actor, peripheral.id, 1, system.id)),
        ("adjust", lambda: inventory.adjust_stock(actor, item.id, -1, "issued")),
        ("get", lambda: inventory.get(actor, "system", system.id)),
        ("delete", lambda: inventory.delete(actor, "peripheral", peripheral.id)),
    ]


def test_requester_may_not_touch_inventory(world, people):
    requester = people["requester"]
    before = counts()
    mark = last_audit_id()
    for name, call in _every_operation(requester, world):
        with pytest.raises(PermissionDenied, match="requester may not"):
            call()
    assert counts() == before
    assert entries_since(mark) == []
    assert fresh(System, world["system"].id).os == "Windows 11"
    assert fresh(StockItem, world["stock"].id).quantity == 10


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_staff_may_manage_inventory(world, people, role):
    actor = people[role]
    mark = last_audit_id()
    for name, call in _every_operation(actor, world):
        call()
    assert Department.get_or_none(Department.name == "Finance") is not None
    assert fresh(System, world["system"].id).os == "Debian 12"
    assert fresh(StockItem, world["stock"].id).quantity == 9
    assert fresh(Peripheral, world["peripheral"].id) is None
    assert inventory.get(actor, "system", world["system"].id).hostname == "ws-001"
    mine = [e for e in entries_since(mark) if e.actor_id == actor.id]
    assert sorted(e.action for e in mine) == [
        "create",
        "delete",
        "peripheral_attached",
        "peripheral_detached",
        "stock_adjust",
        "update",
        "update",
    ]
    assert len(entries_since(mark)) == 7  # deleting the attached peripheral detaches it too


def test_disabled_agent_is_refused(world, people, system):
    agent = people["agent"]
    users.update_user(system, agent.id, agent.version, is_active=False)
    disabled = users.by_username("agent")
    with pytest.raises(PermissionDenied, match="disabled"):
        inventory.create(disabled, "department", {"name": "Finance"})
    assert Department.get_or_none(Department.name == "Finance") is None


def test_get_returns_the_stored_record_or_not_found(world, agent):
    item = inventory.get(agent, "stock", world["stock"].id)
    assert (item.name, item.quantity) == ("Toner", 10)
    with pytest.raises(NotFound, match="peripheral 999999 does not exist"):
        inventory.get(agent, "peripheral", 999999)


def test_dates_round_trip_as_dates(world):
    stored = fresh(System, world["system"].id)
    assert (stored.purchase_date, stored.warranty_end) == (date(2024, 1, 10), date(2027, 1, 10))


def test_delete_department_unlinks_its_users_with_audit(world, people, system):
    dept = world["department"]
    users.update_user(system, people["requester"].id, people["requester"].version, department=dept.name)
    before = fresh(User, people["requester"].id).version
    assert inventory.linked_records(people["agent"], "department", dept.id)["users"] == 1
    mark = last_audit_id()
    inventory.delete(people["agent"], "department", dept.id)
    stored = fresh(User, people["requester"].id)
    assert stored.department_id is None and stored.version == before + 1
    assert ("user", stored.id, "update") in {
        (e.entity_type, e.entity_id, e.action) for e in entries_since(mark)
    }


def test_deleting_an_attached_peripheral_says_so_and_notes_it_on_the_system(world, agent):
    from itsm_tui.ui.inventory_forms import delete_message

    system = world["system"]
    monitor = make_peripheral(agent, name="Monitor", asset_tag="PR-3001", kind="monitor", system=system.id)
    linked = inventory.linked_records(agent, "peripheral", monitor.id)
    assert linked == {"tickets": 0, "system": 1}
    question = delete_message("peripheral", "PR-3001", linked)
    assert "Nothing else is linked" not in question and "1 system will be unlinked." in question
    mark = last_audit_id()
    assert inventory.delete(agent, "peripheral", monitor.id) == linked
    detached = [e for e in entries_since(mark) if e.entity_type == "system"]
    assert [(e.entity_id, e.action, e.summary) for e in detached] == [
        (system.id, "peripheral_detached", "PR-3001 (Monitor) detached (deleted)")
    ]
    loose = inventory.linked_records(agent, "peripheral", world["peripheral"].id)
    assert "Nothing else is linked to it." in delete_message("peripheral", "PR-2001", loose)
