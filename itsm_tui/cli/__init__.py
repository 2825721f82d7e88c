"""The command line: ``itsm-tui [--db URL] [--as USER] COMMAND``.

This module holds the parser and the dispatch; each command group's handlers are in their own
module (accounts, tickets, data, sla, ...), and what they share in common. Exit codes, decided
here for every command (``mail ingest`` has its own, for mail servers: see cli/mail.py):

- 0: done.
- 2: the command line is wrong, whatever the desk holds: an unknown command or option, a missing
  argument, a value outside the option's choices or range, nothing to do, options that do not go
  together. argparse's errors and a command's ``CHECKS`` (``UsageError``), before any setting,
  database or user is read; one line on stderr naming the option.
- 1: the desk refused or failed: an unknown ticket, user or record, a permission, a value the desk
  rejects (a field, a filter, a sort key), a conflict, a setting, a file, a database that is down,
  or part of the work that failed (``macro apply``, ``mail fetch``, ``mail send``, ``sla check``).
  One line on stderr (after the command's report on stdout, if any), passwords masked, no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from itsm_tui import __version__
from itsm_tui.cli import accounts, api, categories, data, mail, sla, teams
from itsm_tui.cli import tickets as cli_tickets
from itsm_tui.cli.common import Parser, UsageError, one_line, progress_printer
from itsm_tui.core import config

COMMAND_MODULES = (accounts, cli_tickets, categories, data, sla, api, mail, teams)
ROLES = ("requester", "agent", "supervisor", "admin")  # the models' ROLES, without importing them at start-up


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="itsm-tui",
        description="A keyboard-driven IT service desk. With no command, starts the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"itsm-tui {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="sqlite:///path/to.db or mysql://user:password@host:port/dbname "
        "(default: $ITSM_DB, else a SQLite file in your data directory)",
    )
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USERNAME",
        help="act as this user for role checks (default: the built-in system admin)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "init",
        help="create the database, or upgrade its schema (with the "
        "configuration file's admin account when it names one)",
    )
    commands.add_parser(
        "doctor",
        help="warn about database server settings far below what a desk of this size needs",
    )
    grants = commands.add_parser(
        "grants",
        help="print the GRANT statements for the runtime MySQL/MariaDB account",
        description="Print the per-table GRANT statements that give the runtime account what "
        "it needs and nothing more: no DDL, the audit log INSERT and SELECT only.",
    )
    grants.add_argument("runtime_user", metavar="RUNTIME_USER")
    grants.add_argument("--host", default="%", help="the account's host part (default: %%)")

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", metavar="ACTION", required=True
    )
    add = user.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--full-name")
    add.add_argument("--email")
    add.add_argument("--department")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    password = user.add_parser("password", help="set or reset a user's password (admins)")
    password.add_argument("username")
    password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    unlock = user.add_parser("unlock", help="lift the locks set by failed logins (supervisors, admins)")
    unlock.add_argument("username")
    edit = user.add_parser(
        "edit", help="change a user's role, name, e-mail or department, or disable or enable them (admins)"
    )
    edit.add_argument("username")
    edit.add_argument("--role", choices=ROLES)
    edit.add_argument("--full-name")
    edit.add_argument("--email", help="empty for none")
    edit.add_argument("--department", help="empty for none")
    state = edit.add_mutually_exclusive_group()
    state.add_argument(
        "--active", dest="is_active", action="store_const", const=True, help="enable the account"
    )
    state.add_argument(
        "--inactive",
        dest="is_active",
        action="store_const",
        const=False,
        help="disable the account: no logins, its API tokens stop working",
    )
    listing = user.add_parser("list", help="list users")
    listing.add_argument("--role", choices=ROLES)
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")

    seed = commands.add_parser("seed", help="load demo data, or generate records for benchmarks")
    group = seed.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true", help="a realistic demo desk (for trying the product)")
    group.add_argument("--tickets", type=int, metavar="N", help="generate N synthetic tickets")
    group.add_argument(
        "--systems", type=int, metavar="N", help="generate N synthetic systems (and about N/3 peripherals)"
    )
    group.add_argument(
        "--log-entries",
        type=int,
        metavar="N",
        help="generate N synthetic activity log entries over the last year",
    )

    tickets = commands.add_parser(
        "tickets", aliases=["ticket"], help="list, create, edit, delete, merge, link and tag tickets"
    ).add_subparsers(dest="tickets_command", metavar="ACTION", required=True)
    tlist = tickets.add_parser("list", help="list tickets matching a filter")
    tlist.add_argument("--filter", default="", metavar="QUERY", help='e.g. "status:open prio:high"')
    tlist.add_argument(
        "--sort",
        default="-updated",
        help="number, priority, status, title, requester, assignee, category, created, "
        "updated or due; a leading '-' sorts descending (default: -updated)",
    )
    tlist.add_argument("--limit", type=int, metavar="N", help="at most N tickets")
    tlist.add_argument("--format", choices=("table", "csv", "json"), default="table")
    create = tickets.add_parser("create", help="open a ticket as the --as user")
    create.add_argument("--title", required=True)
    create.add_argument("--description", required=True)
    create.add_argument("--category")
    create.add_argument("--impact", default="low")
    create.add_argument("--urgency", default="low")
    create.add_argument("--requester", help="on behalf of this user (agents and above)")
    cli_tickets.add_actions(tickets)
    categories.add_commands(commands)

    imports = commands.add_parser(
        "import", help="import tickets or inventory from another tool's export (admins)"
    ).add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    servicenow = imports.add_parser(
        "servicenow", help="a ServiceNow incident export (one CSV row per change)"
    )
    servicenow.add_argument("file", metavar="FILE.csv")
    servicenow.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    generic = imports.add_parser("csv", help="tickets, systems, peripherals or stock from any CSV file")
    generic.add_argument("kind", choices=("tickets", "systems", "peripherals", "stock"))
    generic.add_argument("file", metavar="FILE.csv")
    generic.add_argument(
        "--map",
        metavar="MAPPING.json",
        help="which column holds which field: "
        '{"title": "Subject", ...} (columns named like a field need no mapping)',
    )
    generic.add_argument(
        "--map-column",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="map one field (repeatable; wins over --map)",
    )
    generic.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    sla.add_commands(commands)
    api.add_commands(commands)
    mail.add_commands(commands)
    teams.add_commands(commands)

    export = commands.add_parser(
        "export",
        help="export a list (PDF or CSV), or one ticket or system as a PDF report",
        description="itsm-tui export tickets|systems|peripherals|stock|log [--filter Q] [--sort S] "
        "--format pdf|csv -o FILE; itsm-tui export ticket INC000123 -o FILE.pdf; "
        "itsm-tui export system TAG -o FILE.pdf",
    )
    export.add_argument(
        "what", choices=("tickets", "systems", "peripherals", "stock", "log", "ticket", "system")
    )
    export.add_argument(
        "ref",
        nargs="?",
        metavar="NUMBER_OR_TAG",
        help="the ticket number or the system's asset tag or hostname",
    )
    export.add_argument("--filter", default="", metavar="QUERY", help="as in the list's filter bar")
    export.add_argument("--sort", help="as in `tickets list --sort` (the list's own keys)")
    export.add_argument("--columns", help="comma-separated column keys (default: the screen's)")
    export.add_argument("--title", help="the PDF's title")
    export.add_argument("--format", choices=("pdf", "csv"), help="default: from the file name's extension")
    export.add_argument("-o", "--output", required=True, metavar="FILE")

    ddl = commands.add_parser("ddl", help="print the reference schema (as kept in sql/)")
    ddl.add_argument("engine", choices=("sqlite", "mysql"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # its errors: one line, exit 2 (common.Parser)
    try:
        _check_text_arguments(parser, args)
        check_usage(args)
        return run(args)
    except UsageError as exc:
        print(f"itsm-tui: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("itsm-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) stopped early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a user never sees a traceback, nor a password in a message
        print(f"itsm-tui: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def check_usage(args) -> None:
    """Everything wrong with the command line itself, before a setting, the database or the acting
    user is read: a wrong command line is exit 2 whether the database answers or not."""
    if args.db is not None and not args.db.strip():  # an empty $VARIABLE: never the default database
        raise UsageError("--db needs a database URL")
    if args.as_user is not None and not args.as_user.strip():  # never the system admin either
        raise UsageError("--as needs a user name")
    for module in COMMAND_MODULES:
        check = getattr(module, "CHECKS", {}).get(args.command)
        if check is not None:
            check(args)


def _one_line(exc: Exception) -> str:
    """What failed, in one line, with every known password masked."""
    from itsm_tui.core.errors import ItsmError
    from itsm_tui.core.store import db_errors

    if isinstance(exc, ItsmError):
        message = str(exc)
    elif db_errors.is_database_error(exc):
        message = db_errors.reason(exc)
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"{exc.strerror or exc}{where}"
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    return one_line(message)


def _check_text_arguments(parser: argparse.ArgumentParser, args) -> None:
    """Refuse bytes that are not UTF-8 (Python keeps them as lone surrogates) in one line,
    before they reach a database or a terminal."""
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise UsageError(
                        f"{_option_name(parser, name)} is not valid UTF-8 text: check "
                        "the terminal's or the file's encoding"
                    ) from None


def _option_name(parser: argparse.ArgumentParser, dest: str) -> str:
    """How the user wrote the argument stored in ``dest``: '--title', or 'FILE.csv'."""
    for action in parser._actions:
        if action.dest == dest:
            return max(action.option_strings, key=len, default=action.metavar or dest)
        for sub in (action.choices or {}).values() if isinstance(action.choices, dict) else ():
            found = _option_name(sub, dest)
            if found != dest:
                return found
    return dest


def run(args) -> int:
    from itsm_tui.core import logs, setup
    from itsm_tui.core.store import audit, schema

    logs.setup()
    from itsm_tui.core.store.db import describe_url, mask_url

    if args.command == "ddl":
        sys.stdout.write(schema.render_ddl(args.engine))
        return 0
    config.settings()  # a bad setting is reported now, in one line, not in the middle of work
    if args.db and mask_url(args.db) != args.db:
        print(
            "itsm-tui: warning: the password in --db is visible to every user of this machine "
            "in the process list; put it in the configuration file instead (see README, "
            "Configuration)",
            file=sys.stderr,
        )
    url = config.resolve_db_url(args.db)
    if args.command is None:
        from itsm_tui.ui.app import run as run_tui  # late: Textual costs ~0.35 s to import

        audit.enter("tui")
        return run_tui(url)
    if args.command == "grants":
        return _grants(args, url)
    if args.command == "init":
        admin_url = config.resolve_admin_url(args.db)
        setup.open_database(admin_url, check=False, long_statements=True)
        audit.enter("cli")
        before, after = setup.initialise(progress_printer("building the search index"))
        if before is None:
            print(f"created a new itsm-tui database (schema version {after}) in {describe_url(admin_url)}")
        elif before < after:
            print(f"upgraded the schema from version {before} to {after}")
        else:
            print(f"the database is up to date (schema version {after})")
        _doctor()
        return 0
    if args.command == "mail" and args.mail_command == "ingest":
        return mail.ingest(url, _one_line)  # its own exit codes, for the mail server (see cli/mail.py)
    if args.command == "doctor":
        setup.open_database(url)
        return _doctor(quiet=False)
    setup.open_database(url, long_statements=args.command == "seed")  # seeds build big indexes
    actor = _actor(args.as_user)
    from itsm_tui.core.people import users

    # Who really acted: the CLI's operator, recorded as the system user ("system as agent1").
    audit.enter("cli", real_actor=users.system_actor() if actor.username != users.SYSTEM_USERNAME else None)
    handler = next(m.HANDLERS[args.command] for m in COMMAND_MODULES if args.command in m.HANDLERS)
    code = handler(args, actor)
    from itsm_tui.core.store import db, db_errors

    try:
        db.optimize()  # cheap; keeps SQLite's planner statistics current
    except db_errors.DATABASE_ERRORS as exc:
        db_errors.reason(exc)  # logged: the command's own work is done (a full disk, say)
    return code


def _doctor(quiet: bool = True) -> int:
    """Print a warning per server setting far from the README's; 1 when there is any."""
    from itsm_tui.core.store import tuning

    found = tuning.warnings()
    for line in found:
        print(f"itsm-tui: warning: {line}", file=sys.stderr)
    if not found and not quiet:
        print("the database server's settings suit this desk")
    return 1 if found else 0


def _grants(args, url: str) -> int:
    from urllib.parse import urlsplit

    from itsm_tui.core.store import schema
    from itsm_tui.core.store.db import parse_mysql_url

    if urlsplit(url).scheme not in ("mysql", "mariadb"):
        raise UsageError(
            "grants is for MySQL/MariaDB: name the database with --db, ITSM_DB or the configuration file"
        )
    name = parse_mysql_url(url).name
    statements = schema.grant_statements(name, args.runtime_user, args.host)  # checks the names first:
    print(f"-- the runtime account of itsm-tui on `{name}`: no DDL, the audit log append-only.")
    print(  # this output is piped into the server
        f"-- Create it first, e.g. CREATE USER '{args.runtime_user}'@'{args.host}' IDENTIFIED BY "
        "'...' REQUIRE SSL; then run `itsm-tui init` with the admin account."
    )
    print("\n".join(statements))
    return 0


def _actor(username: str | None):
    from itsm_tui.core.errors import PermissionDenied
    from itsm_tui.core.people import users

    user = users.by_username(username) if username is not None else users.system_actor()
    if not user.is_active:
        raise PermissionDenied(f"{user.username} is disabled")
    return user
