"""Ticket views: the built-in filters every user gets, and the named filters a user saves.

A view is query-language text (see ``query``) plus a sort (see ``queue.Sort``). The built-ins
depend on the role: requesters only ever see their own tickets, so theirs say so. The last
view a user opened is remembered as a preference and offered first next time.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import IntegrityError

from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.people.permissions import is_staff, require
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import database, transactional
from itsm_tui.core.store.models import SavedView, User, UserPreference
from itsm_tui.core.text import clean
from itsm_tui.core.tickets.query import rename_value
from itsm_tui.core.tickets.queue import Sort, check_filter

NAME_MAX = 60
QUERY_MAX = 2000
LAST_VIEW_KEY = "last_view"
STAFF_DEFAULT = "All open"
REQUESTER_DEFAULT = "My tickets"


@dataclass(frozen=True)
class View:
    name: str
    query: str
    sort: str
    builtin: bool
    id: int | None = None  # the saved view's id; None for a built-in


def _resolved_this_week() -> View:
    """Relative (``-7d``): saved as a view, it still means the last seven days next month. By the
    resolve time: a later comment or unlinked system updates an old ticket, not its resolution."""
    return View("Resolved this week", "status:resolved,closed resolved:>=-7d", "-updated", True)


def _staff_builtins() -> tuple[View, ...]:
    # Open work is triaged most urgent first: the soonest (or most overdue) resolution due time.
    return (
        View("My open", "status:open assignee:me", "due", True),
        View("Unassigned", "status:open assignee:unassigned", "due", True),
        View("My teams", "status:open team:mine", "due", True),
        View("All open", "status:open", "due", True),
        View("Waiting", "status:waiting", "-updated", True),
        _resolved_this_week(),
    )


def _requester_builtins() -> tuple[View, ...]:
    return (
        View("My tickets", "requester:me", "-updated", True),
        View("My open tickets", "requester:me status:open", "-updated", True),
    )


def builtins_for(actor: User) -> tuple[View, ...]:
    """The built-in views of the actor's role."""
    return _staff_builtins() if is_staff(actor) else _requester_builtins()


BUILTIN: tuple[View, ...] = _staff_builtins()  # the staff built-ins; requesters get builtins_for()


# Every built-in name of any role is reserved, so a role change never makes two views collide.
RESERVED_NAMES = frozenset(v.name.casefold() for v in _staff_builtins() + _requester_builtins())


def _view(row: SavedView) -> View:
    return View(row.name, row.query, row.sort, False, row.id)


def _saved(actor: User) -> list[SavedView]:
    rows = list(SavedView.select().where(SavedView.user == actor.id))
    # Sorted here, not in SQL: the engines' collations order case and accents differently.
    return sorted(rows, key=lambda row: (row.name.casefold(), row.name))


def views_for(actor: User) -> list[View]:
    """The actor's built-in views, then their saved views by name."""
    require(actor, "ticket.view_own")
    return list(builtins_for(actor)) + [_view(row) for row in _saved(actor)]


def _canonical_sort(text: str | None) -> str:
    sort = Sort.parse(text)
    return f"{'-' if sort.descending else ''}{sort.key}"


@transactional
def save_view(actor: User, name: str, query: str, sort: str) -> View:
    """Save a named view; saving an existing name (ignoring case) replaces its query and sort.

    Raises ValidationError for a bad or built-in name, QueryError (a ValidationError) for a
    query or sort that does not parse or names an unknown user, category, etc.
    """
    require(actor, "ticket.view_own")
    name = clean(name, "view name", max_len=NAME_MAX)
    if name.casefold() in RESERVED_NAMES:
        raise ValidationError(f"{name!r} is the name of a built-in view: choose another", "name")
    text = clean(query, "query", max_len=QUERY_MAX, required=False)
    check_filter(actor, text)  # parses it, and resolves the names it uses as the queue would
    sort_text = _canonical_sort(sort)
    existing = next((row for row in _saved(actor) if row.name.casefold() == name.casefold()), None)
    if existing is None:
        row = records.create(
            actor,
            SavedView,
            "saved_view",
            f"view {name!r}",
            {"user": actor, "name": name, "query": text, "sort": sort_text},
        )
        return _view(row)
    values = {"name": name, "query": text, "sort": sort_text}
    changes = audit.diff({key: getattr(existing, key) for key in values}, values)
    if not changes:
        return _view(existing)
    try:
        SavedView.update(**values).where(SavedView.id == existing.id).execute()
    except IntegrityError as exc:  # MySQL's collation also equates accents: "Café" = "Cafe"
        raise ValidationError(
            f"cannot save view {name!r}: {records.integrity_message(exc)}", "name"
        ) from None
    audit.record(
        actor,
        "update",
        "saved_view",
        existing.id,
        f"updated view {name!r}: {', '.join(sorted(changes))}",
        changes,
    )
    return View(name, text, sort_text, False, existing.id)


