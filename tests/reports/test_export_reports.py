"""Ticket and system PDF reports read back: every field, the description, the timeline (notes
for staff only), the linked asset; the system's peripherals and tickets. On both engines."""

from __future__ import annotations

import re
import subprocess

import pypdf
import pytest
from pypdf import PdfReader

from itsm_tui.core.errors import NotFound, PermissionDenied
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store.models import AuditEntry
from itsm_tui.core.tickets import service as tickets
from itsm_tui.reports import export

NOTE = 'internal: <link href="http://x">vendor</link> <b>unclosed'
REPLY = "public reply to 王伟 from Zoë"


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def squash(text: str) -> str:
    return " ".join(text.split())  # a wrapped line reads the same


@pytest.fixture
def linked(people, tmp_path):
    agent = people["agent"]
    system = inventory.create(
        agent,
        "system",
        {
            "hostname": "ws-report",
            "asset_tag": "AT-REP-1",
            "type": "laptop",
            "status": "in use",
            "ip": "10.1.2.3",
            "serial": "SN-<b>1",
        },
    )
    printer = inventory.create(
        agent,
        "peripheral",
        {
            "name": "Printer <img src=x>",
            "kind": "printer",
            "asset_tag": "PR-REP-1",
            "status": "in repair",
            "system": system.id,
        },
    )
    ticket = tickets.create(
        people["requester"], "Laptop <b>won't boot", "It beeps 3 times.\nThen nothing & the fan <i>spins</i>."
    )
    ticket = tickets.update(agent, ticket.id, ticket.version, system=system.id)
    tickets.comment(agent, ticket.id, NOTE, internal=True)
    tickets.comment(agent, ticket.id, REPLY)
    folder = tmp_path / "out"
    folder.mkdir()
    return people, system, printer, ticket, folder


def test_ticket_report_for_an_agent_has_fields_description_timeline_and_asset(linked):
    people, system, _, ticket, folder = linked
    done = export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf"))
    text = pdf_text(done.path)
    flat = squash(text)
    assert f"{ticket.number} Laptop <b>won't boot" in flat
    for label in (
        "Status",
        "Priority",
        "Requester",
        "Assignee",
        "Category",
        "Resolution due",
        "Created",
        "Linked asset",
        "Timeline",
    ):
        assert label in text
    assert "It beeps 3 times." in text and "Then nothing & the fan <i>spins</i>." in text
    assert squash(NOTE) in flat and REPLY in flat
    assert "ws-report" in text and "AT-REP-1" in text and "10.1.2.3" in text
    assert "created the ticket" in text  # history from the timeline
    reader = PdfReader(done.path)
    assert done.pages == len(reader.pages)
    assert f"Page 1 of {done.pages}" in text
    assert all("/Annots" not in page for page in reader.pages)


def test_ticket_report_for_the_requester_leaves_out_internal_notes(linked):
    people, _, _, ticket, folder = linked
    done = export.export_record(people["requester"], "ticket", ticket.number, str(folder / "mine.pdf"))
    flat = squash(pdf_text(done.path))
    assert REPLY in flat
    assert "internal:" not in flat and "vendor" not in flat
    with pytest.raises(NotFound):
        export.export_record(people["requester2"], "ticket", ticket.number, str(folder / "x.pdf"))
    assert sorted(p.name for p in folder.iterdir()) == ["mine.pdf"]


def test_system_report_lists_peripherals_and_ticket_history(linked):
    people, system, printer, ticket, folder = linked
    for ref in ("AT-REP-1", "ws-report", system.id):
        done = export.export_record(people["agent"], "system", ref, str(folder / "s.pdf"))
        flat = squash(pdf_text(done.path))
        assert "ws-report (AT-REP-1)" in flat and "SN-<b>1" in flat
        assert "Printer <img src=x>" in flat and "PR-REP-1" in flat and "in repair" in flat
        assert ticket.number in flat and "Laptop <b>won't boot" in flat
    with pytest.raises(NotFound):
        export.export_record(people["agent"], "system", "AT-NOPE", str(folder / "n.pdf"))
    with pytest.raises(PermissionDenied):
        export.export_record(people["requester"], "system", "AT-REP-1", str(folder / "r.pdf"))
    entries = list(AuditEntry.select().where(AuditEntry.action == "export"))
    assert len(entries) == 3 and all("ws-report" in e.summary for e in entries)


