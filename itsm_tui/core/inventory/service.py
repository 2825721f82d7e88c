"""The inventory service: departments, networks, systems, peripherals and stock items.

Every function takes the acting user, validates its input with messages that name the field, and
writes the change with its audit entry in one transaction.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from peewee import JOIN

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import (
    ASSET_STATUSES,
    PERIPHERAL_KINDS,
    SYSTEM_TYPES,
    BaseModel,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    Ticket,
    User,
)
from itsm_tui.core.text import clean

MAC_RE = re.compile(
    r"^([0-9a-f]{2}([:-])[0-9a-f]{2}(\2[0-9a-f]{2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})$"
)
HOSTNAME_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")
MAX_QUANTITY = 2_000_000_000


# ---------------------------------------------------------------- field validators
# A ValidationError's ``field`` is always the key of the data dict (what a form highlights);
# the message uses the field's label.


def _label_of(field: str) -> str:
    return field.replace("_", " ")


@overload
def _text(
    value,
    field: str,
    label: str | None = None,
    *,
    max_len: int,
    required: Literal[True] = True,
    multiline: bool = False,
) -> str: ...
@overload
def _text(
    value, field: str, label: str | None = None, *, max_len: int, required: bool, multiline: bool = False
) -> str | None: ...
def _text(
    value,
    field: str,
    label: str | None = None,
    *,
    max_len: int,
    required: bool = True,
    multiline: bool = False,
) -> str | None:
    """``clean`` (or ``optional`` when not required) with the error naming ``field``."""
    try:
        text = clean(
            value, label or _label_of(field), max_len=max_len, required=required, multiline=multiline
        )
    except ValidationError as exc:
        raise ValidationError(str(exc), field) from None
    return text if required else (text or None)


def ip_address(value) -> str | None:
    text = _text(value, "ip", "IP address", max_len=45, required=False)
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError(f"IP address {text!r} is not a valid IPv4 or IPv6 address", "ip") from None


def mac_address(value) -> str | None:
    """Accepts aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff; stores lower-case with colons."""
    text = _text(value, "mac", "MAC address", max_len=17, required=False)
    if text is None:
        return None
    if not MAC_RE.match(text.lower()):
        raise ValidationError(f"MAC address {text!r} is not like aa:bb:cc:dd:ee:ff", "mac")
    digits = re.sub(r"[:\-.]", "", text.lower())
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def cidr(value) -> str:
    text = _text(value, "cidr", "CIDR", max_len=43)
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        raise ValidationError(f"CIDR {text!r} is not a network like 10.0.0.0/24 ({exc})", "cidr") from None


def hostname(value) -> str:
    text = _text(value, "hostname", max_len=253).lower()
    if not HOSTNAME_RE.match(text):
        raise ValidationError(
            f"hostname {text!r} may hold only letters, digits, '-' and '.' labels", "hostname"
        )
    return text


def asset_tag(value) -> str:
    text = _text(value, "asset_tag", max_len=32).upper()
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
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{_label_of(field)} {value!r} is not a date like 2025-12-31", field) from None


def whole(value, field: str, minimum: int = 0, maximum: int = MAX_QUANTITY, label: str | None = None) -> int:
    label = label or _label_of(field)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(f"{label} must be a whole number, not {value!r}", field) from None
    if isinstance(value, bool) or not minimum <= number <= maximum:
        raise ValidationError(f"{label} must be between {minimum} and {maximum}", field)
    return number


def money(value, field: str = "unit_price") -> Decimal:
    label = _label_of(field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{label} must be an amount like 12.50, not {value!r}", field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise ValidationError(f"{label} must be between 0 and 9999999999.99", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{label} has more than 2 decimal places", field)
    return amount.quantize(Decimal("0.01"))


def _ref(model, value, field: str, name_field):
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    row = (
        model.get_or_none(model.id == value)
        if isinstance(value, int)
        else model.get_or_none(name_field == value)
    )
    if row is None:
        raise ValidationError(f"no {_label_of(field)} {value!r}", field)
    return row


def _unique(model, field, value, label: str, exclude_id: int | None = None, any_case: bool = False) -> None:
    """Refused while another row has ``value``; ``any_case``: in any case on SQLite too, as
    MySQL's collation compares (departments, networks, stock items: short lists, read whole;
    SQLite compares hostnames and asset tags as stored, by their index, as LOWER() would read
    every system at each write)."""
    same = records.same_name(field, value) if any_case else field == value
    query = model.select().where(same)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if query.exists():
        raise ValidationError(f"{label} {value!r} is already used", field.name)


# ---------------------------------------------------------------- departments and networks


def _department_values(data: dict) -> dict:
    return {"name": _text(data.get("name"), "name", max_len=100)}


def _network_values(data: dict, network_id: int | None = None) -> dict:
    values: dict = {"name": _text(data.get("name"), "name", max_len=100), "cidr": cidr(data.get("cidr"))}
    vlan = data.get("vlan")
    values["vlan"] = None if vlan in (None, "") else whole(vlan, "vlan", 1, 4094)
    values["location"] = _text(data.get("location"), "location", max_len=100, required=False)
    if network_id is not None:
        _keeps_its_systems(network_id, values["cidr"])
    return values


def _keeps_its_systems(network_id: int, new_cidr: str) -> None:
    """A network's CIDR may change only while every system on it keeps an IP inside it."""
    net = ipaddress.ip_network(new_cidr)
    on_it = (
        System.select(System.hostname, System.ip)
        .where((System.network == network_id) & System.ip.is_null(False))
        .order_by(System.hostname)
    )
    outside = [s.hostname for s in on_it if ipaddress.ip_address(s.ip) not in net]
    if outside:
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise ValidationError(
            f"CIDR {new_cidr} would leave systems outside the network: {shown}; change their IP first",
            "cidr",
        )


