"""Drafts survive a failed save and a restart, privately, and give a retry the same request key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from itsm_tui.core import drafts


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_draft_comes_back_in_another_process_with_its_request_key(data_dir):
    drafts.save("agent1", "comment:INC000123:public", {"body": "Rebooted the switch\nline 2 ✓ 王伟"})
    key = drafts.load("agent1", "comment:INC000123:public")[drafts.REQUEST_KEY]
    code = (
        "from itsm_tui.core import drafts; "
        "d = drafts.load('agent1', 'comment:INC000123:public'); "
        "print(d['body'].splitlines()[1], d['_request_key'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ITSM_DATA_DIR": str(data_dir)},
    ).stdout.split()
    assert out == ["line", "2", "✓", "王伟", key]
    drafts.save("agent1", "comment:INC000123:public", {"body": "Rebooted the switch twice"})
    assert drafts.request_key("agent1", "comment:INC000123:public") == key  # edits keep the key


def test_drafts_are_private_per_operator_and_gone_once_discarded(data_dir):
    drafts.save("agent1", "ticket:new", {"title": "VPN"})
    folder = data_dir / "drafts" / "agent1"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert drafts.load("agent2", "ticket:new") is None
    assert drafts.load("../agent1", "ticket:new") is None  # no way into another's folder
    drafts.discard("agent1", "ticket:new")
    assert drafts.load("agent1", "ticket:new") is None
    assert drafts.request_key("agent1", "ticket:new") != drafts.new_request_key()


def test_a_damaged_draft_is_no_draft(data_dir):
    drafts.save("agent1", "ticket:new", {"title": "VPN"})
    (path,) = (data_dir / "drafts" / "agent1").iterdir()
    path.write_text("{not json")
    assert drafts.load("agent1", "ticket:new") is None
    drafts.save("agent1", "ticket:new", {"title": "again"})
    assert drafts.load("agent1", "ticket:new")["title"] == "again"