FIGURES = {
    "period": "2026-11-01 to 2026-11-30",
    "totals": {"Open": 42, "Resolved": 117},
    "by_status": {"New": 5, "In progress": 20},
    "by_priority": {"Critical": 2, "High": 9, "Medium": 20, "Low": 11},
    "by_category": {"Network": 12, "Hardware": 9},
    "age_buckets": {"< 1 day": 4, "> 7 days": 18},
    "sla": {"On track": 30, "At risk": 7, "Breached": 5},
    "compliance": {"Response": 0.94, "Resolution": None},
    "agents": [{"Agent": "<b>agent9", "Open": 5, "Resolved": 12}],
    "trend": {"bucket": "day", "rows": [("2026-11-01", 7, 5, 2, 40), ("2026-11-02", 3, 8, 1, 35)]},
}


def test_analytics_report_prints_the_figures_for_supervisors_only(people, tmp_path):
    done = export.export_analytics(people["supervisor"], FIGURES, str(tmp_path / "a.pdf"))
    flat = squash(pdf_text(done.path))
    for words in (
        "2026-11-01 to 2026-11-30",
        "Tickets by status",
        "In progress",
        "Critical",
        "94.0%",
        "n/a",
        "On track: 30 (71%)",
        "Breached: 5 (12%)",
        "Network",
        "<b>agent9",
        "Opened, resolved and closed per day",
        "Agent workload",
    ):
        assert words in flat, words
    assert f"Page 1 of {done.pages}" in flat
    assert export.export_analytics(people["admin"], {}, str(tmp_path / "empty.pdf")).pages == 1
    with pytest.raises(PermissionDenied):
        export.export_analytics(people["agent"], FIGURES, str(tmp_path / "no.pdf"))
    assert not (tmp_path / "no.pdf").exists()
    assert AuditEntry.select().where(AuditEntry.action == "export").count() == 2


