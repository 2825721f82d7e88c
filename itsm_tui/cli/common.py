"""What the commands share: the parser and the usage error (exit 2), one-line messages, a progress
bar on a terminal, rows as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime


class UsageError(Exception):
    """Wrong words on the command line (exit 2): raised by a command's checks (its ``CHECKS``),
    which run before any setting, database or user is read."""


class Parser(argparse.ArgumentParser):
    """The parser of every command and subcommand: a usage error is one line on standard error
    (``itsm-tui user add: error: the following arguments are required: --role``) and exit code
    2; ``--help`` shows the usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def one_line(text: str) -> str:
    """``text`` as one line of plain text, with every password masked: those this process has met
    and any in a URL (a database URL typed where a command was expected is echoed by argparse)."""
    from itsm_tui.core.store.db import mask, mask_url
    from itsm_tui.core.text import strip_controls

    text = _URL.sub(lambda m: mask_url(m[0]), mask(str(text)))
    return " ".join(strip_controls(text).split())


def at_terminal() -> bool:
    """Someone is at the terminal to answer a question (a password, a confirmation)."""
    return sys.stdin is not None and sys.stdin.isatty()


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
