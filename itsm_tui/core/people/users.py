"""User administration and look-ups. Admins manage users; staff may list them."""

from __future__ import annotations

import re

from itsm_tui.core.errors import NotFound, PermissionDenied, ValidationError
from itsm_tui.core.people.auth import hash_password
from itsm_tui.core.people.permissions import ADMIN, STAFF, keep_session, require
from itsm_tui.core.store import audit, records
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import ROLES, Department, LoginThrottle, User
from itsm_tui.core.text import clean, optional

SYSTEM_USERNAME = "system"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_username(username: object) -> str:
    name = clean(username, "username", max_len=64).lower()
    if not USERNAME_RE.match(name):
        raise ValidationError(
            "username must be 2 to 64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            "username",
        )
    return name


def validate_role(role: object) -> str:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}", "role")
    return role


def _email(value: object) -> str | None:
    email = optional(value, "email", max_len=254)
    if email and not EMAIL_RE.match(email):
        raise ValidationError(f"email {email!r} is not an e-mail address", "email")
    return email


def _department(value) -> Department | None:
    if value is None or value == "":
        return None
    if isinstance(value, Department):
        return value
    dept = Department.get_or_none(Department.name == value)
    if dept is None:
        raise ValidationError(f"no department named {value!r}", "department")
    return dept


def by_username(username: str) -> User:
    user = User.get_or_none(User.username == (username or "").strip().lower())
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def system_actor() -> User:
    """The built-in admin actor used by the CLI when no ``--as`` is given."""
    return by_username(SYSTEM_USERNAME)


def create_user(
    actor: User,
    username: str,
    role: str,
    full_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
    department: str | Department | None = None,
    is_active: bool = True,
    password_hash: str | None = None,
) -> User:
    """Create a user. ``password_hash`` lets bulk loaders reuse one hash (demo data only)."""
    require(actor, "user.manage")
    name = normalise_username(username)
    values = {
        "username": name,
        "full_name": clean(full_name or name, "full name", max_len=100),
        "role": validate_role(role),
        "email": _email(email),
        "department": _department(department),
        "is_active": bool(is_active),
    }
    # Hash before the transaction: bcrypt takes ~0.3 s and must not hold the write lock.
    values["password_hash"] = password_hash or (hash_password(password) if password else None)
    return _insert_user(actor, values)


@transactional
def _insert_user(actor: User, values: dict) -> User:
    if User.select().where(User.username == values["username"]).exists():
        raise ValidationError(f"username {values['username']!r} is taken", "username")
    row = records.create(
        actor,
        User,
        "user",
        f"user {values['username']}",
        {k: v for k, v in values.items() if k != "password_hash"},
    )
    if values["password_hash"]:
        User.update(password_hash=values["password_hash"]).where(User.id == row.id).execute()
    return User.get_by_id(row.id)


def list_users(actor: User, role: str | None = None, active: bool | None = None) -> list[User]:
    require(actor, "user.view")
    query = User.select().where(User.username != SYSTEM_USERNAME).order_by(User.username_key, User.id)
    if role:
        query = query.where(User.role == validate_role(role))
    if active is not None:
        query = query.where(User.is_active == active)
    return list(query)


@transactional
def update_user(actor: User, user_id: int | str, expected_version: int, **changes) -> User:
    """Change full name, email, department, role or active flag; the last admin stays an admin,
    and the built-in system user stays as it is (the command line and the jobs act as it).
    ``user_id`` may be a username, looked up once the actor may manage users (to anyone else,
    whether the name exists stays unsaid)."""
    require(actor, "user.manage")
    user = by_username(user_id) if isinstance(user_id, str) else records.get(User, user_id, "user")
    _changeable(user)
    values: dict = {}
    if "full_name" in changes:
        values["full_name"] = clean(changes["full_name"], "full name", max_len=100)
    if "email" in changes:
        values["email"] = _email(changes["email"])
    if "department" in changes:
        values["department"] = _department(changes["department"])
    if "role" in changes:
        values["role"] = validate_role(changes["role"])
    if "is_active" in changes:
        values["is_active"] = bool(changes["is_active"])
    unknown = set(changes) - {"full_name", "email", "department", "role", "is_active"}
    if unknown:
        raise ValidationError(f"cannot change {', '.join(sorted(unknown))} here")
    losing_admin = (
        user.role == ADMIN
        and user.is_active
        and (values.get("role", ADMIN) != ADMIN or not values.get("is_active", True))
    )
    if losing_admin and _active_admins(excluding=user.id) == 0:
        raise PermissionDenied(f"{user.username} is the last active admin and must stay one")
    return records.update(actor, user, expected_version, values, "user", f"user {user.username}")


def _changeable(user: User) -> None:
    """The built-in system user stays as it is: the command line and the background jobs act
    as it, and without a password no one can log in as it (and act unnamed)."""
    if user.username == SYSTEM_USERNAME:
        raise PermissionDenied(
            "the built-in system user cannot be changed: the command line and the background jobs act as it"
        )


def _active_admins(excluding: int) -> int:
    return (
        User.select()
        .where(
            (User.role == ADMIN)
            & User.is_active
            & (User.id != excluding)
            & (User.username != SYSTEM_USERNAME)
        )
        .count()
    )


def reset_password(actor: User, user_id: int, new_password: str) -> None:
    """Set a user's password and lift their locks. Their open sessions end at their next
    action (``permissions.require``), but the actor's own; their API tokens keep working."""
    require(actor, "user.manage")
    hashed = hash_password(new_password)
    _store_password(actor, user_id, hashed)
    if actor.id == user_id:
        keep_session(actor, hashed)


@transactional
def _store_password(actor: User, user_id: int, hashed: str) -> None:
    user = records.get(User, user_id, "user")
    _changeable(user)
    User.update(
        password_hash=hashed, failed_logins=0, failed_since=None, locked_until=None, version=User.version + 1
    ).where(User.id == user.id).execute()
    LoginThrottle.delete().where(LoginThrottle.user == user.id).execute()
    audit.record(
        actor,
        "password_reset",
        "user",
        user.id,
        f"reset the password of {user.username}",
        entity_version=user.version + 1,
    )


@transactional
def unlock(actor: User, user_id: int) -> None:
    """Lift every lock from failed logins: the account's and each source's."""
    require(actor, "user.unlock")
    user = records.get(User, user_id, "user")
    User.update(failed_logins=0, failed_since=None, locked_until=None).where(User.id == user.id).execute()
    sources = LoginThrottle.delete().where(LoginThrottle.user == user.id).execute()
    audit.record(
        actor,
        "unlock",
        "user",
        user.id,
        f"unlocked {user.username}"
        + (f" ({sources} source{'s' if sources != 1 else ''} cleared)" if sources else ""),
        {"locked_until": [audit.plain(user.locked_until), None]},
    )


def staff_member(username_or_user) -> User:
    """An active agent, supervisor or admin, e.g. to assign a ticket to."""
    user = username_or_user if isinstance(username_or_user, User) else by_username(username_or_user)
    if user.role not in STAFF or not user.is_active or user.username == SYSTEM_USERNAME:
        raise ValidationError(f"{user.username} is not an active agent", "assignee")
    return user
