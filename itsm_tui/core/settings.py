"""Desk-wide settings kept in the database (the SLA calendar, automatic assignment on or off), as JSON.

The services that own a setting check the rights and write the audit entry; file and environment
configuration is ``config``.
"""

from __future__ import annotations

import json

from peewee import IntegrityError

from itsm_tui.core import clock
from itsm_tui.core.store.models import Setting, database


def _stored(value) -> str:
    """A value as the row holds it: one text per value, so a compare-and-set can match it."""
    return json.dumps(value, sort_keys=True)


def get_setting(key: str, default=None):
    """One desk-wide setting's value, or ``default`` when it was never stored."""
    row = Setting.get_or_none(Setting.key == key)
    return json.loads(row.value) if row else default


def put_setting(key: str, value) -> None:
    """Store one desk-wide JSON setting (callers check rights and write the audit entry)."""
    now = clock.now()
    text = _stored(value)
    updated = (
        Setting.update(value=text, updated_at=now, version=Setting.version + 1)
        .where(Setting.key == key)
        .execute()
    )
    if not updated:
        Setting.create(key=key, value=text, updated_at=now)


def compare_and_set(key: str, expected, new) -> bool:
    """Store ``new`` only if the setting still holds ``expected`` (None: it was never stored), in
    one conditional statement; False when another process changed or created it first. Of two
    processes that read the same value and both write, one wins (a job's lease, a cursor)."""
    now, text = clock.now(), _stored(new)
    if expected is None:
        try:
            with database.atomic():
                Setting.create(key=key, value=text, updated_at=now)
            return True
        except IntegrityError:  # another process created it first
            return False
    written = (
        Setting.update(value=text, updated_at=now, version=Setting.version + 1)
        .where((Setting.key == key) & (Setting.value == _stored(expected)))
        .execute()
    )
    return written == 1
