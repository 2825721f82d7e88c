"""The ticket screen: every field, the description, attachments and the full timeline."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from itsm_tui.core import clock, config, files
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.inventory import devices
from itsm_tui.core.notify import mailer
from itsm_tui.core.people.permissions import is_staff
from itsm_tui.core.store import db_errors
from itsm_tui.core.store.models import LEVEL_NAMES, Ticket, User, ticket_number
from itsm_tui.core.tickets import links, tags, timeline
from itsm_tui.core.tickets import service as tickets
from itsm_tui.ui.export_modal import ExportContext, ExportModal
from itsm_tui.ui.failures import SaysFailedWorkers, said
from itsm_tui.ui.messages import RecordGone, RecordRead, RecordUnread
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import PathPrompt
from itsm_tui.ui.opening import OpenWhenRead, reused_screen
from itsm_tui.ui.record_reads import RecordReads
from itsm_tui.ui.render import SLA_STYLES, literal, outcome, priority_text, status_text, when
from itsm_tui.ui.ticket_edits import EDIT_BINDINGS, TicketEdits
from itsm_tui.ui.triage import TRIAGE_BINDINGS, Target, Triage
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame

REFRESH_SECONDS = 5.0
CHANNELS = {"app": "App", "api": "API", "e-mail": "E-mail", "alert": "Alert"}  # how it came in


@dataclass
class TicketView:
    """Everything the screen shows, read in one go off the UI thread."""

    ticket: Ticket
    events: list
    attachments: list
    asset: str
    links: list = field(default_factory=list)  # issue 21: links.Link, seen from this ticket
    tags: list = field(default_factory=list)
    devices: list = field(default_factory=list)  # the requester's, for staff
    ccs: list = field(default_factory=list)  # issue 20: the addresses copied on its mail


def read_ticket(actor: User, ticket_id: int) -> TicketView:
    """One permission check, then everything the screen shows, each part in one query."""
    ticket = timeline.ticket_with_names(actor, ticket_id)
    return TicketView(
        ticket,
        timeline.story(ticket.id, staff=is_staff(actor)),
        tickets.attachments_of(ticket.id),
        timeline.linked_asset(actor, ticket),
        links.links_of(actor, ticket.id),
        tags.of([ticket.id]).get(ticket.id, []),
        devices.of_user(actor, ticket.requester_id) if is_staff(actor) else [],
        mailer.cc_addresses(ticket.id),
    )


def open_ticket(app, ticket_id: int) -> None:
    """The ticket's screen, pushed once its data is read (see OpenWhenRead)."""
    OpenWhenRead(
        app,
        lambda user: read_ticket(user, ticket_id),
        lambda view: reused_screen(app, TicketScreen, ticket_id, view),
        group="open-ticket",
    )


