"""Passwords and login: bcrypt, one generic error, a dummy hash for unknown users, lockout per
account and source; a login rehashes a password stored at another cost than the configured one."""

from __future__ import annotations

import functools
import os
from datetime import timedelta

import bcrypt
from peewee import fn

from itsm_tui.core import clock, config
from itsm_tui.core.errors import AuthError, ValidationError
from itsm_tui.core.people.permissions import start_session
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import LoginThrottle, User

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it instead of truncating
GENERIC_ERROR = "invalid username or password"


def validate_password(password: object) -> str:
    if not isinstance(password, str) or not password:
        raise ValidationError("password is required", "password")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"password is too short: at least {MIN_PASSWORD_CHARS} characters", "password")
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise ValidationError(
            f"password is too long: {size} bytes in UTF-8, at most {MAX_PASSWORD_BYTES} "
            "(accented and non-Latin letters take 2 to 4 bytes each)",
            "password",
        )
    return password


def hash_password(password: str) -> str:
    validate_password(password)
    salt = bcrypt.gensalt(rounds=config.settings().bcrypt_cost)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def _verify(password: str, hashed: str) -> bool:
    raw = password.encode("utf-8") if isinstance(password, str) else b""
    if not raw or len(raw) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"never a password", hashed.encode("ascii"))  # the same time as any try
        return False
    return bcrypt.checkpw(raw, hashed.encode("ascii"))


@functools.lru_cache(maxsize=4)
def _dummy_hash(cost: int) -> str:
    return bcrypt.hashpw(b"itsm-tui dummy password", bcrypt.gensalt(rounds=cost)).decode("ascii")


def _highest_cost() -> int:
    """The highest cost among the stored hashes (the configured one when there are none): an
    unknown username is checked at it, so it costs what a known one does even after
    ``bcrypt_cost`` changed (until their logins rehash them, hashes of both costs remain)."""
    highest = User.select(fn.MAX(fn.SUBSTR(User.password_hash, 5, 2))).scalar()  # "$2b$12$..."
    return int(highest) if highest else config.settings().bcrypt_cost


def _rehashed(password: str, hashed: str) -> str | None:
    """The password hashed at the configured cost, or None when ``hashed`` has that cost. The
    salt stays: it is what a session holds of its password (``permissions.start_session``),
    so a rehash ends no session."""
    cost = config.settings().bcrypt_cost
    if int(hashed[4:6]) == cost:
        return None
    return bcrypt.hashpw(password.encode("utf-8"), f"$2b${cost:02d}{hashed[6:29]}".encode("ascii")).decode(
        "ascii"
    )


def client_source() -> str:
    """Where this process's logins come from: the SSH client's address, else "local"."""
    for name in ("SSH_CLIENT", "SSH_CONNECTION"):
        words = os.environ.get(name, "").split()
        if words:
            return words[0]
    return "local"


def _clean_source(source: str | None) -> str:
    text = "".join(c for c in (source or client_source()) if c.isprintable() and not c.isspace())
    return text[:64] or "local"


def login(username: str, password: str, source: str | None = None) -> User:
    """Return the user, or raise AuthError with the one generic message.

    Unknown user, wrong password, disabled and locked accounts all answer alike and cost one
    bcrypt check each, at the same cost, so neither the message nor the time tells which
    accounts exist. ``source`` (default: ``client_source()``) is where the attempt comes
    from: failures lock that source out of the account after ``lockout_threshold``, and the
    account for every source only after ``account_lockout_threshold`` (within
    ``lockout_minutes``), so one abusive source cannot keep the rightful owner out. The user
    returned is a session (``permissions.start_session``). Slow on purpose (bcrypt): call it
    off the UI thread."""
    source = _clean_source(source)
    typed = (username or "").strip()
    name = typed.lower()[:64]
    user = User.get_or_none(User.username == name) if name else None
    hashed = user.password_hash if user and user.password_hash else None
    cost = _highest_cost()  # read for every attempt: the query's time tells nothing either
    ok = _verify(password, hashed or _dummy_hash(cost))
    if user is None:
        _record_unknown(typed, source)
        raise AuthError(GENERIC_ERROR)
    refusal = _refusal(user, source, hashed, ok)
    if refusal is None:
        _record_success(user, source, _rehashed(password, user.password_hash))  # bcrypt before the lock
        return start_session(User.get_by_id(user.id))
    _record_failure(user, source, refusal)
    raise AuthError(GENERIC_ERROR)


