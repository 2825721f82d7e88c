"""Desk figures computed by aggregation in SQL (the analytics screen builds on these)."""

from __future__ import annotations

from peewee import fn

from .models import Category, Ticket, User
from .permissions import require


def ticket_totals(actor: User) -> dict[str, dict]:
    """Ticket counts by status, priority and category."""
    require(actor, "analytics.view")
    by_status = dict(Ticket.select(Ticket.status, fn.COUNT(Ticket.id)).group_by(Ticket.status).tuples())
    by_priority = dict(Ticket.select(Ticket.priority, fn.COUNT(Ticket.id)).group_by(Ticket.priority).tuples())
    by_category = dict(
        Ticket.select(Category.name, fn.COUNT(Ticket.id)).join(Category)
        .group_by(Category.name).tuples()
    )
    return {"status": by_status, "priority": by_priority, "category": by_category}
