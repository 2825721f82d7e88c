"""The team and macro verbs of the queue and the ticket screen (issue 21): T puts the ticket (or
the marked tickets) in a team, m applies a macro picked by typing part of its name. Both go
through the triage's one-ticket-at-a-time apply, so marked tickets get its per-ticket report."""

from __future__ import annotations

import asyncio

from textual import work
from textual.binding import Binding

from itsm_tui.core.store.models import Ticket, User
from itsm_tui.core.tickets import macros, teams
from itsm_tui.ui.modals.pickers import ChoicePicker

TEAM_BINDINGS = [
    Binding("m", "macro", "Macro", show=False, id="macro"),  # ? and the palette list it
    Binding("T", "team", "Team", show=False, id="team"),
]
TEAM_ROLE_NEEDS = {"macro": "macro.apply", "team": "ticket.work"}
NO_TEAM = ""


def team_choices(actor: User) -> list[tuple[str, str]]:
    return [(team.name, team.name) for team, _ in teams.listing(actor)] + [("(no team)", NO_TEAM)]


def macro_choices(actor: User, ticket_id: int) -> list[tuple[str, tuple[int, str]]]:
    """The macros the actor may apply, the ticket's team's first, each with what it does."""
    return [
        (f"{m.name} — {macros.describe(m)}", (m.id, m.name))
        for m in macros.available(actor, team_of(ticket_id))
    ]


def team_of(ticket_id: int) -> int | None:
    return Ticket.select(Ticket.team).where(Ticket.id == ticket_id).scalar()


def agent_load(actor: User, ticket_id: int) -> list[tuple[str, str, int, bool]]:
    """The assignee picker's rows: the ticket's team first, each agent with their open load."""
    return [
        (u.username, u.full_name, n, in_team) for u, n, in_team in teams.agent_load(actor, team_of(ticket_id))
    ]


class TeamActions:
    """Mixed into ``Triage``: uses its targets and its apply."""

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_team(self) -> None:
        targets = self._staff_targets()
        if not targets:
            return
        me = self.user
        choices = await asyncio.to_thread(team_choices, me)
        if len(choices) == 1:
            self.app.notify("No teams yet: an admin creates them with :teams.", severity="warning")
            return
        choice = await self.app.push_screen_wait(ChoicePicker("Put in team (type to filter)", choices))
        if choice is None:
            return
        self._apply(
            f"moved to {choice or 'no team'}",
            lambda t, v, key: teams.set_team(me, t, v, choice or None, request_key=key),
            targets,
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_macro(self) -> None:
        targets = self._staff_targets()
        if not targets:
            return
        me = self.user
        choices = await asyncio.to_thread(macro_choices, me, targets[0].id)
        if not choices:
            self.app.notify(
                "No macros yet: supervisors and admins add them with :macros.", severity="warning"
            )
            return
        which = f"{len(targets)} marked tickets" if len(targets) > 1 else targets[0].number
        choice = await self.app.push_screen_wait(
            ChoicePicker(f"Apply a macro to {which} (type to filter)", choices)
        )
        if choice is None:
            return
        macro_id, name = choice
        self._apply(
            f"got macro {name}",
            lambda t, v, key: macros.apply(me, macro_id, t, v, request_key=key),
            targets,
        )
