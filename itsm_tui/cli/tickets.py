"""``itsm-tui tickets``: create a ticket, list tickets through the queue's filter language."""

from __future__ import annotations

from itsm_tui.cli.common import UsageError, print_rows

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
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit needs a number of at least 1")
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


HANDLERS = {"tickets": _tickets}
