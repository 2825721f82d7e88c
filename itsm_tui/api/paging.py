"""Keyset cursors as opaque strings, and a page of any list as ``{items, next_cursor}``."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from itsm_tui.api.problems import ApiProblem
from itsm_tui.core.tickets.queue import Cursor, Page

MAX_LIMIT = 500


# How a sort value that JSON lacks travels in a cursor: (tag, type, to text, from text).
_TYPED = (
    ("t", datetime, datetime.isoformat, datetime.fromisoformat),
    ("d", date, date.isoformat, date.fromisoformat),
    ("n", Decimal, str, Decimal),
)


def encode_cursor(cursor: Cursor) -> str:
    value = cursor.value
    tag, shown = next(
        ((t, out(value)) for t, kind, out, _ in _TYPED if isinstance(value, kind)), ("v", value)
    )
    raw = json.dumps([tag, shown, cursor.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    try:
        tag, value, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        parse = next((back for t, _, _, back in _TYPED if t == tag), None)
        value = parse(value) if parse else value
        if not isinstance(row_id, int) or isinstance(value, (list, dict, bool)):
            raise ValueError
        if not all(-(2**63) <= n < 2**63 for n in (row_id, value) if isinstance(n, int)):
            raise ValueError  # no column holds it (SQLite cannot even take it as a parameter)
    except (ValueError, TypeError, ArithmeticError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(400, "the cursor is not one this API gave out", "cursor") from None
    return Cursor(value, row_id)


class RowPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


def plain(value):
    """A value for JSON: amounts as text (exact), times in UTC with their zone, dates as ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    return value


def rows_page(page: Page) -> RowPage:
    items = [{k: plain(v) for k, v in row.items() if not k.startswith("_")} for row in page.rows]
    last = page.last
    return RowPage(items=items, next_cursor=encode_cursor(last) if page.has_more and last else None)