class TicketScreen(SaysFailedWorkers, TicketEdits, Triage, Screen):
    DEFAULT_CSS = """
    TicketScreen #body { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        *TRIAGE_BINDINGS,
        Binding("u", "upload", "Attach file"),
        Binding("d", "download", "Save attachment"),
        Binding("E", "export", "Export PDF"),  # e edits here
        *EDIT_BINDINGS,
    ]

    AUTO_FOCUS = "#body"

    def __init__(self, ticket_id: int, view: TicketView | None = None) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.view = view  # None: read when mounted
        self.redraw = False  # True: the next read is drawn even if nothing seems new
        self.reads = RecordReads()

    @property
    def frame_title(self) -> str:
        return self.view.ticket.number if self.view else ""

    def compose(self) -> ComposeResult:
        yield Frame()
        with VerticalScroll(id="body"):
            yield Static("loading…", id="ticket")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._open()
        self.set_interval(REFRESH_SECONDS, self._periodic_refresh)

    def showing(self, ticket_id: int, view: TicketView | None) -> TicketScreen:
        """This screen, set to show ``ticket_id`` (``view``: its data, or None to read it)."""
        self.ticket_id, self.view = ticket_id, view
        self.reads.forget()  # a read still running is for what this screen showed before
        if self.is_mounted:  # reused (see reused_screen): on_mount has run before
            self.query_one("#body", VerticalScroll).scroll_home(animate=False)
            self._open()
        return self

    def forget(self) -> None:
        self.ticket_id, self.view = 0, None
        if self.is_mounted:
            self.query_one("#ticket", Static).update("")

    def _open(self) -> None:
        if self.view:
            self.reads.given()
            self._fill(self.view)
        else:
            self.query_one(Frame).show()
            self.query_one("#ticket", Static).update("loading…")
            self.load()

    def on_resize(self) -> None:
        if self.view:  # two pairs a line, or one: decided by the width
            self.call_after_refresh(self._fill, self.view)

    def _periodic_refresh(self) -> None:
        if self.app.screen is self and not self.reads.busy:
            self.load()

    def load(self, after_write: bool = False) -> None:
        self._read_ticket(self.ticket_id, self.reads.start(after_write))

    @work(group="ticket-load", thread=True, exit_on_error=False)
    def _read_ticket(self, ticket_id: int, number: int) -> None:
        try:
            view = read_ticket(self.user, ticket_id)
        except ItsmError as exc:
            self.post_message(RecordGone(ticket_id, str(exc)))
            return
        except db_errors.ROW_GONE:  # deleted between the reads of its parts
            self.post_message(RecordGone(ticket_id, f"{ticket_number(ticket_id)} was deleted meanwhile"))
            return
        except db_errors.DATABASE_ERRORS as exc:
            self.post_message(RecordUnread(ticket_id, db_errors.reason(exc), number))
            return
        finally:
            self.reads.ended(number)
        self.post_message(RecordRead(ticket_id, view, number))

    @on(RecordGone)
    def _gone(self, event: RecordGone) -> None:
        if event.record_id != self.ticket_id:
            return
        self.app.notify(event.error, severity="error")
        if self.app.screen is self:
            self.app.pop_screen()

    @on(RecordUnread)
    def _unread(self, event: RecordUnread) -> None:
        if event.record_id == self.ticket_id:
            self.reads.unread(
                self.app, event, "the ticket", self.view, self._fill, self.query_one("#ticket", Static)
            )

    @on(RecordRead)
    def _show(self, event: RecordRead) -> None:
        was_stale = bool(self.reads.stale)
        if event.record_id != self.ticket_id or not self.reads.take(event.generation):
            return  # read for the ticket this screen showed before, or older than the one shown
        previous, view = self.view, event.view
        self.view = view
        if (
            previous
            and not self.redraw
            and not was_stale
            and (previous.ticket.version, len(previous.events)) == (view.ticket.version, len(view.events))
        ):
            return  # nothing new: leave the screen (and its scroll position) alone
        self.redraw = False
        self._fill(view)

    def _fill(self, view: TicketView) -> None:
        """Everything in one Static: one widget to lay out and paint, not one per section."""
        self.query_one(Frame).show()
        t, now = view.ticket, clock.now()
        head = Text(f"{t.number}  ", style="bold")
        head.append_text(literal(t.title, "bold"))
        priority = priority_text(t.priority)
        if t.priority_overridden:
            priority.append(" (overridden)", style="dim")
        assignee = literal(t.assignee.username if t.assignee_id else "unassigned")
        response, resolution = (_due(t, target, now) for target in ("response", "resolution"))
        rows = [
            (
                "Status",
                status_text(t.status),
                "Requester",
                literal(f"{t.requester.full_name} ({t.requester.username})"),
            ),
            ("Priority", priority, "Assignee", assignee),
            (
                "Impact / urgency",
                Text(f"{LEVEL_NAMES[t.impact]} / {LEVEL_NAMES[t.urgency]}"),
                "Category",
                literal(t.category.name),
            ),
            ("Created", Text(when(t.created_at)), "Updated", Text(when(t.updated_at))),
            ("Response due", response, "First response", Text(when(t.first_response_at))),
            (
                "Resolution due",
                resolution,
                "Resolved / closed",
                Text(f"{when(t.resolved_at)} / {when(t.closed_at)}"),
            ),
            ("Reopened", Text(str(t.reopen_count)), "Reassigned", Text(str(t.reassignment_count))),
        ]
        if t.team_id:  # issue 21
            rows.append(("Team", literal(t.team.name), "", Text("")))
        channel = literal(CHANNELS.get(t.contact_type or "app", t.contact_type or ""))
        rows.append(
            ("Channel", channel, "Source number" if t.source_number else "", literal(t.source_number or ""))
        )
        asset = Text()
        asset.append("Linked asset      ", style="dim")
        asset.append_text(literal(view.asset))
        if view.ccs:
            asset.append("\nCc                ", style="dim")
            asset.append_text(literal(", ".join(view.ccs)))
        width = self.query_one("#ticket", Static).size.width or self.app.size.width - 4
        lines = [head, *_merged(view), Text(""), *_grid(rows, width), Text(""), asset, Text("")]
        lines += _links_tags_devices(view)
        lines += [Text("Description", style="bold underline"), literal(t.description)]
        if t.resolution_note:
            lines += [Text(""), Text("Resolution", style="bold underline"), literal(t.resolution_note)]
        lines += [
            Text(""),
            Text.assemble(
                (f"Attachments ({len(view.attachments)})", "bold underline"), ("   u attach · d save", "dim")
            ),
        ]
        for a in view.attachments:
            line = literal(a.filename)
            line.append(f"  {a.size:,} bytes · {a.uploaded_by.username} · {when(a.created_at)}", style="dim")
            lines.append(line)
        lines += [Text(""), Text("Timeline", style="bold underline")]
        for event in view.events:
            label = {
                "comment": ("comment", "cyan"),
                "note": ("internal note", "bold yellow"),
                "history": ("history", "dim"),
            }[event.kind]
            head_line = Text()
            head_line.append(f"{when(event.at)}  ", style="dim")
            head_line.append_text(literal(event.author, "bold"))
            head_line.append(f"  {label[0]}", style=label[1])
            lines += [head_line, literal(event.text, "" if event.kind != "history" else "dim"), Text("")]
        stale = self.reads.stale_line()
        if stale is not None:
            lines[:0] = [stale, Text("")]
        self.query_one("#ticket", Static).update(Group(*lines))

    # ------------------------------------------------------------ triage plumbing

    def triage_targets(self) -> list[Target]:
        if not self.view:
            return []
        t = self.view.ticket
        return [Target(t.id, t.version, t.number, t.status)]

    def after_change(self, ticket_ids: list[int]) -> None:
        """Read the ticket again and draw it even if its version did not move (tags and links
        do not move it). The view stays meanwhile: a read that fails (the database gone) leaves
        the keys working on what is shown, for the retry."""
        self.redraw = True
        self.load(after_write=True)
        self.app.changed()

    def action_export(self) -> None:
        number = Ticket(id=self.ticket_id).number
        self.app.push_screen(ExportModal(ExportContext("ticket", ref=self.ticket_id, label=number)))

    def action_back(self) -> None:
        self.app.pop_screen()

    # ------------------------------------------------------------ attachments

    @work(exclusive=True, group="files", exit_on_error=False)
    async def action_upload(self) -> None:
        path = await self.app.push_screen_wait(
            PathPrompt("Attach a file", start=Path.cwd(), must_exist=True, username=self.user.username)
        )
        if path is None or not self.view:
            return
        try:
            content = await asyncio.to_thread(_read_upload, Path(path))
            await asyncio.to_thread(tickets.attach, self.user, self.ticket_id, Path(path).name, content)
        except (OSError, ItsmError) as exc:
            self.app.notify(str(exc), severity="error")
            return
        except db_errors.DATABASE_ERRORS as exc:  # it may have been attached: said so
            self.app.notify(said(exc), severity="error")
            return
        self.app.notify(f"Attached {Path(path).name}")
        self.after_change([self.ticket_id])

    @work(exclusive=True, group="files", exit_on_error=False)
    async def action_download(self) -> None:
        if not self.view or not self.view.attachments:
            self.app.notify("This ticket has no attachments.")
            return
        choice = await self.app.push_screen_wait(
            ChoicePicker("Save which attachment?", [(a.filename, a.id) for a in self.view.attachments])
        )
        if choice is None:
            return
        row, content = await asyncio.to_thread(tickets.attachment_content, self.user, choice)
        path = await self.app.push_screen_wait(
            PathPrompt(
                "Save the attachment to",
                start=Path.cwd(),
                must_exist=False,
                initial_name=files.fitting_name(row.filename),
                username=self.user.username,
            )
        )
        if path is None:
            return
        try:  # the prompt asked before returning a file that exists
            await asyncio.to_thread(files.write_private, path, content, overwrite=os.path.lexists(path))
        except (OSError, ItsmError) as exc:
            self.app.notify(str(exc), severity="error")
            return
        except db_errors.DATABASE_ERRORS as exc:  # it may have been attached: said so
            self.app.notify(said(exc), severity="error")
            return
        self.app.notify(f"Saved {row.filename} to {path}")


def _merged(view: TicketView) -> list[Text]:
    """Where a merged ticket went, under its title."""
    return [
        Text.assemble(("Merged into ", "bold yellow"), (link.other_number, "bold"), ("  (o opens it)", "dim"))
        for link in view.links
        if link.merged_into
    ]


def _links_tags_devices(view: TicketView) -> list[Text]:
    """The tags, the linked tickets and, for staff, the requester's devices."""
    lines = []
    if view.tags:
        line = Text("Tags              ", style="dim")
        line.append_text(literal(" ".join(f"#{tag}" for tag in view.tags)))
        lines += [line, Text("")]
    if view.links:
        lines.append(
            Text.assemble(
                (f"Linked tickets ({len(view.links)})", "bold underline"), ("   o open · L link", "dim")
            )
        )
        for link in view.links:
            line = Text(f"{link.words} {link.other_number}  ")
            line.append_text(status_text(link.other_status))
            line.append("  ")
            line.append_text(literal(link.other_title))
            lines.append(line)
        lines.append(Text(""))
    if view.devices:
        lines.append(Text("Requester's devices", style="bold underline"))
        lines += [literal(device.label) for device in view.devices]
        lines.append(Text(""))
    return lines


