"""Ticket categories: an editable list (admins)."""

from __future__ import annotations

from peewee import fn

from itsm_tui.core.errors import ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import Category, User
from itsm_tui.core.text import clean


def active() -> list[Category]:
    return list(Category.select().where(Category.is_active).order_by(Category.name))


def find(value) -> Category:
    """An active category by name (any case), or the row itself; ``None`` or empty: General."""
    if isinstance(value, Category):
        return value
    name = clean(value or "General", "category", max_len=50)
    category = Category.get_or_none(Category.name == name)
    if category is None:
        # Case-insensitive on SQLite too, where the column collation is binary.
        category = Category.get_or_none(fn.LOWER(Category.name) == name.lower())
    if category is None or not category.is_active:
        names = ", ".join(c.name for c in Category.select().where(Category.is_active).order_by(Category.name))
        raise ValidationError(f"unknown category {name!r}: choose one of {names}", "category")
    return category


@transactional
def add(actor: User, name: str) -> Category:
    require(actor, "settings.manage")
    name = clean(name, "category", max_len=50)
    if Category.select().where(Category.name == name).exists():
        raise ValidationError(f"category {name!r} already exists", "category")
    return records.create(actor, Category, "category", f"category {name}", {"name": name})
