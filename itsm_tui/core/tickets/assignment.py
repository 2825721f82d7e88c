"""Automatic assignment of new tickets per category: round-robin or least-loaded among the
category's agents, skipping agents marked away and disabled accounts.

Off by default twice over: the desk-wide switch (setting ``assignment.enabled``) and each
category's mode (``Category.auto_assign``, None) must both be on. Admins set both.
"""

from __future__ import annotations

from peewee import fn

from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.core.people.permissions import STAFF, allowed, require
from itsm_tui.core.people.users import staff_member
from itsm_tui.core.settings import get_setting, put_setting
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import AUTO_ASSIGN_MODES, OPEN_STATUSES, Category, CategoryAgent, Ticket, User
from itsm_tui.core.tickets import categories

ENABLED_KEY = "assignment.enabled"


def enabled() -> bool:
    return bool(get_setting(ENABLED_KEY, False))


@transactional
def set_enabled(actor: User, on: bool) -> None:
    _require(actor, "settings.manage", "turn automatic assignment on or off")
    before = enabled()
    put_setting(ENABLED_KEY, bool(on))
    audit.record(
        actor,
        "update",
        "setting",
        None,
        f"automatic assignment {'on' if on else 'off'}",
        {ENABLED_KEY: [before, bool(on)]},
    )


@transactional
def configure(actor: User, category: str, mode: str | None, agents: list[str] | None = None) -> Category:
    """Set a category's mode (round_robin, least_loaded, or None for off) and, if given, its
    agents (usernames of staff members)."""
    _require(actor, "settings.manage", "configure automatic assignment")
    if not isinstance(category, Category) and not (category or "").strip():
        raise ValidationError("name the category to configure", "category")  # find() takes "" as General
    row = categories.find(category)
    if mode is not None and mode not in AUTO_ASSIGN_MODES:
        raise ValidationError(f"mode must be {', '.join(AUTO_ASSIGN_MODES)} or off, not {mode!r}", "mode")
    changes = {}
    if mode != row.auto_assign:
        changes["auto_assign"] = [row.auto_assign, mode]
        Category.update(auto_assign=mode).where(Category.id == row.id).execute()
    if agents is not None:
        people = [staff_member(name) for name in dict.fromkeys(agents)]
        before = sorted(
            a.agent.username
            for a in CategoryAgent.select(CategoryAgent, User)
            .join(User)
            .where(CategoryAgent.category == row.id)
        )
        CategoryAgent.delete().where(CategoryAgent.category == row.id).execute()
        for person in people:
            CategoryAgent.create(category=row.id, agent=person.id)
        if before != sorted(p.username for p in people):
            changes["agents"] = [before, sorted(p.username for p in people)]
    if changes:
        audit.record(actor, "update", "category", row.id, f"automatic assignment for {row.name}", changes)
    return Category.get_by_id(row.id)


@transactional
def set_away(actor: User, username: str, away: bool) -> User:
    """Mark an agent away (skipped by automatic assignment) or back. Agents mark themselves;
    supervisors and admins anyone."""
    person = staff_member(username)
    if person.id == actor.id:
        _require(actor, "ticket.assign_self", "mark themselves away")
    else:
        _require(actor, "ticket.assign_other", "mark another person away")
    return records.update(
        actor,
        person,
        person.version,
        {"is_away": bool(away)},
        "user",
        person.username,
        summary=f"{person.username} {'away' if away else 'back'}",
    )


def pick(category: Category) -> User | None:
    """The agent a new ticket of ``category`` goes to, or None (off, or nobody available).
    Records the choice on the category so that round-robin continues after it."""
    category = Category.get_by_id(category.id)
    if category.auto_assign is None or not enabled():
        return None
    candidates = list(
        User.select()
        .join(CategoryAgent, on=(CategoryAgent.agent == User.id))
        .where(CategoryAgent.category == category.id)
        .order_by(User.id)
    )
    chosen = next_agent(candidates, category.last_assignee_id, category.auto_assign)
    if chosen is not None:
        Category.update(last_assignee=chosen.id).where(Category.id == category.id).execute()
    return chosen


def next_agent(people: list[User], last: int | None, mode: str) -> User | None:
    """Whom of ``people`` (by id) the next ticket goes to: the one after ``last`` (round_robin),
    or the one with the fewest open tickets, ties to the next in rotation (least_loaded). Agents
    away, disabled accounts and non-staff are skipped; None when nobody is left."""
    candidates = [p for p in people if p.is_active and not p.is_away and p.role in STAFF]
    if not candidates:
        return None
    last = last or 0
    after = [c for c in candidates if c.id > last] + [c for c in candidates if c.id <= last]  # rotation order
    if mode == "least_loaded":
        loads = dict(
            Ticket.select(Ticket.assignee, fn.COUNT(Ticket.id))
            .where(Ticket.assignee.in_([c.id for c in candidates]), Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.assignee)
            .tuples()
        )
        return min(after, key=lambda c: loads.get(c.id, 0))  # ties: the next in rotation
    return after[0]


def _require(actor: User, action: str, refused: str) -> None:
    """The role rule of the matrix, refused in words that say what was asked for (the
    matrix's own wording is about tickets, and its permission names mean nothing to a user)."""
    try:
        require(actor, action)
    except PermissionDenied:
        if allowed(actor.role, action):
            raise  # refused for another reason: a disabled account
        article = "an" if actor.role[:1] in "aeiou" else "a"
        raise PermissionDenied(f"{article} {actor.role} may not {refused}") from None


def describe(actor: User) -> list[str]:
    """One line per category with automatic assignment configured, for ``assignment show``.
    Staff only: it names agents and who is away."""
    _require(actor, "user.view", "see automatic assignment: it names agents and who is away")
    lines = [f"automatic assignment is {'on' if enabled() else 'off'} for the desk"]
    for row in Category.select().order_by(Category.name):
        names = [
            a.agent.username + (" (away)" if a.agent.is_away else "")
            for a in CategoryAgent.select(CategoryAgent, User)
            .join(User)
            .where(CategoryAgent.category == row.id)
            .order_by(User.username)
        ]
        lines.append(
            f"{row.name}: {row.auto_assign or 'off'}" + (f" among {', '.join(names)}" if names else "")
        )
    return lines
