"""Exactly-once writes: each user action carries a request key made when its form opened.

A save can fail after the database committed it (the connection dropped before the answer came
back, a cluster node died at COMMIT). Retried, it would be written twice: the comment shows up
twice, the status change conflicts with the operator's own first try. A service that takes a
``request_key`` claims it inside its own transaction; when the key was already claimed, the
first try did commit, and the service returns what that try wrote instead of writing again. The
key's primary key makes two concurrent tries (two nodes of a cluster) write once as well.
"""

from __future__ import annotations

import re

from peewee import IntegrityError

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.store.db import is_mysql
from itsm_tui.core.store.models import RequestKey, User

_SHAPE = re.compile(r"^[A-Za-z0-9-]{8,36}$")


def claim(actor: User, key: str | None, action: str) -> RequestKey | None:
    """Claim ``key`` for ``action`` in the current transaction; the earlier claim (the first
    try, already committed) when there was one, else None: write, then call ``done``."""
    if not key:
        return None
    if not _SHAPE.match(key):
        raise ValidationError("the request key must be 8 to 36 letters, digits or dashes", "request_key")
    earlier = _find(key)
    if earlier is None:
        try:
            RequestKey.insert(key=key, user=actor, action=action, created_at=clock.now()).execute()
            return None
        except IntegrityError:  # a concurrent try committed the same key first
            earlier = _find(key)
            if earlier is None:  # the key went away again: nothing to reuse
                raise
    if earlier.user_id != actor.id or earlier.action != action:
        raise ValidationError("this request key was already used for another action", "request_key")
    return earlier


def result(model, record_id: int):
    """What the first try wrote, as committed (it may have committed after this transaction's
    snapshot was taken: two tries at once)."""
    return _latest(model.select().where(model.id == record_id)).get()


def _find(key: str) -> RequestKey | None:
    return _latest(RequestKey.select().where(RequestKey.key == key)).first()


def _latest(query):
    if is_mysql():  # a locking read sees the latest commit, not the transaction's snapshot
        query = query.for_update("LOCK IN SHARE MODE")
    return query


def done(key: str | None, entity_type: str, entity_id: int) -> None:
    """Note what the claimed action wrote, so a retry can return it."""
    if key:
        RequestKey.update(entity_type=entity_type, entity_id=entity_id).where(RequestKey.key == key).execute()
