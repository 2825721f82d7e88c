"""The ticket screen's edits of issue 21: edit (e), delete (D, admins), merge (M), link tickets
(L), open a linked ticket (o) and tags (t). A mixin for the ticket screen, which provides
``view`` (its TicketView), ``user`` and ``after_change``."""

from __future__ import annotations

import asyncio

from textual import work
from textual.binding import Binding

from itsm_tui.core.drafts import REQUEST_KEY
from itsm_tui.core.errors import ConflictError
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.tickets import categories, links, tags
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.failures import attempted
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.draft_keeper import Draft
from itsm_tui.ui.modals.forms import FormField, ThreadedFormModal
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import TextPrompt

EDIT_BINDINGS = [
    Binding("e", "edit_ticket", "Edit"),
    Binding("D", "delete_ticket", "Delete"),
    Binding("M", "merge_ticket", "Merge"),
    Binding("L", "link_ticket", "Link ticket"),
    Binding("o", "open_link", "Open linked"),
    Binding("t", "tags", "Tags"),
]
# action -> the permission it needs: without it the key is neither shown nor run
EDIT_NEEDS = {
    "edit_ticket": "ticket.edit",
    "delete_ticket": "ticket.delete",
    "merge_ticket": "ticket.merge",
    "link_ticket": "ticket.link",
    "tags": "ticket.tag",
}
# what the operator picks -> (the link's kind as links.CHOICES names it, the words shown)
LINK_CHOICES = [
    ("Related to…", "related"),
    ("Parent of… (the other is its child)", "parent"),
    ("Child of…", "child"),
    ("Duplicate of…", "duplicate"),
    ("Caused by…", "caused_by"),
    ("Cause of…", "causes"),
]
UNLINK = "(remove a link)"


