"""Ticket categories: an editable list (admins add, rename, deactivate and merge them).

The log stores a category's name with each change that names it (``audit.NAMED_FIELDS``), so a
ticket's history keeps the name the category had then, after a rename or a merge."""

from __future__ import annotations

from peewee import JOIN, fn

from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import Category, Ticket, User
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import views

DEFAULT = "General"  # new tickets without a category get it: never deactivated nor merged away


def active() -> list[Category]:
    return list(Category.select().where(Category.is_active).order_by(Category.name))


def every(actor: User) -> list[tuple[Category, int]]:
    """Every category, inactive ones too, with its number of tickets (admins)."""
    require(actor, "category.manage")
    count = fn.COUNT(Ticket.id)
    query = (
        Category.select(Category, count.alias("tickets"))
        .join(Ticket, on=(Ticket.category == Category.id), join_type=JOIN.LEFT_OUTER)
        .group_by(Category.id)
        .order_by(Category.name)
    )
    return [(row, row.tickets) for row in query]


def find(value) -> Category:
    """An active category by name (any case), or the row itself; ``None`` or empty: General."""
    if isinstance(value, Category):
        return value
    name = clean(value or DEFAULT, "category", max_len=50)
    category = _named(name)
    if category is None or not category.is_active:
        names = ", ".join(c.name for c in Category.select().where(Category.is_active).order_by(Category.name))
        raise ValidationError(f"unknown category {name!r}: choose one of {names}", "category")
    return category


def _named(name: str) -> Category | None:
    return Category.get_or_none(Category.name == name) or Category.get_or_none(
        records.same_name(Category.name, name)
    )


def _existing(value) -> Category:
    """A category by name (any case, inactive too) or id, for the admin's commands."""
    category = Category.get_or_none(Category.id == value) if isinstance(value, int) else _named(str(value))
    if category is None:
        raise NotFound(f"category {value!r} does not exist")
    return category


def _new_name(name: str, current: Category | None = None) -> str:
    name = clean(name, "category", max_len=50)
    taken = _named(name)
    if taken is not None and taken != current:
        raise ValidationError(f"category {taken.name!r} already exists", "category")
    return name


@transactional
def add(actor: User, name: str) -> Category:
    require(actor, "category.manage")
    name = _new_name(name)
    return records.create(actor, Category, "category", f"category {name}", {"name": name})


@transactional
def rename(actor: User, category, new_name: str) -> Category:
    require(actor, "category.manage")
    row = _existing(category)
    if row.name == DEFAULT:
        raise ValidationError(f"{DEFAULT} is the category of tickets opened without one: keep its name")
    name = _new_name(new_name, row)
    Category.update(name=name).where(Category.id == row.id).execute()
    audit.record(
        actor,
        "update",
        "category",
        row.id,
        f"renamed category {row.name} to {name}",
        {"name": [row.name, name]},
    )
    views.follow_rename(actor, "category", row.name, name)
    return Category.get_by_id(row.id)


@transactional
def set_active(actor: User, category, active: bool) -> Category:
    """Deactivate (no new ticket gets it; its tickets keep it) or reactivate a category."""
    require(actor, "category.manage")
    row = _existing(category)
    if not active and row.name == DEFAULT:
        raise ValidationError(f"{DEFAULT} is the category of tickets opened without one: it stays active")
    if row.is_active != active:
        Category.update(is_active=active).where(Category.id == row.id).execute()
        verb = "reactivated" if active else "deactivated"
        audit.record(
            actor,
            "update",
            "category",
            row.id,
            f"{verb} category {row.name}",
            {"is_active": [not active, active]},
        )
    return Category.get_by_id(row.id)


@transactional
def merge(actor: User, category, into) -> int:
    """Move every ticket of ``category`` to ``into`` and deactivate it; the number moved. Each
    ticket's history says its category changed; the category's, how many moved."""
    require(actor, "category.manage")
    source, target = _existing(category), _existing(into)
    if source == target:
        raise ValidationError("a category cannot be merged into itself", "category")
    if source.name == DEFAULT:
        raise ValidationError(
            f"{DEFAULT} is the category of tickets opened without one: merge others into it"
        )
    if not target.is_active:
        raise ValidationError(f"category {target.name!r} is inactive: reactivate it first", "category")
    versions = dict(Ticket.select(Ticket.id, Ticket.version).where(Ticket.category == source.id).tuples())
    moved = (
        Ticket.update(category=target, version=Ticket.version + 1)
        .where(Ticket.category == source.id)
        .execute()
    )
    audit.record_many(
        actor,
        "update",
        "ticket",
        {ticket_id: version + 1 for ticket_id, version in versions.items()},
        f"category {source.name} merged into {target.name}",
        {"category": [source.id, target.id]},
    )
    Category.update(is_active=False).where(Category.id == source.id).execute()
    views.follow_rename(actor, "category", source.name, target.name)  # its tickets are there now
    audit.record(
        actor,
        "merge",
        "category",
        source.id,
        f"merged category {source.name} into {target.name} ({moved} tickets moved)",
        {
            "is_active": [source.is_active, False],
            "merged_into": [None, target.name],
            "tickets": [None, moved],
        },
    )
    return moved
