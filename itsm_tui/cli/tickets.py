"""``itsm-tui tickets`` (or ``ticket``): create a ticket, list tickets through the queue's filter
language; edit, delete, merge, link and tag one (issue 21)."""

from __future__ import annotations

import argparse

from itsm_tui.cli.common import UsageError, at_terminal, print_rows, ticket_arg

TICKET_COLUMNS = (
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
)


def _tickets(args, actor) -> int:
    from itsm_tui.core.store.models import PRIORITY_NAMES
    from itsm_tui.core.tickets import queue
    from itsm_tui.core.tickets import service as tickets

    if args.tickets_command in ACTIONS:
        return ACTIONS[args.tickets_command](args, actor)
    if args.tickets_command == "create":
        ticket = tickets.create(
            actor,
            args.title,
            args.description,
            category=args.category,
            impact=args.impact,
            urgency=args.urgency,
            requester=args.requester,
        )
        print(ticket.number)
        return 0
    sort = queue.Sort.parse(args.sort)
    rows = queue.iterate(actor, args.filter, sort)

    def shaped():
        for n, row in enumerate(rows):
            if args.limit is not None and n >= args.limit:
                return
            yield tuple(
                PRIORITY_NAMES[row["priority"]] if c == "priority" else row[c] for c in TICKET_COLUMNS
            )

    print_rows(TICKET_COLUMNS, shaped(), args.format)
    return 0


def add_actions(tickets) -> None:
    """The one-ticket commands of issue 21, under ``tickets``."""
    edit = tickets.add_parser(
        "edit", help="change a ticket's title, description or category (agents and above)"
    )
    edit.add_argument("number", type=ticket_arg)
    edit.add_argument("--title")
    edit.add_argument("--description")
    edit.add_argument("--category")
    delete = tickets.add_parser("delete", help="delete a ticket with its comments and attachments (admins)")
    delete.add_argument("number", type=ticket_arg)
    delete.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    merge = tickets.add_parser("merge", help="merge a duplicate into another ticket (agents and above)")
    merge.add_argument(
        "number", type=ticket_arg, help="the duplicate: closed, its comments and attachments moved"
    )
    merge.add_argument("into", type=ticket_arg, help="the ticket it is merged into")
    link = tickets.add_parser("link", help="link two tickets (agents and above)")
    link.add_argument("number", type=ticket_arg)
    link.add_argument("kind", choices=("related", "parent", "child", "duplicate", "caused_by", "causes"))
    link.add_argument(
        "other", type=ticket_arg, help="e.g. `ticket link 12 parent 15`: INC000012 is the parent of INC000015"
    )
    unlink = tickets.add_parser("unlink", help="remove the links between two tickets")
    unlink.add_argument("number", type=ticket_arg)
    unlink.add_argument("other", type=ticket_arg)
    show = tickets.add_parser("links", help="list a ticket's links")
    show.add_argument("number", type=ticket_arg)
    tag = tickets.add_parser("tag", help="add (+word or word) and remove (-word) tags (agents and above)")
    tag.add_argument("number", type=ticket_arg)
    # REMAINDER: a tag to remove ("-printer") is a word here, never an unknown option
    tag.add_argument("tags", nargs=argparse.REMAINDER, metavar="[+|-]TAG", help="e.g. vpn +urgent -printer")


def _edit(args, actor) -> int:
    from itsm_tui.core.tickets import service as tickets

    changes = {k: getattr(args, k) for k in EDITED if getattr(args, k) is not None}
    ticket = tickets.get(actor, args.number)
    tickets.update(actor, ticket.id, ticket.version, **changes)
    print(f"{ticket.number} updated")
    return 0


def _delete(args, actor) -> int:
    from itsm_tui.core.people.permissions import require
    from itsm_tui.core.tickets import service as tickets

    ticket = tickets.get(actor, args.number)
    require(actor, "ticket.delete")
    if not args.yes:  # someone is at the terminal (_check)
        print(
            f"Delete {ticket.number} {ticket.title!r} with its {tickets.what_goes(ticket.id)}? [y/N] ", end=""
        )
        try:
            answer = input()
        except (EOFError, UnicodeError):  # ctrl+d, or bytes that are not text: no yes
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    print(f"deleted {tickets.delete(actor, ticket.id, ticket.version)}")
    return 0


def _merge(args, actor) -> int:
    from itsm_tui.core.tickets import links
    from itsm_tui.core.tickets import service as tickets

    ticket = tickets.get(actor, args.number)
    merged = links.merge(actor, ticket.id, ticket.version, args.into)
    print(merged.resolution_note)
    return 0


def _link(args, actor) -> int:
    from itsm_tui.core.tickets import links
    from itsm_tui.core.tickets import service as tickets

    made = links.link(actor, tickets.get(actor, args.number).id, args.other, args.kind)
    print(f"{args.number} {made.words} {made.other_number}")
    return 0


def _unlink(args, actor) -> int:
    from itsm_tui.core.errors import NotFound
    from itsm_tui.core.tickets import links
    from itsm_tui.core.tickets import service as tickets

    ticket, other = tickets.get(actor, args.number), tickets.get(actor, args.other)
    found = [link for link in links.links_of(actor, ticket.id) if link.other_id == other.id]
    if not found:  # the tickets' state, not the words typed: a failure (1), not a usage error
        raise NotFound(f"{ticket.number} and {other.number} are not linked")
    for link in found:
        links.unlink(actor, ticket.id, link.id)
    print(f"{ticket.number} and {other.number} are no longer linked")
    return 0


def _links(args, actor) -> int:
    from itsm_tui.core.tickets import links
    from itsm_tui.core.tickets import service as tickets

    rows = (
        (x.words, x.other_number, x.other_status, x.other_title)
        for x in links.links_of(actor, tickets.get(actor, args.number).id)
    )
    print_rows(("link", "ticket", "status", "title"), rows, "table")
    return 0


def _tag(args, actor) -> int:
    from itsm_tui.core.tickets import service as tickets
    from itsm_tui.core.tickets import tags

    words = _tag_words(args)
    remove = [t[1:] for t in words if t.startswith("-")]
    add = [t.lstrip("+") for t in words if not t.startswith("-")]
    ticket = tickets.get(actor, args.number)
    now = tags.change(actor, ticket.id, add=add, remove=remove)
    print(f"{ticket.number}: {' '.join('#' + t for t in now) or 'no tags'}")
    return 0


def _tag_words(args) -> list[str]:
    return [t for t in args.tags if t != "--"]


EDITED = ("title", "description", "category")


def _check(args) -> None:
    """The command line's own mistakes (exit 2), before the database is opened."""
    command = args.tickets_command
    if command == "list" and args.limit is not None and args.limit < 1:
        raise UsageError("--limit needs a number of at least 1")
    if command == "edit" and all(getattr(args, k) is None for k in EDITED):
        raise UsageError("name what to change: --title, --description or --category")
    if command == "tag" and not _tag_words(args):
        raise UsageError("name the tags to add (word or +word) and to remove (-word)")
    if command == "delete" and not args.yes and not at_terminal():
        raise UsageError("deleting a ticket needs --yes when no one is at the terminal to confirm")


ACTIONS = {
    "edit": _edit,
    "delete": _delete,
    "merge": _merge,
    "link": _link,
    "unlink": _unlink,
    "links": _links,
    "tag": _tag,
}
HANDLERS = {"tickets": _tickets, "ticket": _tickets}
CHECKS = {"tickets": _check, "ticket": _check}
