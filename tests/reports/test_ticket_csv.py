"""The ticket CSV's own read (reports/ticket_csv.py): every column and the order equal the
screens' rows through the columns' values and ``csv_export.cell``; hostile text is neutralised
as ``cell`` documents, each hostile cell alone in its batch as well as among others; times are
ISO 8601 whatever form they were stored in; a cancelled export leaves the connection clean.
On both engines."""

from __future__ import annotations

import csv
import threading
import warnings
from datetime import timedelta

import pytest

from itsm_tui.core import clock, demo
from itsm_tui.core.store.db import database
from itsm_tui.core.store.models import Ticket
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets
from itsm_tui.reports import export, lists, ticket_csv
from itsm_tui.reports.csv_export import cell

KEYS = tuple(c.key for c in lists.TICKET_COLUMNS)
HEADERS = [c.header for c in lists.TICKET_COLUMNS]
# stored text (an import, an older version, another client) -> the cell the CSV must hold:
# a leading formula character escaped with an apostrophe, control characters and escape
# sequences dropped (line breaks and tabs kept: the cell is multi-line), the rest literally
HOSTILE = [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\tHIDDEN", "'\tHIDDEN"),
    ("\r=1", "'\n=1"),
    ("\x1b[31mred\x1b[0m alert", "red alert"),
    ("\x1b]8;;http://evil\x07link", "link"),
    ("\x1b[2J=HYPERLINK(1)", "'=HYPERLINK(1)"),  # a dropped prefix hides no formula
    ("\u202eevil\u202c text", "evil text"),
    ("\x00nul", "nul"),
    ("two\nlines", "two\nlines"),
    ("王伟 打印机坏了", "王伟 打印机坏了"),
    ("Zoë from Łódź, café naïve", "Zoë from Łódź, café naïve"),
    ("a - b = c @ d +", "a - b = c @ d +"),  # formula characters inside are text
]


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def export_csv(actor, out, name, text="", sort=None, columns=KEYS, marked=None):
    job = export.ListJob("tickets", "csv", str(out / name), text, sort, marked, columns)
    return read_csv(export.export_list(actor, job).path)


def generic(actor, text, sort, columns=KEYS) -> list[list[str]]:
    """The rows the screens page through (queue.iterate), cell by cell as the columns say."""
    kind = lists.LISTS["tickets"]
    chosen = [kind.column(key) for key in columns]
    return [[cell(c.value(row)) for c in chosen] for row in kind.rows(actor, text, sort, list(columns))]


def set_times(ticket_id: int, **times) -> None:
    Ticket.update(**times).where(Ticket.id == ticket_id).execute()


def test_every_column_and_the_order_equal_the_screens_rows(people, out):
    admin, agent = people["admin"], people["agent"]
    demo.seed_bulk(admin, 60)
    now = clock.now().replace(microsecond=0)
    day = timedelta(days=1)
    at_risk = tickets.create(people["requester"], "Printer at risk", "d")
    set_times(
        at_risk.id,
        response_due=now + day,
        response_risk_at=now - day,
        resolution_due=now + 9 * day,
        resolution_risk_at=now + 8 * day,
    )
    met = tickets.create(people["requester"], "Printer met", "d")
    set_times(
        met.id,
        status="resolved",
        first_response_at=now - 2 * day,
        response_due=now - 2 * day,  # on the due time is in time
        resolved_at=now - day,
        resolution_due=now - day,
    )
    paused = tickets.create(people["requester"], "Printer paused", "d")
    set_times(
        paused.id,
        status="waiting_on_user",
        sla_paused_at=now - day,
        first_response_at=now - 2 * day,
        resolution_due=now + 9 * day,
        resolution_risk_at=now + 8 * day,
    )
    never_resolved = tickets.create(people["requester"], "Printer closed unresolved", "d")
    set_times(never_resolved.id, status="closed", resolved_at=None)
    named = tickets.create(people["requester"], "Printer named by its source", "d")
    Ticket.update(source_number="PRINTER").where(Ticket.id == named.id).execute()
    cases = [("", s) for s in ("number", "-requester", "assignee", "category", "-status", "due", None)]
    cases += [("status:open prio:high,critical", "-priority"), ("printer", "number")]
    words = set()
    for n, (text, sort) in enumerate(cases):
        expected = generic(agent, text, sort)
        assert len(expected) > 1, text
        assert export_csv(agent, out, f"{n}.csv", text, sort) == [HEADERS] + expected
        words |= {row[KEYS.index("sla")] for row in expected}
    assert {"breached", "at risk", "on track", "paused", "met", ""} <= words
    # the ticket a word names exactly comes first, before those with lower numbers
    printer = export_csv(agent, out, "p.csv", "printer", "number", columns=("number",))
    assert printer[1] == [named.number] and [named.number] != min(printer[1:])


