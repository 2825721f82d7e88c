"""Where the ServiceNow sample export lives: ``shared/data/`` beside the repository (``../shared``
of the main checkout, found from a worktree nested deeper too). Tests that need it are skipped
without it, except under CI=true, where they fail: the real data is what they check against."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NAME = "servicenow_incident_events_sample.csv"


def _find() -> Path:
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        candidate = folder / "shared" / "data" / NAME
        if candidate.exists():
            return candidate
    return repo.parent / "shared" / "data" / NAME


SAMPLE = _find()


def needs_sample():
    """Skip a test of the sample when the file is missing, except under CI=true: there the test
    runs and fails on the missing file."""
    ci = os.environ.get("CI", "").lower() == "true"
    return pytest.mark.skipif(not SAMPLE.exists() and not ci, reason=f"sample data not found at {SAMPLE}")
