"""What the commands share: the usage error (exit 2), a progress bar on a terminal, rows as a table,
CSV or JSON."""

from __future__ import annotations

import json
import sys
from datetime import datetime


class UsageError(Exception):
    """Wrong words on the command line (exit 2)."""


def progress_printer(label: str):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def print_rows(columns, rows, fmt: str) -> None:
    from itsm_tui.core.text import strip_controls
    from itsm_tui.reports import csv_export

    out = sys.stdout
    if fmt == "csv":
        csv_export.write(out, columns, rows)
    elif fmt == "json":
        items = [{c: _json_value(v) for c, v in zip(columns, row)} for row in rows]
        json.dump(items, out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        rows = [
            [
                strip_controls(
                    "" if v is None else (f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else str(v))
                )
                for v in row
            ]
            for row in rows
        ]
        widths = [min(40, max([len(c)] + [len(r[i]) for r in rows])) for i, c in enumerate(columns)]
        out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
        for row in rows:
            out.write(
                "  ".join(
                    (v if len(v) <= w else v[: w - 1] + "…").ljust(w) for v, w in zip(row, widths)
                ).rstrip()
                + "\n"
            )
        out.write(f"({len(rows)} rows)\n")


def _json_value(value):
    """A JSON value as exact as the CSV's: times in ISO 8601, text without control characters
    or escape sequences (line breaks kept)."""
    from itsm_tui.core.text import strip_controls

    if isinstance(value, datetime):
        return value.isoformat()
    return strip_controls(value, multiline=True) if isinstance(value, str) else value


def ticket_arg(text: str) -> str:
    """A ticket argument as typed: ``131`` means INC000131, as in the app (the rule is core's,
    imported when a command is parsed, not at start-up)."""
    from itsm_tui.core.tickets.rules import typed_number

    return typed_number(text)