# ---------------------------------------------------------------- systems and peripherals


def _system_values(data: dict, exclude_id: int | None = None) -> dict:
    values = {
        "hostname": hostname(data.get("hostname")),
        "asset_tag": asset_tag(data.get("asset_tag")),
        "type": choice(data.get("type"), "type", SYSTEM_TYPES),
        "manufacturer": _text(data.get("manufacturer"), "manufacturer", max_len=64, required=False),
        "model_name": _text(data.get("model_name"), "model_name", "model", max_len=64, required=False),
        "serial": _text(data.get("serial"), "serial", max_len=64, required=False),
        "os": _text(data.get("os"), "os", "OS", max_len=64, required=False),
        "ip": ip_address(data.get("ip")),
        "mac": mac_address(data.get("mac")),
        "department": _ref(Department, data.get("department"), "department", Department.name),
        "network": _ref(Network, data.get("network"), "network", Network.name),
        "assigned_user": _ref(User, data.get("assigned_user"), "assigned_user", User.username),
        "status": choice(data.get("status", "in use"), "status", ASSET_STATUSES),
        "purchase_date": a_date(data.get("purchase_date"), "purchase_date"),
        "warranty_end": a_date(data.get("warranty_end"), "warranty_end"),
        "notes": _text(data.get("notes"), "notes", max_len=20_000, required=False, multiline=True),
    }
    if values["ip"] and values["network"]:
        net = ipaddress.ip_network(values["network"].cidr)
        if ipaddress.ip_address(values["ip"]) not in net:
            raise ValidationError(
                f"IP address {values['ip']} is not in network {values['network'].name} ({net})", "ip"
            )
    if (
        values["purchase_date"]
        and values["warranty_end"]
        and values["warranty_end"] < values["purchase_date"]
    ):
        raise ValidationError("warranty end is before the purchase date", "warranty_end")
    _unique(System, System.hostname, values["hostname"], "hostname", exclude_id)
    _unique(System, System.asset_tag, values["asset_tag"], "asset tag", exclude_id)
    # Asset tags are unique across systems and peripherals: one sticker, one thing.
    _unique(Peripheral, Peripheral.asset_tag, values["asset_tag"], "asset tag")
    return values


