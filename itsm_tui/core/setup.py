"""Opening a database, and ``init``: schema plus the rows every installation needs."""

from __future__ import annotations

from itsm_tui.core import clock
from itsm_tui.core.people.users import SYSTEM_USERNAME
from itsm_tui.core.store import db, fulltext, natural, schema
from itsm_tui.core.store.models import Category, User
from itsm_tui.core.tickets import sla

DEFAULT_CATEGORIES = ("Hardware", "Software", "Network", "Access", "General")


def open_database(url: str, check: bool = True, long_statements: bool = False):
    """Bind the models to ``url``; unless ``check`` is off, refuse a schema of another version.
    ``long_statements``: for ``init`` and bulk loads, whose statements may run for minutes."""
    database = db.bind(url, long_statements)
    if check:
        schema.check()
    return database


def initialise(progress: fulltext.Progress | None = None) -> tuple[int | None, int]:
    """Create or upgrade the schema and make sure the built-in rows exist (idempotent).
    ``progress(done, total)``: how far an upgrade has built the search index."""
    fulltext.upgrade_progress = progress
    try:
        before, after = schema.init()
    finally:
        fulltext.upgrade_progress = None
    with db.database.atomic():
        if not User.select().where(User.username == SYSTEM_USERNAME).exists():
            now = clock.now()
            # The CLI's default actor: an admin that cannot log in (no password).
            User.create(
                **natural.keyed(
                    User,
                    {
                        "username": SYSTEM_USERNAME,
                        "full_name": "itsm-tui system",
                        "role": "admin",
                        "created_at": now,
                        "updated_at": now,
                    },
                )
            )
        for name in DEFAULT_CATEGORIES:
            if not Category.select().where(Category.name == name).exists():
                Category.create(name=name)
        sla.install_default_policies()
    return before, after
