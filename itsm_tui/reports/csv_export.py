"""CSV output: UTF-8, RFC 4180 quoting, ISO 8601 dates, and no spreadsheet formulas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from itsm_tui.core.store.models import DateTimeField
from itsm_tui.core.text import strip_controls

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# what strip_controls would change: without any of these a text passes through as it is
_NEEDS_STRIPPING = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# In a column's texts joined by line breaks (none of which holds one), what makes ``cell``
# change a text: a formula character first, or a character ``strip_controls`` drops (searched
# apart: an alternation of the two would be tried at every character)
_FORMULA_AFTER_BREAK = re.compile("\n[=+\\-@]")
_STRIPPED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A time as stored on SQLite (and read as text on MySQL), in the form isoformat writes: no
# fraction, or six digits that are not all zero; and a column of them (NULL: an empty line)
_MOMENT = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?"
_MOMENTS = re.compile(f"(?:{_MOMENT})?(?:\n(?:{_MOMENT})?)*")
_STORED_TIME = DateTimeField()  # how the models read a stored time


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


def cells(values: list) -> list:
    """``[cell(v) for v in values]`` for a column of text (or None), at the cost of one search
    over the whole column: usually no text in it needs changing and the column passes as is."""
    texts = ["" if v is None else v for v in values] if None in values else values
    joined = "\n".join(texts)
    if (
        joined.count("\n") == len(texts) - 1
        and not joined.startswith(FORMULA_START)
        and not _FORMULA_AFTER_BREAK.search(joined)
        and not _STRIPPED.search(joined)
    ):
        return texts
    return [cell(v) for v in values]


def moments(values: list) -> list:
    """The cells of a column of times read as text ('2026-01-02 03:04:05'), as :func:`cell`
    writes the times the models read from them ('2026-01-02T03:04:05'), None kept for None.
    A column whose every text has the form isoformat writes gets its T by one replace; any
    other goes through the models' reading of each time."""
    texts = ["" if v is None else v for v in values] if None in values else values
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or not _MOMENTS.fullmatch(joined):
        return [None if v is None else cell(_STORED_TIME.python_value(v)) for v in values]
    written = joined.replace(" ", "T").split("\n")
    return written if texts is values else [text or None for text in written]


def write(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write a header and the rows; returns the number of rows written."""
    return write_batches(out, columns, ([[cell(v) for v in row]] for row in rows))


def write_batches(out: IO[str], columns: Sequence[str], batches: Iterable[list], tick=None) -> int:
    """Write a header and batches of rows whose cells are already :func:`cell`'s text (or
    None: empty); ``tick(rows written)`` after each batch. Returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for batch in batches:
        writer.writerows(batch)
        count += len(batch)
        if tick:
            tick(count)
    return count
