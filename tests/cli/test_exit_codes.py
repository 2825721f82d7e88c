"""The exit codes a script (cron, monitoring, a provisioning tool) reads, the same for every command:
0 done, 1 the desk refused or failed, 2 the command line is wrong; what went wrong in one line on
stderr, never a traceback, never a password (README, "Command line", Exit codes)."""

import socket

import pytest
from test_cli import itsm, url  # noqa: F401  (the fixture)

from itsm_tui.core.notify import mailer
from itsm_tui.core.store import db

DOWN = "mysql://root@127.0.0.1:1/nothing"  # nothing listens on port 1: refused at once
DOWN_WITH_PASSWORD = "mysql://root:s3cret-pw@127.0.0.1:1/nothing"


def said(result, code: int, *words: str) -> str:
    """The one line a failed command says on stderr (beside the warning about a password in
    --db), checked: the exit code, the words, no traceback, no password."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("itsm-tui: warning:")]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("itsm-tui") and ": error: " in line, line
    for word in words:
        assert word in line, line
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr + result.stdout
    return line


# One wrong command line per command group: refused before the database is opened, so a
# database that is down does not turn "you called me wrong" into a failure.
USAGE_ERRORS = [
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("--as", "", "tickets", "list"), "--as needs a user name"),
    (("user", "add", "bob"), "required: --role"),
    (("user", "edit", "agent"), "name what to change: --role"),
    (("user", "password", "agent"), "--password-stdin"),  # no terminal, nothing to read
    (("tickets", "list", "--limit", "0"), "--limit needs a number of at least 1"),
    (("tickets", "list", "--limit", "ten"), "argument --limit: invalid int value: 'ten'"),
    (("ticket", "edit", "12"), "name what to change: --title"),
    (("ticket", "tag", "12"), "name the tags"),
    (("ticket", "delete", "12"), "needs --yes"),
    (("ticket", "link", "12", "sibling", "13"), "argument kind: invalid choice: 'sibling'"),
    (("category", "remove", "Network"), "invalid choice: 'remove'"),
    (("seed", "--tickets", "0"), "--tickets needs a number from 1 to 10,000,000"),
    (("seed", "--systems", "99999999999"), "--systems needs a number from 1 to 10,000,000"),
    (("import", "csv", "widgets", "f.csv"), "argument kind: invalid choice: 'widgets'"),
    (("export", "tickets", "-o", "list.txt"), "--format pdf or --format csv"),
    (("export", "ticket", "12", "-o", "one.csv"), "-o FILE.pdf"),
    (("export", "tickets"), "required: -o/--output"),
    (("sla", "policy", "high", "soon", "60"), "argument response_minutes: invalid int value"),
    (("assignment", "category", "Network"), "required: --mode"),
    (("report", "analytics", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
    (("team", "member", "join", "Network", "agent"), "argument action: invalid choice: 'join'"),
    (("macro", "edit", "Wait"), "name what to change: --rename, --body"),
    (("token", "create"), "required: --name"),
    (("serve", "--port", "99999"), "--port 99999: use a number from 1 to 65535"),
    (("mail",), "required: ACTION"),
    (("ddl", "oracle"), "invalid choice: 'oracle'"),
]


@pytest.mark.parametrize("args,words", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_a_wrong_command_line_is_exit_2_in_one_line_before_the_database(args, words):
    said(itsm(DOWN, *args, stdin=""), 2, words)  # standard input: no terminal


def test_a_database_url_typed_where_a_command_goes_is_not_echoed_with_its_password():
    line = said(itsm(DOWN, "--as", "agent", "mysql://root:s3cret-pw@db/itsm"), 2, "invalid choice")
    assert "mysql://root:***@db/itsm" in line


# One command per group against a server that is down: exit 1, one line, the password masked.
UNREACHABLE = [
    ("init",),
    ("doctor",),
    ("user", "list"),
    ("tickets", "list"),
    ("ticket", "links", "12"),
    ("category", "list"),
    ("seed", "--tickets", "1"),
    ("import", "servicenow", "export.csv", "--dry-run"),
    ("export", "tickets", "-o", "list.csv"),
    ("sla", "show"),
    ("sla", "check"),
    ("assignment", "show"),
    ("report", "analytics"),
    ("team", "list"),
    ("macro", "list"),
    ("token", "list"),
    ("serve", "--port", "8080"),
    ("mail", "send"),
]


@pytest.mark.parametrize("args", UNREACHABLE, ids=[" ".join(a) for a in UNREACHABLE])
def test_a_database_that_is_down_is_exit_1_in_one_masked_line(args):
    said(itsm(DOWN_WITH_PASSWORD, *args), 1, "cannot open MySQL nothing@127.0.0.1:1")


# What the desk refuses, on both engines: an unknown record, a permission, a value.
REFUSED = [
    # users
    (("user", "edit", "ghost", "--role", "agent"), None, "no user named 'ghost'"),
    (("user", "unlock", "ghost"), None, "no user named 'ghost'"),
    (("user", "add", "bob", "--role", "agent"), "agent", "an agent may not create users"),
    (("user", "add", "bob", "--role", "agent", "--email", "nope"), None, "email 'nope' is not an e-mail"),
    (("tickets", "list"), "ghost", "no user named 'ghost'"),  # --as
    # tickets
    (("ticket", "edit", "99999", "--title", "x"), None, "ticket INC099999 does not exist"),
    (("ticket", "delete", "99999", "--yes"), None, "ticket INC099999 does not exist"),
    (("tickets", "create", "--title", "", "--description", "x"), None, "title is required"),
    (("tickets", "list", "--sort", "colour"), None, "cannot sort by 'colour'"),
    (("tickets", "list", "--filter", "stauts:open"), None, "unknown filter 'stauts'"),
    # categories
    (("category", "rename", "Nope", "Other"), None, "category 'Nope' does not exist"),
    (("category", "add", "Printers"), "agent", "an agent may not add, rename"),
    (("category", "add", "Network"), None, "category 'Network' already exists"),
    # seed, import, export
    (("seed", "--tickets", "1"), "agent", "an agent may not"),
    (("import", "servicenow", "/nonexistent/export.csv"), None, "cannot read /nonexistent/export.csv"),
    (("export", "ticket", "99999", "-o", "one.pdf"), None, "ticket INC099999 does not exist"),
    (("export", "log", "-o", "log.csv"), "requester", "a requester may not read"),
    (("export", "tickets", "--columns", "number,colour", "-o", "list.csv"), None, "no column 'colour'"),
    # SLA, assignment, report
    (("sla", "check"), "agent", "an agent may not"),
    (("sla", "policy", "urgent", "60", "120"), None, "priority must be"),
    (("assignment", "away", "ghost", "on"), None, "no user named 'ghost'"),
    (("report", "analytics", "--period", "fortnight"), None, "unknown period 'fortnight'"),
    # teams and macros
    (("team", "member", "add", "Nope", "agent"), None, "no team named 'Nope'"),
    (("team", "add", "Network"), "agent", "an agent may not create and rename teams"),
    (("macro", "edit", "Nope", "--body", "x"), None, "no macro named 'Nope'"),
    (("macro", "add", "Hi", "--body", "Hi {nope}"), None, "unknown placeholder {nope}"),
    # tokens
    (("token", "revoke", "itsm_nope"), "agent", "no API token 'itsm_nope'"),
    (("token", "list", "--all"), "agent", "an agent may not list and revoke anyone's"),
    (("token", "create", "--name", "x", "--expires", "soon"), "agent", "expiry 'soon'"),
]


@pytest.mark.parametrize(
    "args,as_user,words",
    REFUSED,
    ids=[f"{as_user or 'system'}: {' '.join(a)}" for a, as_user, _ in REFUSED],
)
def test_what_the_desk_refuses_is_exit_1_in_one_line(url, people, tmp_path, args, as_user, words):  # noqa: F811
    args = [str(tmp_path / a) if a.endswith((".pdf", ".csv")) and "/" not in a else a for a in args]
    said(itsm(url, *args, as_user=as_user), 1, words)


def test_a_permission_is_checked_before_saying_the_demo_is_loaded(url):  # noqa: F811
    assert itsm(url, "seed", "--demo").returncode == 0
    said(itsm(url, "seed", "--demo", as_user="agent1"), 1, "an agent may not")
    again = itsm(url, "seed", "--demo", as_user="admin")
    assert again.returncode == 0 and again.stdout.strip() == "the demo data is already loaded"


def test_a_permission_is_refused_on_a_ticket_that_exists(url, people):  # noqa: F811
    number = itsm(url, "tickets", "create", "--title", "VPN", "--description", "down").stdout.strip()
    said(itsm(url, "ticket", "delete", number, "--yes", as_user="agent"), 1, "an agent may not delete")


def test_the_desks_jobs_are_run_by_admins_only(url, people):  # noqa: F811
    """mail fetch and mail send run the jobs sla check runs, under the same permission."""
    for command in (("mail", "send"), ("mail", "fetch"), ("sla", "check")):
        said(itsm(url, *command, as_user="agent"), 1, "an agent may not")


def test_part_of_the_work_failing_is_exit_1_with_the_report_on_stdout(url, people):  # noqa: F811
    number = itsm(url, "tickets", "create", "--title", "VPN", "--description", "down").stdout.strip()
    assert itsm(url, "macro", "add", "Seen", "--body", "Seen", as_user="supervisor").returncode == 0
    applied = itsm(url, "macro", "apply", "Seen", number, "99999", as_user="agent")
    said(applied, 1, "Seen failed on 1 of 2 tickets")
    assert applied.stdout.splitlines() == [
        f"{number}: Seen applied",
        "INC099999: ticket INC099999 does not exist",
    ]


def test_jobs_that_fail_are_exit_1_in_one_line(engine, monkeypatch):
    mailer.signup_code("someone@example.org", "123456", 10)  # one e-mail due in the outbox
    db.database.close()
    monkeypatch.setenv("ITSM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ITSM_SMTP_PORT", "1")
    sent = itsm(engine, "mail", "send")
    said(sent, 1, "1 of 1 e-mails could not be sent")
    assert sent.stdout.strip() == "0 sent, 1 failed"
    monkeypatch.delenv("ITSM_SMTP_HOST")
    monkeypatch.setenv("ITSM_MAIL_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("ITSM_MAIL_IMAP_PORT", "1")
    monkeypatch.setenv("ITSM_MAIL_IMAP_USER", "desk")
    checked = itsm(engine, "sla", "check")
    said(checked, 1, "e-mail intake failed (retried at the next pass)", "Connection refused")
    assert "alerts raised: 0" in checked.stdout
    said(itsm(engine, "mail", "fetch"), 1, "cannot read the mailbox on 127.0.0.1")


def test_serve_on_an_address_in_use_is_exit_1_in_one_line(url):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said(itsm(url, "serve", "--port", str(port)), 1, f"cannot listen on 127.0.0.1:{port}")
