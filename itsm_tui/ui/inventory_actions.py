"""Add, edit, delete and stock adjustment of inventory records, shared by the inventory screen
and the system screen (a mixin, so neither screen imports the other)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from itsm_tui.core import drafts
from itsm_tui.core.errors import ConflictError, ItsmError, NotFound
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.core.store.models import User
from itsm_tui.ui.failures import SHOWN_ERRORS, read_failed, said
from itsm_tui.ui.inventory_forms import (
    NOUNS,
    delete_message,
    edited,
    form_fields,
    read_choices,
    read_record,
    tidy,
)
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.draft_keeper import Draft, kept_message
from itsm_tui.ui.modals.forms import FormField, FormModal
from itsm_tui.ui.reconcile import reconcile


@dataclass
class Conflicted:
    """A form's save met a ConflictError: the form closes and the screen asks what to do."""

    error: ConflictError
    values: dict


def guarded(save: Callable[[dict], object]) -> Callable[[dict], object]:
    """Wrap a form's save: a conflict closes the form (ConflictModal follows), a database
    failure becomes a message at the top of the form instead of an exception in the modal."""

    def submit(values: dict):
        try:
            return save(values)
        except ConflictError as exc:
            return Conflicted(exc, values)
        except DATABASE_ERRORS as exc:
            raise ItsmError(kept_message(exc)) from None

    return submit


def _unlinked_summary(kind: str, effects: dict[str, int]) -> str:
    parts = [f"{n} {name} unlinked" for name, n in effects.items() if n]
    return f" ({', '.join(parts)})" if parts else ""


class InventoryActions:
    """Add, edit, delete and stock adjustment for a Screen. The screen provides ``changed()``
    (re-read what it shows after a write)."""

    @property
    def user(self) -> User:
        return self.app.user

    def changed(self, record_id: int | None = None) -> None:
        raise NotImplementedError

    def can_edit(self) -> bool:
        if self.user is not None and allowed(self.user.role, "inventory.edit"):
            return True
        self.app.notify("Only agents and above can change the inventory.", severity="warning")
        return False

    async def add_record(self, kind: str):
        if not self.can_edit():
            return None
        me = self.user
        try:
            choices = await asyncio.to_thread(read_choices, me)
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            return None
        fields = form_fields(kind, {}, choices, creating=True)
        created = await self.app.push_screen_wait(
            FormModal(
                f"New {NOUNS[kind]}",
                fields,
                submit=guarded(lambda values: inventory.create(me, kind, tidy(kind, values))),
                draft=Draft(me.username, f"{kind}:new"),
            )
        )
        if created is not None:
            self.app.notify(f"Created {NOUNS[kind]} {_record_label(kind, created)}")
            self.changed(created.id)
        return created

    async def edit_record(self, kind: str, record_id: int) -> None:
        if not self.can_edit():
            return
        me = self.user
        try:
            record = await asyncio.to_thread(read_record, me, kind, record_id)
            choices = await asyncio.to_thread(read_choices, me)
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            self.changed()
            return
        fields = form_fields(kind, record.values, choices, creating=False)
        title = f"Edit {NOUNS[kind]} {record.label}"
        if kind == "stock":
            title += f" (quantity {record.values['quantity']}: change it with + and -)"

        def save(values: dict):
            return inventory.update(me, kind, record.id, record.version, edited(kind, record, values))

        draft = Draft(me.username, f"{kind}:{record.id}")
        outcome = await self.app.push_screen_wait(FormModal(title, fields, submit=guarded(save), draft=draft))
        if outcome is None:
            return
        if isinstance(outcome, Conflicted):
            # kept until it is applied: after a reload, e opens the form with this input again
            await asyncio.to_thread(
                drafts.save,
                draft.username,
                draft.key,
                {
                    k: v
                    for k, v in outcome.values.items()
                    if k != drafts.REQUEST_KEY and v != record.values.get(k)
                },
            )
            if await self._resolve_conflict(
                outcome.error,
                f"{NOUNS[kind]} {record.label} saved",
                lambda version: inventory.update(
                    me, kind, record.id, version, edited(kind, record, outcome.values)
                ),
                kind,
                record.id,
            ):
                await asyncio.to_thread(drafts.discard, draft.username, draft.key)
            return
        self.app.notify(f"Saved {NOUNS[kind]} {_record_label(kind, outcome)}")
        self.changed(record.id)

    async def delete_record(self, kind: str, record_id: int, version: int, label: str) -> bool:
        """Ask (saying what happens to linked records), then delete. True once deleted."""
        if not self.can_edit():
            return False
        me = self.user
        try:
            linked = await asyncio.to_thread(inventory.linked_records, me, kind, record_id)
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            return False
        sure = await self.app.push_screen_wait(
            ConfirmModal(
                f"Delete {NOUNS[kind]}",
                delete_message(kind, label, linked),
                yes="Delete",
                no="Keep it",
                default=False,
            )
        )
        if not sure:
            return False
        try:
            effects = await asyncio.to_thread(inventory.delete, me, kind, record_id, version)
        except ConflictError as exc:
            return await self._resolve_conflict(
                exc,
                f"{NOUNS[kind]} {label} deleted",
                lambda fresh: inventory.delete(me, kind, record_id, fresh),
                kind,
                record_id,
            )
        except NotFound as exc:
            self.app.notify(str(exc), severity="warning")
            self.changed()
            return True
        except SHOWN_ERRORS as exc:
            self.app.notify(said(exc), severity="error", timeout=8)
            return False
        self.app.notify(f"Deleted {NOUNS[kind]} {label}{_unlinked_summary(kind, effects)}")
        self.changed()
        return True

    async def _resolve_conflict(
        self, exc: ConflictError, done: str, apply: Callable[[int], object], kind: str, record_id: int
    ) -> bool:
        """Someone saved in between: reload, or apply this change again on their version."""
        me = self.user
        outcome = await reconcile(self.app, exc, apply, lambda: inventory.get(me, kind, record_id).version)
        if outcome.error is not None:
            self.app.notify(said(outcome.error), severity="error", timeout=8)
        elif outcome.written:
            self.app.notify(done[0].upper() + done[1:])
        self.changed(record_id)
        return outcome.written

    async def adjust_stock(self, row: dict, sign: int) -> None:
        """+ adds, - takes: how many and why, in one form; a refusal shows the service's words."""
        if not self.can_edit():
            return
        me = self.user
        verb = "Add to" if sign > 0 else "Take from"

        def save(values: dict):
            amount = values["quantity"].strip()
            delta = sign * abs(int(amount)) if amount.lstrip("+-").isdigit() else amount
            return inventory.adjust_stock(me, row["id"], delta, values["reason"])

        fields = [
            FormField("quantity", "How many to add" if sign > 0 else "How many to take", required=True),
            FormField(
                "reason",
                "Reason (recorded in the log)",
                required=True,
                placeholder="delivery PO-1234" if sign > 0 else "issued to ws-042",
            ),
        ]
        item = await self.app.push_screen_wait(
            FormModal(
                f"{verb} {row['name']} ({row['quantity']:,} in stock)",
                fields,
                submit=guarded(save),
                draft=Draft(me.username, f"stock{'+' if sign > 0 else '-'}:{row['id']}"),
            )
        )
        if item is None:
            return
        self.app.notify(f"{item.name}: {item.quantity:,} in stock")
        self.changed(row["id"])


def _record_label(kind: str, row) -> str:
    if kind == "system":
        return row.hostname
    if kind == "peripheral":
        return f"{row.name} ({row.asset_tag})"
    return row.name
