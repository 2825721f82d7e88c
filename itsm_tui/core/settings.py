"""Desk-wide settings kept in the database (the SLA calendar, automatic assignment on or off), as JSON.

The services that own a setting check the rights and write the audit entry; file and environment
configuration is ``config``.
"""

from __future__ import annotations

import json

from itsm_tui.core import clock
from itsm_tui.core.store.models import Setting


def get_setting(key: str, default=None):
    """One desk-wide setting's value, or ``default`` when it was never stored."""
    row = Setting.get_or_none(Setting.key == key)
    return json.loads(row.value) if row else default


def put_setting(key: str, value) -> None:
    """Store one desk-wide JSON setting (callers check rights and write the audit entry)."""
    now = clock.now()
    text = json.dumps(value, sort_keys=True)
    updated = (
        Setting.update(value=text, updated_at=now, version=Setting.version + 1)
        .where(Setting.key == key)
        .execute()
    )
    if not updated:
        Setting.create(key=key, value=text, updated_at=now)