def _grid(rows: list[tuple[str, Text, str, Text]], width: int = 1000) -> list[Text]:
    """Label/value pairs, two per line, in aligned columns two cells apart (labels dim); as
    Rich's Table.grid would draw them, without its measuring passes on every layout. When two
    pairs do not fit in ``width``, one pair a line: values never wrap under their labels."""
    widths = [
        max(cell_len(row[i]) if isinstance(row[i], str) else row[i].cell_len for row in rows)
        for i in range(4)
    ]
    if sum(widths) + 6 > width:
        label = max(widths[0], widths[2])
        pairs = [pair for row in rows for pair in ((row[0], row[1]), (row[2], row[3])) if pair[0]]
        lines = []
        for name, value in pairs:
            line = Text(name, style="dim")
            line.align("left", label)
            line.append("  ")
            line.append_text(value)
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
        return lines
    lines = []
    for row in rows:
        line = Text()
        for i, cell in enumerate(row):
            cell = Text(cell, style="dim") if isinstance(cell, str) else cell.copy()
            cell.align("left", widths[i])
            line.append_text(cell)
            if i < 3:
                line.append("  ")
        lines.append(line)
    return lines


def _read_upload(path: Path) -> bytes:
    """A regular file's bytes, refused before reading when it is over the size limit (so a
    VM image or /dev/zero never fills the memory)."""
    # the service refuses it if it grew meanwhile
    return files.read_limited(path, config.settings().attachment_max_bytes)


OUTCOME_STYLES = {"met": "green", "breached": SLA_STYLES["breached"], "paused": SLA_STYLES["paused"]}


def _due(ticket, target: str, now) -> Text:
    """A target's due time and its outcome: '2026-12-06 09:00 (breached)', '(met)', '(in 3h)'."""
    word = outcome(ticket, target, now)
    text = Text(when(getattr(ticket, f"{target}_due")))
    if word:
        text.append(" ")
        text.append(f"({word})", style=OUTCOME_STYLES.get(word, ""))
    return text
