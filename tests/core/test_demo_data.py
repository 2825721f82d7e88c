"""The demo desk agrees with itself: a ticket that names a switch names a switch's tag, and an
attached peripheral sits in its system's department and network (on SQLite and MariaDB)."""

from __future__ import annotations

import re

from itsm_tui.core import demo
from itsm_tui.core.people import users
from itsm_tui.core.store import natural
from itsm_tui.core.store.models import Department, Network, Peripheral, StockItem, System, Ticket, User


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
        assert (peripheral.department_id, peripheral.network_id) == (
            peripheral.system.department_id,
            peripheral.system.network_id,
        ), peripheral.name


def test_every_name_written_by_the_demo_and_the_bulk_seeds_has_its_sort_key(engine):
    """The natural sort keys are written by every writer: services, demo desk, bulk inserts;
    bulk peripherals attached to a system sit where it sits."""
    actor = users.system_actor()
    demo.seed_demo(actor)
    demo.seed_bulk_assets(actor, 30)
    for model in (Department, Network, User, System, Peripheral, StockItem):
        for field in natural.key_fields(model):
            source = model._meta.fields[field.source]
            pairs = list(model.select(source, field).tuples())
            assert pairs and all(key == natural.natural_key(name) for name, key in pairs), (model, field.name)
    bulk = Peripheral.select(Peripheral, System).join(System).where(Peripheral.asset_tag.startswith("BP-"))
    assert bulk.count() and all(
        (p.department_id, p.network_id) == (p.system.department_id, p.system.network_id) for p in bulk
    )


def test_the_demo_desk_shows_teams_macros_tags_links_and_a_merge(engine):
    """A new user finds every team feature to try: teams with members and their tickets,
    global and team macros, tags, a parent with a child and a merged duplicate."""
    from itsm_tui.core.store.models import Macro, Team, TeamMember, TicketLink, TicketTag
    from itsm_tui.core.tickets import macros, teams

    result = demo.seed_demo(users.system_actor())
    assert result["tickets"] == Ticket.select().count() == 151
    names = {t.name for t in Team.select()}
    assert names == {"Service desk", "Network", "Field support"}
    agent1 = User.get(User.username == "agent1")
    assert len(teams.team_ids_of(agent1)) == 2 and TeamMember.select().count() == 6
    for team in Team.select():  # each team's tickets are worked by its members
        assigned = {
            t.assignee_id
            for t in Ticket.select().where((Ticket.team == team.id) & Ticket.assignee.is_null(False))
        }
        assert assigned and assigned <= {m.id for m in teams.members(team)}, team.name
    assert Ticket.select().where(Ticket.team.is_null()).count() == 0
    offered = macros.available(agent1)
    assert {m.name for m in offered} >= {"Acknowledge", "Ask for details", "VPN: reinstall the client"}
    assert "Book a desk visit" not in {m.name for m in offered} and Macro.select().count() == 6
    assert TicketTag.select().where(TicketTag.tag == "vpn").count()
    kinds = sorted(row.kind for row in TicketLink.select())
    assert kinds == ["merged", "parent"]
    duplicate = TicketLink.get(TicketLink.kind == "merged").source
    assert (
        duplicate.status == "closed"
        and duplicate.title == TicketLink.get(TicketLink.kind == "merged").target.title
    )
