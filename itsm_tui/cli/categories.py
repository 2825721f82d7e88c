"""``itsm-tui category add|rename|deactivate|activate|merge|list`` (admins; issue 21)."""

from __future__ import annotations

from itsm_tui.cli.common import print_rows


def add_commands(commands) -> None:
    category = commands.add_parser("category", help="ticket categories (admins)").add_subparsers(
        dest="category_command", metavar="ACTION", required=True
    )
    category.add_parser("add", help="add a category").add_argument("name")
    rename = category.add_parser("rename", help="rename a category (history keeps the old name)")
    rename.add_argument("name")
    rename.add_argument("new_name")
    category.add_parser("deactivate", help="no new ticket gets it; its tickets keep it").add_argument("name")
    category.add_parser("activate", help="make a deactivated category choosable again").add_argument("name")
    merge = category.add_parser("merge", help="move a category's tickets to another and deactivate it")
    merge.add_argument("name")
    merge.add_argument("into")
    listing = category.add_parser("list", help="every category with its state and number of tickets")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _category(args, actor) -> int:
    from itsm_tui.core.tickets import categories

    command = args.category_command
    if command == "list":
        rows = ((c.name, "active" if c.is_active else "inactive", n) for c, n in categories.every(actor))
        print_rows(("category", "state", "tickets"), rows, args.format)
    elif command == "add":
        print(f"added category {categories.add(actor, args.name).name}")
    elif command == "rename":
        print(f"renamed to {categories.rename(actor, args.name, args.new_name).name}")
    elif command in ("deactivate", "activate"):
        row = categories.set_active(actor, args.name, command == "activate")
        print(f"category {row.name} is {'active' if row.is_active else 'inactive'}")
    else:
        moved = categories.merge(actor, args.name, args.into)
        print(f"merged {args.name} into {args.into}: {moved} tickets moved")
    return 0


HANDLERS = {"category": _category}
