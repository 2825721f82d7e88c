"""Personal API tokens: made by a user for themselves, shown once, kept as a hash.

A token reads ``itsm_<prefix>_<secret>``: the prefix (stored, shown in lists) finds the row, the
SHA-256 of the whole token (stored) proves it. The secret is 32 random bytes, so a plain hash is
enough (bcrypt's slowness guards guessable passwords, not random keys) and every request can be
checked in microseconds. A request made with a token acts as its user with that user's current
role; a read-only token never writes. Admins list and revoke anyone's tokens.

A password reset leaves a user's tokens working, as GitHub's and Jira's do: each is a credential
of its own, revoked on its own (``revoke``); disabling the user stops them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from itsm_tui.core import clock
from itsm_tui.core.errors import AuthError, NotFound, PermissionDenied, ValidationError
from itsm_tui.core.people.permissions import allowed, require
from itsm_tui.core.people.users import SYSTEM_USERNAME
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import ApiToken, User
from itsm_tui.core.text import clean

GENERIC_ERROR = "invalid or expired API token"
TOKEN_RE = re.compile(r"^itsm_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
EXPIRY_RE = re.compile(r"^([0-9]{1,4})([dw])$")
LAST_USED_EVERY = timedelta(minutes=1)  # last-used time is written at most this often per token


def parse_expiry(text: str | None) -> timedelta | None:
    """'90d' or '12w' as a length of time; None or '' for a token that never expires."""
    if not text:
        return None
    match = EXPIRY_RE.match(text.strip().lower())
    if not match or int(match[1]) == 0:
        raise ValidationError(f"expiry {text!r}: use a number of days or weeks, e.g. 90d or 12w", "expires")
    return timedelta(days=int(match[1]) * (7 if match[2] == "w" else 1))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@transactional
def create(
    actor: User, name: str, expires: timedelta | None = None, read_only: bool = False
) -> tuple[ApiToken, str]:
    """A new token for ``actor`` themselves: (the row, the token, shown only now). Never for the
    built-in system user: an admin credential that is no one's, it would outlive whoever made it."""
    require(actor, "ticket.view_own")  # any active user
    if actor.username == SYSTEM_USERNAME:
        raise PermissionDenied(
            "the built-in system user cannot have API tokens: a token is a person's; make it as that person"
        )
    label = clean(name, "name", max_len=60)
    if (
        ApiToken.select()
        .where((ApiToken.user == actor.id) & (ApiToken.name == label) & ApiToken.revoked_at.is_null())
        .exists()
    ):
        raise ValidationError(
            f"you already have a token named {label!r}; revoke it or pick another name", "name"
        )
    prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    token = f"itsm_{prefix}_{secrets.token_urlsafe(32)}"
    now = clock.now()
    row = ApiToken.create(
        user=actor,
        name=label,
        prefix=prefix,
        token_hash=digest(token),
        read_only=bool(read_only),
        created_at=now,
        expires_at=now + expires if expires else None,
    )
    audit.record(
        actor,
        "token_create",
        "user",
        actor.id,
        f"created API token {label} ({prefix}{', read-only' if read_only else ''})",
    )
    return row, token


def list_tokens(actor: User, everyone: bool = False) -> list[ApiToken]:
    """The actor's own tokens, or (admins, ``everyone``) every user's; newest first."""
    require(actor, "token.manage_any" if everyone else "ticket.view_own")
    query = (
        ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if not everyone:
        query = query.where(ApiToken.user == actor.id)
    return list(query)


@transactional
def revoke(actor: User, token_id_or_prefix: int | str) -> ApiToken:
    """Revoke one of the actor's tokens (admins: anyone's), by id or prefix."""
    require(actor, "ticket.view_own")
    key = str(token_id_or_prefix).strip()
    row = ApiToken.get_or_none(ApiToken.prefix == key)
    if row is None and key.isdigit() and len(key) < 10:
        row = ApiToken.get_or_none(ApiToken.id == int(key))
    if row is None or (row.user_id != actor.id and not allowed(actor.role, "token.manage_any")):
        raise NotFound(f"no API token {key!r}")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        ApiToken.update(revoked_at=row.revoked_at).where(ApiToken.id == row.id).execute()
        owner = User.get_by_id(row.user_id)
        audit.record(
            actor,
            "token_revoke",
            "user",
            owner.id,
            f"revoked API token {row.name} ({row.prefix}) of {owner.username}",
        )
    return row


LAPSED = ("revoked", "expired")


def state(row: ApiToken, now: datetime | None = None) -> str:
    """What the token can do now: ``revoked``, ``expired`` (both :data:`LAPSED`), ``read-only``
    or ``read-write``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or clock.now()):
        return "expired"
    return "read-only" if row.read_only else "read-write"


def authenticate(token: str, now: datetime | None = None) -> tuple[User, ApiToken]:
    """The active user and the token behind a bearer token, or AuthError with one generic
    message whatever was wrong (malformed, unknown, revoked, expired, disabled user)."""
    match = TOKEN_RE.match(token or "")
    row = ApiToken.get_or_none(ApiToken.prefix == match[1]) if match else None
    now = now or clock.now()
    if row is None or not hmac.compare_digest(row.token_hash, digest(token)) or state(row, now) in LAPSED:
        raise AuthError(GENERIC_ERROR)
    user = User.get_or_none(User.id == row.user_id)
    if user is None or not user.is_active:
        raise AuthError(GENERIC_ERROR)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
        row.last_used_at = now
    return user, row


def may_write(token: ApiToken) -> None:
    if token.read_only:
        raise PermissionDenied(f"the API token {token.name} is read-only")
