"""Self-service sign-up: a person of an allowed domain gets a one-time code by mail and sets a
password for their requester account (the one their mails already made, or a new one).

Off unless ``signup`` is on in ``[mail]``. The code is random, stored only as its hash, expires
after ``CODE_MINUTES``, works once and allows ``MAX_ATTEMPTS`` guesses; an address gets at most
``CODES_PER_HOUR`` codes. Asking gives the same answer whether or not the address has an account
(staff accounts, and accounts that already have a password, are sent nothing), so nobody learns
who is registered.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from peewee import fn

from itsm_tui.core import clock, config
from itsm_tui.core.config import ConfigError
from itsm_tui.core.errors import AuthError, PermissionDenied, ValidationError
from itsm_tui.core.mail import intake
from itsm_tui.core.notify import mailer
from itsm_tui.core.people import users
from itsm_tui.core.people.auth import hash_password
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import SignupCode, User

CODE_MINUTES = 15
CODES_PER_HOUR = 3
MAX_ATTEMPTS = 5
WRONG = "the code is wrong or has expired: ask for a new one"
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def enabled() -> bool:
    """Whether the login screen offers sign-up (a broken [mail] setting: not offered; the
    intake and the CLI report it)."""
    try:
        return config.mail_settings().signup
    except ConfigError:
        return False


def _address(value: str) -> str:
    address = (value or "").strip().lower()
    if not _ADDRESS.match(address) or len(address) > 254:
        raise ValidationError(f"{value!r} is not an e-mail address", "email")
    settings = config.mail_settings()
    if not settings.signup:
        raise PermissionDenied("self-service sign-up is off: ask your IT department for an account")
    if not settings.allows(address.rpartition("@")[2]):
        raise PermissionDenied(f"sign-up is not open to addresses at {address.rpartition('@')[2]}")
    return address


def _account(address: str) -> User | None:
    return User.select().where(fn.LOWER(User.email) == address).order_by(User.id).first()


@transactional
def request_code(email: str) -> None:
    """Mail a code to ``email`` when it may sign up; says nothing about whether it has an account."""
    address = _address(email)
    if mailer.settings() is None:
        raise ConfigError("sign-up needs outgoing e-mail: set ITSM_SMTP_HOST")
    now = clock.now()
    recent = SignupCode.select().where(
        SignupCode.email == address, SignupCode.created_at > now - timedelta(hours=1)
    )
    account = _account(address)
    if recent.count() >= CODES_PER_HOUR:
        return
    if account is not None and (
        account.role != "requester" or account.password_hash or not account.is_active
    ):
        return
    code = f"{secrets.randbelow(10**8):08d}"
    SignupCode.create(
        email=address, code_hash=_hash(code), expires_at=now + timedelta(minutes=CODE_MINUTES), created_at=now
    )
    mailer.signup_code(address, code, CODE_MINUTES)


def complete(email: str, code: str, password: str) -> User:
    """Set the password of ``email``'s requester account (made now if it has none) with a code
    from ``request_code``; returns the account (its username is what to log in with)."""
    address = _address(email)
    hash_password(password)  # a password that cannot be used is said before the code is spent
    user = _redeem(address, (code or "").strip())
    if user is None:
        raise AuthError(WRONG)
    users.reset_password(users.system_actor(), user.id, password)
    return User.get_by_id(user.id)


@transactional
def _redeem(address: str, code: str) -> User | None:
    """The account the code opens, or None (a wrong guess is counted: kept, not rolled back)."""
    now = clock.now()
    row = (
        SignupCode.select()
        .where(SignupCode.email == address, SignupCode.used_at.is_null(), SignupCode.expires_at > now)
        .order_by(SignupCode.id.desc())
        .first()
    )
    if row is None or row.attempts >= MAX_ATTEMPTS:
        return None
    if not hmac.compare_digest(row.code_hash, _hash(code)):
        SignupCode.update(attempts=SignupCode.attempts + 1).where(SignupCode.id == row.id).execute()
        return None
    SignupCode.update(used_at=now).where(SignupCode.id == row.id).execute()
    return _account(address) or intake.new_requester(address, "")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()
