"""``itsm-tui export`` run as a user would (a subprocess), on both engines."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import other_mysql_database

from itsm_tui.core.store import db

# its module-scoped server or seed stays on one pytest-xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("export-cli")

NUMBER = re.compile(r"INC\d{6}")


def itsm(url, *args, as_user=None):
    cmd = [sys.executable, "-m", "itsm_tui", "--db", url]
    if as_user:
        cmd += ["--as", as_user]
    env = {**os.environ, "ITSM_BCRYPT_COST": "4"}
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def demo_desks(tmp_path_factory) -> dict:
    """``seed --demo`` runs once per engine for the module: {engine: seeded SQLite file or URL}."""
    return {"folder": tmp_path_factory.mktemp("demo")}


@pytest.fixture
def url(engine, demo_desks, request):
    """A demo desk. The tests only read it (an export adds a log entry, which none of them reads):
    on SQLite each gets a copy of the one seeded file, on MariaDB they share one database."""
    db.database.close()  # the subprocess owns the database now
    kind = request.node.callspec.params["engine"]
    if kind not in demo_desks:
        seeded = engine if kind == "sqlite" else other_mysql_database("demo")
        assert itsm(seeded, "seed", "--demo").returncode == 0
        if kind == "sqlite":
            seeded = demo_desks["folder"] / "itsm.db"
            shutil.copy(engine.removeprefix("sqlite:///"), seeded)
        demo_desks[kind] = seeded
    if kind == "sqlite":
        shutil.copy(demo_desks[kind], engine.removeprefix("sqlite:///"))
        return engine
    return demo_desks[kind]


def listed(url, *args, as_user=None) -> list[str]:
    result = itsm(url, "tickets", "list", "--format", "csv", *args, as_user=as_user)
    assert result.returncode == 0, result.stderr
    return [row[0] for row in csv.reader(result.stdout.splitlines()[1:])]


def test_export_tickets_pdf_and_csv_match_tickets_list(url, tmp_path):
    query = "status:open prio:high,critical"
    expected = listed(url, "--filter", query, "--sort=-priority")
    assert expected
    pdf = itsm(
        url,
        "export",
        "tickets",
        "--filter",
        query,
        "--sort=-priority",
        "-o",
        str(tmp_path / "open.pdf"),
        as_user="agent1",
    )
    assert pdf.returncode == 0, pdf.stderr
    from pypdf import PdfReader

    pages = len(PdfReader(tmp_path / "open.pdf").pages)
    assert f"({len(expected)} rows, {pages} page{'s' if pages != 1 else ''})" in pdf.stdout
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "open.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert NUMBER.findall(text) == expected
    out = itsm(
        url,
        "export",
        "tickets",
        "--filter",
        query,
        "--sort=-priority",
        "--format",
        "csv",
        "--columns",
        "number,title",
        "-o",
        str(tmp_path / "open.csv"),
        as_user="agent1",
    )
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "open.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Number", "Title"] and [r[0] for r in rows[1:]] == expected


def test_export_records_and_roles(url, tmp_path):
    number = listed(url, "--limit", "1", as_user="user1")[0]
    mine = itsm(url, "export", "ticket", number, "-o", str(tmp_path / "t.pdf"), as_user="user1")
    assert mine.returncode == 0, mine.stderr
    assert (
        number
        in subprocess.run(
            ["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
    )
    refused = itsm(url, "export", "systems", "-o", str(tmp_path / "s.csv"), as_user="user1")
    assert refused.returncode == 1 and "may not" in refused.stderr
    system = itsm(url, "export", "system", "AT-1001", "-o", str(tmp_path / "s.pdf"), as_user="agent1")
    assert system.returncode == 0, system.stderr
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["export", "tickets", "-o", "/nonexistent-folder/x.pdf"], 1, "does not exist"),
        (["export", "tickets", "-o", "x.txt"], 2, "--format"),
        (["export", "log", "--sort", "at", "-o", "x.csv"], 1, "one order only"),
        (["export", "tickets", "--filter", "prio:urgentest", "-o", "x.csv"], 1, "priority"),
        (["export", "ticket", "-o", "x.pdf"], 2, "takes a number"),
        (["export", "ticket", "INC999999", "-o", "x.pdf"], 1, "does not exist"),
    ],
)
def test_export_errors_are_one_line(url, tmp_path, args, code, message):
    result = subprocess.run(
        [sys.executable, "-m", "itsm_tui", "--db", url, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not [p for p in os.listdir(tmp_path) if not p.startswith("itsm.db")]
