"""``itsm-tui import ...`` run as a user would (a subprocess), on both engines."""

from pathlib import Path

import pytest

from itsm_tui.core import db

from test_cli import itsm

DATA = Path(__file__).parent / "data"
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
