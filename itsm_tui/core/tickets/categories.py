"""Ticket categories: an editable list (admins)."""

from __future__ import annotations

from . import records
from .db import transactional
from .errors import ValidationError
from .models import Category, User
from .permissions import require
from .text import clean


def active() -> list[Category]:
    return list(Category.select().where(Category.is_active).order_by(Category.name))


@transactional
def add(actor: User, name: str) -> Category:
    require(actor, "settings.manage")
    name = clean(name, "category", max_len=50)
    if Category.select().where(Category.name == name).exists():
        raise ValidationError(f"category {name!r} already exists", "category")
    return records.create(actor, Category, "category", f"category {name}", {"name": name})
