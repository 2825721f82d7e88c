"""``itsm-tui seed``, ``import`` and ``export``: bulk data in and out."""

from __future__ import annotations

import os
from datetime import datetime

from itsm_tui.cli.common import UsageError, progress_printer, ticket_arg


def _seed(args, actor) -> int:
    from itsm_tui.core import demo
    from itsm_tui.core.people.permissions import require

    if args.demo:
        require(actor, "settings.manage")  # as seed_demo does: no "already loaded" for anyone else
        if demo.demo_loaded():
            print("the demo data is already loaded")
            return 0
        result = demo.seed_demo(actor)
        print(
            f"loaded the demo desk: {result['users']} users, {result['tickets']} tickets. "
            f"Every demo account's password is {demo.DEMO_PASSWORD!r} (demo data is for trying "
            "the product only)"
        )
        return 0
    if args.systems is not None:
        count, label, generate = args.systems, "systems", demo.seed_bulk_assets
    elif args.log_entries is not None:
        count, label, generate = args.log_entries, "log entries", demo.seed_bulk_log
    else:
        count, label, generate = args.tickets, "tickets", demo.seed_bulk
    started = datetime.now()
    result = generate(actor, count, progress=progress_printer(f"generating {label}"))
    seconds = (datetime.now() - started).total_seconds()
    extra = f" and {result['peripherals']} peripherals" if isinstance(result, dict) else ""
    print(f"generated {count} {label}{extra} in {seconds:.1f} s")
    return 0


def _import(args, actor) -> int:
    from itsm_tui.importers import csv_import, servicenow

    progress = progress_printer(f"importing {args.import_source}")
    if args.import_source == "servicenow":
        report = servicenow.import_servicenow(actor, args.file, dry_run=args.dry_run, progress=progress)
    else:
        mapping = csv_import.load_mapping(args.kind, args.map, args.map_column)
        report = csv_import.import_csv(
            actor, args.kind, args.file, mapping, dry_run=args.dry_run, progress=progress
        )
    print("\n".join(report.lines()))
    return 0


def _export(args, actor) -> int:
    from itsm_tui.reports import export

    fmt = _format(args)
    printers: dict = {}

    def progress(step) -> None:
        label = "reading rows" if step.stage == "reading" else f"writing {fmt.upper()}"
        show = printers.setdefault(step.stage, progress_printer(label))
        if show and step.total:
            show(step.done, step.total)

    if args.what in ("ticket", "system"):
        ref = ticket_arg(args.ref) if args.what == "ticket" else args.ref  # 12: INC000012, as elsewhere
        done = export.export_record(actor, args.what, ref, args.output, title=args.title)
    else:
        columns = tuple(c.strip() for c in args.columns.split(",")) if args.columns else None
        done = export.export_list(
            actor,
            export.ListJob(
                args.what, fmt, args.output, args.filter, args.sort, columns=columns, title=args.title
            ),
            progress=progress,
        )
    pages = f"{done.pages} page{'s' if done.pages != 1 else ''}" if done.pages else ""
    if args.what in ("ticket", "system", "analytics"):  # one report: its pages, not "1 row"
        print(f"wrote {done.path} ({pages})" if pages else f"wrote {done.path}")
    else:
        rows = f"{done.rows:,} row{'s' if done.rows != 1 else ''}"
        print(f"wrote {done.path} ({rows}{', ' + pages if pages else ''})")
    return 0


def _format(args) -> str:
    """--format, else the output file's extension."""
    return args.format or os.path.splitext(args.output)[1].lower().lstrip(".")


def _check_seed(args) -> None:
    """The command line's own mistakes (exit 2), before the database is opened."""
    from itsm_tui.core.demo import MAX_GENERATED

    for option, count in (
        ("--tickets", args.tickets),
        ("--systems", args.systems),
        ("--log-entries", args.log_entries),
    ):
        if count is not None and not 1 <= count <= MAX_GENERATED:
            raise UsageError(f"{option} needs a number from 1 to {MAX_GENERATED:,}")


def _check_export(args) -> None:
    from itsm_tui.reports import export

    if _format(args) not in export.FORMATS:
        raise UsageError("say --format pdf or --format csv (or name the file .pdf or .csv)")
    if args.what in ("ticket", "system"):
        if not args.ref or _format(args) != "pdf" or args.filter or args.sort:
            raise UsageError(
                f"export {args.what} takes a {'number' if args.what == 'ticket' else 'tag'},"
                " -o FILE.pdf and no --filter or --sort"
            )
    elif args.ref:
        raise UsageError(f"export {args.what} takes no {args.ref!r}: use --filter")


HANDLERS = {"seed": _seed, "import": _import, "export": _export}
CHECKS = {"seed": _check_seed, "export": _check_export}