def test_analytics_figures_of_the_core_shape_print(people, tmp_path):
    from itsm_tui.reports.pdf_analytics import from_core

    core = {  # the shape core.analytics.figures() documents
        "scope": {"kind": "desk"},
        "period": {
            "name": "7d",
            "label": "Last 7 days",
            "from": "2026-11-24T00:00:00",
            "to": "2026-12-01T00:00:00",
        },
        "totals": {
            "status": {
                "new": 3,
                "in_progress": 4,
                "waiting_on_user": 0,
                "waiting_on_vendor": 1,
                "resolved": 6,
                "closed": 9,
            },
            "priority": {"Critical": 1, "High": 2, "Medium": 3, "Low": 2},
            "category": {"Network": 5, "王伟 desk": 3},
        },
        "period_counts": {"opened": 11, "resolved": 13},
        "open_age": {"<1d": 1, "1-3d": 2, "3-7d": 3, ">7d": 2},
        "sla": {"on_track": 5, "at_risk": 2, "breached": 1, "response": {}, "resolution": {}},
        "compliance": {
            "response": {"met": 9, "breached": 1, "percent": 90.0},
            "resolution": {"met": 0, "breached": 0, "percent": None},
        },
        "teams": [{"team": "Network Ops", "open": 4, "at_risk": 1, "breached": 2, "resolved": 6}],
        "workload": [
            {
                "agent": "agent1",
                "name": "Zoë",
                "open": 4,
                "in_progress": 2,
                "resolved": 7,
                "median_hours": 5.25,
            },
            {
                "agent": "super1",
                "name": "Idle Supervisor",
                "open": 0,
                "in_progress": 0,
                "resolved": 0,
                "median_hours": None,
            },
        ],
        "history": {
            "opened": {"total": 11},
            "resolved": {"total": 13},
            "closed": {"total": 9},
            "time_to_resolve": {
                "count": 12,
                "median_hours": 22.14,
                "p90_hours": 70.5,
                "mean_hours": 31.25,
                "left_out": 2,
            },
            "reopened": 3,
            "sla_outcome": {"met": 10, "breached": 4, "unknown": 5},
        },
        "trend": {
            "bucket": "week",
            "rows": [
                {"start": "2026-11-24", "opened": 1, "resolved": 0, "closed": 0, "backlog": 7},
                {"start": "2026-11-30", "opened": 2, "resolved": 1, "closed": 4, "backlog": 8},
            ],
        },
        "daily": [{"day": "2026-11-30", "opened": 2, "resolved": 1, "backlog": 8}],
    }
    figures = from_core(core)
    assert figures["totals"] == {"Open now": 8, "Opened in period": 11, "Resolved in period": 13}
    assert figures["sla"] == {"On track": 5, "At risk": 2, "Breached": 1}
    assert figures["compliance"] == {"Response": 0.9, "Resolution": None}
    done = export.export_analytics(people["admin"], figures, str(tmp_path / "core.pdf"))
    flat = squash(pdf_text(done.path))
    for words in (
        "Last 7 days (2026-11-24 to 2026-11-30)",
        "Open now",
        "90.0%",
        "Tickets by status",
        "> 7 days",
        "At risk: 2 (25%)",
        "Zoë",
        "5.2",
        "History in the period",
        "Opened 11",
        "Resolved 13",
        "Closed 9",
        "Reopened (of those opened) 3",
        "median 22.1 h, p90 70.5 h, mean 31.2 h (12 tickets); 2 with no resolve time left out",
        "10 met, 4 breached, 5 unknown",
        "Opened, resolved and closed per week",
        "Backlog: open tickets at the end of each week",
        "11-24",
        "11-30",
        "By team",
        "Network Ops 4 1 2 6",
    ):
        assert words in flat, words
    assert "per day" not in flat  # the trend's bucket, not always the last 30 days
    assert "excluded" not in flat and "2026-12-01" not in flat  # the last day covered, not the next
    assert "super1" not in flat and "Idle Supervisor" not in flat  # no row of zeros
    assert unembedded_fonts(done.path) == []


def unembedded_fonts(path) -> list[str]:
    """The fonts pdffonts reports as not embedded (its 'emb' column)."""
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return [line.split()[0] for line in lines if line.split()[-5] != "yes"]


def test_every_report_embeds_every_font(linked, people, tmp_path):
    _, system, _, ticket, folder = linked
    tickets.attach(people["agent"], ticket.id, "error.png", b"\x89PNG")
    made = [
        export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf")),
        export.export_record(people["agent"], "system", system.id, str(folder / "s.pdf")),
        export.export_analytics(people["admin"], FIGURES, str(folder / "a.pdf")),
    ]
    for done in made:
        assert unembedded_fonts(done.path) == [], done.path  # Helvetica was, in tables and charts
        assert "Version" not in pdf_text(done.path)


def test_ticket_report_leaves_out_bookkeeping_and_names_attachments(linked):
    people, _, _, ticket, folder = linked
    tickets.attach(people["agent"], ticket.id, "error.png", b"\x89PNG")
    text = pdf_text(
        export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf")).path
    )
    for label in (
        "Version",
        "Subcategory",
        "Source number",
        "Assignment group",
        "Configuration item",
        "Opened by",
    ):  # empty fields only an import fills
        assert label not in text, label
    assert "Contact type" in text  # how it came in: the app, the API, e-mail or an alert
    lines = [
        " ".join(line.split())
        for line in subprocess.run(
            ["pdftotext", "-layout", str(folder / "t.pdf"), "-"], capture_output=True, text=True
        ).stdout.splitlines()
    ]
    assert any("Attachment attached error.png" in line for line in lines)
    assert not any("Change attached error.png" in line for line in lines)


