"""A person's devices: the systems assigned to them and the peripherals attached to those
systems. Requesters see their own (and pick one when opening a ticket); staff see anyone's."""

from __future__ import annotations

from dataclasses import dataclass

from itsm_tui.core.people.permissions import is_staff, require
from itsm_tui.core.store.models import Peripheral, System, User


@dataclass(frozen=True)
class Device:
    kind: str  # "system" | "peripheral"
    id: int
    asset_tag: str
    name: str  # a system's hostname, a peripheral's name
    detail: str  # "laptop", "monitor on ws-12"

    @property
    def label(self) -> str:
        return f"{self.name} · {self.asset_tag} · {self.detail}"


def of_user(actor: User, user_id: int | None = None) -> list[Device]:
    """The devices of ``user_id`` (default: the actor's own); staff only for someone else's."""
    require(actor, "ticket.view_own")
    owner = actor.id if user_id is None else user_id
    if owner != actor.id and not is_staff(actor):
        require(actor, "inventory.view")
    systems = list(
        System.select().where(System.assigned_user == owner).order_by(System.hostname_key, System.id)
    )
    found = [Device("system", s.id, s.asset_tag, s.hostname, s.type) for s in systems]
    if systems:
        names = {s.id: s.hostname for s in systems}
        peripherals = (
            Peripheral.select()
            .where(Peripheral.system.in_(list(names)))
            .order_by(Peripheral.name_key, Peripheral.id)
        )
        found += [
            Device("peripheral", p.id, p.asset_tag, p.name, f"{p.kind} on {names[p.system_id]}")
            for p in peripherals
        ]
    return found
