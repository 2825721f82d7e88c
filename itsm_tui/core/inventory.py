"""The inventory service: departments, networks, systems, peripherals and stock items.

Every function takes the acting user, validates its input with messages that name the field, and
writes the change with its audit entry in one transaction.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from . import audit, records
from .db import transactional
from .errors import ValidationError
from .models import (
    ASSET_STATUSES, PERIPHERAL_KINDS, SYSTEM_TYPES, Department, Network, Peripheral,
    StockItem, System, User,
)
from .permissions import require
from .text import clean, optional

MAC_RE = re.compile(r"^([0-9a-f]{2}([:-])[0-9a-f]{2}(\2[0-9a-f]{2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})$")
HOSTNAME_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


# ---------------------------------------------------------------- field validators

def ip_address(value) -> str | None:
    text = optional(value, "IP address", max_len=45)
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError(f"IP address {text!r} is not a valid IPv4 or IPv6 address", "ip") from None


def mac_address(value) -> str | None:
    """Accepts aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff; stores lower-case with colons."""
    text = optional(value, "MAC address", max_len=17)
    if text is None:
        return None
    if not MAC_RE.match(text.lower()):
        raise ValidationError(f"MAC address {text!r} is not like aa:bb:cc:dd:ee:ff", "mac")
    digits = re.sub(r"[:\-.]", "", text.lower())
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def cidr(value) -> str:
    text = clean(value, "CIDR", max_len=43)
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        raise ValidationError(f"CIDR {text!r} is not a network like 10.0.0.0/24 ({exc})", "cidr") from None


def hostname(value) -> str:
    text = clean(value, "hostname", max_len=253).lower()
    if not HOSTNAME_RE.match(text):
        raise ValidationError(
            f"hostname {text!r} may hold only letters, digits, '-' and '.' labels", "hostname"
        )
    return text


def asset_tag(value) -> str:
    text = clean(value, "asset tag", max_len=32).upper()
    if not re.match(r"^[A-Z0-9][A-Z0-9._/-]*$", text):
        raise ValidationError(f"asset tag {text!r} may hold only letters, digits and . _ / -", "asset_tag")
    return text


def choice(value, field: str, options) -> str:
    text = str(value or "").strip().lower()
    if text not in options:
        raise ValidationError(f"{field} {value!r} is not one of: {', '.join(options)}", field)
    return text


def a_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{field} {value!r} is not a date like 2025-12-31", field) from None


def whole(value, field: str, minimum: int = 0, maximum: int = 2_000_000_000) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(f"{field} must be a whole number, not {value!r}", field) from None
    if isinstance(value, bool) or not minimum <= number <= maximum:
        raise ValidationError(f"{field} must be between {minimum} and {maximum}", field)
    return number


def money(value, field: str = "unit price") -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{field} must be an amount like 12.50, not {value!r}", field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise ValidationError(f"{field} must be between 0 and 9999999999.99", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{field} has more than 2 decimal places", field)
    return amount.quantize(Decimal("0.01"))


def _ref(model, value, field: str, name_field):
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    row = model.get_or_none(model.id == value) if isinstance(value, int) else model.get_or_none(name_field == value)
    if row is None:
        raise ValidationError(f"no {field} {value!r}", field)
    return row


def _unique(model, field, value, label: str, exclude_id: int | None = None) -> None:
    query = model.select().where(field == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if query.exists():
        raise ValidationError(f"{label} {value!r} is already used", field.name)


# ---------------------------------------------------------------- departments and networks

def _department_values(data: dict) -> dict:
    return {"name": clean(data.get("name"), "name", max_len=100)}


def _network_values(data: dict) -> dict:
    values = {"name": clean(data.get("name"), "name", max_len=100), "cidr": cidr(data.get("cidr"))}
    vlan = data.get("vlan")
    values["vlan"] = None if vlan in (None, "") else whole(vlan, "vlan", 1, 4094)
    values["location"] = optional(data.get("location"), "location", max_len=100)
    return values


# ---------------------------------------------------------------- systems and peripherals

def _system_values(data: dict, exclude_id: int | None = None) -> dict:
    values = {
        "hostname": hostname(data.get("hostname")),
        "asset_tag": asset_tag(data.get("asset_tag")),
        "type": choice(data.get("type"), "type", SYSTEM_TYPES),
        "manufacturer": optional(data.get("manufacturer"), "manufacturer", max_len=64),
        "model_name": optional(data.get("model_name"), "model", max_len=64),
        "serial": optional(data.get("serial"), "serial", max_len=64),
        "os": optional(data.get("os"), "OS", max_len=64),
        "ip": ip_address(data.get("ip")),
        "mac": mac_address(data.get("mac")),
        "department": _ref(Department, data.get("department"), "department", Department.name),
        "network": _ref(Network, data.get("network"), "network", Network.name),
        "assigned_user": _ref(User, data.get("assigned_user"), "assigned user", User.username),
        "status": choice(data.get("status", "in use"), "status", ASSET_STATUSES),
        "purchase_date": a_date(data.get("purchase_date"), "purchase date"),
        "warranty_end": a_date(data.get("warranty_end"), "warranty end"),
        "notes": optional(data.get("notes"), "notes", max_len=20_000, multiline=True),
    }
    if values["ip"] and values["network"]:
        net = ipaddress.ip_network(values["network"].cidr)
        if ipaddress.ip_address(values["ip"]) not in net:
            raise ValidationError(
                f"IP address {values['ip']} is not in network {values['network'].name} ({net})", "ip"
            )
    if values["purchase_date"] and values["warranty_end"] and values["warranty_end"] < values["purchase_date"]:
        raise ValidationError("warranty end is before the purchase date", "warranty_end")
    _unique(System, System.hostname, values["hostname"], "hostname", exclude_id)
    _unique(System, System.asset_tag, values["asset_tag"], "asset tag", exclude_id)
    # Asset tags are unique across systems and peripherals: one sticker, one thing.
    _unique(Peripheral, Peripheral.asset_tag, values["asset_tag"], "asset tag")
    return values


def _peripheral_values(data: dict, exclude_id: int | None = None) -> dict:
    values = {
        "name": clean(data.get("name"), "name", max_len=100),
        "kind": choice(data.get("kind"), "kind", PERIPHERAL_KINDS),
        "asset_tag": asset_tag(data.get("asset_tag")),
        "serial": optional(data.get("serial"), "serial", max_len=64),
        "system": _ref(System, data.get("system"), "system", System.hostname),
        "department": _ref(Department, data.get("department"), "department", Department.name),
        "network": _ref(Network, data.get("network"), "network", Network.name),
        "status": choice(data.get("status", "in use"), "status", ASSET_STATUSES),
    }
    _unique(Peripheral, Peripheral.asset_tag, values["asset_tag"], "asset tag", exclude_id)
    _unique(System, System.asset_tag, values["asset_tag"], "asset tag")
    return values


def _stock_values(data: dict) -> dict:
    return {
        "name": clean(data.get("name"), "name", max_len=100),
        "description": optional(data.get("description"), "description", max_len=20_000, multiline=True),
        "quantity": whole(data.get("quantity", 0), "quantity"),
        "unit_price": money(data.get("unit_price", 0)),
        "reorder_level": whole(data.get("reorder_level", 0), "reorder level"),
    }


# ---------------------------------------------------------------- generic create / update / delete

KINDS = {
    # entity type -> (model, validator, label field, unique name field or None)
    "department": (Department, lambda d, _id: _department_values(d), "name", Department.name),
    "network": (Network, lambda d, _id: _network_values(d), "name", Network.name),
    "system": (System, _system_values, "hostname", None),
    "peripheral": (Peripheral, _peripheral_values, "asset_tag", None),
    "stock": (StockItem, lambda d, _id: _stock_values(d), "name", StockItem.name),
}


def _label(entity_type: str, values_or_row) -> str:
    field = KINDS[entity_type][2]
    value = values_or_row[field] if isinstance(values_or_row, dict) else getattr(values_or_row, field)
    return f"{entity_type} {value}"


@transactional
def create(actor: User, entity_type: str, data: dict):
    require(actor, "inventory.edit")
    model, validate, _, name_field = KINDS[entity_type]
    values = validate(data, None)
    if name_field is not None:
        _unique(model, name_field, values[name_field.name], "name")
    return records.create(actor, model, entity_type, _label(entity_type, values), values)


@transactional
def update(actor: User, entity_type: str, record_id: int, expected_version: int, data: dict):
    """Replace the record's editable fields with ``data`` merged over its current values."""
    require(actor, "inventory.edit")
    model, validate, _, name_field = KINDS[entity_type]
    row = records.get(model, record_id, entity_type)
    current = {name: row.__data__.get(name) for name in model._meta.sorted_field_names}
    merged = {**current, **data}
    if "quantity" in data and entity_type == "stock":
        raise ValidationError("change a stock quantity with an adjustment and a reason", "quantity")
    values = validate(merged, row.id)
    if name_field is not None:
        _unique(model, name_field, values[name_field.name], "name", row.id)
    if entity_type == "stock":
        values.pop("quantity")
    return records.update(actor, row, expected_version, values, entity_type, _label(entity_type, row))


