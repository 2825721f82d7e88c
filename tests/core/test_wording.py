"""Counts in words: plurals agree with their numbers, a single report has pages not rows, and
the log names what was exported in words (on SQLite and MariaDB)."""

from __future__ import annotations

import subprocess

import pytest
from test_export_cli import itsm, listed

from itsm_tui.core.labels import counted
from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry


@pytest.fixture
def url(engine):
    db.database.close()  # the subprocess owns the database now
    assert itsm(engine, "seed", "--demo").returncode == 0
    return engine


def test_counted_nouns():
    assert counted(1, "ticket") == "1 ticket"
    assert counted(179, "log entry") == "179 log entries"
    assert counted(1200, "stock item") == "1,200 stock items"
    assert counted(0, "system") == "0 systems"


def test_exports_say_rows_and_pages_in_words(url, tmp_path):
    number = listed(url, "--limit", "1", as_user="agent1")[0]
    record = itsm(url, "export", "ticket", number, "-o", str(tmp_path / "t.pdf"), as_user="agent1")
    assert record.returncode == 0, record.stderr
    assert record.stdout.rstrip().endswith(" (1 page)"), record.stdout  # one report: no "1 row"
    log = itsm(
        url, "export", "log", "--filter", "action:login", "-o", str(tmp_path / "log.pdf"), as_user="admin"
    )
    assert log.returncode == 0, log.stderr
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "log.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert " log entr" in text and " log\n" not in text  # "Rows 12 log entries", never "12 log"
    db.database.connect(reuse_if_open=True)
    summaries = [e.summary for e in AuditEntry.select().where(AuditEntry.action == "export")]
    assert any(s.startswith(f"exported ticket {number} as PDF") for s in summaries), summaries
    assert any(" log entr" in s for s in summaries), summaries
    assert not any(s.startswith("exported 1 ") and "analytics" in s for s in summaries)