def _peripheral_values(data: dict, exclude_id: int | None = None) -> dict:
    values = {
        "name": _text(data.get("name"), "name", max_len=100),
        "kind": choice(data.get("kind"), "kind", PERIPHERAL_KINDS),
        "asset_tag": asset_tag(data.get("asset_tag")),
        "serial": _text(data.get("serial"), "serial", max_len=64, required=False),
        "system": _ref(System, data.get("system"), "system", System.hostname),
        "department": _ref(Department, data.get("department"), "department", Department.name),
        "network": _ref(Network, data.get("network"), "network", Network.name),
        "status": choice(data.get("status", "in use"), "status", ASSET_STATUSES),
    }
    if values["system"] is not None:
        values.update(_placed_with(values["system"]))
    _unique(Peripheral, Peripheral.asset_tag, values["asset_tag"], "asset tag", exclude_id)
    _unique(System, System.asset_tag, values["asset_tag"], "asset tag")
    return values


def _placed_with(system: System) -> dict:
    """An attached peripheral sits where its system sits: it takes the system's department and
    network (what a form gives for them is replaced). Detached, it keeps the last ones."""
    return {"department": system.department_id, "network": system.network_id}


def _move_attached(actor: User, system: System) -> None:
    """After a system's department or network changed: its attached peripherals follow, each
    with its own audit entry and version."""
    for peripheral in Peripheral.select().where(Peripheral.system == system.id):
        label = _label("peripheral", peripheral)
        records.update(
            actor,
            peripheral,
            peripheral.version,
            _placed_with(system),
            "peripheral",
            label,
            summary=f"{label} follows {system.hostname}",
        )


def _stock_values(data: dict) -> dict:
    return {
        "name": _text(data.get("name"), "name", max_len=100),
        "description": _text(
            data.get("description"), "description", max_len=20_000, required=False, multiline=True
        ),
        "quantity": whole(data.get("quantity", 0), "quantity"),
        "unit_price": money(data.get("unit_price", 0)),
        "reorder_level": whole(data.get("reorder_level", 0), "reorder_level"),
    }


# ---------------------------------------------------------------- generic create / update / delete

KINDS = {
    # entity type -> (model, validator, label field, unique name field or None)
    "department": (Department, lambda d, _id: _department_values(d), "name", Department.name),
    "network": (Network, _network_values, "name", Network.name),
    "system": (System, _system_values, "hostname", None),
    "peripheral": (Peripheral, _peripheral_values, "asset_tag", None),
    "stock": (StockItem, lambda d, _id: _stock_values(d), "name", StockItem.name),
}


# entity type -> the (model, entity type, column) of the records a delete unlinks, each with its
# own audit entry and version, so an edit form opened before the delete sees a conflict.
# deleted entity -> the records that point at it, unlinked one by one (audited, versioned)
UNLINKED_ON_DELETE = {
    "system": ((Peripheral, "peripheral", "system"), (Ticket, "ticket", "system")),
    "peripheral": ((Ticket, "ticket", "peripheral"),),
    "department": (
        (System, "system", "department"),
        (Peripheral, "peripheral", "department"),
        (User, "user", "department"),
    ),
    "network": ((System, "system", "network"), (Peripheral, "peripheral", "network")),
}


def _label(entity_type: str, values_or_row) -> str:
    if entity_type == "ticket":
        return values_or_row.number
    if entity_type == "user":
        return f"user {values_or_row.username}"
    field = KINDS[entity_type][2]
    value = values_or_row[field] if isinstance(values_or_row, dict) else getattr(values_or_row, field)
    return f"{entity_type} {value}"


def _changed(row: BaseModel, values: dict) -> dict:
    """The values that differ from the row's stored ones. Compared as values, not as text:
    SQLite hands back a price of 12.50 as 12.5, which is no change."""

    def stored_form(value):
        return value.id if isinstance(value, BaseModel) else value

    return {k: v for k, v in values.items() if stored_form(v) != row.__data__.get(k)}


