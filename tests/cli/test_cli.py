"""The command line, run as a user would (a subprocess), on both engines."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from itsm_tui.core import setup
from itsm_tui.core.people import auth
from itsm_tui.core.store import db


def itsm(url, *args, stdin=None, as_user=None):
    cmd = [sys.executable, "-m", "itsm_tui", "--db", url]
    if as_user:
        cmd += ["--as", as_user]
    env = {**os.environ, "ITSM_BCRYPT_COST": "4"}
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def url(engine):
    db.database.close()  # the subprocess owns the database now
    return engine


def test_demo_seed_and_csv_listing_of_all_151_tickets(url):
    seeded = itsm(url, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "itsm-demo-pass" in seeded.stdout
    assert itsm(url, "seed", "--demo").stdout.strip() == "the demo data is already loaded"
    listed = itsm(url, "tickets", "list", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.reader(io.StringIO(listed.stdout)))
    assert rows[0][0] == "number" and len(rows) == 152  # 150, and a duplicate merged into one
    assert all(r[0].startswith("INC") for r in rows[1:])
    statuses = {r[2] for r in rows[1:]}
    assert statuses == {"new", "in_progress", "waiting_on_user", "waiting_on_vendor", "resolved", "closed"}
    users = itsm(url, "user", "list", "--format", "json")
    names = {u["username"] for u in json.loads(users.stdout)}
    assert {"admin", "supervisor", "agent1", "agent5", "user1", "user20"} <= names and len(names) == 27


def test_json_list_has_the_csv_fields_and_filter_works(url):
    itsm(url, "seed", "--demo")
    out = itsm(url, "tickets", "list", "--filter", "status:open prio:critical,high", "--format", "json")
    items = json.loads(out.stdout)
    assert items and all(
        i["status"] in ("new", "in_progress", "waiting_on_user", "waiting_on_vendor")
        and i["priority"] in ("Critical", "High")
        for i in items
    )
    assert list(items[0]) == [
        "number",
        "priority",
        "status",
        "title",
        "requester",
        "assignee",
        "category",
        "created_at",
        "updated_at",
        "resolution_due",
        "source_number",
    ]


def test_create_ticket_as_a_requester_and_see_it_listed(url):
    assert (
        itsm(
            url,
            "user",
            "add",
            "zoe",
            "--role",
            "requester",
            "--password-stdin",
            stdin="a-good-long-password\n",
        ).returncode
        == 0
    )
    made = itsm(
        url,
        "tickets",
        "create",
        "--title",
        "Zoë's 🖨 [/] jams",
        "--description",
        "Paper jam",
        "--category",
        "Hardware",
        "--impact",
        "high",
        as_user="zoe",
    )
    assert made.returncode == 0, made.stderr
    number = made.stdout.strip()
    assert number.startswith("INC")
    listed = json.loads(itsm(url, "tickets", "list", "--format", "json", as_user="zoe").stdout)
    assert [(i["number"], i["title"], i["requester"]) for i in listed] == [
        (number, "Zoë's 🖨 [/] jams", "zoe")
    ]


def test_csv_neutralises_formulas(url):
    itsm(url, "tickets", "create", "--title", "=cmd|' /C calc'!A0", "--description", "x")
    rows = list(csv.reader(io.StringIO(itsm(url, "tickets", "list", "--format", "csv").stdout)))
    assert rows[1][3] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "args,code,message",
    [
        (("tickets", "list", "--filter", "stauts:open"), 1, "unknown filter 'stauts'"),
        (("tickets", "list", "--filter", "assignee:ghost"), 1, "no user named 'ghost'"),
        (("tickets", "list", "--sort", "colour"), 1, "cannot sort by 'colour'"),
        (("tickets", "create", "--title", "", "--description", "x"), 1, "title is required"),
        (
            ("tickets", "create", "--title", "t", "--description", "x", "--impact", "huge"),
            1,
            "impact must be",
        ),
        (("user", "add", "bob", "--role", "requester", "--password-stdin"), 1, "password is too short"),
        (("user", "add", "bob", "--role", "wizard"), 2, "invalid choice"),
        (("tickets", "frobnicate"), 2, "invalid choice"),
        (("tickets", "list", "--limit", "0"), 2, "--limit"),
    ],
)
def test_errors_are_one_line_with_exit_codes(url, args, code, message):
    result = itsm(url, *args, stdin="short\n")
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # a usage error too: no usage block


def test_as_unknown_or_requester_is_refused(url):
    assert "no user named 'ghost'" in itsm(url, "tickets", "list", as_user="ghost").stderr
    itsm(url, "user", "add", "req", "--role", "requester")
    result = itsm(url, "user", "add", "x1", "--role", "admin", as_user="req")
    assert result.returncode == 1 and "may not" in result.stderr


def test_an_empty_as_is_refused_never_the_system_admin(url):
    """``--as "$ROLE_USER"`` with the variable empty: a usage error, not the built-in admin."""
    for who in ("", "  "):
        result = itsm(url, "--as", who, "user", "add", "zz9", "--role", "admin")
        assert result.returncode == 2 and "--as needs a user name" in result.stderr
    assert "zz9" not in itsm(url, "user", "list").stdout


def test_a_password_is_set_from_the_command_line_and_bad_input_is_one_line(url):
    made = itsm(url, "user", "add", "bob", "--role", "admin")  # no terminal: no password
    assert made.returncode == 0 and "`itsm-tui user password bob` sets one" in made.stdout
    assert itsm(url, "user", "password", "bob").returncode == 2  # nothing to set it to
    result = itsm(url, "user", "password", "bob", "--password-stdin", stdin="a-long-password-1\n")
    assert result.returncode == 0 and "set the password of bob" in result.stdout, result.stderr
    setup.open_database(url)
    assert auth.login("bob", "a-long-password-1").username == "bob"
    db.database.close()
    env = {**os.environ, "ITSM_BCRYPT_COST": "4"}
    base = [sys.executable, "-m", "itsm_tui", "--db", url]
    closed = subprocess.run(  # standard input closed (<&-): no "unexpected AttributeError"
        ["bash", "-c", 'exec 0<&-; exec "$@"', "-", *base, "user", "password", "bob", "--password-stdin"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert closed.returncode == 2 and "empty or closed" in closed.stderr
    raw = subprocess.run(
        [*base, "user", "password", "bob", "--password-stdin"],
        input=b"\xff\xfe-not-utf-8-password\n",
        capture_output=True,
        env={**env, "LC_ALL": "C", "PYTHONIOENCODING": "utf-8:surrogateescape"},
    )
    assert raw.returncode == 2 and b"not UTF-8" in raw.stderr and b"Traceback" not in raw.stderr


def test_grants_print_nothing_for_names_that_would_inject_sql():
    """Its output is piped into the server: a host or database name with a line break must not
    reach it, not even in a comment."""
    mysql = "mysql://root@127.0.0.1:3306/itsm"
    injected = itsm(mysql, "grants", "itsm", "--host", "x\nSELECT 'injected';\n-- ")
    assert injected.returncode != 0 and injected.stdout == "" and "host" in injected.stderr
    named = itsm("mysql://root@127.0.0.1:3306/itsm%0ASELECT%201", "grants", "itsm")
    assert named.returncode != 0 and named.stdout == "" and "control characters" in named.stderr
    assert itsm(mysql, "grants", "itsm").stdout.count("GRANT ") > 10


def test_uninitialised_and_unreachable_databases(tmp_path):
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    result = itsm(fresh, "tickets", "list")
    assert result.returncode == 1 and "run itsm-tui init" in result.stderr
    assert itsm(fresh, "init").returncode == 0
    assert "up to date" in itsm(fresh, "init").stdout
    gone = itsm("mysql://root:pw@127.0.0.1:1/none", "tickets", "list")
    assert gone.returncode == 1 and "cannot open" in gone.stderr and "pw" not in gone.stderr


def test_bulk_seed(url):
    result = itsm(url, "seed", "--tickets", "2500")
    assert result.returncode == 0, result.stderr
    assert "generated 2500 tickets" in result.stdout
    counted = itsm(url, "tickets", "list", "--format", "csv")
    assert len(counted.stdout.strip().splitlines()) == 2501
    for option in ("--tickets", "--systems", "--log-entries"):  # a typo's extra zeros: no endless run
        refused = itsm(url, "seed", option, "99999999999999999999")
        assert refused.returncode == 2 and f"{option} needs a number from 1 to 10,000,000" in refused.stderr


def test_no_command_refuses_an_uninitialised_database_before_taking_the_screen(tmp_path):
    result = itsm(f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 1 and "run itsm-tui init" in result.stderr
    assert "\x1b[" not in result.stdout + result.stderr  # no full-screen output happened


def test_csv_strips_controls_before_neutralising():
    from itsm_tui.reports.csv_export import cell

    assert cell('\u202e=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell("\x00=1+1") == "'=1+1"
    assert cell(-5) == "-5" and cell("-5") == "'-5"
