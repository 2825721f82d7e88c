"""The export service: one code path for the command line and the export modal.

An export reads its rows from the same core list functions the screens page through (a ticket
CSV, which may hold a million rows, by its own read of the same filter and order:
:mod:`.ticket_csv`), writes into a temporary file in the destination folder and moves it into
place with ``os.replace`` only when complete, so a cancelled or failed export leaves nothing at
the destination (and an existing file there untouched). Each finished export is recorded in
the audit log: who, what, which filter, how many rows, where.

``progress(Progress)`` is called as the work advances (from the worker thread: a UI must hand
it to its own thread); setting ``cancel`` (a ``threading.Event``) stops the export with
:class:`Cancelled` at the next row (a CSV: the next batch of rows).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from itsm_tui.core import clock, files
from itsm_tui.core.errors import ItsmError, ValidationError
from itsm_tui.core.labels import action_label, counted
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import database, is_mysql, transactional
from itsm_tui.core.store.models import User
from itsm_tui.core.text import strip_controls
from itsm_tui.reports import csv_export, ticket_csv
from itsm_tui.reports import spool as spool_file
from itsm_tui.reports.lists import LISTS, ListKind, describe_filter, describe_sort, display

FORMATS = ("pdf", "csv")
BATCH = 1000  # rows handled together: pickled for a PDF, written for a CSV


class Cancelled(ItsmError):
    """The operator cancelled the export; nothing was written."""


DestinationExists = files.FileExists  # the destination exists and overwriting was not confirmed


@dataclass(frozen=True)
class Progress:
    stage: str  # "reading" (rows from the database) or "writing" (the file)
    done: int
    total: int


@dataclass(frozen=True)
class ListJob:
    """One list export. ``marked``: only these row ids (in list order), else the whole filter.
    ``columns``: column keys (the screen's or ours), default the columns the screen shows."""

    what: str
    fmt: str
    path: str
    filter: str = ""
    sort: str | None = None
    marked: frozenset[int] | None = None
    columns: tuple[str, ...] | None = None
    title: str | None = None
    overwrite: bool = True


@dataclass(frozen=True)
class Done:
    path: str
    rows: int
    pages: int | None = None


@dataclass
class _Run:
    progress: Callable[[Progress], None] | None
    cancel: threading.Event | None
    stage: str = "reading"
    total: int = 0
    _last: int = field(default=-1)

    def tick(self, done: int, force: bool = False) -> None:
        self.check()
        if self.progress and (force or done - self._last >= 100 or done == self.total):
            self._last = done
            self.progress(Progress(self.stage, done, self.total))

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("export cancelled; nothing was written")

    def begin(self, stage: str, total: int) -> None:
        self.stage, self.total, self._last = stage, total, -1
        self.tick(0, force=True)


# --------------------------------------------------------------------------- destination


def default_name(what: str, fmt: str, now=None) -> str:
    now = now or clock.now()
    return f"itsm-{what}-{now:%Y%m%d-%H%M}.{fmt}"


def check_destination(path: str, overwrite: bool = False) -> str:
    """The absolute path to write, or a ValidationError saying what is wrong with it (the
    rules of :mod:`..core.files`: never a dot-file, never an existing file unless asked; a
    dialog in served mode has already confined the path to the operator's folder)."""
    return str(files.target(path, "", overwrite=overwrite, confined=False))


def atomic_file(path: str, overwrite: bool):
    """A binary file object (0600) in ``path``'s folder that becomes ``path`` only on success."""
    return files.private_file(path, overwrite=overwrite)


# --------------------------------------------------------------------------- lists


def database_label() -> str:
    """The database an export came from, as its readers know it (no password)."""
    db = database.obj
    if is_mysql(db):
        host = db.connect_params.get("host", "localhost")
        return f"MySQL database {db.database} on {host}"
    return f"SQLite database {os.path.basename(db.database)}"


TITLE_MAX = 200


def _title(text: str | None) -> str:
    """A title as typed, on one line, cut to what a page heading holds."""
    return strip_controls(text or "")[:TITLE_MAX].strip()


def author_of(actor: User) -> str:
    name = strip_controls(actor.full_name or "")
    return f"{name} ({actor.username})" if name and name != actor.username else actor.username


def _kind(what: str) -> ListKind:
    if what not in LISTS:
        raise ValidationError(f"cannot export {what!r}: choose one of {', '.join(LISTS)}", "what")
    return LISTS[what]


def _columns(kind: ListKind, keys) -> list:
    keys = keys or kind.defaults
    unknown = [k for k in keys if not kind.has_column(k)]
    if unknown:
        raise ValidationError(
            f"{kind.name} have no column {unknown[0]!r}; choose from "
            f"{', '.join(c.key for c in kind.columns)}",
            "columns",
        )
    chosen = []
    for key in keys:
        column = kind.column(key)
        if column not in chosen:
            chosen.append(column)
    return chosen


def _source(actor: User, kind: ListKind, job: ListJob, columns) -> Iterator[dict]:
    rows = kind.rows(actor, job.filter, job.sort, [c.key for c in columns])
    if job.marked is None:
        yield from rows
        return
    wanted = set(job.marked)
    for row in rows:  # the list's own order; stops as soon as every marked row is found
        if row["id"] in wanted:
            wanted.discard(row["id"])
            yield row
            if not wanted:
                return


def export_list(actor: User, job: ListJob, progress=None, cancel=None) -> Done:
    """Export one list as ``job`` says; returns where it went and how many rows it holds."""
    _check(job)
    path = check_destination(job.path, job.overwrite)
    with atomic_file(path, job.overwrite) as out:
        count, pages = write_list(actor, job, out, progress, cancel)
        # recorded before the file takes its name: no export reaches its reader unlogged
        record(
            actor,
            job.fmt,
            job.what,
            path,
            count,
            job.filter,
            job.sort,
            "marked rows" if job.marked is not None else "filter",
        )
    return Done(path, count, pages)


def _check(job: ListJob) -> None:
    kind = _kind(job.what)
    if job.fmt not in FORMATS:
        raise ValidationError(f"format {job.fmt!r} is not one of: {', '.join(FORMATS)}", "format")
    if job.marked is not None and not job.marked:
        raise ValidationError("no rows are marked", "scope")
    _columns(kind, job.columns)
    if job.sort and kind.sort is None:
        raise ValidationError(f"the {kind.name} has one order only (newest first)", "sort")
    if kind.sort:
        kind.sort(job.sort)  # a bad sort is an error before anything is read


def write_list(actor: User, job: ListJob, out, progress=None, cancel=None) -> tuple[int, int | None]:
    """Write the list ``job`` describes to the binary file ``out`` (no destination checks, no
    audit entry: :func:`export_list` adds those); returns (rows, pages or None for CSV)."""
    _check(job)
    kind = _kind(job.what)
    columns = _columns(kind, job.columns)
    run = _Run(progress, cancel)
    total = len(job.marked) if job.marked is not None else kind.count(actor, job.filter)
    run.begin("writing" if job.fmt == "csv" else "reading", total)
    if job.fmt == "csv":
        batches = _csv_batches(actor, kind, job, columns)
        return _write_csv(out, [c.header for c in columns], batches, run), None
    with tempfile.TemporaryFile() as spool:
        count = _spool(spool, _source(actor, kind, job, columns), columns, run)
        return count, _write_list_pdf(out, actor, kind, job, columns, count, spool_file.load(spool), run)


def _csv_batches(actor: User, kind: ListKind, job: ListJob, columns) -> Iterator[list]:
    """The CSV's rows in batches, each row its cells' text; tickets, the list that grows to a
    million rows, by their own read (:mod:`.ticket_csv`), the same cells as this one's."""
    keys = [c.key for c in columns]
    if kind.name == "tickets":
        yield from ticket_csv.batches(actor, job.filter, job.sort, keys, job.marked)
        return
    batch = []
    for row in _source(actor, kind, job, columns):
        batch.append([csv_export.cell(column.value(row)) for column in columns])
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_csv(out, headers, batches, run: _Run) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        with contextlib.closing(batches):  # a cancel ends the read at once (MySQL: its cursor)
            count = csv_export.write_batches(text, headers, batches, run.tick)
        run.check()  # a cancel while the last rows were written still leaves nothing
        return count
    finally:
        text.flush()
        text.detach()  # leave closing the binary file to atomic_file


def _spool(spool, source, columns, run: _Run) -> int:
    """Read every row once (so the page count and the rows agree), as display tuples pickled
    in chunks into an anonymous temporary file; returns the row count."""
    chunk, count = [], 0
    for row in source:
        chunk.append(tuple(_printable(display(c.printed(row))) for c in columns))
        count += 1
        run.tick(count)
        if len(chunk) == BATCH:
            spool_file.dump(spool, chunk)
            chunk = []
    if chunk:
        spool_file.dump(spool, chunk)
    spool.seek(0)
    return count


def _printable(text: str) -> str:
    """``strip_controls``, skipped for the text it would leave as it is (most cells): nothing
    it removes is printable."""
    return text if text.isprintable() else strip_controls(text)


def _write_list_pdf(out, actor, kind, job, columns, count, rows, run: _Run) -> int:
    from itsm_tui.reports import pdf_list
    from itsm_tui.reports.pdf_style import Masthead

    title = _title(job.title) or f"{kind.name.capitalize()} report"
    masthead = Masthead(title, author_of(actor), clock.now(), database_label())
    number, _, rows_noun = counted(count, kind.noun).partition(" ")
    scope = f"{number} marked {rows_noun}" if job.marked is not None else f"{number} {rows_noun}"
    summary = [
        ("Filter", strip_controls(describe_filter(kind, job.filter))),
        ("Sorted by", describe_sort(kind, job.sort)),
        ("Rows", scope),
        ("", masthead.generated()),
    ]
    run.begin("writing", count)
    columns = [pdf_list.ListColumn(c.header, c.width, c.look) for c in columns]
    return pdf_list.write(out, masthead, summary, columns, count, rows, progress=run.tick)


# --------------------------------------------------------------------------- one record


def export_record(
    actor: User,
    what: str,
    ref,
    path: str,
    title: str | None = None,
    overwrite: bool = True,
    progress=None,
    cancel=None,
) -> Done:
    """A ticket (by number or id) or a system (by asset tag, hostname or id) as a PDF report."""
    from itsm_tui.reports import pdf_report
    from itsm_tui.reports.pdf_style import Masthead, page_size

    if what not in ("ticket", "system"):
        raise ValidationError(f"cannot export a {what!r} report: ticket or system", "what")
    path = check_destination(path, overwrite)
    run = _Run(progress, cancel)
    run.begin("reading", 1)
    width = page_size(False)[0] - 2 * pdf_report.MARGIN
    if what == "ticket":
        label, story = _ticket_report(actor, ref, width)
    else:
        label, story = _system_report(actor, ref, width)
    masthead = Masthead(_title(title) or label, author_of(actor), clock.now(), database_label())
    run.begin("writing", 1)
    with atomic_file(path, overwrite) as out:
        pages = pdf_report.build(out, masthead, lambda: story(masthead))
        run.tick(1)
        record(actor, "pdf", f"{what} {label.split(' ')[0]}", path, 1, single=True)
    return Done(path, 1, pages)


def export_analytics(
    actor: User, figures: dict, path: str, title: str | None = None, overwrite: bool = True
) -> Done:
    """The analytics report from ``figures`` (the dict :mod:`.pdf_analytics` documents)."""
    from itsm_tui.core.people.permissions import require
    from itsm_tui.reports import pdf_analytics, pdf_report
    from itsm_tui.reports.pdf_style import Masthead, page_size

    require(actor, "analytics.view")
    path = check_destination(path, overwrite)
    width = page_size(False)[0] - 2 * pdf_report.MARGIN
    masthead = Masthead(
        _title(title) or "Service desk analytics", author_of(actor), clock.now(), database_label()
    )
    with atomic_file(path, overwrite) as out:
        pages = pdf_report.build(
            out, masthead, lambda: pdf_analytics.analytics_story(masthead, figures, width)
        )
        record(actor, "pdf", "the analytics report", path, 1, figures.get("period") or "", single=True)
    return Done(path, 1, pages)


def _name(user) -> str:
    if user is None:
        return ""
    return f"{user.full_name} ({user.username})" if user.full_name else user.username


def _ticket_report(actor: User, ref, width: float):
    from itsm_tui.core.people.permissions import is_staff
    from itsm_tui.core.store.models import LEVEL_NAMES, PRIORITY_NAMES, AuditEntry, Peripheral, System
    from itsm_tui.core.tickets import links, tags, timeline
    from itsm_tui.core.tickets import service as tickets
    from itsm_tui.core.tickets.rules import STATUS_LABELS
    from itsm_tui.reports import pdf_report

    t = tickets.get(actor, ref)
    met = {None: "", True: "met", False: "missed"}
    fields = [
        ("Number", t.number),
        ("Status", STATUS_LABELS[t.status]),
        ("Priority", PRIORITY_NAMES[t.priority]),
        ("Impact / urgency", f"{LEVEL_NAMES[t.impact]} / {LEVEL_NAMES[t.urgency]}"),
        ("Category", t.category.name),
        ("Requester", _name(t.requester)),
        ("Assignee", _name(t.assignee)),
        ("Created", t.created_at),
        ("Updated", t.updated_at),
        ("Response due", t.response_due),
        ("First response", t.first_response_at),
        ("Resolution due", t.resolution_due),
        ("Resolved", t.resolved_at),
        ("Closed", t.closed_at),
        ("Response SLA", met[t.response_met]),
        ("Resolution SLA", met[t.resolution_met]),
        ("Reopened", t.reopen_count),
        ("Reassigned", t.reassignment_count),
        ("Resolved by", _name(t.resolved_by)),
    ]
    # Fields only an import fills: shown when it did, left out rather than printed empty.
    fields += [
        (label, value)
        for label, value in (
            ("Team", t.team.name if t.team_id else None),  # issue 21
            ("Subcategory", t.subcategory),
            ("Source number", t.source_number),
            ("Assignment group", t.assignment_group),
            ("Contact type", t.contact_type),
            ("Configuration item", t.configuration_item),
            ("Opened by", _name(t.opened_by)),
            ("Tags", " ".join(f"#{tag}" for tag in tags.of([t.id]).get(t.id, []))),
        )
        if value
    ]
    linked = [
        (link.words, link.other_number, STATUS_LABELS[link.other_status], link.other_title)
        for link in links.links_of(actor, t.id)
    ]
    staff = is_staff(actor)
    asset = []
    if t.system_id:
        s = System.get_by_id(t.system_id)
        asset += [("System", s.hostname), ("Asset tag", s.asset_tag)]
        if staff:
            asset += [
                ("Type", s.type),
                ("IP", s.ip),
                ("Status", s.status),
                ("Assigned user", _name(s.assigned_user)),
                ("Model", " ".join(filter(None, (s.manufacturer, s.model_name)))),
                ("Serial", s.serial),
            ]
    if t.peripheral_id:
        p = Peripheral.get_by_id(t.peripheral_id)
        asset += [("Peripheral", p.name), ("Peripheral tag", p.asset_tag)]
        if staff:
            asset += [("Kind", p.kind), ("Peripheral status", p.status)]
    kinds = {"comment": "Comment", "note": "Internal note", "history": "Change"}
    attachments = {
        entry_id
        for (entry_id,) in AuditEntry.select(AuditEntry.id)
        .where(
            (AuditEntry.entity_type == "ticket")
            & (AuditEntry.entity_id == t.id)
            & (AuditEntry.action == "attach")
        )
        .tuples()
    }
    events = [
        (
            e.at,
            e.author,
            "Attachment" if e.kind == "history" and e.id in attachments else kinds[e.kind],
            e.text,
        )
        for e in timeline.timeline(actor, t.id)
    ]
    label = f"{t.number} {strip_controls(t.title)}"

    def story(masthead):
        return pdf_report.ticket_story(
            masthead, fields, t.description, t.resolution_note, asset, events, width, linked
        )

    return label, story


def _system_report(actor: User, ref, width: float):
    from peewee import fn

    from itsm_tui.core.errors import NotFound
    from itsm_tui.core.inventory import lists as assets
    from itsm_tui.core.people.permissions import require
    from itsm_tui.core.store.models import PRIORITY_NAMES, System
    from itsm_tui.core.tickets.rules import STATUS_LABELS
    from itsm_tui.reports import pdf_report

    require(actor, "inventory.view")
    if isinstance(ref, int):
        system_id = ref
    else:
        text = str(ref).strip()
        row = System.get_or_none(
            (fn.UPPER(System.asset_tag) == text.upper()) | (fn.LOWER(System.hostname) == text.lower())
        )
        if row is None:
            raise NotFound(f"no system has the asset tag or hostname {text!r}")
        system_id = row.id
    detail = assets.system_detail(actor, system_id)
    s = detail.system
    fields = [
        ("Hostname", s["hostname"]),
        ("Asset tag", s["asset_tag"]),
        ("Type", s["type"]),
        ("Status", s["status"]),
        ("IP", s["ip"]),
        ("MAC", s["mac"]),
        ("Manufacturer", s["manufacturer"]),
        ("Model", s["model_name"]),
        ("Serial", s["serial"]),
        ("OS", s["os"]),
        ("Department", s["department"]),
        ("Network", s["network"]),
        ("Assigned user", s["assigned_user"]),
        ("Purchased", s["purchase_date"]),
        ("Warranty end", s["warranty_end"]),
    ]
    peripherals = [
        (p["name"], p["kind"], p["asset_tag"], p["serial"], p["status"]) for p in detail.peripherals
    ]
    tickets = [
        (t["number"], t["created_at"], STATUS_LABELS[t["status"]], PRIORITY_NAMES[t["priority"]], t["title"])
        for t in detail.tickets
    ]
    history = [
        (e.at, e.actor.username if e.actor_id else "", action_label(e.action), e.summary)
        for e in detail.history
    ]
    label = f"{s['hostname']} ({s['asset_tag']})"

    def story(masthead):
        return pdf_report.system_story(masthead, fields, s["notes"], peripherals, tickets, history, width)

    return label, story


@transactional
def record(
    actor: User,
    fmt: str,
    what: str,
    path: str,
    rows: int,
    filter_text: str = "",
    sort: str | None = None,
    scope: str = "filter",
    single: bool = False,
) -> None:
    """The export's audit entry: 'exported 179 log entries as CSV to ...', 'exported ticket
    INC000001 as PDF to ...' (``single``: one report, no row count)."""
    changes = {
        "what": [None, what],
        "format": [None, fmt],
        "rows": [None, rows],
        "path": [None, path],
        "filter": [None, filter_text or ""],
        "sort": [None, sort or ""],
        "scope": [None, scope],
    }
    filter_words = f" (filter: {filter_text})" if filter_text else ""
    audit.record(
        actor,
        "export",
        "export",
        None,
        f"exported {what if single else counted(rows, LISTS[what].noun)} as {fmt.upper()} to {path}"
        f"{filter_words}",
        changes,
    )
