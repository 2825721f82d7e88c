"""Ticket actions shared by the queue and the ticket screen: the same verb, the same key.

Each action asks what it needs in a modal, then calls the core service in a thread, one ticket
at a time with the version the operator saw. A conflict on one ticket offers reload or re-apply;
on several (marked) tickets the outcome is summarised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual import work
from textual.binding import Binding

from itsm_tui.core.drafts import REQUEST_KEY, new_request_key
from itsm_tui.core.errors import ConflictError
from itsm_tui.core.inventory import devices
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.notify import mailer
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store.models import Ticket, User
from itsm_tui.core.tickets import links
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.rules import STATUS_LABELS, choosable
from itsm_tui.ui import my_devices
from itsm_tui.ui.failures import SHOWN_ERRORS, said
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.draft_keeper import Draft
from itsm_tui.ui.modals.forms import FormField, FormModal, PriorityForm
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker, StatusPicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.reconcile import reconcile
from itsm_tui.ui.team_actions import TEAM_BINDINGS, TEAM_ROLE_NEEDS, TeamActions, agent_load

TRIAGE_BINDINGS = [
    Binding("a", "assign_me", "Take"),
    Binding("A", "assign_other", "Assign…"),
    Binding("s", "status", "Status"),
    Binding("p", "priority", "Priority"),
    Binding("c", "comment", "Comment"),
    Binding("i", "note", "Note"),
    Binding("l", "link", "Link"),
    Binding("n", "new_ticket", "New"),
    Binding("r", "reload", "Refresh", show=False),  # the screens refresh themselves; ? lists it
    *TEAM_BINDINGS,
]


# action -> the permission it needs: without it the key is neither shown nor run
ROLE_NEEDS = {
    "assign_me": "ticket.assign_self",
    "assign_other": "ticket.assign_other",
    "priority": "ticket.work",
    "note": "ticket.note",
    "link": "ticket.work",
    **TEAM_ROLE_NEEDS,
}
SUBJECT_NUMBERS = 8  # ticket numbers named in a bulk dialog before "and N more"


def subject(targets: list[Target]) -> str:
    """What a dialog acts on: "INC000012", or "3 marked tickets: INC000012, INC000015, ..."."""
    if len(targets) == 1:
        return targets[0].number
    named = ", ".join(t.number for t in targets[:SUBJECT_NUMBERS])
    more = f" and {len(targets) - SUBJECT_NUMBERS} more" if len(targets) > SUBJECT_NUMBERS else ""
    return f"{len(targets)} marked tickets: {named}{more}"


Write = Callable[[int, int, str], object]  # (ticket id, expected version, request key): a service call


@dataclass(frozen=True)
class Target:
    id: int
    version: int
    number: str
    status: str


class Triage(TeamActions):
    """Mixin for a Screen. The screen provides ``triage_targets()`` and ``after_change(ids)``."""

    @property
    def user(self) -> User:
        return self.app.user

    def triage_targets(self) -> list[Target]:
        raise NotImplementedError

    def after_change(self, ticket_ids: list[int]) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys the role cannot use are not offered (the services refuse them anyway)."""
        needs = ROLE_NEEDS.get(action)
        if needs and getattr(self.app, "user", None) is not None and not allowed(self.user.role, needs):
            return False
        return super().check_action(action, parameters)

    def _staff_only(self) -> bool:
        if allowed(self.user.role, "ticket.work"):
            return True
        self.app.notify("Only agents and above can do that.", severity="warning")
        return False

    def _staff_targets(self) -> list[Target]:
        """The tickets an agent's action acts on; none (and a word why) for a requester."""
        targets = self.triage_targets()
        return targets if targets and self._staff_only() else []

    # ------------------------------------------------------------------ verbs

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_assign_me(self) -> None:
        targets = self._staff_targets()
        if not targets:
            return
        me = self.user
        taken = await asyncio.to_thread(tickets.assigned_to_others, [t.id for t in targets], me)
        if taken:
            names = ", ".join(f"{number} ({who})" for number, who in taken[:SUBJECT_NUMBERS])
            more = f" and {len(taken) - SUBJECT_NUMBERS} more" if len(taken) > SUBJECT_NUMBERS else ""
            if not await self.app.push_screen_wait(
                ConfirmModal(
                    "Take over?",
                    f"Assigned to someone else: {names}{more}. Assign to you instead?",
                    yes="Take over",
                    no="Cancel",
                    default=False,
                )
            ):
                return
        self._apply(
            "assigned to you", lambda t, v, key: tickets.assign(me, t, v, me, request_key=key), targets
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_assign_other(self) -> None:
        targets = self._staff_targets()  # now: the list may refresh while the picker is open
        if not targets:
            return
        load = await asyncio.to_thread(agent_load, self.user, targets[0].id)
        choice = await self.app.push_screen_wait(AgentPicker(load, subject=subject(targets)))
        if choice is None:
            return
        me = self.user
        label = f"assigned to {choice}" if choice else "unassigned"
        self._apply(
            label, lambda t, v, key: tickets.assign(me, t, v, choice or None, request_key=key), targets
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_status(self) -> None:
        targets = self.triage_targets()
        if not targets:
            return
        current = targets[0].status
        counts = {}
        for target in targets:
            counts[target.status] = counts.get(target.status, 0) + 1
        now = (
            ", ".join(f"{STATUS_LABELS[k]} ({n})" for k, n in counts.items())
            if len(targets) > 1
            else STATUS_LABELS[current]
        )
        allowed_targets = choosable(self.user.role, list(counts))
        if not allowed_targets:
            self.app.notify("No status change is possible from here.", severity="warning")
            return
        reopen = {"in_progress"} if current in ("resolved", "closed") else set()
        draft = self._note_drafts().pop(targets[0].id, "") if len(targets) == 1 else ""
        picked = await self.app.push_screen_wait(
            StatusPicker(
                current,
                allowed_targets,
                STATUS_LABELS,
                {"resolved"},
                reopen,
                note=draft,
                subject=subject(targets),
                current_label=now,
            )
        )
        if picked is None:
            return
        status, note = picked
        me = self.user
        if status == "resolved" and len(targets) == 1:
            targets = targets + await self._open_children(targets[0])
        self._apply(
            f"set to {STATUS_LABELS[status]}",
            lambda t, v, key: tickets.change_status(me, t, v, status, note, request_key=key),
            targets,
            draft=note,
        )

    async def _open_children(self, parent: Target) -> list[Target]:
        """Resolving a parent offers its open children too (issue 21): those the operator takes."""
        children = await asyncio.to_thread(links.open_children, self.user, parent.id)
        if not children:
            return []
        numbers = ", ".join(child.number for child in children)
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "Resolve the children too?",
                f"{parent.number} has {len(children)} open child ticket(s): {numbers}. "
                "Resolve them with the same note?",
                yes="Resolve them too",
                no="Only the parent",
            )
        ):
            return []
        return [Target(c.id, c.version, c.number, c.status) for c in children]

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_priority(self) -> None:
        targets = self._staff_targets()
        if not targets:
            return
        first = await asyncio.to_thread(Ticket.get_by_id, targets[0].id)
        values = await self.app.push_screen_wait(
            PriorityForm(
                first.impact,
                first.urgency,
                first.priority,
                first.priority_overridden,
                subject=subject(targets),
            )
        )
        if values is None:
            return
        me = self.user
        self._apply(
            "priority updated",
            lambda t, v, key: tickets.update(
                me,
                t,
                v,
                request_key=key,
                impact=values["impact"],
                urgency=values["urgency"],
                priority=values["priority"],
            ),
            targets,
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_comment(self) -> None:
        await self._comment(internal=False)

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_note(self) -> None:
        if self._staff_only():
            await self._comment(internal=True)

    async def _comment(self, internal: bool) -> None:
        """The prompt saves the text itself: a failed save keeps it open with the text, and the
        text is kept in a draft as it is typed (it comes back on the next c, even after a
        restart). The draft's request key makes a retry write the comment once."""
        targets = self.triage_targets()[:1]
        if not targets:
            return
        target, me = targets[0], self.user
        kind = "Internal note" if internal else "Public comment"
        label = "ctrl+s to save, Escape to cancel"
        if not internal:  # an e-mail ticket's comment goes out by mail: say to whom, first
            recipients = await asyncio.to_thread(lambda: mailer.mailed_to(tickets.get(me, target.id), me))
            if recipients:
                label = f"Will be mailed to {', '.join(recipients)}. {label}"
        saved = await self.app.push_screen_wait(
            TextPrompt(
                f"{kind} on {target.number}",
                label,
                draft=Draft(me.username, f"{'note' if internal else 'comment'}:{target.id}"),
                submit=lambda text, key: tickets.comment(
                    me, target.id, text, internal=internal, request_key=key
                ),
            )
        )
        if saved is None:
            return
        self.app.notify(f"{target.number} {'note added' if internal else 'comment added'}")
        self.after_change([target.id])

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_link(self) -> None:
        targets = self._staff_targets()
        if not targets:
            return
        me = self.user
        choice = await self.app.push_screen_wait(
            ChoicePicker(
                "Link a system or peripheral (type to search)",
                [("(remove the link)", ("none", 0))],
                search=lambda text: (
                    [(label, (kind, ident)) for kind, ident, label in inventory.search_assets(me, text)]
                    + [("(remove the link)", ("none", 0))]
                ),
            )
        )
        if choice is None:
            return
        kind, ident = choice
        if kind == "none":
            change = {"system": None, "peripheral": None}
        else:
            change = {kind: ident, ("peripheral" if kind == "system" else "system"): None}
        self._apply(
            "link updated", lambda t, v, key: tickets.update(me, t, v, request_key=key, **change), targets
        )

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def action_new_ticket(self) -> None:
        me = self.user
        categories = [(c.name, c.name) for c in await asyncio.to_thread(_categories)]
        levels = [("High", "1"), ("Medium", "2"), ("Low", "3")]
        fields = [
            FormField("title", "Title", required=True, placeholder="What is wrong, in a line"),
            FormField("description", "Description", kind="multiline", required=True),
            FormField(
                "category", "Category", kind="select", options=categories, value="General", required=True
            ),
            FormField("impact", "Impact", kind="select", options=levels, value="3", required=True),
            FormField("urgency", "Urgency", kind="select", options=levels, value="3", required=True),
        ]
        if allowed(me.role, "ticket.create_for_other"):
            fields.append(FormField("requester", "Requester (username; empty: you)"))
        if allowed(me.role, "ticket.work"):
            fields.append(FormField("system", "System (asset tag or hostname; optional)"))
        else:
            fields += my_devices.device_field(await asyncio.to_thread(devices.of_user, me))
        created = await self.app.push_screen_wait(
            FormModal(
                "New ticket",
                fields,
                submit=lambda v: tickets.create(
                    me,
                    v["title"],
                    v["description"],
                    category=v["category"],
                    impact=int(v["impact"]),
                    urgency=int(v["urgency"]),
                    requester=v.get("requester") or None,
                    request_key=v.get(REQUEST_KEY),
                    **({"system": v.get("system") or None} | my_devices.picked(v)),
                ),
                draft=Draft(me.username, "ticket:new"),
            )
        )
        if created is not None:
            self.app.notify(f"{created.number} created", title="New ticket")
            self.after_change([created.id])
            self.app.open_ticket(created.id)  # the operator goes on working on it

    def action_reload(self) -> None:
        self.after_change([])

    # ------------------------------------------------------------------ applying

    def _note_drafts(self) -> dict[int, str]:
        """Notes typed for a change that met a conflict and was not applied, by ticket id."""
        if not hasattr(self, "_drafts"):
            self._drafts: dict[int, str] = {}
        return self._drafts

    def _apply(
        self, done: str, op: Write, targets: list[Target] | None = None, draft: str | None = None
    ) -> None:
        targets = targets if targets is not None else self.triage_targets()
        if targets:
            self._run(done, op, targets, draft)

    @work(group="triage-apply", exit_on_error=False)
    async def _run(self, done: str, op: Write, targets: list[Target], draft: str | None = None) -> None:
        """``op`` on each target, with the version the operator saw and a request key of its own
        (kept for the re-apply: a write that did commit is not made twice)."""
        succeeded, problems = [], []
        for target in targets:
            key = new_request_key()
            try:
                await asyncio.to_thread(op, target.id, target.version, key)
                succeeded.append(target)
            except ConflictError as exc:
                if len(targets) == 1:
                    self._forget_marks(targets)
                    await self._resolve_conflict(done, partial(op, target.id, key=key), target, exc, draft)
                    return
                problems.append(f"{target.number}: conflict — {exc}")
            except SHOWN_ERRORS as exc:
                problems.append(f"{target.number}: {said(exc)}")
        self._forget_marks(targets)
        self.after_change([t.id for t in targets])
        if len(targets) == 1 and succeeded:
            self.app.notify(f"{targets[0].number} {done}")
        elif len(targets) == 1:
            self.app.notify(problems[0], severity="error", timeout=8)
        else:
            lines = [
                f"{len(succeeded)} of {len(targets)} tickets {done}: "
                + ", ".join(t.number for t in succeeded)
            ] + problems
            await self.app.push_screen_wait(MessageModal("Bulk action", lines))

    def _forget_marks(self, targets: list[Target]) -> None:
        """Marks serve one action: kept, a mark left on a ticket that failed would redirect the
        next key to it while the cursor is elsewhere."""
        if hasattr(self, "clear_marks"):
            self.clear_marks(t.id for t in targets)

    async def _resolve_conflict(
        self,
        done: str,
        write: Callable[[int], object],
        target: Target,
        exc: ConflictError,
        draft: str | None = None,
    ) -> None:
        outcome = await reconcile(self.app, exc, write, lambda: Ticket.get_by_id(target.id).version)
        if outcome.conflict is not None and draft:
            self._note_drafts()[target.id] = draft
            self.app.notify(f"Your note for {target.number} is kept: press s to use it again.")
        if outcome.error is not None:
            self.app.notify(f"{target.number}: {said(outcome.error)}", severity="error", timeout=8)
        elif outcome.written:
            self.app.notify(f"{target.number} {done}")
        self.after_change([target.id])


def _categories():
    from itsm_tui.core.tickets import categories

    return categories.active()
