"""Ticket categories: an editable list (admins)."""

from __future__ import annotations

from itsm_tui.core.store import records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.store.models import Category, User
from itsm_tui.core.people.permissions import require
from itsm_tui.core.text import clean


def active() -> list[Category]:
    return list(Category.select().where(Category.is_active).order_by(Category.name))


@transactional
def add(actor: User, name: str) -> Category:
    require(actor, "settings.manage")
    name = clean(name, "category", max_len=50)
    if Category.select().where(Category.name == name).exists():
        raise ValidationError(f"category {name!r} already exists", "category")
    return records.create(actor, Category, "category", f"category {name}", {"name": name})
