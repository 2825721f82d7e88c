"""Self-service sign-up: off by default; for allowed domains, a one-time code by mail (expiring,
single use, limited guesses and requests, the same answer whether or not the address has an
account) sets the password of the requester account the person's mails already made."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from mail_helpers import desk, ingest, message, outbox

from itsm_tui.core import clock
from itsm_tui.core.errors import AuthError, PermissionDenied
from itsm_tui.core.mail import signup
from itsm_tui.core.people import auth
from itsm_tui.core.store.models import Ticket, User

NOW = datetime(2026, 3, 2, 10, 0)
PASSWORD = "a-long-password-1"


@pytest.fixture
def open_signup(desk, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_SIGNUP", "yes")


def _code() -> str:
    return re.search(r"\b(\d{8})\b", outbox()[-1].get_content()).group(1)


def test_signup_is_off_by_default(engine, system, desk):
    with pytest.raises(PermissionDenied, match="sign-up is off"):
        signup.request_code("anna@example.org")


def test_a_code_sets_the_password_of_the_account_mails_made(engine, system, open_signup):
    made = User.get_by_id(Ticket.get_by_id(ingest(message()).ticket_id).requester_id)
    with clock.frozen(NOW):
        signup.request_code("Anna@Example.org")
        code = _code()
        with pytest.raises(AuthError, match="wrong or has expired"):
            signup.complete("anna@example.org", "00000000" if code != "00000000" else "11111111", PASSWORD)
        user = signup.complete("anna@example.org", code, PASSWORD)
        assert user.id == made.id and user.role == "requester"
        assert auth.login(user.username, PASSWORD).id == made.id
        with pytest.raises(AuthError):  # single use
            signup.complete("anna@example.org", code, PASSWORD)


def test_codes_expire_and_guesses_are_limited(engine, system, open_signup):
    with clock.frozen(NOW):
        signup.request_code("new.person@example.org")
        late = _code()
    with clock.frozen(NOW + timedelta(minutes=signup.CODE_MINUTES + 1)), pytest.raises(AuthError):
        signup.complete("new.person@example.org", late, PASSWORD)
    with clock.frozen(NOW + timedelta(hours=2)):
        signup.request_code("new.person@example.org")
        code = _code()
        for _ in range(signup.MAX_ATTEMPTS):
            with pytest.raises(AuthError):
                signup.complete("new.person@example.org", "x", PASSWORD)
        with pytest.raises(AuthError):  # even the right code, after too many guesses
            signup.complete("new.person@example.org", code, PASSWORD)
    assert not User.select().where(User.email == "new.person@example.org").exists()


def test_the_same_answer_for_accounts_that_exist_and_requests_are_limited(engine, people, open_signup):
    from itsm_tui.core.people import users

    users.update_user(people["admin"], people["agent"].id, people["agent"].version, email="agent@example.org")
    assert signup.request_code("agent@example.org") is None  # staff (with a password): nothing sent
    assert outbox() == []
    with clock.frozen(NOW):
        for _ in range(signup.CODES_PER_HOUR + 2):
            assert signup.request_code("someone@example.org") is None
    assert len(outbox()) == signup.CODES_PER_HOUR
    with pytest.raises(PermissionDenied, match="not open to addresses at elsewhere.net"):
        signup.request_code("x@elsewhere.net")
