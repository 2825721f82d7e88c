"""CSV output: UTF-8, RFC 4180 quoting, ISO 8601 dates, and no spreadsheet formulas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from itsm_tui.core.text import strip_controls

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# what strip_controls would change: without any of these a text passes through as it is
_NEEDS_STRIPPING = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cell(value) -> str:
    """One cell as text a spreadsheet shows literally: a leading formula character is escaped
    with an apostrophe (OWASP's advice), control characters are dropped."""
    if value is None:
        return ""
    if type(value) is str:  # the common case first: a million rows go through here
        text = strip_controls(value, multiline=True) if _NEEDS_STRIPPING.search(value) else value
    elif isinstance(value, datetime):
        return value.isoformat(sep="T")
    elif isinstance(value, date):
        return value.isoformat()
    elif isinstance(value, (int, float, Decimal)):
        return str(value)  # a number, even a negative one, is not a formula
    else:
        text = strip_controls(str(value), multiline=True)  # first: a stripped prefix hides nothing
    return "'" + text if text.startswith(FORMULA_START) else text


def write(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write a header and the rows; returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        count += 1
    return count
