"""The requester's own devices in the new-ticket form (issue 21): a choice of the systems and
peripherals assigned to them, none by default."""

from __future__ import annotations

from itsm_tui.core.inventory.devices import Device
from itsm_tui.ui.modals.forms import FormField


def device_field(devices: list[Device]) -> list[FormField]:
    """The form's "Device" field, or no field when the requester has none."""
    if not devices:
        return []
    options = [("(none)", "")] + [(d.label, f"{d.kind}:{d.id}") for d in devices]
    return [FormField("device", "Device (yours; optional)", kind="select", options=options)]


def picked(values: dict) -> dict:
    """{"system": id} or {"peripheral": id} for the create call, from the field's value."""
    kind, _, ident = (values.get("device") or "").partition(":")
    return {kind: int(ident)} if kind in ("system", "peripheral") else {}
