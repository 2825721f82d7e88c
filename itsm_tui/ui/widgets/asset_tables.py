"""The inventory lists: one paged table per kind of asset, over the core's keyset pages.

Every value comes from the database and may hold anything an operator typed, so each cell is a
Rich ``Text`` built with ``cell()`` (never markup). Column ``sort`` names are the keys of
``assets.SORTS[kind]``.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.binding import Binding

from itsm_tui.ui.render import cell, literal
from itsm_tui.ui.widgets.paged_table import Column, UnmarkedTable

ASSET_STATUS_STYLES = {"in use": "", "in stock": "cyan", "in repair": "yellow", "retired": "dim"}


def _maybe(value, style: str = "") -> Text:
    """A value, or a dim dash when there is none."""
    if value is None or value == "":
        return Text("—", style="dim")
    return cell(value, style)


def right(text: str, width: int, style: str = "") -> Text:
    """Numbers line up on the right of their column (the table pads cells on the right)."""
    return Text(text.rjust(width), style=style)


def _count(value, width: int) -> Text:
    return right(f"{value or 0:,}", width, "" if value else "dim")


def money(value) -> str:
    return f"{Decimal(value or 0):,.2f}"


def asset_status(status: str | None) -> Text:
    return literal(status or "—", ASSET_STATUS_STYLES.get(status or "", ""))


class AssetTable(UnmarkedTable):
    """A paged inventory list. At 80 columns the lists drop the columns with the highest
    ``drop`` rather than run off the right edge (Status and User would be out of sight)."""

    FLEX_MIN = 16

    KIND = ""
    NOUN = ("asset", "assets")
    OPEN = "Edit"  # what Enter does, for the footer and the help


class SystemTable(AssetTable):
    KIND = "system"
    NOUN = ("system", "systems")
    OPEN = "Open"
    EMPTY = "No systems match this filter."
    BINDINGS = [Binding("enter", "open", "Open")]
    COLUMNS = (
        Column("hostname", "Hostname", 0, "hostname"),
        Column("asset_tag", "Asset tag", 10, "asset_tag"),
        Column("type", "Type", 8, "type"),
        Column("ip", "IP", 15, "ip"),
        Column("department", "Department", 13, "department", drop=1),
        Column("network", "Network", 13, "network", drop=2),
        Column("assigned_user", "User", 12, "assigned_user"),
        Column("status", "Status", 9, "status"),
    )

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "hostname": cell(row["hostname"], "bold"),
            "asset_tag": cell(row["asset_tag"]),
            "type": literal("VM" if row["type"] == "virtual machine" else row["type"]),
            "ip": _maybe(row["ip"]),
            "department": _maybe(row["department"]),
            "network": _maybe(row["network"]),
            "assigned_user": _maybe(row["assigned_user"]),
            "status": asset_status(row["status"]),
        }


class PeripheralTable(AssetTable):
    KIND = "peripheral"
    NOUN = ("peripheral", "peripherals")
    OPEN = "Edit"
    EMPTY = "No peripherals match this filter."
    BINDINGS = [Binding("enter", "open", "Edit", show=False)]
    COLUMNS = (
        Column("name", "Name", 0, "name"),
        Column("kind", "Kind", 15, "kind"),
        Column("asset_tag", "Asset tag", 10, "asset_tag"),
        Column("system", "Attached to", 14, "system"),
        Column("department", "Department", 13, "department", drop=1),
        Column("network", "Network", 13, "network", drop=2),
        Column("status", "Status", 9, "status"),
    )

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "name": cell(row["name"], "bold"),
            "kind": literal(row["kind"]),
            "asset_tag": cell(row["asset_tag"]),
            "system": _maybe(row["system"]),
            "department": _maybe(row["department"]),
            "network": _maybe(row["network"]),
            "status": asset_status(row["status"]),
        }


class StockTable(AssetTable):
    KIND = "stock"
    NOUN = ("stock item", "stock items")
    OPEN = "Edit"
    EMPTY = "No stock items match this filter."
    RIGHT = frozenset({"quantity", "reorder_level", "unit_price", "value"})
    FLEX_MIN = 12  # the description; the status line totals the value
    BINDINGS = [Binding("enter", "open", "Edit", show=False)]
    COLUMNS = (
        Column("name", "Item", 28, "name"),
        Column("quantity", "Quantity", 10, "quantity"),
        Column("reorder_level", "Reorder at", 10, "reorder_level"),
        Column("unit_price", "Unit price", 12, "unit_price"),
        Column("value", "Value", 14, "value", drop=1),
        Column("description", "Description", 0, None),
    )

    def cells(self, row: dict) -> dict[str, Text]:
        if row.get("low"):
            quantity = Text("low ", style="bold black on yellow") + right(f"{row['quantity']:,}", 6, "bold")
        else:
            quantity = right(f"{row['quantity']:,}", 10)
        return {
            "name": cell(row["name"], "bold"),
            "quantity": quantity,
            "reorder_level": right(f"{row['reorder_level']:,}", 10),
            "unit_price": right(money(row["unit_price"]), 12),
            "value": right(money(row["value"]), 14),
            "description": _maybe(row.get("description"), "dim"),
        }

    def _line(self, row: dict, selected: bool, flex_width: int) -> Text:
        line = super()._line(row, selected, flex_width)
        if row.get("low") and not selected:
            line.stylize("yellow", 0, len(line))
        return line


class DepartmentTable(AssetTable):
    KIND = "department"
    NOUN = ("department", "departments")
    OPEN = "Edit"
    EMPTY = "No departments match this filter."
    RIGHT = frozenset({"systems", "peripherals", "users"})
    BINDINGS = [Binding("enter", "open", "Edit", show=False)]
    COLUMNS = (
        Column("name", "Department", 0, "name"),
        Column("systems", "Systems", 9, None),
        Column("peripherals", "Peripherals", 11, None),
        Column("users", "Users", 9, None),
    )

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "name": cell(row["name"], "bold"),
            "systems": _count(row["systems"], 9),
            "peripherals": _count(row["peripherals"], 11),
            "users": _count(row["users"], 9),
        }


class NetworkTable(AssetTable):
    KIND = "network"
    NOUN = ("network", "networks")
    OPEN = "Edit"
    EMPTY = "No networks match this filter."
    RIGHT = frozenset({"vlan", "systems"})
    BINDINGS = [Binding("enter", "open", "Edit", show=False)]
    COLUMNS = (
        Column("name", "Network", 0, "name"),
        Column("cidr", "CIDR", 20, "cidr"),
        Column("vlan", "VLAN", 6, "vlan"),
        Column("location", "Location", 24, None),
        Column("systems", "Systems", 9, None),
    )

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "name": cell(row["name"], "bold"),
            "cidr": cell(row["cidr"]),
            "vlan": right(str(row["vlan"]), 6) if row["vlan"] is not None else Text("—", style="dim"),
            "location": _maybe(row["location"]),
            "systems": _count(row["systems"], 9),
        }


TABLES: dict[str, type[AssetTable]] = {
    table.KIND: table for table in (SystemTable, PeripheralTable, StockTable, DepartmentTable, NetworkTable)
}