@transactional
def rename_view(actor: User, view_id: int, new_name: str) -> View:
    """Rename one of the actor's own saved views (the same rules as a new name)."""
    require(actor, "ticket.view_own")
    row = SavedView.get_or_none((SavedView.id == view_id) & (SavedView.user == actor.id))
    if row is None:
        raise NotFound(f"view {view_id} does not exist")
    name = clean(new_name, "view name", max_len=NAME_MAX)
    if name.casefold() in RESERVED_NAMES:
        raise ValidationError(f"{name!r} is the name of a built-in view: choose another", "name")
    if any(other.id != row.id and other.name.casefold() == name.casefold() for other in _saved(actor)):
        raise ValidationError(f"you already have a view named {name!r}", "name")
    if name != row.name:
        old = row.name
        try:
            SavedView.update(name=name).where(SavedView.id == row.id).execute()
        except IntegrityError as exc:
            raise ValidationError(
                f"cannot rename view {old!r}: {records.integrity_message(exc)}", "name"
            ) from None
        audit.record(
            actor, "update", "saved_view", row.id, f"renamed view {old!r} to {name!r}", {"name": [old, name]}
        )
    return View(name, row.query, row.sort, False, row.id)


def follow_rename(actor: User, key: str, old: str, new: str) -> None:
    """Rewrite every user's saved views whose filter names ``old`` in a ``key`` term (``team`` or
    ``category``) to ``new``, each with an update entry: called in the transaction that renames
    the team or category, so that no view is left naming a team or category that is gone."""
    if old == new:
        return
    for row in SavedView.select().order_by(SavedView.id):
        query = rename_value(row.query, key, old, new)
        if query != row.query:
            SavedView.update(query=query).where(SavedView.id == row.id).execute()
            audit.record(
                actor,
                "update",
                "saved_view",
                row.id,
                f"updated view {row.name!r}: query ({key} {old!r} renamed to {new!r})",
                {"query": [row.query, query]},
            )


@transactional
def delete_view(actor: User, view_id: int) -> None:
    """Delete one of the actor's own saved views; anyone else's is 'not found'."""
    require(actor, "ticket.view_own")
    row = SavedView.get_or_none((SavedView.id == view_id) & (SavedView.user == actor.id))
    if row is None:
        raise NotFound(f"view {view_id} does not exist")
    records.delete(actor, row, "saved_view", f"view {row.name!r}")


def default_view(actor: User) -> View:
    """The view last used, if it still exists; else "All open" (staff) or "My tickets"."""
    available = views_for(actor)
    last = UserPreference.get_or_none(
        (UserPreference.user == actor.id) & (UserPreference.key == LAST_VIEW_KEY)
    )
    if last is not None:
        wanted = last.value.casefold()
        for view in available:
            if view.name.casefold() == wanted:
                return view
    fallback = STAFF_DEFAULT if is_staff(actor) else REQUESTER_DEFAULT
    return next(view for view in available if view.name == fallback)


@transactional
def remember_view(actor: User, name: str) -> None:
    """Remember ``name`` as the actor's last used view (a preference: not audited)."""
    require(actor, "ticket.view_own")
    _set_preference(actor, LAST_VIEW_KEY, clean(name, "view name", max_len=NAME_MAX))


def _set_preference(actor: User, key: str, value: str) -> None:
    where = (UserPreference.user == actor.id) & (UserPreference.key == key)
    row = UserPreference.get_or_none(where)
    if row is not None:
        if row.value != value:
            UserPreference.update(value=value).where(UserPreference.id == row.id).execute()
        return
    try:
        with database.atomic():  # a savepoint: a concurrent insert must not end the transaction
            UserPreference.create(user=actor.id, key=key, value=value)
    except IntegrityError:  # another session of this user inserted it first
        UserPreference.update(value=value).where(where).execute()
