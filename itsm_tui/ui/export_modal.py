"""The export modal: format, scope, columns, title and destination; runs the export service in
a thread worker with a progress bar, can be cancelled, and names the file when done.

Screens open it with an :class:`ExportContext` describing what they show (the list, its filter
and sort, the marked rows, the visible columns), so the export holds exactly what is seen.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Input, Label, ProgressBar, Select, SelectionList

from itsm_tui.core import files
from itsm_tui.core.errors import ItsmError, ValidationError
from itsm_tui.reports import export
from itsm_tui.reports.lists import LISTS
from itsm_tui.ui.failures import SHOWN_ERRORS, read_failed
from itsm_tui.ui.inputs import InOrderInput
from itsm_tui.ui.messages import ExportFinished, ExportProgressed
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine, ModalBase, literal

EXPORT_KEYS = "e,E"  # e on the queue, log and ticket screens; E everywhere (e edits elsewhere)
RECORDS = ("ticket", "system", "analytics")
EXPORTABLE_KINDS = {"system": "systems", "peripheral": "peripherals", "stock": "stock"}


@dataclass(frozen=True)
class ExportContext:
    what: str  # a list (tickets, systems, peripherals, stock, log) or a record (ticket, system)
    filter: str = ""
    sort: str | None = None
    marked: frozenset[int] = frozenset()
    columns: tuple[str, ...] = ()  # the screen's visible column keys
    ref: object = None  # the record's id, for ticket and system reports
    label: str = ""  # the record's name, for the file name
    figures: dict | None = None  # for "analytics": the dict pdf_analytics documents

    @property
    def record(self) -> bool:
        return self.what in RECORDS


class ExportModal(ModalBase[export.Done | None]):
    """Choose, then export; escape cancels (a running export too: nothing is left behind)."""

    BINDINGS = [Binding("ctrl+s", "start", "Export", show=False)]
    HINT = "tab next field · space toggle a column · ctrl+s or Export start · esc cancel"
    DEFAULT_CSS = """
    ExportModal #dialog { max-width: 90; overflow-y: auto; }
    ExportModal SelectionList { height: auto; max-height: 9; }
    ExportModal #progress-box { height: auto; display: none; margin-top: 1; }
    ExportModal #progress-box.running { display: block; }
    ExportModal #buttons { height: auto; margin-top: 1; }
    ExportModal Button { margin-right: 2; }
    """

    def __init__(self, context: ExportContext) -> None:
        noun = context.label or context.what
        super().__init__(f"Export {noun}")
        self.context = context
        self.cancel_event = threading.Event()
        self.running = False
        self._stage_started = (None, 0.0)

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        c = self.context
        formats = [("PDF", "pdf")] if c.record else [("PDF", "pdf"), ("CSV (spreadsheet)", "csv")]
        yield Label(Content("Format"), classes="field-label")
        yield Select(formats, value="pdf", allow_blank=False, id="format")
        if not c.record:
            scopes = [("The current filter and sort", "filter")]
            if c.marked:
                scopes.insert(0, (f"The {len(c.marked)} marked rows", "marked"))
            yield Label(Content("Rows"), classes="field-label")
            yield Select(scopes, value=scopes[0][1], allow_blank=False, id="scope")
            kind = LISTS[c.what]
            visible = {kind.column(k).key for k in c.columns if kind.has_column(k)} or set(kind.defaults)
            yield Label(Content("Columns"), classes="field-label")
            yield SelectionList(
                *[(literal(col.header), col.key, col.key in visible) for col in kind.columns], id="columns"
            )
        yield Label(Content("Title"), classes="field-label")
        yield InOrderInput(self._default_title(), id="report-title", select_on_focus=False)
        where = "Save as (a file name in your folder: see :exports)" if files.served() else "Save to"
        yield Label(Content(where), classes="field-label")
        if files.served():  # a name in the operator's own folder (see :exports)
            path = self._default_name("pdf")
        else:
            path = os.path.join(files.start_folder(files.EXPORTS, ""), self._default_name("pdf"))
        yield InOrderInput(path, id="path", select_on_focus=False)
        yield ErrorLine(id="error")
        with Horizontal(id="progress-box"):
            yield ProgressBar(id="bar", show_eta=False)
            yield Label("", id="status")
        with Horizontal(id="buttons"):
            yield Button(Content("Export"), variant="primary", id="start")
            yield Button(Content("Cancel"), id="cancel")

    def on_mount(self) -> None:
        # The format is focused before the fields have their height, which scrolls the title and
        # the first label out of sight on a short terminal (80x24): once laid out, the top.
        self.call_after_refresh(self.query_one("#dialog").scroll_home, animate=False)

    def _default_title(self) -> str:
        c = self.context
        if c.record:
            return ""  # the report titles itself with the record's name
        return f"{c.what.capitalize()} report"

    def _default_name(self, fmt: str) -> str:
        c = self.context
        if c.record:
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in c.label or c.what)
            return f"{safe}.{fmt}"
        return export.default_name(c.what, fmt)

    @on(Select.Changed, "#format")
    def _format_changed(self, event: Select.Changed) -> None:
        field_ = self.query_one("#path", Input)
        stem, extension = os.path.splitext(field_.value)
        if extension.lower() in (".pdf", ".csv"):
            field_.value = f"{stem}.{event.value}"

    # ------------------------------------------------------------ starting

    @on(Button.Pressed, "#start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        if self.running:
            return
        error = self.query_one(ErrorLine)
        error.clear()
        path = self.query_one("#path", Input).value
        try:
            full = str(files.target(path, self.app.user.username, overwrite=False))
        except files.FileExists as exc:
            question = ConfirmModal("Overwrite file?", f"{exc} Replace it?", yes="Overwrite", no="Keep it")
            self.app.push_screen(question, self._overwrite_answered)
            return
        except ItsmError as exc:
            error.show(str(exc))
            return
        self._run(full)

    def _overwrite_answered(self, confirmed: bool) -> None:
        if not confirmed:
            return
        try:
            full = files.target(self.query_one("#path", Input).value, self.app.user.username, overwrite=True)
        except ItsmError as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        self._run(str(full), overwrite=True)

    def _job(self, path: str, overwrite: bool):
        c = self.context
        fmt = self.query_one("#format", Select).value
        title = self.query_one("#report-title", Input).value
        if c.what == "analytics":
            return lambda **kw: export.export_analytics(
                self.app.user, c.figures or {}, path, title=title or None, overwrite=overwrite
            )
        if c.record:
            return lambda **kw: export.export_record(
                self.app.user, c.what, c.ref, path, title=title or None, overwrite=overwrite, **kw
            )
        marked = c.marked if self.query_one("#scope", Select).value == "marked" else None
        columns = tuple(self.query_one("#columns", SelectionList).selected)
        if not columns:
            raise ValidationError("choose at least one column", "columns")
        kind = LISTS[c.what]
        columns = tuple(col.key for col in kind.columns if col.key in columns)  # list order
        job = export.ListJob(
            c.what,
            fmt,
            path,
            c.filter,
            c.sort,
            marked=marked,
            columns=columns,
            title=title,
            overwrite=overwrite,
        )
        return lambda **kw: export.export_list(self.app.user, job, **kw)

    def _run(self, path: str, overwrite: bool = False) -> None:
        try:
            job = self._job(path, overwrite)
        except ItsmError as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        self.running = True
        self.cancel_event.clear()
        self.query_one("#progress-box").add_class("running")
        self.query_one("#start", Button).disabled = True
        self.query_one("#status", Label).update(Content("starting…"))
        self._work(job)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _work(self, job) -> None:
        last = [0.0]

        def progress(step: export.Progress) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or step.done in (0, step.total):
                last[0] = now
                self.post_message(ExportProgressed(step))

        try:
            done = job(progress=progress, cancel=self.cancel_event)
        except export.Cancelled:
            self.post_message(ExportFinished(None, None))
        except SHOWN_ERRORS as exc:  # a refusal, or the database in words (never the driver's text)
            self.post_message(ExportFinished(None, read_failed(exc, "no file was written")))
        except Exception as exc:  # a disk failure, say: say so, keep the app running
            self.post_message(ExportFinished(None, f"the export failed: {exc}"))
        else:
            self.post_message(ExportFinished(done, None))

    # ------------------------------------------------------------ progress and the end

    @on(ExportProgressed)
    def _progressed(self, event: ExportProgressed) -> None:
        step = event.step
        bar = self.query_one("#bar", ProgressBar)
        bar.update(total=max(step.total, 1), progress=step.done)
        stage, started = self._stage_started
        now = time.monotonic()
        if stage != step.stage:
            self._stage_started = (step.stage, now)
            started = now
        verb = "Reading" if step.stage == "reading" else "Writing"
        text = f"{verb} {step.done:,} of {step.total:,} rows"
        if 0 < step.done < step.total and now - started > 0.5:
            left = (now - started) / step.done * (step.total - step.done)
            text += f" · about {left:.0f} s left"
        self.query_one("#status", Label).update(Content(text))

    @on(ExportFinished)
    def _finished(self, event: ExportFinished) -> None:
        done, problem = event.done, event.problem
        self.running = False
        self.query_one("#progress-box").remove_class("running")
        self.query_one("#start", Button).disabled = False
        if problem:
            self.query_one(ErrorLine).show(problem)
            return
        if done is None:
            self.app.notify("Export cancelled; nothing was written.", severity="warning")
            self.dismiss(None)
            return
        rows = "" if self.context.record else f"{done.rows:,} row{'s' if done.rows != 1 else ''} "
        self.app.notify(f"Exported {rows}to {done.path}", title="Export done")
        self.dismiss(done)

    def on_unmount(self) -> None:
        self.cancel_event.set()  # the app is closing: a running export stops and cleans up

    def action_cancel(self) -> None:
        if self.running:
            self.cancel_event.set()  # the worker stops at its next row and cleans up
            self.query_one("#status", Label).update(Content("cancelling…"))
            return
        self.dismiss(None)
