"""The demo desk agrees with itself: a ticket that names a switch names a switch's tag, and an
attached peripheral sits in its system's department and network (on SQLite and MariaDB)."""

from __future__ import annotations

import re

from itsm_tui.core import demo
from itsm_tui.core.people import users
from itsm_tui.core.store.models import Peripheral, Ticket


def test_demo_titles_name_assets_of_their_kind_and_attached_peripherals_follow_their_system(engine):
    demo.seed_demo(users.system_actor())
    kinds = {p.asset_tag: p.kind for p in Peripheral.select()}
    named = 0
    for ticket in Ticket.select(Ticket.title):
        match = re.match(r"(Printer|Switch) (PR-\d+)", ticket.title)
        if match:
            named += 1
            assert kinds[match[2]] == match[1].lower(), ticket.title
    assert named
    attached = list(Peripheral.select().where(Peripheral.system.is_null(False)))
    assert attached
    for peripheral in attached:
        assert (peripheral.department_id, peripheral.network_id) == \
            (peripheral.system.department_id, peripheral.system.network_id), peripheral.name
