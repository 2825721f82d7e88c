"""The role matrix: one table that every service consults (and the README reproduces).

Ownership rules (a requester acts only on tickets they requested) live in the ticket service,
next to the data they need; this table says which roles may attempt an action at all.
"""

from __future__ import annotations

from itsm_tui.core.errors import PermissionDenied
from itsm_tui.core.store import statements
from itsm_tui.core.store.models import User

REQUESTER, AGENT, SUPERVISOR, ADMIN = "requester", "agent", "supervisor", "admin"
STAFF = frozenset({AGENT, SUPERVISOR, ADMIN})
EVERYONE = frozenset({REQUESTER}) | STAFF

# action -> (roles allowed, what it means). Keep the descriptions short: the README shows them.
MATRIX: dict[str, tuple[frozenset[str], str]] = {
    "ticket.view_own": (EVERYONE, "see and follow tickets they requested"),
    "ticket.create": (EVERYONE, "open a ticket (requesters for themselves only)"),
    "ticket.comment": (EVERYONE, "add a public comment (requesters on their own tickets)"),
    "ticket.reopen_own": (EVERYONE, "reopen or close their own resolved ticket"),
    "ticket.view_all": (STAFF, "see every ticket, internal notes included"),
    "ticket.note": (STAFF, "add an internal note"),
    "ticket.work": (STAFF, "edit, change status, set impact/urgency/priority, link assets"),
    "ticket.assign_self": (STAFF, "assign a ticket to themselves"),
    "ticket.create_for_other": (STAFF, "open a ticket on behalf of another user"),
    "ticket.assign_other": (frozenset({SUPERVISOR, ADMIN}), "assign a ticket to another agent"),
    # issue 21: edits, deletes, merges and links of tickets; categories
    "ticket.edit": (STAFF, "edit a ticket's title, description and category"),
    "ticket.link": (STAFF, "link tickets (related, parent/child, duplicate, cause)"),
    "ticket.tag": (STAFF, "add and remove a ticket's tags"),
    "ticket.merge": (STAFF, "merge a duplicate ticket into another"),
    "ticket.delete": (frozenset({ADMIN}), "delete a ticket with its comments and attachments"),
    "category.manage": (frozenset({ADMIN}), "add, rename, deactivate and merge categories"),
    "inventory.view": (STAFF, "see systems, peripherals, stock, departments, networks"),
    "inventory.edit": (STAFF, "add, edit and delete inventory; adjust stock"),
    "audit.view_work": (STAFF, "read ticket and inventory history"),
    "audit.view_all": (frozenset({SUPERVISOR, ADMIN}), "read the whole log, logins included"),
    "analytics.view": (frozenset({SUPERVISOR, ADMIN}), "see analytics for the whole desk"),
    "analytics.view_own": (STAFF, "see analytics of the tickets assigned to them"),
    "user.view": (STAFF, "list users (to pick requesters and assignees)"),
    "user.manage": (frozenset({ADMIN}), "create users, change roles, disable, reset passwords"),
    "user.unlock": (frozenset({SUPERVISOR, ADMIN}), "unlock an account locked by failed logins"),
    "settings.manage": (frozenset({ADMIN}), "edit settings, load demo data"),
    "team.manage": (frozenset({ADMIN}), "create and rename teams, add and remove members"),
    "macro.manage": (frozenset({SUPERVISOR, ADMIN}), "create, edit and delete macros (canned replies)"),
    "macro.apply": (STAFF, "apply a macro to tickets"),
    "import.run": (frozenset({ADMIN}), "import tickets and inventory from other tools' files"),
    "token.manage_any": (frozenset({ADMIN}), "list and revoke anyone's API tokens"),
}


class SessionEnded(PermissionDenied):
    """The actor may no longer act at all: disabled, or (a session) their password was set by
    someone else. For a terminal session: back to the login screen."""


def allowed(role: str, action: str) -> bool:
    return role in MATRIX[action][0]


def _stamp(password_hash: str | None) -> str | None:
    """What a session holds of its password: the bcrypt salt, new with every password set and
    kept when a login rehashes it at another cost."""
    return password_hash[7:29] if password_hash else None


def start_session(user: User) -> User:
    """``user``, just logged in with their password, as a session: ``require`` ends it once
    their password is set anew, but by the session itself (``keep_session``). Others acting
    as a user (API tokens, the command line's ``--as``, e-mail) hold no stamp: a password
    reset leaves them be."""
    user.session_stamp = _stamp(user.password_hash)
    return user


def keep_session(actor, password_hash: str) -> None:
    """``actor`` set their own password: their session goes on (their other sessions end)."""
    if getattr(actor, "session_stamp", None) is not None:
        actor.session_stamp = _stamp(password_hash)


def _standing(clauses):
    return User.select(User.role, User.is_active, User.password_hash).where(*clauses).limit(1)


def require(actor, action: str) -> None:
    """Raise PermissionDenied unless ``actor`` (an active user) may perform ``action``.

    Role, active flag and password are read from the database, not from the caller's copy: an
    operator disabled or demoted while logged in loses the rights at their next action, and a
    session whose password someone else set (an admin's reset) ends there.
    """
    found = statements.dicts(_standing, [User.id == actor.id], ("standing",))
    if not found or not found[0]["is_active"]:
        raise SessionEnded(f"{actor.username} is disabled")
    held = getattr(actor, "session_stamp", None)
    if held is not None and _stamp(found[0]["password_hash"]) != held:
        raise SessionEnded(f"the password of {actor.username} was changed: log in again")
    actor.role, actor.is_active = found[0]["role"], found[0]["is_active"]
    if not allowed(actor.role, action):
        raise PermissionDenied(f"{a_role(actor.role)} may not {MATRIX[action][1]}")


def a_role(role: str) -> str:
    """ "an agent", "an admin", "a supervisor": the role with its article, for messages."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def is_staff(actor) -> bool:
    return actor.role in STAFF