class TicketEdits:
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys the role cannot use are not offered (the services refuse them anyway)."""
        needs = EDIT_NEEDS.get(action)
        user = getattr(self.app, "user", None)
        if needs and user is not None and not allowed(user.role, needs):
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_edit_ticket(self) -> None:
        if not self.view:
            return
        t, me = self.view.ticket, self.user
        names = [c.name for c in await asyncio.to_thread(categories.active)]
        if t.category.name not in names:
            names.append(t.category.name)  # an inactive category stays as it is unless changed
        fields = [
            FormField("title", "Title", value=t.title, required=True),
            FormField("description", "Description", kind="multiline", value=t.description, required=True),
            FormField(
                "category",
                "Category",
                kind="select",
                options=[(n, n) for n in sorted(names)],
                value=t.category.name,
                required=True,
            ),
        ]

        version = [t.version]

        def save(values: dict):
            """Only the fields the operator changed. After a conflict the form stays open with
            what was typed, says who changed what, and the next ctrl+s saves over that version."""
            changes = {k: values[k] for k in ("title", "description") if values[k] != getattr(t, k)}
            if values["category"] != t.category.name:
                changes["category"] = values["category"]
            if not changes:
                return t
            try:
                return tickets.update(me, t.id, version[0], request_key=values.get(REQUEST_KEY), **changes)
            except ConflictError as exc:
                version[0] = tickets.get(me, t.id).version
                raise ConflictError(f"{exc} Press ctrl+s to save your edit over it.", exc.changes) from None

        saved = await self.app.push_screen_wait(
            ThreadedFormModal(
                f"Edit {t.number}", fields, submit=save, draft=Draft(me.username, f"edit:{t.id}")
            )
        )
        if saved is not None:
            self.app.notify(f"{t.number} updated")
            self.after_change([t.id])

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_delete_ticket(self) -> None:
        if not self.view:
            return
        t, me = self.view.ticket, self.user
        goes = await asyncio.to_thread(tickets.what_goes, t.id)
        message = (
            f"Delete {t.number} {t.title!r}? Deleted with it: {goes}, its links and tags. "
            "The activity log keeps a deletion entry with its number, title and requester."
        )
        if not await self.app.push_screen_wait(
            ConfirmModal("Delete ticket", message, yes="Delete", no="Keep", default=False)
        ):
            return
        if not (await attempted(self.app, tickets.delete, me, t.id, t.version))[0]:
            return
        self.app.notify(f"{t.number} deleted")
        self.app.changed()
        if self.app.screen is self:
            self.app.pop_screen()

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_merge_ticket(self) -> None:
        """The number typed, then a confirmation saying what moves; a merge that fails opens
        the prompt again with the number, for the retry."""
        if not self.view:
            return
        t, me = self.view.ticket, self.user
        typed = ""
        while True:
            found = await self.app.push_screen_wait(
                TextPrompt(
                    f"Merge {t.number} into another ticket",
                    "The ticket it duplicates (number)",
                    multiline=False,
                    initial=typed,
                    submit=lambda text, key: (text, *_merge_preview(me, t.id, text.strip())),
                )
            )
            if found is None:
                return
            typed, into, goes = found
            message = (
                f"Merge {t.number} {t.title!r} into {into.number} {into.title!r}? Moving to "
                f"{into.number}: {goes}. {t.number} is then closed with a pointer to {into.number}, "
                "and both histories say so."
            )
            if not await self.app.push_screen_wait(
                ConfirmModal("Merge tickets", message, yes="Merge", no="Cancel", default=False)
            ):
                return
            done, merged = await attempted(self.app, links.merge, me, t.id, t.version, into.id)
            if done:
                break
        self.app.notify(merged.resolution_note)
        self.after_change([t.id])

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_link_ticket(self) -> None:
        if not self.view:
            return
        t, me = self.view.ticket, self.user
        removable = [link for link in self.view.links if link.kind != "merged"]  # a merge stays
        choices = LINK_CHOICES + ([(UNLINK, UNLINK)] if removable else [])
        kind = await self.app.push_screen_wait(ChoicePicker(f"Link {t.number} as…", choices))
        if kind is None:
            return
        if kind == UNLINK:
            picked = await self.app.push_screen_wait(
                ChoicePicker("Remove which link?", _link_rows(removable))
            )
            if picked is None:
                return
            if not (await attempted(self.app, links.unlink, me, t.id, picked.id))[0]:
                return
            self.app.notify(f"{t.number} no longer {picked.words} {picked.other_number}")
        else:
            made = await self.app.push_screen_wait(
                TextPrompt(
                    f"Link {t.number}",
                    f"{dict((v, k) for k, v in LINK_CHOICES)[kind]} which ticket (number)?",
                    multiline=False,
                    submit=lambda text, key: links.link(me, t.id, text.strip(), kind),
                )
            )
            if made is None:
                return
            self.app.notify(f"{t.number} {made.words} {made.other_number}")
        self.after_change([t.id])

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_open_link(self) -> None:
        found = self.view.links if self.view else []
        if not found:
            self.app.notify("This ticket has no linked tickets.")
            return
        picked = (
            found[0]
            if len(found) == 1
            else await self.app.push_screen_wait(ChoicePicker("Open which linked ticket?", _link_rows(found)))
        )
        if picked is not None:
            self.app.open_ticket(picked.other_id)

    @work(exclusive=True, group="ticket-edit", exit_on_error=False)
    async def action_tags(self) -> None:
        if not self.view:
            return
        t, me, before = self.view.ticket, self.user, list(self.view.tags)

        def save(text: str, key):
            wanted = {tags.normal(word) for word in text.replace(",", " ").split()}
            return tags.change(
                me, t.id, add=sorted(wanted - set(before)), remove=sorted(set(before) - wanted)
            )

        now = await self.app.push_screen_wait(
            TextPrompt(
                f"Tags of {t.number}",
                "Words separated by spaces (letters, digits, . _ + -); remove a word to drop its tag",
                multiline=False,
                initial=" ".join(before),
                required=False,
                submit=save,
            )
        )
        if now is not None:
            self.app.notify(f"{t.number}: {' '.join('#' + tag for tag in now) or 'no tags'}")
            self.after_change([t.id])


def _merge_preview(actor, duplicate_id: int, ref: str):
    """(the ticket ``ref`` names, what merging the duplicate into it moves there)."""
    return links.other_ticket(actor, ref), tickets.what_goes(duplicate_id)


def _link_rows(found: list[links.Link]) -> list[tuple[str, links.Link]]:
    return [(f"{link.words} {link.other_number}: {link.other_title}", link) for link in found]
