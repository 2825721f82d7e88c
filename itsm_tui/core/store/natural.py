"""Natural order for names with numbers: "user2" before "user10", "Monitor 9" before "Monitor 24".

Lists are read by keyset on an indexed column, so the order is a stored column beside the name
(a ``SortKeyField``): the name casefolded, each run of digits zero-padded to ``DIGITS`` places.
Every write of a name writes its key (``keyed``); schema v8 added the keys and filled them in.
"""

from __future__ import annotations

import re
from functools import cache

from itsm_tui.core.store.models import SORT_KEY_LENGTH, SortKeyField

DIGITS = 10  # a longer run (a serial number, not a count) is kept whole, in text order
_DIGIT_RUN = re.compile(r"[0-9]+")


def natural_key(name: str) -> str:
    """'Monitor 9' -> 'monitor 0000000009'."""
    return _DIGIT_RUN.sub(lambda run: run.group().zfill(DIGITS), name.casefold())[:SORT_KEY_LENGTH]


@cache
def key_fields(model) -> tuple[SortKeyField, ...]:
    return tuple(field for field in model._meta.sorted_fields if isinstance(field, SortKeyField))


def keyed(model, values: dict) -> dict:
    """``values`` (by field name) with the sort keys of the names among them."""
    keys = {
        field.name: natural_key(values[field.source])
        for field in key_fields(model)
        if isinstance(values.get(field.source), str)
    }
    return {**values, **keys}