@transactional
def create(actor: User, entity_type: str, data: dict):
    require(actor, "inventory.edit")
    model, validate, _, name_field = KINDS[entity_type]
    values = validate(data, None)
    if name_field is not None:
        _unique(model, name_field, values[name_field.name], "name", any_case=True)
    return records.create(actor, model, entity_type, _label(entity_type, values), values)


@transactional
def update(actor: User, entity_type: str, record_id: int, expected_version: int, data: dict):
    """Replace the record's editable fields with ``data`` merged over its current values."""
    require(actor, "inventory.edit")
    model, validate, _, name_field = KINDS[entity_type]
    row = records.get(model, record_id, entity_type)
    current = {name: row.__data__.get(name) for name in model._meta.sorted_field_names}
    merged = {**current, **data}
    if entity_type == "stock" and "quantity" in data and data["quantity"] != row.quantity:
        raise ValidationError("change a stock quantity with an adjustment and a reason", "quantity")
    values = validate(merged, row.id)
    if name_field is not None:
        _unique(model, name_field, values[name_field.name], "name", row.id, any_case=True)
    if entity_type == "stock":
        values.pop("quantity")
    updated = records.update(
        actor, row, expected_version, _changed(row, values), entity_type, _label(entity_type, row)
    )
    if entity_type == "system":
        _move_attached(actor, updated)
    return updated


@transactional
def delete(actor: User, entity_type: str, record_id: int, expected_version: int | None = None) -> dict:
    """Delete; linked records are unlinked (peripherals, tickets keep their history). Returns
    what was unlinked, so the caller can tell the operator."""
    require(actor, "inventory.edit")
    model = KINDS[entity_type][0]
    row = records.get(model, record_id, entity_type)
    effects = linked_records(actor, entity_type, row.id)
    for linked_model, linked_type, column in UNLINKED_ON_DELETE.get(entity_type, ()):
        for linked in linked_model.select().where(getattr(linked_model, column) == row.id):
            label = _label(linked_type, linked)
            records.update(
                actor,
                linked,
                linked.version,
                {column: None},
                linked_type,
                label,
                summary=f"{label} detached from {_label(entity_type, row)} (deleted)",
            )
    if entity_type == "peripheral" and row.system_id:
        # Noted on the system, as a detach is: its history says the peripheral is gone.
        audit.record(
            actor,
            "peripheral_detached",
            "system",
            row.system_id,
            f"{row.asset_tag} ({row.name}) detached (deleted)",
            {"peripheral": [row.id, None]},
        )
    records.delete(actor, row, entity_type, _label(entity_type, row), expected_version)
    return effects


def linked_records(actor: User, entity_type: str, record_id: int) -> dict[str, int]:
    """Counts of what a delete would unlink, for the confirmation question: the records that
    point at it, and for a peripheral the system it is attached to (``system``: 0 or 1)."""
    require(actor, "inventory.view")
    counts = {
        f"{linked_type}s": model.select().where(getattr(model, column) == record_id).count()
        for model, linked_type, column in UNLINKED_ON_DELETE.get(entity_type, ())
    }
    if entity_type == "peripheral":
        counts["system"] = (
            Peripheral.select().where((Peripheral.id == record_id) & Peripheral.system.is_null(False)).count()
        )
    return counts


