"""``:import`` (admins): pick what to import and the file, watch the progress, read the report.

The importer runs in a thread worker and posts its progress; the report (which quotes file
content) is written to a ``Log`` widget, which shows text literally, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Log, ProgressBar, Select, Static

from itsm_tui.core import files
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.people.permissions import allowed
from itsm_tui.core.store import db_errors
from itsm_tui.core.text import strip_controls
from itsm_tui.importers import csv_import, servicenow
from itsm_tui.ui.failures import SHOWN_ERRORS, SaysFailedWorkers
from itsm_tui.ui.inputs import InOrderInput
from itsm_tui.ui.messages import ImportFinished, ImportProgressed
from itsm_tui.ui.widgets.frame import Frame

KINDS = (
    ("ServiceNow incident export", "servicenow"),
    ("Tickets (CSV with a mapping)", "tickets"),
    ("Systems (CSV with a mapping)", "systems"),
    ("Peripherals (CSV with a mapping)", "peripherals"),
    ("Stock items (CSV with a mapping)", "stock"),
)


class ImportScreen(SaysFailedWorkers, Screen):
    DEFAULT_CSS = """
    ImportScreen #form { height: auto; padding: 1 2 0 2; }
    ImportScreen #form Horizontal { height: auto; }
    ImportScreen #form Label { width: 12; padding: 1 1 0 0; }
    ImportScreen #form Input, ImportScreen #form Select { width: 1fr; }
    ImportScreen #mapping-row.hidden { display: none; }
    ImportScreen #progress-row { height: 1; padding: 0 2; margin-top: 1; }
    ImportScreen #state { height: auto; padding: 0 2; }
    ImportScreen #report { margin: 1 2; border: round $primary; height: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+r", "start", "Import"),
        Binding("escape", "back", "Back"),
    ]
    AUTO_FOCUS = "#path"
    frame_title = "Import"

    def compose(self) -> ComposeResult:
        yield Frame()
        with Vertical(id="form"):
            with Horizontal():
                yield Label("What")
                yield Select(KINDS, value="servicenow", allow_blank=False, id="kind")
            with Horizontal():
                yield Label("File")
                yield InOrderInput(
                    placeholder="path of the CSV file, e.g. ~/exports/incidents.csv", id="path"
                )
            with Horizontal(id="mapping-row", classes="hidden"):
                yield Label("Mapping")
                yield InOrderInput(
                    placeholder="a JSON mapping file, or field=Header pairs separated by ';'", id="mapping"
                )
            with Horizontal():
                yield Label("")
                yield Checkbox("Dry run: check and count, write nothing", id="dry-run")
                yield Button("Import (ctrl+r)", id="start", variant="primary")
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="state")
        yield Log(id="report", auto_scroll=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        if not allowed(self.app.user.role, "import.run"):
            self._state("Imports are for admins.")

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#mapping-row").set_class(event.value == "servicenow", "hidden")

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _submitted(self) -> None:
        self.action_start()

    def __init__(self) -> None:
        super().__init__()
        self.running = False

    def action_back(self) -> None:
        """Leave, but not in the middle of an import (its report would be lost)."""
        if self.running:
            self._state("An import is running: wait for its report.")
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_start(self) -> None:
        if self.running:
            return
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self._state("Type the path of the file to import.")
            return
        kind = self.query_one("#kind", Select).value
        mapping = self.query_one("#mapping", Input).value.strip()
        dry_run = self.query_one("#dry-run", Checkbox).value
        self.query_one("#report", Log).clear()
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self._state("Reading the file...")
        self.running = True
        self._run(kind, path, mapping, dry_run)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(self, kind: str, path: str, mapping: str, dry_run: bool) -> None:
        progress = lambda done, total: self.post_message(ImportProgressed(done, total))  # noqa: E731
        try:
            file = files.source(path, self.app.user.username)  # served: only from uploads/<user>/
            if kind == "servicenow":
                report = servicenow.import_servicenow(self.app.user, file, dry_run=dry_run, progress=progress)
            else:
                report = csv_import.import_csv(
                    self.app.user,
                    kind,
                    file,
                    _mapping(kind, mapping, self.app.user.username),
                    dry_run=dry_run,
                    progress=progress,
                )
        except SHOWN_ERRORS as exc:
            self.post_message(ImportFinished(error=exc))
            return
        except Exception:  # a defect: the app says it; the screen takes a new import again
            self.post_message(ImportFinished(error=ItsmError("the import stopped on an unexpected error")))
            raise
        self.post_message(ImportFinished(report))

    @on(ImportProgressed)
    def _progress(self, event: ImportProgressed) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(event.total, 1), progress=event.done)
        self._state(f"Importing: {event.done} of {event.total}")

    @on(ImportFinished)
    def _finished(self, event: ImportFinished) -> None:
        self.running = False
        exc, report = event.error, event.report
        if exc is not None:
            message = db_errors.reason(exc) if isinstance(exc, db_errors.DATABASE_ERRORS) else str(exc)
            self._state(f"Not imported: {message}", error=True)
            return
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(bar.total or 1, 1), progress=max(bar.total or 1, 1))
        self._state(report.summary())
        self.query_one("#report", Log).write_lines([strip_controls(line) for line in report.lines()])
        self.app.changed()

    def _state(self, message: str, error: bool = False) -> None:
        self.query_one("#state", Static).update(Text(message, style="bold red" if error else ""))


def _mapping(kind: str, text: str, username: str) -> dict[str, str]:
    """The mapping field: a JSON file's path, or ``field=Header; field=Header``."""
    if not text:
        return {}
    if "=" not in text:
        return csv_import.load_mapping(kind, files.source(text, username))
    return csv_import.load_mapping(kind, map_columns=[p for p in (s.strip() for s in text.split(";")) if p])