@transactional
def delete(actor: User, entity_type: str, record_id: int, expected_version: int | None = None) -> dict:
    """Delete; linked records are unlinked (peripherals, tickets keep their history). Returns
    what was unlinked, so the caller can tell the operator."""
    require(actor, "inventory.edit")
    model = KINDS[entity_type][0]
    row = records.get(model, record_id, entity_type)
    effects = linked_records(entity_type, row.id)
    if entity_type == "system":
        for peripheral in Peripheral.select().where(Peripheral.system == row.id):
            records.update(actor, peripheral, peripheral.version, {"system": None}, "peripheral",
                           _label("peripheral", peripheral), summary=f"detached from {row.hostname} (deleted)")
    records.delete(actor, row, entity_type, _label(entity_type, row), expected_version)
    return effects


def linked_records(entity_type: str, record_id: int) -> dict:
    """Counts of what a delete would unlink, for the confirmation question."""
    from .models import Ticket

    if entity_type == "system":
        return {
            "peripherals": Peripheral.select().where(Peripheral.system == record_id).count(),
            "tickets": Ticket.select().where(Ticket.system == record_id).count(),
        }
    if entity_type == "peripheral":
        return {"tickets": Ticket.select().where(Ticket.peripheral == record_id).count()}
    if entity_type in ("department", "network"):
        column = "department" if entity_type == "department" else "network"
        return {
            "systems": System.select().where(getattr(System, column) == record_id).count(),
            "peripherals": Peripheral.select().where(getattr(Peripheral, column) == record_id).count(),
        }
    return {}


