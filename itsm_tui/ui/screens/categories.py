"""``:categories`` (admins): every category with its state and number of tickets; add (n),
rename (r), deactivate or reactivate (d) and merge (m) one into another."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from itsm_tui.core.tickets import categories
from itsm_tui.ui.failures import SHOWN_ERRORS, SaysFailedWorkers, attempted, said
from itsm_tui.ui.messages import RecordRead
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import saved_name
from itsm_tui.ui.record_reads import RecordReads
from itsm_tui.ui.render import literal
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame


class CategoriesScreen(SaysFailedWorkers, Screen):
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("n", "add", "Add"),
        Binding("r", "rename", "Rename"),
        Binding("d", "toggle", "Deactivate/activate"),
        Binding("m", "merge", "Merge into…"),
    ]
    AUTO_FOCUS = "#categories"
    frame_title = "Categories"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple] = []  # (category, number of tickets), as listed
        self.reads = RecordReads()

    @property
    def user(self):
        return self.app.user

    def compose(self) -> ComposeResult:
        yield Frame()
        yield DataTable(id="categories", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Category", "State", "Tickets")
        self.load()

    def load(self, after_write: bool = False) -> None:
        self._read(self.reads.start(after_write))

    @work(group="categories-load", thread=True, exit_on_error=False)
    def _read(self, number: int) -> None:
        try:
            rows = categories.every(self.user)
        except SHOWN_ERRORS as exc:
            self.app.call_from_thread(
                self.app.notify, said(exc, "the list is not up to date"), severity="error"
            )
            return
        finally:
            self.reads.ended(number)
        self.post_message(RecordRead(0, rows, number))

    @on(RecordRead)
    def _show(self, event: RecordRead) -> None:
        if not self.reads.take(event.generation):
            return  # an older read, ended after a newer one or started before a write
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        self.rows = event.view
        table.clear()
        for category, count in self.rows:
            state = Text("active", "green") if category.is_active else Text("inactive", "dim")
            table.add_row(literal(category.name), state, Text(str(count)), key=str(category.id))
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    def _current(self):
        table = self.query_one(DataTable)
        return (
            self.rows[table.cursor_row][0] if self.rows and 0 <= table.cursor_row < len(self.rows) else None
        )

    @work(exclusive=True, group="categories", exit_on_error=False)
    async def action_add(self) -> None:
        me = self.user
        added = await saved_name(self.app, "New category", "Name", lambda name: categories.add(me, name))
        if added is not None:
            self.load(after_write=True)

    @work(exclusive=True, group="categories", exit_on_error=False)
    async def action_rename(self) -> None:
        category, me = self._current(), self.user
        if category is None:
            return
        renamed = await saved_name(
            self.app,
            f"Rename {category.name}",
            "New name (the history keeps the old one)",
            lambda name: categories.rename(me, category.id, name),
            initial=category.name,
        )
        if renamed is not None:
            self.load(after_write=True)

    @work(exclusive=True, group="categories", exit_on_error=False)
    async def action_toggle(self) -> None:
        category, me = self._current(), self.user
        if category is None:
            return
        if not (await attempted(self.app, categories.set_active, me, category.id, not category.is_active))[0]:
            return
        self.app.notify(f"{category.name} {'reactivated' if not category.is_active else 'deactivated'}")
        self.load(after_write=True)

    @work(exclusive=True, group="categories", exit_on_error=False)
    async def action_merge(self) -> None:
        category, me = self._current(), self.user
        if category is None:
            return
        others = [(c.name, c) for c, _ in self.rows if c.is_active and c.id != category.id]
        into = await self.app.push_screen_wait(ChoicePicker(f"Merge {category.name} into…", others))
        if into is None:
            return
        count = dict((c.id, n) for c, n in self.rows)[category.id]
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "Merge categories",
                f"Move the {count} tickets of {category.name} to {into.name} and deactivate {category.name}?",
                yes="Merge",
                no="Cancel",
                default=False,
            )
        ):
            return
        done, moved = await attempted(self.app, categories.merge, me, category.id, into.id)
        if not done:
            return
        self.app.notify(f"{category.name} merged into {into.name}: {moved} tickets moved")
        self.load(after_write=True)

    def action_back(self) -> None:
        self.app.pop_screen()