def test_hostile_text_is_neutralised_as_documented_alone_and_among_others(people, out):
    agent = people["agent"]
    demo.seed_bulk(people["admin"], 20)
    made = []
    for stored, _ in HOSTILE:
        ticket = tickets.create(people["requester"], "placeholder", "d")
        # straight into the table: the service cleans what it is given, an import may not have
        Ticket.update(title=stored, source_number=stored).where(Ticket.id == ticket.id).execute()
        made.append(ticket)
    columns = ("number", "title", "source_number")
    for ticket, (stored, written) in zip(made, HOSTILE):
        alone = export_csv(agent, out, f"{ticket.id}.csv", columns=columns, marked=frozenset({ticket.id}))
        assert alone[1:] == [[ticket.number, written, written]], repr(stored)
    every = export_csv(agent, out, "all.csv", sort="number", columns=columns)
    by_number = {row[0]: row[1:] for row in every[1:]}
    for ticket, (_, written) in zip(made, HOSTILE):
        assert by_number[ticket.number] == [written, written]
    assert every[1:] == generic(agent, "", "number", columns)


def test_times_are_iso_8601_whatever_form_they_were_stored_in(people, out):
    agent = people["agent"]
    stored = [
        "2026-01-02 03:04:05",
        "2026-01-02 03:04:05.250000",
        "2026-01-02T03:04:05",
        "2026-01-02 03:04:05.000000",
    ]
    made = [tickets.create(people["requester"], f"time {n}", "d") for n in range(len(stored))]
    for ticket, text in zip(made, stored):
        mark = database.obj.param  # the driver's placeholder: the text goes in as it is
        database.execute_sql(f"UPDATE ticket SET created_at = {mark} WHERE id = {mark}", (text, ticket.id))
    columns = ("number", "created", "resolved")
    for ticket in made:
        read = Ticket.get_by_id(ticket.id).created_at  # the models' reading of the stored text
        alone = export_csv(agent, out, f"{ticket.id}.csv", columns=columns, marked=frozenset({ticket.id}))
        assert alone[1:] == [[ticket.number, read.isoformat(sep="T"), ""]]
        assert alone[1][1].startswith("2026-01-02T03:04:0")
    every = export_csv(agent, out, "all.csv", sort="number", columns=columns)
    assert every[1:] == generic(agent, "", "number", columns)
    assert every[1][1] == "2026-01-02T03:04:05"


def test_a_cancel_in_the_middle_of_the_read_leaves_the_connection_clean(people, out, monkeypatch):
    agent = people["agent"]
    demo.seed_bulk(people["admin"], 150)
    monkeypatch.setattr(ticket_csv, "BATCH", 10)  # the cancel comes with rows still unread
    cancel = threading.Event()
    seen = []

    def progress(step):
        seen.append(step.done)
        if step.done >= 100:
            cancel.set()

    job = export.ListJob("tickets", "csv", str(out / "c.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyMySQL warns of an unbuffered result left unread
        with pytest.raises(export.Cancelled) as caught:  # held, as a caller reporting it would
            export.export_list(agent, job, progress=progress, cancel=cancel)
        assert caught.value and seen[-1] < 150
        assert queue.count(agent, "") == 150
        assert len(export_csv(agent, out, "again.csv")) == 151
