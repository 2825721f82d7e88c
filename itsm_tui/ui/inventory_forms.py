"""The inventory's add/edit forms and delete question, as data: what a form shows for a record,
what a save sends, what a delete tells about linked records. Used by ``InventoryActions``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from itsm_tui.core import drafts
from itsm_tui.core.inventory import lists as assets
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store.models import ASSET_STATUSES, PERIPHERAL_KINDS, SYSTEM_TYPES, User
from itsm_tui.ui.modals.forms import FormField

NOUNS = {
    "system": "system",
    "peripheral": "peripheral",
    "stock": "stock item",
    "department": "department",
    "network": "network",
}


@dataclass
class Choices:
    """What the selects of a form offer, read once per form."""

    departments: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)


def _names(actor: User, kind: str) -> list[str]:
    """Every department or network name, in name order (there are few)."""
    names, after = [], None
    sort = assets.AssetSort("name")
    while True:
        page = assets.page(actor, kind, "", sort, after=after, limit=500)
        names += [row["name"] for row in page.rows]
        if not page.has_more or not page.rows:
            return names
        after = page.last


def read_choices(actor: User) -> Choices:
    return Choices(_names(actor, "department"), _names(actor, "network"))


def _text(value) -> str:
    return "" if value is None else str(value)


@dataclass
class Record:
    """One inventory record as the edit form shows it: strings for every field."""

    kind: str
    id: int
    version: int
    label: str
    values: dict


def read_record(actor: User, kind: str, record_id: int) -> Record:
    """The stored record (not the list's copy): its version is the one the form edits."""
    row = inventory.get(actor, kind, record_id)
    if kind == "system":
        values = {
            name: _text(getattr(row, name))
            for name in (
                "hostname",
                "asset_tag",
                "type",
                "status",
                "ip",
                "mac",
                "manufacturer",
                "model_name",
                "serial",
                "os",
                "purchase_date",
                "warranty_end",
                "notes",
            )
        }
        values["department"] = row.department.name if row.department_id else ""
        values["network"] = row.network.name if row.network_id else ""
        values["assigned_user"] = row.assigned_user.username if row.assigned_user_id else ""
        label = row.hostname
    elif kind == "peripheral":
        values = {
            name: _text(getattr(row, name)) for name in ("name", "kind", "asset_tag", "serial", "status")
        }
        values["system"] = row.system.hostname if row.system_id else ""
        values["department"] = row.department.name if row.department_id else ""
        values["network"] = row.network.name if row.network_id else ""
        label = f"{row.name} ({row.asset_tag})"
    elif kind == "stock":
        values = {
            "name": row.name,
            "description": _text(row.description),
            "unit_price": f"{Decimal(row.unit_price):.2f}",
            "reorder_level": str(row.reorder_level),
            "quantity": str(row.quantity),
        }
        label = row.name
    elif kind == "network":
        values = {
            "name": row.name,
            "cidr": row.cidr,
            "vlan": _text(row.vlan),
            "location": _text(row.location),
        }
        label = f"{row.name} ({row.cidr})"
    else:
        values = {"name": row.name}
        label = row.name
    return Record(kind, row.id, row.version, label, values)


def _select(options) -> list[tuple[str, str]]:
    return [(option, option) for option in options]


def form_fields(kind: str, values: dict, choices: Choices, creating: bool) -> list[FormField]:
    """The fields of the add/edit form. Each name is the service's data key, so a
    ValidationError's ``field`` lands next to the right input."""
    v = values.get
    departments = _select(choices.departments)
    networks = _select(choices.networks)
    if kind == "system":
        return [
            FormField("hostname", "Hostname", value=v("hostname", ""), required=True, placeholder="ws-042"),
            FormField(
                "asset_tag", "Asset tag", value=v("asset_tag", ""), required=True, placeholder="AT-1042"
            ),
            FormField("type", "Type", "select", _select(SYSTEM_TYPES), v("type", ""), required=True),
            FormField(
                "status", "Status", "select", _select(ASSET_STATUSES), v("status", "in use"), required=True
            ),
            FormField("ip", "IP address", value=v("ip", ""), placeholder="10.10.1.42 or 2001:db8::42"),
            FormField("mac", "MAC address", value=v("mac", ""), placeholder="aa:bb:cc:dd:ee:ff"),
            FormField(
                "department",
                "Department",
                "select",
                departments,
                v("department", ""),
                placeholder="(no department)",
            ),
            FormField("network", "Network", "select", networks, v("network", ""), placeholder="(no network)"),
            FormField(
                "assigned_user",
                "Assigned user (username)",
                value=v("assigned_user", ""),
                placeholder="empty: nobody",
            ),
            FormField("manufacturer", "Manufacturer", value=v("manufacturer", "")),
            FormField("model_name", "Model", value=v("model_name", "")),
            FormField("serial", "Serial number", value=v("serial", "")),
            FormField("os", "Operating system", value=v("os", "")),
            FormField(
                "purchase_date", "Purchase date", value=v("purchase_date", ""), placeholder="YYYY-MM-DD"
            ),
            FormField("warranty_end", "Warranty end", value=v("warranty_end", ""), placeholder="YYYY-MM-DD"),
            FormField("notes", "Notes", "multiline", value=v("notes", "")),
        ]
    if kind == "peripheral":
        return [
            FormField("name", "Name", value=v("name", ""), required=True, placeholder="Printer 3rd floor"),
            FormField("kind", "Kind", "select", _select(PERIPHERAL_KINDS), v("kind", ""), required=True),
            FormField(
                "asset_tag", "Asset tag", value=v("asset_tag", ""), required=True, placeholder="PR-2042"
            ),
            FormField(
                "status", "Status", "select", _select(ASSET_STATUSES), v("status", "in use"), required=True
            ),
            FormField(
                "system",
                "Attached to system (hostname)",
                value=v("system", ""),
                placeholder="empty: not attached",
            ),
            FormField(
                "department",
                "Department",
                "select",
                departments,
                v("department", ""),
                placeholder="(no department)",
            ),
            FormField("network", "Network", "select", networks, v("network", ""), placeholder="(no network)"),
            FormField("serial", "Serial number", value=v("serial", "")),
        ]
    if kind == "stock":
        fields = [FormField("name", "Item", value=v("name", ""), required=True, placeholder="Toner HP 59A")]
        if creating:  # afterwards the quantity changes only by + and -, with a reason
            fields.append(
                FormField("quantity", "Quantity in stock", value=v("quantity", ""), placeholder="0")
            )
        # numbers start empty (a "0" that typing appends to would read "012"); empty means 0
        return fields + [
            FormField("unit_price", "Unit price", value=v("unit_price", ""), placeholder="0.00"),
            FormField(
                "reorder_level",
                "Reorder level (highlight at or below)",
                value=v("reorder_level", ""),
                placeholder="0",
            ),
            FormField("description", "Description", "multiline", value=v("description", "")),
        ]
    if kind == "network":
        return [
            FormField("name", "Name", value=v("name", ""), required=True, placeholder="Office LAN"),
            FormField("cidr", "CIDR", value=v("cidr", ""), required=True, placeholder="10.10.1.0/24"),
            FormField("vlan", "VLAN (1-4094)", value=v("vlan", "")),
            FormField("location", "Location", value=v("location", "")),
        ]
    return [FormField("name", "Name", value=v("name", ""), required=True, placeholder="Finance")]


def tidy(kind: str, values: dict) -> dict:
    """Usernames and hostnames are stored in lower case: match them the way they are typed."""
    values = dict(values)
    values.pop(drafts.REQUEST_KEY, None)  # inventory writes take no request key
    if kind == "stock":
        for name in ("quantity", "unit_price", "reorder_level"):
            if name in values and not str(values[name]).strip():
                values[name] = "0"
    for name in ("assigned_user", "system"):
        if name in values:
            values[name] = values[name].strip().lower()
    return values


def edited(kind: str, record: Record, values: dict) -> dict:
    """Only the fields the operator changed: saved on top of the stored record, so applying
    the change again after a conflict keeps what the other person changed in other fields."""
    return tidy(kind, {name: value for name, value in values.items() if value != record.values.get(name)})


LINK_EFFECTS = {
    ("system", "peripherals"): "{n} peripheral{s} will be unlinked",
    ("system", "tickets"): "{n} ticket{s} keep{v} {their} history",
    ("peripheral", "tickets"): "{n} ticket{s} keep{v} {their} history",
    ("department", "systems"): "{n} system{s} will have no department",
    ("department", "peripherals"): "{n} peripheral{s} will have no department",
    ("department", "users"): "{n} user{s} will have no department",
    ("network", "systems"): "{n} system{s} will have no network",
    ("network", "peripherals"): "{n} peripheral{s} will have no network",
}


def delete_message(kind: str, label: str, linked: dict[str, int]) -> str:
    """The confirmation text: what goes, and what happens to the records that point at it."""
    parts = []
    for linked_type, n in linked.items():
        if n:
            template = LINK_EFFECTS.get((kind, linked_type), "{n} " + linked_type + " will be unlinked")
            parts.append(
                template.format(
                    n=n, s="" if n == 1 else "s", v="s" if n == 1 else "", their="its" if n == 1 else "their"
                )
            )
    effects = (", ".join(parts) + ".") if parts else "Nothing else is linked to it."
    return (
        f"Delete {NOUNS[kind]} {label}?\n\n{effects[0].upper()}{effects[1:]}\n\n"
        "The log keeps a record of it and of every change."
    )