def _refusal(user: User, source: str, hashed: str | None, ok: bool) -> str | None:
    """Why a login to an existing account is refused (for the log only), or None."""
    now = clock.now()
    if user.locked_until and user.locked_until > now:
        return f"account locked for every source until {user.locked_until:%Y-%m-%d %H:%M} UTC"
    pair = LoginThrottle.get_or_none((LoginThrottle.user == user.id) & (LoginThrottle.source == source))
    if pair and pair.locked_until and pair.locked_until > now:
        return f"locked for this source until {pair.locked_until:%Y-%m-%d %H:%M} UTC"
    if not hashed:
        return "the account has no password"
    if not ok:
        return "wrong password"
    if not user.is_active:
        return "the account is disabled"
    return None


@transactional
def _record_success(user: User, source: str, rehashed: str | None) -> None:
    User.update(failed_logins=0, failed_since=None, locked_until=None, last_login_at=clock.now()).where(
        User.id == user.id
    ).execute()
    if rehashed:  # bookkeeping, not a change of password: no entry, no new version
        User.update(password_hash=rehashed).where(
            (User.id == user.id) & (User.password_hash == user.password_hash)
        ).execute()
    LoginThrottle.delete().where((LoginThrottle.user == user.id) & (LoginThrottle.source == source)).execute()
    audit.record(user, "login", "user", user.id, f"login succeeded for {user.username} from {source}")


@transactional
def _record_unknown(typed: str, source: str) -> None:
    # What was typed is never stored: it may be a password typed into the wrong field.
    audit.record(
        None,
        "login_failed",
        "user",
        None,
        f"login failed for an unknown username ({len(typed)} characters) from {source}",
    )


@transactional
def _record_failure(user: User, source: str, reason: str) -> None:
    if not reason.startswith(("account locked", "locked for this source")):
        settings, minutes = config.settings(), _lockout_minutes()
        LoginThrottle.insert(user=user.id, source=source, failures=0).on_conflict_ignore().execute()
        pair = (LoginThrottle.user == user.id) & (LoginThrottle.source == source)
        if _count(LoginThrottle, pair, LoginThrottle.failures, settings.lockout_threshold):
            reason += f"; {source} locked out of this account for {minutes} minutes"
        if _count(User, User.id == user.id, User.failed_logins, settings.account_lockout_threshold):
            reason += f"; account locked for every source for {minutes} minutes"
    audit.record(
        None, "login_failed", "user", user.id, f"login failed for {user.username} from {source}: {reason}"
    )


def _count(model, where, counter, threshold: int) -> bool:
    """Count one failure in ``model``'s row; lock it once ``threshold`` failures fall within
    ``lockout_minutes`` of the first. True when this failure set the lock.

    In SQL, so simultaneous failures all count; separate statements because MySQL evaluates
    the assignments of one UPDATE left to right on the new values."""
    now = clock.now()
    minutes = _lockout_minutes()
    window = now - timedelta(minutes=minutes)
    model.update({counter: 0, model.failed_since: now}).where(
        where & (model.failed_since.is_null() | (model.failed_since <= window))
    ).execute()
    model.update({counter: counter + 1}).where(where).execute()
    return bool(
        model.update(
            {counter: 0, model.failed_since: None, model.locked_until: now + timedelta(minutes=minutes)}
        )
        .where(where & (counter >= threshold))
        .execute()
    )


def _lockout_minutes() -> int:
    """``lockout_minutes``, at most ``config.MAX_LOCKOUT_MINUTES`` even in settings made in code
    (which skip the check): a time beyond any date would fail the failure's count."""
    return min(config.settings().lockout_minutes, config.MAX_LOCKOUT_MINUTES)