@transactional
def attach_peripheral(actor: User, peripheral_id: int, expected_version: int, system_id: int | None):
    """Attach a peripheral to a system, taking its department and network, or detach it
    (system_id None), keeping them: it stays where it was until someone moves it."""
    require(actor, "inventory.edit")
    peripheral = records.get(Peripheral, peripheral_id, "peripheral")
    system = records.get(System, system_id, "system") if system_id is not None else None
    summary = f"attached to {system.hostname}" if system else "detached"
    old_system = peripheral.system_id
    values = {"system": system, **(_placed_with(system) if system else {})}
    updated = records.update(
        actor,
        peripheral,
        expected_version,
        values,
        "peripheral",
        _label("peripheral", peripheral),
        summary=f"{peripheral.asset_tag} {summary}",
    )
    if old_system != updated.system_id:
        # Noted on the systems too, so a system's history shows what was plugged in and out.
        for system_id, verb in ((old_system, "detached"), (updated.system_id, "attached")):
            if system_id:
                audit.record(
                    actor,
                    f"peripheral_{verb}",
                    "system",
                    system_id,
                    f"{peripheral.asset_tag} ({peripheral.name}) {verb}",
                    {"peripheral": [None, peripheral.id]},
                )
    return updated


@transactional
def adjust_stock(actor: User, item_id: int, delta: int, reason: str) -> StockItem:
    """Add or take stock. Never below zero; the reason is recorded. Adjustments do not conflict
    with each other: the change is applied relative to the stored quantity."""
    require(actor, "inventory.edit")
    delta = whole(delta, "quantity", -MAX_QUANTITY, label="quantity change")
    if delta == 0:
        raise ValidationError("the quantity change must not be zero", "quantity")
    why = clean(reason, "reason", max_len=200)
    item = records.get(StockItem, item_id, "stock item")
    new_quantity = StockItem.quantity + delta
    changed = (
        StockItem.update(quantity=new_quantity, version=StockItem.version + 1, updated_at=clock.now())
        .where((StockItem.id == item.id) & (new_quantity >= 0) & (new_quantity <= MAX_QUANTITY))
        .execute()
    )
    if not changed:
        raise _refused_adjustment(StockItem.get_by_id(item.id), delta)
    fresh = StockItem.get_by_id(item.id)
    audit.record(
        actor,
        "stock_adjust",
        "stock",
        item.id,
        f"{item.name}: {delta:+d} ({why})",
        {"quantity": [fresh.quantity - delta, fresh.quantity], "reason": [None, why]},
        entity_version=fresh.version,
    )
    return fresh


def _refused_adjustment(item: StockItem, delta: int) -> ValidationError:
    if delta < 0:
        return ValidationError(
            f"cannot take {-delta} of {item.name}: only {item.quantity} in stock", "quantity"
        )
    return ValidationError(
        f"cannot add {delta} to {item.name}: {item.quantity} in stock, at most {MAX_QUANTITY}", "quantity"
    )


def get(actor: User, entity_type: str, record_id: int):
    require(actor, "inventory.view")
    return records.get(KINDS[entity_type][0], record_id, entity_type)


def search_assets(actor: User, text: str, limit: int = 20) -> list[tuple[str, int, str]]:
    """Systems and peripherals whose hostname/name, asset tag or IP contains ``text``, as
    (kind, id, label) for pickers; label like 'ws-001 · AT-1001 · Finance'."""
    require(actor, "inventory.view")
    text = (text or "").strip()
    systems = System.select(System, Department).join(Department, JOIN.LEFT_OUTER)
    peripherals = Peripheral.select(Peripheral, Department).join(Department, JOIN.LEFT_OUTER)
    if text:
        systems = systems.where(
            System.hostname.contains(text) | System.asset_tag.contains(text) | System.ip.contains(text)
        )
        peripherals = peripherals.where(Peripheral.name.contains(text) | Peripheral.asset_tag.contains(text))
    found = [
        (
            "system",
            s.id,
            f"{s.hostname} · {s.asset_tag} · {s.type}"
            + (f" · {s.department.name}" if s.department_id else ""),
        )
        for s in systems.order_by(System.hostname_key, System.id).limit(limit)
    ]
    found += [
        (
            "peripheral",
            p.id,
            f"{p.name} · {p.asset_tag} · {p.kind}" + (f" · {p.department.name}" if p.department_id else ""),
        )
        for p in peripherals.order_by(Peripheral.name_key, Peripheral.id).limit(limit)
    ]
    return found[:limit]
