"""``:teams`` and ``:macros`` (issue 21): the lists admins (teams) and supervisors and admins
(macros) keep, with a key per change. Reads and writes run in a thread; a refusal is shown in
the dialog, literally."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from itsm_tui.core.store.models import PRIORITY_NAMES, Macro
from itsm_tui.core.tickets import macros, teams
from itsm_tui.core.tickets.rules import STATUS_LABELS
from itsm_tui.ui.failures import SHOWN_ERRORS, said
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine, ModalBase, literal
from itsm_tui.ui.modals.forms import FormField, ThreadedFormModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker
from itsm_tui.ui.modals.prompts import saved_name

MODES = [("Off", "off"), ("Round-robin", "round_robin"), ("Least loaded", "least_loaded")]
UNCHANGED = ""


class _Listing(ModalBase[None]):
    """A list of records read by ``read()`` (label, record) in a thread, and ``write`` to change
    one and read the list again."""

    DEFAULT_CSS = "_Listing OptionList { height: auto; max-height: 60vh; }"

    def __init__(self, heading: str):
        super().__init__(heading)
        self.records: list = []

    def compose_body(self) -> ComposeResult:
        yield OptionList(id="records")
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        self.reload()

    def read(self) -> list[tuple[str, object]]:
        raise NotImplementedError

    @work(exclusive=True, group="listing", exit_on_error=False)
    async def reload(self) -> None:
        try:
            rows = await asyncio.to_thread(self.read)
        except SHOWN_ERRORS as exc:
            self.query_one(ErrorLine).show(said(exc, "the list is not up to date"))
            return
        self.records = [record for _, record in rows]
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.set_options([Option(literal(label)) for label, _ in rows])
        if rows:
            options.highlighted = min(keep or 0, len(rows) - 1)

    def chosen(self):
        index = self.query_one(OptionList).highlighted
        return self.records[index] if index is not None and index < len(self.records) else None

    async def write(self, change: Callable[[], object], done: str) -> None:
        try:
            await asyncio.to_thread(change)
        except SHOWN_ERRORS as exc:
            self.query_one(ErrorLine).show(said(exc))
            return
        self.changed(done)

    def changed(self, done: str) -> None:
        self.query_one(ErrorLine).clear()
        self.app.notify(done)
        self.reload()


class TeamsModal(_Listing):
    BINDINGS = [
        Binding("n", "new", "New team"),
        Binding("r", "rename", "Rename"),
        Binding("a", "add_member", "Add member"),
        Binding("x", "remove_member", "Remove member"),
        Binding("t", "mode", "Automatic assignment"),
    ]
    HINT = "n new · r rename · a add member · x remove member · t automatic assignment · esc close"

    def __init__(self):
        super().__init__("Teams")

    def read(self) -> list[tuple[str, object]]:
        return [
            (
                f"{t.name}  ({t.auto_assign or 'no automatic assignment'})  "
                + (", ".join(names) or "no members"),
                (t, names),
            )
            for t, names in teams.listing(self.app.user)
        ]

    @work(exclusive=True, group="teams", exit_on_error=False)
    async def action_new(self) -> None:
        me = self.app.user
        if made := await saved_name(self.app, "New team", "Team name", lambda name: teams.add(me, name)):
            self.changed(f"Team {made.name} created")

    @work(exclusive=True, group="teams", exit_on_error=False)
    async def action_rename(self) -> None:
        if (record := self.chosen()) is None:
            return
        team, me = record[0], self.app.user
        renamed = await saved_name(
            self.app, f"Rename {team.name}", "Team name", lambda name: teams.rename(me, team, name), team.name
        )
        if renamed:
            self.changed(f"Renamed to {renamed.name}")

    @work(exclusive=True, group="teams", exit_on_error=False)
    async def action_add_member(self) -> None:
        if (record := self.chosen()) is None:
            return
        team, names = record
        load = await asyncio.to_thread(teams.agent_load, self.app.user)
        rows = [(u.username, u.full_name, n) for u, n, _ in load if u.username not in names]
        who = await self.app.push_screen_wait(AgentPicker(rows, allow_unassign=False, subject=team.name))
        if who:
            await self.write(lambda: teams.add_member(self.app.user, team, who), f"{who} joined {team.name}")

    @work(exclusive=True, group="teams", exit_on_error=False)
    async def action_remove_member(self) -> None:
        if (record := self.chosen()) is None or not record[1]:
            return
        team, names = record
        who = await self.app.push_screen_wait(
            ChoicePicker(f"Remove from {team.name}", [(n, n) for n in names])
        )
        if who:
            await self.write(lambda: teams.remove_member(self.app.user, team, who), f"{who} left {team.name}")

    @work(exclusive=True, group="teams", exit_on_error=False)
    async def action_mode(self) -> None:
        if (record := self.chosen()) is None:
            return
        team = record[0]
        mode = await self.app.push_screen_wait(ChoicePicker(f"Automatic assignment for {team.name}", MODES))
        if mode:
            await self.write(
                lambda: teams.configure(self.app.user, team, None if mode == "off" else mode),
                f"{team.name}: automatic assignment {mode.replace('_', ' ')}",
            )


class MacrosModal(_Listing):
    BINDINGS = [
        Binding("n", "new", "New macro"),
        Binding("e,enter", "edit", "Edit"),
        Binding("d,delete", "delete", "Delete"),
    ]
    HINT = "n new · e edit · d delete · esc close"

    def __init__(self):
        super().__init__("Macros")
        self.team_options: list[tuple[str, str]] = []  # read with the list

    def read(self) -> list[tuple[str, object]]:
        """Each macro with the names its form shows (read here, not while the form opens)."""
        listing = teams.listing(self.app.user)
        self.team_options = [(t.name, t.name) for t, _ in listing]
        names = {t.id: t.name for t, _ in listing}
        rows: list[tuple[str, object]] = []
        for m in macros.available(self.app.user):
            shown = {
                "for_team": names.get(m.team_id, UNCHANGED),
                "team": names.get(m.set_team_id, UNCHANGED),
                "assignee": macros.assignee_word(m) or "",
            }
            rows.append((f"{m.name} — {macros.describe(m)}", (m, shown)))
        return rows

    def _form(self, title: str, record: tuple[Macro, dict] | None) -> ThreadedFormModal:
        me = self.app.user
        m, shown = record if record else (None, {"for_team": UNCHANGED, "team": UNCHANGED, "assignee": ""})
        fields = [
            FormField("name", "Name", required=True, value=m.name if m else ""),
            FormField(
                "body",
                "Reply (placeholders: " + ", ".join("{" + p + "}" for p in macros.PLACEHOLDERS) + ")",
                kind="multiline",
                value=m.body if m else "",
            ),
            FormField(
                "internal",
                "The reply is",
                kind="select",
                options=[("a public comment", "no"), ("an internal note", "yes")],
                value="yes" if m and m.internal else "no",
                required=True,
            ),
            FormField(
                "for_team",
                "Offered to",
                kind="select",
                options=[("everyone", UNCHANGED), *self.team_options],
                value=shown["for_team"],
            ),
            FormField(
                "status",
                "Set status",
                kind="select",
                options=[("(unchanged)", UNCHANGED), *((label, key) for key, label in STATUS_LABELS.items())],
                value=(m.set_status or UNCHANGED) if m else UNCHANGED,
            ),
            FormField(
                "priority",
                "Set priority",
                kind="select",
                options=[("(unchanged)", UNCHANGED), *((name, str(n)) for n, name in PRIORITY_NAMES.items())],
                value=str(m.set_priority or UNCHANGED) if m else UNCHANGED,
            ),
            FormField(
                "team",
                "Move to team",
                kind="select",
                options=[("(unchanged)", UNCHANGED), *self.team_options],
                value=shown["team"],
            ),
            FormField(
                "assignee",
                "Assign to (username, or me: who applies it; empty: unchanged)",
                value=shown["assignee"],
            ),
        ]

        def submit(v: dict):
            fields = macros.Fields(
                v["status"] or None, v["priority"] or None, v["team"] or None, v["assignee"] or None
            )
            parts = dict(
                body=v["body"], team=v["for_team"] or None, internal=v["internal"] == "yes", fields=fields
            )
            if m is None:
                return macros.create(me, v["name"], **parts)
            return macros.update(me, m, m.version, v["name"], **parts)

        return ThreadedFormModal(title, fields, submit)

    @work(exclusive=True, group="macros", exit_on_error=False)
    async def action_new(self) -> None:
        if await self.app.push_screen_wait(self._form("New macro", None)) is not None:
            self.app.notify("Macro saved")
            self.reload()

    @work(exclusive=True, group="macros", exit_on_error=False)
    async def action_edit(self) -> None:
        if (record := self.chosen()) is None:
            return
        if await self.app.push_screen_wait(self._form(f"Edit {record[0].name}", record)) is not None:
            self.app.notify("Macro saved")
            self.reload()

    @work(exclusive=True, group="macros", exit_on_error=False)
    async def action_delete(self) -> None:
        if (record := self.chosen()) is None:
            return
        macro = record[0]
        sure = await self.app.push_screen_wait(
            ConfirmModal("Delete macro?", f"Delete {macro.name}?", yes="Delete", no="Keep it", default=False)
        )
        if sure:
            await self.write(lambda: macros.delete(self.app.user, macro), f"Deleted {macro.name}")