@pytest.mark.parametrize("body", ["y\n" * 3000, "z" * 20_000], ids=["3000 lines", "no spaces"])
def test_a_huge_comment_splits_across_pages(linked, body):
    people, _, _, ticket, folder = linked
    tickets.comment(people["requester"], ticket.id, body)
    done = export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf"))
    text = pdf_text(done.path)
    assert done.pages > 2 and f"Page {done.pages} of {done.pages}" in text
    if body.startswith("y"):
        assert sum(1 for line in text.splitlines() if line.strip() == "y") == 3000
    else:  # every character printed (pdftotext breaks the wrapped lines; pages put headers between)
        assert sum(map(len, re.findall("z{20,}", "".join(text.split())))) == 20_000


def test_a_10000_line_description_takes_seconds(people, tmp_path):
    import time

    ticket = tickets.create(people["requester"], "Log dump", "x\n" * 9999 + "x")
    started = time.perf_counter()
    done = export.export_record(people["agent"], "ticket", ticket.number, str(tmp_path / "t.pdf"))
    took = time.perf_counter() - started
    assert took < 20, took  # 1 min 46 s before (one paragraph re-wrapped at every page break)
    assert pdf_text(done.path).split().count("x") == 10_000


def test_ticket_report_lists_links_merges_and_tags(linked):
    """Issue 21: the linked tickets (a merge included), the tags, and both in the timeline."""
    from itsm_tui.core.tickets import links, tags

    people, _, _, ticket, folder = linked
    agent = people["agent"]
    duplicate = tickets.create(people["requester2"], "Laptop won't start", "Beeps")
    child = tickets.create(people["requester2"], "Docking station dead", "Same desk")
    links.merge(agent, duplicate.id, duplicate.version, ticket.number)
    links.link(agent, ticket.id, child.number, "parent")
    tags.change(agent, ticket.id, add=["boot", "hw"])
    flat = squash(pdf_text(export.export_record(agent, "ticket", ticket.number, str(folder / "t.pdf")).path))
    assert "Linked tickets (2)" in flat
    assert f"merged from {duplicate.number}" in flat and f"parent of {child.number}" in flat
    assert "#boot #hw" in flat
    assert f"{duplicate.number} merged into {ticket.number}" in flat  # the timeline says so too


def test_the_ticket_report_names_the_team(linked):  # issue 21
    from itsm_tui.core.tickets import teams

    people, _, _, ticket, folder = linked
    teams.add(people["admin"], "Network")
    ticket = tickets.get(people["agent"], ticket.id)
    teams.set_team(people["agent"], ticket.id, ticket.version, "Network")
    done = export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf"))
    flat = squash(pdf_text(done.path))
    assert "Team Network" in flat and "team: (none) → Network" in flat


def test_indentation_and_runs_of_spaces_print_as_typed(linked):
    """A pasted log keeps its columns: a Paragraph folds runs of white space into one, so the
    report holds them (tabs as 4 spaces), and lines still wrap at single spaces."""
    people, _, _, ticket, folder = linked
    tickets.comment(people["agent"], ticket.id, "Log:\n    ERROR   12:00  disk full\n\tWARN\tretry")
    done = export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf"))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(done.path).pages)  # pdftotext folds them
    lines = [line.replace("\u00a0", " ") for line in text.splitlines()]
    assert "    ERROR   12:00  disk full" in lines and "    WARN    retry" in lines


def test_a_character_no_font_has_prints_as_its_code_point(linked):
    """Most emoji are in neither font: printed as ``[U+1F525]``, not as an empty box, and the
    text around them as typed."""
    people, _, _, ticket, folder = linked
    tickets.comment(people["agent"], ticket.id, "emoji 🔥 test, Zoë, 王伟")
    done = export.export_record(people["agent"], "ticket", ticket.number, str(folder / "t.pdf"))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(done.path).pages)
    assert "emoji [U+1F525] test, Zoë, 王伟" in text.replace("\u00a0", " ")
