"""``itsm-tui team`` and ``itsm-tui macro``: teams and their members, canned replies (issue 21)."""

from __future__ import annotations

import argparse

from itsm_tui.cli.common import UsageError, print_rows, ticket_arg
from itsm_tui.core.errors import ItsmError

MODES = ("round_robin", "least_loaded", "off")


def add_commands(commands) -> None:
    team = commands.add_parser("team", help="teams and their members (admins)").add_subparsers(
        dest="team_command", metavar="ACTION", required=True
    )
    team.add_parser("list", help="every team with its members").add_argument(
        "--format", choices=("table", "csv", "json"), default="table"
    )
    team.add_parser("add", help="create a team").add_argument("name")
    rename = team.add_parser("rename", help="rename a team")
    rename.add_argument("name")
    rename.add_argument("new_name")
    member = team.add_parser("member", help="add or remove a member")
    member.add_argument("action", choices=("add", "remove"))
    member.add_argument("name", help="the team")
    member.add_argument("username")
    auto = team.add_parser("assign", help="automatic assignment of the team's tickets among its members")
    auto.add_argument("name")
    auto.add_argument("mode", choices=MODES)
    put = team.add_parser("ticket", help="put a ticket in a team (empty name: in none)")
    put.add_argument("number", type=ticket_arg)
    put.add_argument("name")

    macro = commands.add_parser("macro", help="canned replies that can also set fields").add_subparsers(
        dest="macro_command", metavar="ACTION", required=True
    )
    macro.add_parser("list", help="the macros you may apply").add_argument(
        "--format", choices=("table", "csv", "json"), default="table"
    )
    for verb, text in (
        ("add", "create a macro"),
        ("edit", "change the parts of a macro named here; the others stay (an empty value clears one)"),
    ):
        form = macro.add_parser(verb, help=f"{text} (supervisors, admins)")
        form.add_argument("name")
        if verb == "edit":
            form.add_argument("--rename", metavar="NEW_NAME")
        form.add_argument("--body", help="the reply; placeholders: {requester}, {number}, ...")
        form.add_argument(
            "--internal",
            action="store_true" if verb == "add" else argparse.BooleanOptionalAction,
            default=None,
            help="the reply is an internal note",
        )
        form.add_argument("--for-team", metavar="TEAM", help="offered to this team only (default: everyone)")
        form.add_argument("--status", help="set this status, e.g. resolved")
        form.add_argument("--priority", help="set this priority, e.g. high")
        form.add_argument("--team", help="move the ticket to this team")
        form.add_argument("--assignee", help="assign the ticket to this agent, or me: whoever applies it")
    macro.add_parser("delete", help="delete a macro").add_argument("name")
    apply = macro.add_parser("apply", help="apply a macro to tickets")
    apply.add_argument("name")
    apply.add_argument("numbers", nargs="+", metavar="NUMBER", type=ticket_arg)


def _team(args, actor) -> int:
    from itsm_tui.core.tickets import service, teams

    command = args.team_command
    if command == "list":
        rows = [(t.name, t.auto_assign or "off", ", ".join(names)) for t, names in teams.listing(actor)]
        print_rows(("team", "assignment", "members"), rows, args.format)
    elif command == "add":
        print(f"created team {teams.add(actor, args.name).name}")
    elif command == "rename":
        print(f"renamed {args.name} to {teams.rename(actor, args.name, args.new_name).name}")
    elif command == "member":
        change = teams.add_member if args.action == "add" else teams.remove_member
        change(actor, args.name, args.username)
        print(f"{args.username} {'added to' if args.action == 'add' else 'removed from'} {args.name}")
    elif command == "assign":
        row = teams.configure(actor, args.name, None if args.mode == "off" else args.mode)
        print(f"automatic assignment for {row.name}: {row.auto_assign or 'off'}")
    else:
        ticket = service.get(actor, args.number)
        ticket = teams.set_team(actor, ticket.id, ticket.version, args.name or None)
        print(f"{ticket.number} is in team {ticket.team.name if ticket.team_id else '(none)'}")
    return 0


def _macro(args, actor) -> int:
    from itsm_tui.core.tickets import macros, service

    command = args.macro_command
    if command == "list":
        rows = [(m.name, macros.describe(m)) for m in macros.available(actor)]
        print_rows(("macro", "does"), rows, args.format)
    elif command == "add":
        fields = macros.Fields(args.status, args.priority, args.team, args.assignee)
        row = macros.create(
            actor, args.name, args.body or "", team=args.for_team, internal=bool(args.internal), fields=fields
        )
        print(f"macro {row.name}: {macros.describe(row)}")
    elif command == "edit":
        old = macros.find(args.name)
        row = macros.update(actor, old, old.version, args.rename or old.name, **_edited(args, old))
        print(f"macro {row.name}: {macros.describe(row)}")
    elif command == "delete":
        macros.delete(actor, args.name)
        print(f"deleted macro {args.name}")
    else:
        failed, macro = 0, macros.find(args.name)
        for number in args.numbers:
            try:
                ticket = service.get(actor, number)
                macros.apply(actor, macro, ticket.id, ticket.version)
                print(f"{ticket.number}: {macro.name} applied")
            except ItsmError as exc:  # one line per ticket, then the next one
                failed += 1
                print(f"{number}: {exc}")
        if failed:
            raise ItsmError(f"{macro.name} failed on {failed} of {len(args.numbers)} tickets")
    return 0


def _edited(args, old) -> dict:
    """The parts of ``old`` that ``macro edit`` names replaced, the others as they are (the
    core's update replaces every part, as the app's form shows them all)."""
    from itsm_tui.core.tickets import macros

    def given(value, current):
        return current if value is None else value

    fields = macros.Fields(
        given(args.status, old.set_status),
        given(args.priority, old.set_priority),
        given(args.team, old.set_team.name if old.set_team_id else None),
        given(args.assignee, macros.assignee_word(old)),
    )
    return dict(
        body=given(args.body, old.body),
        team=given(args.for_team, old.team.name if old.team_id else None),
        internal=given(args.internal, old.internal),
        fields=fields,
    )


# What ``macro edit`` may change: its options' destinations, and their names in the message.
MACRO_PARTS = {
    "rename": "--rename",
    "body": "--body",
    "internal": "--internal or --no-internal",
    "for_team": "--for-team",
    "status": "--status",
    "priority": "--priority",
    "team": "--team",
    "assignee": "--assignee",
}


def _check_macro(args) -> None:
    """The command line's own mistakes (exit 2), before the database is opened."""
    if args.macro_command == "edit" and all(getattr(args, part) is None for part in MACRO_PARTS):
        raise UsageError(f"name what to change: {', '.join(MACRO_PARTS.values())}")


HANDLERS = {"team": _team, "macro": _macro}
CHECKS = {"macro": _check_macro}
