"""One system: its fields, the peripherals attached to it, its tickets and its history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.core import clock
from itsm_tui.core.errors import ItsmError, NotFound
from itsm_tui.core.inventory import lists as assets
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store import audit, db_errors
from itsm_tui.core.store.models import Department, Network, System, User
from itsm_tui.core.text import strip_controls
from itsm_tui.ui.export_modal import ExportContext, ExportModal
from itsm_tui.ui.failures import SHOWN_ERRORS, SaysFailedWorkers, read_failed, said
from itsm_tui.ui.inventory_actions import InventoryActions
from itsm_tui.ui.messages import RecordGone, RecordRead, RecordUnread
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.opening import OpenWhenRead, reused_screen
from itsm_tui.ui.reconcile import write_and_reconcile
from itsm_tui.ui.record_reads import RecordReads
from itsm_tui.ui.render import literal, one_line, priority_text, status_text, when
from itsm_tui.ui.widgets.asset_tables import asset_status
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame

REFRESH_SECONDS = 5.0
PICKER_LIMIT = 50


@dataclass(frozen=True)
class HistoryLine:
    """One audit entry, read off the UI thread (its actor is a related row)."""

    at: object
    actor: str
    summary: str
    changes: tuple[tuple[str, object, object], ...]


@dataclass
class SystemView:
    system: dict
    peripherals: list[dict]
    tickets: list[dict]
    history: list[HistoryLine]

    @property
    def signature(self) -> tuple:
        """What decides whether the screen must be redrawn."""
        return (
            self.system.get("version"),
            tuple((p["id"], p.get("version")) for p in self.peripherals),
            tuple((t["id"], t["status"], t["priority"], t["title"]) for t in self.tickets),
            len(self.history),
        )


# change fields that hold a record id -> how to name that record
REFERENCES = {
    "department": (Department, "name"),
    "network": (Network, "name"),
    "assigned_user": (User, "username"),
    "system": (System, "hostname"),
}


def _named(field_name: str, value, names: dict):
    """An id in a recorded change shown as the name of its record (or #id once deleted)."""
    if field_name not in REFERENCES or not isinstance(value, int):
        return value
    if (field_name, value) not in names:
        model, column = REFERENCES[field_name]
        row = model.get_or_none(model.id == value)
        names[(field_name, value)] = getattr(row, column) if row is not None else f"#{value}"
    return names[(field_name, value)]


def read_system(actor: User, system_id: int) -> SystemView:
    detail = assets.system_detail(actor, system_id)
    history, names = [], {}
    for entry in reversed(detail.history):  # newest first, like the log
        actor_name = entry.actor.username if entry.actor_id else "unknown"
        changes = ()
        if entry.action != "create":  # a creation's values are the fields shown above
            changes = tuple(
                (name, _named(name, pair[0], names), _named(name, pair[1], names))
                for name, pair in sorted(audit.changes_of(entry).items())
                if isinstance(pair, list) and len(pair) == 2
            )
        history.append(HistoryLine(entry.at, actor_name, entry.summary, changes))
    return SystemView(detail.system, list(detail.peripherals), list(detail.tickets), history)


def unattached_peripherals(actor: User, text: str = "") -> list[tuple[str, int]]:
    """Peripherals attached to no system, as (label, (id, version)) for the picker."""
    found, after = [], None
    query = f"system:none {text}".strip()
    while len(found) < PICKER_LIMIT:
        page = assets.page(
            actor, "peripheral", query, assets.AssetSort("name"), after=after, limit=PICKER_LIMIT
        )
        for row in page.rows:
            if row.get("system_id") is None:
                label = f"{row['name']} · {row['asset_tag']} · {row['kind']}"
                if row.get("department"):
                    label += f" · {row['department']}"
                found.append((label, (row["id"], row["version"])))
        if not page.has_more or not page.rows:
            break
        after = page.last
    return found[:PICKER_LIMIT]


def _short(value) -> str:
    text = "—" if value in (None, "") else one_line(value)
    return text if len(text) <= 60 else text[:59] + "…"


def open_system(app, system_id: int) -> None:
    """The system's screen, pushed once its data is read (see OpenWhenRead)."""
    OpenWhenRead(
        app,
        lambda user: read_system(user, system_id),
        lambda view: reused_screen(app, SystemScreen, system_id, view),
        group="open-system",
    )


class SystemScreen(SaysFailedWorkers, InventoryActions, Screen):
    DEFAULT_CSS = """
    SystemScreen #body { padding: 0 1; }
    SystemScreen .section { margin-top: 1; }
    SystemScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("a", "attach", "Attach"),
        Binding("x", "detach", "Detach"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("r", "reload", "Refresh"),
        Binding("E", "export", "Export PDF"),
    ]

    AUTO_FOCUS = "#peripherals"

    def __init__(self, system_id: int, view: SystemView | None = None) -> None:
        super().__init__()
        self.system_id = system_id
        self.view: SystemView | None = None
        self._given = view  # read just before the push: shown at mount, not read again
        self.permitted = False
        self.actor: User | None = None
        self.reads = RecordReads()
        self.redraw = False  # True: the next read is drawn whole, see changed()

    @property
    def frame_title(self) -> str:
        return f"Inventory › {self.view.system['hostname']}" if self.view else "Inventory"

    def compose(self) -> ComposeResult:
        yield Frame()
        with VerticalScroll(id="body"):
            yield Static("loading…", id="summary")
            yield Static("", id="peripherals-title", classes="section")
            yield OptionList(id="peripherals")
            yield Static("", id="tickets-title", classes="section")
            yield OptionList(id="tickets")
            yield Static("", id="history", classes="section")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self._permit() and self._given is not None:
            self.reads.given()
            self._show(self._given)
        self.set_interval(REFRESH_SECONDS, self._auto_refresh)

    def showing(self, system_id: int, view: SystemView | None) -> SystemScreen:
        """This screen, set to show ``system_id`` (``view``: its data, or None: read when shown)."""
        self.system_id, self._given = system_id, view
        self.reads.forget()  # a read still running is for what this screen showed before
        if self.is_mounted and self._permit():  # reused (see reused_screen): on_mount has run
            self.view = None
            self.query_one("#body", VerticalScroll).scroll_home(animate=False)
            for options in self.query(OptionList):
                options.highlighted = None  # each list from its top
            if view is None:
                self.query_one("#summary", Static).update("loading…")
            else:
                self.reads.given()
                self._show(view)
        return self

    def forget(self) -> None:
        self.system_id, self.view, self._given, self.actor = 0, None, None, None
        if self.is_mounted:
            for name in ("summary", "peripherals-title", "tickets-title", "history"):
                self.query_one(f"#{name}", Static).update("")
            for options in self.query(OptionList):
                options.clear_options()

    def _permit(self) -> bool:
        self.permitted = self.user is not None and allowed(self.user.role, "inventory.view")
        if not self.permitted:
            message = "The inventory is for agents, supervisors and admins."
            self.query_one("#summary", Static).update(Text(message, style="bold"))
            self.app.notify(message, severity="warning")
            self.set_timer(0.05, self._leave)
        self.actor = self.user  # for the worker thread, which has no active app to ask
        return self.permitted

    def _leave(self) -> None:
        """Back to the screen below, when there is one (never to an empty stack)."""
        if self.app.screen is self and len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def _auto_refresh(self) -> None:
        if self.app.screen is self and self.permitted and not self.reads.busy:
            self.load()

    def on_screen_resume(self) -> None:
        """Read again on coming back (the first time too, unless the data came with the push)."""
        if self._given is not None:
            self._given = None
        elif self.permitted:
            self.load()

    def load(self, after_write: bool = False) -> None:
        self._read_system(self.system_id, self.reads.start(after_write))

    @work(group="system-load", thread=True, exit_on_error=False)
    def _read_system(self, system_id: int, number: int) -> None:
        try:
            view = read_system(self.actor, system_id)
        except NotFound as exc:
            self.post_message(RecordGone(system_id, str(exc)))
            return
        except db_errors.DATABASE_ERRORS as exc:
            self.post_message(RecordUnread(system_id, db_errors.reason(exc), number))
            return
        except ItsmError as exc:  # e.g. no longer allowed to see the inventory
            self.app.notify(str(exc), severity="error")  # thread-safe
            return
        finally:
            self.reads.ended(number)
        self.post_message(RecordRead(system_id, view, number))

    @on(RecordGone)
    def _gone(self, event: RecordGone) -> None:
        if event.record_id != self.system_id:
            return
        self.app.notify(event.error, severity="error")
        if self.app.screen is self:
            self.app.pop_screen()

    @on(RecordRead)
    def _read(self, event: RecordRead) -> None:
        was_stale = bool(self.reads.stale)
        if event.record_id == self.system_id and self.reads.take(event.generation):
            if was_stale or self.redraw:
                self.view = None  # drawn again whole (without the line that said it was old)
            self.redraw = False
            self._show(event.view)

    @on(RecordUnread)
    def _unread(self, event: RecordUnread) -> None:
        if event.record_id == self.system_id:
            summary = self.query_one("#summary", Static)
            self.reads.unread(self.app, event, "the system", self.view, self._draw_summary, summary)

    # ------------------------------------------------------------ drawing

    def _show(self, view: SystemView) -> None:
        if view.system["id"] != self.system_id:
            return  # read for the system this screen showed before
        previous = self.view
        self.view = view
        if previous and previous.signature == view.signature:
            return  # nothing new: keep the highlights and the scroll position
        self.query_one(Frame).show()
        self._draw_summary(view)
        self._peripherals(view.peripherals)
        self._tickets(view.tickets)
        self.query_one("#history", Static).update(self._history(view.history))

    def _draw_summary(self, view: SystemView) -> None:
        summary, stale = self._summary(view.system), self.reads.stale_line()
        shown = summary if stale is None else Group(stale, Text(""), summary)
        self.query_one("#summary", Static).update(shown)

    def _summary(self, s: dict) -> Group:
        head = literal(one_line(s["hostname"]), "bold")
        head.append(f"  {s['type']}  ·  ", style="")
        head.append_text(asset_status(s["status"]))
        grid = Table.grid(padding=(0, 2))
        for style in ("dim", "", "dim", ""):
            grid.add_column(style=style, no_wrap=True)
        warranty = literal(_short(s.get("warranty_end")))
        end = s.get("warranty_end")
        if isinstance(end, date) and end < clock.now().date():
            warranty.append("  expired", style="bold red")
        rows = [
            ("Asset tag", s.get("asset_tag"), "Assigned user", s.get("assigned_user")),
            ("IP address", s.get("ip"), "Department", s.get("department")),
            ("MAC address", s.get("mac"), "Network", s.get("network")),
            ("Manufacturer", s.get("manufacturer"), "Purchase date", s.get("purchase_date")),
            ("Model", s.get("model_name"), "Warranty end", None),
            ("Serial", s.get("serial"), "Operating system", s.get("os")),
        ]
        for left, left_value, right, right_value in rows:
            right_text = warranty if right == "Warranty end" else literal(_short(right_value))
            grid.add_row(Text(left), literal(_short(left_value)), Text(right), right_text)
        parts = [head, Text(""), grid]
        if s.get("notes"):
            parts += [Text(""), Text("Notes", style="bold underline"), literal(s["notes"])]
        return Group(*parts)

    def _peripherals(self, peripherals: list[dict]) -> None:
        title = Text.assemble(
            (f"Peripherals ({len(peripherals)})", "bold underline"),
            ("   a attach · x detach the highlighted one · enter edit", "dim"),
        )
        self.query_one("#peripherals-title", Static).update(title)
        options = self.query_one("#peripherals", OptionList)
        keep = options.highlighted
        if peripherals:
            options.set_options([Option(self._peripheral_line(p)) for p in peripherals])
            options.highlighted = min(keep or 0, len(peripherals) - 1)
        else:
            options.set_options([Option(Content("No peripherals attached."), disabled=True)])

    @staticmethod
    def _peripheral_line(p: dict) -> Content:
        line = Text()
        line.append_text(literal(one_line(p["name"]), "bold"))
        line.append(f"  {one_line(p['asset_tag'])}  {p['kind']}", style="")
        if p.get("serial"):
            line.append(f"  SN {one_line(p['serial'])}", style="dim")
        line.append("  ")
        line.append_text(asset_status(p.get("status")))
        return Content.from_rich_text(line)

    def _tickets(self, tickets: list[dict]) -> None:
        title = Text.assemble(
            (f"Tickets ({len(tickets)})", "bold underline"), ("   enter opens the ticket", "dim")
        )
        self.query_one("#tickets-title", Static).update(title)
        options = self.query_one("#tickets", OptionList)
        keep = options.highlighted
        if tickets:
            options.set_options([Option(self._ticket_line(t)) for t in tickets])
            options.highlighted = min(keep or 0, len(tickets) - 1)
        else:
            options.set_options([Option(Content("No tickets link to this system."), disabled=True)])

    @staticmethod
    def _ticket_line(t: dict) -> Content:
        line = Text(f"{t['number']}  ", style="bold")
        status = status_text(t["status"], compact=True)
        status.pad_right(13 - len(status))
        line.append_text(status)
        priority = priority_text(t["priority"])
        priority.pad_right(9 - len(priority))
        line.append_text(priority)
        line.append(f"{when(t['created_at'])}  ", style="dim")
        line.append_text(literal(one_line(t["title"])))
        return Content.from_rich_text(line)

    @staticmethod
    def _history(history: list[HistoryLine]) -> Group:
        lines = [Text.assemble((f"History ({len(history)})", "bold underline"), ("   newest first", "dim"))]
        for entry in history:
            line = Text(f"{when(entry.at)}  ", style="dim")
            line.append_text(literal(one_line(entry.actor), "bold"))
            line.append("  ")
            line.append_text(literal(one_line(entry.summary)))
            lines.append(line)
            for name, before, after in entry.changes:
                change = Text(f"    {name.replace('_', ' ')}: ", style="dim")
                change.append_text(literal(_short(before), "dim"))
                change.append(" → ", style="dim")
                change.append_text(literal(_short(after)))
                lines.append(change)
        if not history:
            lines.append(Text("Nothing recorded yet.", style="dim"))
        return Group(*lines)

    # ------------------------------------------------------------ keys

    def action_export(self) -> None:
        label = self.view.system["hostname"] if self.view else f"system-{self.system_id}"
        self.app.push_screen(ExportModal(ExportContext("system", ref=self.system_id, label=label)))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.changed()

    def changed(self, record_id: int | None = None) -> None:
        self.redraw = True  # the next read drawn whole; what is shown stays meanwhile (a failed read)
        self.load(after_write=True)
        changed = getattr(self.app, "changed", None)
        if changed:
            changed()

    @on(OptionList.OptionSelected, "#tickets")
    def _open_ticket(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.view and event.option_index < len(self.view.tickets):
            self.app.open_ticket(self.view.tickets[event.option_index]["id"])

    @on(OptionList.OptionSelected, "#peripherals")
    def _edit_peripheral(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.view and event.option_index < len(self.view.peripherals):
            self._edit_one("peripheral", self.view.peripherals[event.option_index]["id"])

    @work(exclusive=True, group="system-write", exit_on_error=False)
    async def _edit_one(self, kind: str, record_id: int) -> None:
        await self.edit_record(kind, record_id)

    def action_edit(self) -> None:
        self._edit_one("system", self.system_id)

    @work(exclusive=True, group="system-write", exit_on_error=False)
    async def action_delete(self) -> None:
        if not self.view:
            return
        s = self.view.system
        if await self.delete_record(
            "system", self.system_id, s["version"], f"{s['hostname']} ({s['asset_tag']})"
        ):
            if self.app.screen is self:
                self.app.pop_screen()

    @work(exclusive=True, group="system-write", exit_on_error=False)
    async def action_attach(self) -> None:
        if not self.view or not self.can_edit():
            return
        me, hostname = self.user, self.view.system["hostname"]
        try:
            first = await asyncio.to_thread(unattached_peripherals, me)
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            return
        if not first:
            self.app.notify("Every peripheral is attached to a system already.", severity="warning")
            return
        choice = await self.app.push_screen_wait(
            ChoicePicker(
                f"Attach a peripheral to {strip_controls(hostname)} (type to search)",
                first,
                search=lambda text: unattached_peripherals(me, _quoted(text)),
            )
        )
        if choice is None:
            return
        peripheral_id, version = choice
        await self._link_peripheral(peripheral_id, version, self.system_id, f"attached to {hostname}")

    @work(exclusive=True, group="system-write", exit_on_error=False)
    async def action_detach(self) -> None:
        if not self.view or not self.can_edit():
            return
        index = self.query_one("#peripherals", OptionList).highlighted
        if index is None or index >= len(self.view.peripherals):
            self.app.notify("No peripheral is highlighted.", severity="warning")
            return
        p = self.view.peripherals[index]
        await self._link_peripheral(
            p["id"], p["version"], None, f"detached from {self.view.system['hostname']}"
        )

    async def _link_peripheral(
        self, peripheral_id: int, version: int, system_id: int | None, done: str
    ) -> None:
        me = self.user
        outcome = await write_and_reconcile(
            self.app,
            lambda fresh: inventory.attach_peripheral(me, peripheral_id, fresh, system_id),
            version,
            lambda: inventory.get(me, "peripheral", peripheral_id).version,
        )
        if outcome.error is not None:
            self.app.notify(said(outcome.error), severity="error", timeout=8)
        elif outcome.written:
            self.app.notify(f"{outcome.result.name} {done}")
        self.changed()


def _quoted(text: str) -> str:
    """Search text as one phrase of the filter language, so a colon in it is no filter."""
    text = text.strip().replace('"', "")
    return f'"{text}"' if text else ""
