"""``itsm-tui import ...`` run as a user would (a subprocess), on both engines."""

import json
import subprocess
from pathlib import Path

import pytest
from sample_data import SAMPLE, needs_sample
from test_cli import itsm
from test_import_servicenow import expected_figures, source

from itsm_tui.core.store import db

DATA = Path(__file__).parents[1] / "data"
BAD_ROWS = DATA / "servicenow_bad_rows.csv"


@pytest.fixture
def url(engine):
    db.database.close()  # the subprocess owns the database now
    return engine


def _tickets(url) -> str:
    return itsm(url, "tickets", "list", "--format", "csv").stdout


def test_servicenow_dry_run_then_import_then_nothing_new(url):
    dry = itsm(url, "import", "servicenow", str(BAD_ROWS), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would import servicenow_bad_rows.csv") and "2 created" in dry.stdout
    assert _tickets(url).count("\n") == 1  # the header only: nothing was written
    real = itsm(url, "import", "servicenow", str(BAD_ROWS))
    assert real.returncode == 0, real.stderr
    lines = real.stdout.splitlines()
    assert lines[0].startswith("imported servicenow_bad_rows.csv") and "2 created" in lines[0]
    assert "line 6: skipped: no incident number" in lines
    assert any(line.startswith("line 3: warning:") and "-100" in line for line in lines)
    listed = _tickets(url)
    assert "ServiceNow incident INC0900002" in listed and "Category 1 / Subcategory 1: Symptom 1" in listed
    found = itsm(url, "tickets", "list", "--filter", "INC0900002", "--format", "csv").stdout
    assert found.count("\n") == 2 and "INC0900002" in found
    again = itsm(url, "import", "servicenow", str(BAD_ROWS))
    assert "0 created, 0 updated, 2 unchanged" in again.stdout


def test_import_needs_an_admin_and_a_readable_file(url, tmp_path):
    assert itsm(url, "user", "add", "ann", "--role", "supervisor").returncode == 0
    refused = itsm(url, "import", "servicenow", str(BAD_ROWS), as_user="ann")
    assert refused.returncode == 1 and "may not import" in refused.stderr
    missing = itsm(url, "import", "servicenow", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr + refused.stderr


@needs_sample()
def test_the_imported_sample_is_reported_listed_and_exported_as_the_source_says(url, tmp_path):
    """`report analytics --period all --format json` over the imported sample gives the figures
    the CSV gives (computed here with the csv module), and the source's numbers find the
    source's incidents in lists and exports."""
    imported = itsm(url, "import", "servicenow", str(SAMPLE))
    assert imported.returncode == 0, imported.stderr
    assert "1500 created" in imported.stdout and "0 rows skipped" in imported.stdout
    assert itsm(url, "sla", "recompute").stdout.strip() == "recomputed the SLA times of 0 tickets"
    _, final = source()
    expected = expected_figures(final)
    report = itsm(url, "report", "analytics", "--period", "all", "--format", "json")
    assert report.returncode == 0, report.stderr
    history = json.loads(report.stdout)["history"]
    assert history["opened"]["total"] == expected["tickets"]
    assert {s: n for s, n in history["opened"]["status"].items() if n} == dict(expected["states"])
    assert list(history["opened"]["priority"].values()) == [
        expected["priority"].get(p, 0) for p in (1, 2, 3, 4)
    ]
    met, breached = expected["made_sla"]
    assert history["sla_outcome"] == {"met": met, "breached": breached, "unknown": 0}
    assert history["reopened"] == expected["reopened"]
    assert history["time_to_resolve"]["count"] == expected["timed"]
    assert history["time_to_resolve"]["median_hours"] == round(expected["median_hours"], 2)

    listed = itsm(url, "tickets", "list", "--filter", "INC0000045", "--format", "json")
    rows = json.loads(listed.stdout)
    assert rows[0]["source_number"] == "INC0000045" and rows[0]["number"] != "INC000045"
    assert json.loads(itsm(url, "tickets", "list", "--filter", "INC0024887", "--format", "json").stdout) == []
    listed = itsm(url, "tickets", "list", "--filter", "source:INC0000047", "--format", "csv").stdout
    assert listed.splitlines()[0].endswith(",source_number") and listed.count("INC0000047") == 1
    pdf = tmp_path / "t.pdf"
    exported = itsm(url, "export", "ticket", "INC0000045", "-o", str(pdf))
    assert exported.returncode == 0, exported.stderr
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert rows[0]["number"] in text and "INC0000045" in text
