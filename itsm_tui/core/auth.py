"""Passwords and login: bcrypt, one generic error, a dummy hash for unknown users, lockout."""

from __future__ import annotations

import functools
from datetime import timedelta

import bcrypt
from .. import config
from . import audit, clock
from .db import transactional
from .errors import AuthError, ValidationError
from .models import User

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it instead of truncating
GENERIC_ERROR = "invalid username or password"


def validate_password(password: object) -> str:
    if not isinstance(password, str) or not password:
        raise ValidationError("password is required", "password")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(
            f"password is too short: at least {MIN_PASSWORD_CHARS} characters", "password"
        )
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
        return False
    return bcrypt.checkpw(raw, hashed.encode("ascii"))


@functools.lru_cache(maxsize=4)
def _dummy_hash(cost: int) -> str:
    return bcrypt.hashpw(b"itsm-tui dummy password", bcrypt.gensalt(rounds=cost)).decode("ascii")


def login(username: str, password: str) -> User:
    """Return the user, or raise AuthError. Slow on purpose (bcrypt): call it off the UI thread."""
    name = (username or "").strip().lower()[:64]
    user = User.get_or_none(User.username == name) if name else None
    now = clock.now()
    hashed = user.password_hash if user and user.password_hash else None
    ok = _verify(password, hashed or _dummy_hash(config.settings().bcrypt_cost))
    if user and user.locked_until and user.locked_until > now:
        _record_failure(user, name, "account locked")
        minutes = max(1, int((user.locked_until - now).total_seconds() + 59) // 60)
        raise AuthError(
            f"this account is locked after too many failed logins; try again at "
            f"{user.locked_until:%H:%M} UTC (in {minutes} minute{'s' if minutes != 1 else ''})"
        )
    if user and hashed and ok and user.is_active:
        _record_success(user)
        return User.get_by_id(user.id)
    _record_failure(user, name, "bad credentials" if user else "unknown user")
    raise AuthError(GENERIC_ERROR)


@transactional
def _record_success(user: User) -> None:
    now = clock.now()
    User.update(failed_logins=0, locked_until=None, last_login_at=now).where(
        User.id == user.id
    ).execute()
    audit.record(user, "login", "user", user.id, f"login succeeded for {user.username}")


@transactional
def _record_failure(user: User | None, name: str, reason: str) -> None:
    if user is None:
        audit.record(None, "login_failed", "user", None, f"login failed for {name!r}: {reason}")
        return
    settings = config.settings()
    already_locked = user.locked_until and user.locked_until > clock.now()
    if not already_locked:
        # Counted in SQL so two simultaneous failures both count; two statements because
        # MySQL evaluates the assignments of one UPDATE left to right on the new values.
        User.update(failed_logins=User.failed_logins + 1).where(User.id == user.id).execute()
        locked = (
            User.update(
                failed_logins=0,
                locked_until=clock.now() + timedelta(minutes=settings.lockout_minutes),
            )
            .where((User.id == user.id) & (User.failed_logins >= settings.lockout_threshold))
            .execute()
        )
        if locked:
            reason += f"; account locked for {settings.lockout_minutes} minutes"
    audit.record(None, "login_failed", "user", user.id, f"login failed for {name!r}: {reason}")