@transactional
def attach_peripheral(actor: User, peripheral_id: int, expected_version: int, system_id: int | None):
    """Attach a peripheral to a system, or detach it (system_id None)."""
    require(actor, "inventory.edit")
    peripheral = records.get(Peripheral, peripheral_id, "peripheral")
    system = records.get(System, system_id, "system") if system_id is not None else None
    summary = f"attached to {system.hostname}" if system else "detached"
    return records.update(actor, peripheral, expected_version, {"system": system}, "peripheral",
                          _label("peripheral", peripheral), summary=f"{peripheral.asset_tag} {summary}")


@transactional
def adjust_stock(actor: User, item_id: int, delta: int, reason: str) -> StockItem:
    """Add or take stock. Never below zero; the reason is recorded. Adjustments do not conflict
    with each other: the change is applied relative to the stored quantity."""
    require(actor, "inventory.edit")
    delta = whole(delta, "quantity change", -2_000_000_000)
    if delta == 0:
        raise ValidationError("the quantity change must not be zero", "quantity")
    why = clean(reason, "reason", max_len=200)
    item = records.get(StockItem, item_id, "stock item")
    changed = (
        StockItem.update(quantity=StockItem.quantity + delta, version=StockItem.version + 1)
        .where((StockItem.id == item.id) & (StockItem.quantity + delta >= 0))
        .execute()
    )
    if not changed:
        raise ValidationError(
            f"cannot take {-delta} of {item.name}: only {item.quantity} in stock", "quantity"
        )
    fresh = StockItem.get_by_id(item.id)
    audit.record(actor, "stock_adjust", "stock", item.id,
                 f"{item.name}: {delta:+d} ({why})",
                 {"quantity": [fresh.quantity - delta, fresh.quantity], "reason": [None, why]},
                 entity_version=fresh.version)
    return fresh


def get(actor: User, entity_type: str, record_id: int):
    require(actor, "inventory.view")
    return records.get(KINDS[entity_type][0], record_id, entity_type)
