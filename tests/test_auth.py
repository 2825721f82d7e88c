"""Passwords and login: rules, one generic error, dummy hash, lockout, every attempt recorded."""

from datetime import timedelta

import bcrypt
import pytest

from itsm_tui import config
from itsm_tui.core import auth, clock, users
from itsm_tui.core.errors import AuthError, PermissionDenied, ValidationError
from itsm_tui.core.models import AuditEntry, User


def test_password_rules_each_have_their_own_message():
    with pytest.raises(ValidationError, match="too short: at least 12 characters"):
        auth.validate_password("short-pass")
    with pytest.raises(ValidationError, match="too long: 74 bytes in UTF-8, at most 72"):
        auth.validate_password("é" * 37)  # 37 characters, 74 bytes
    with pytest.raises(ValidationError, match="required"):
        auth.validate_password("")
    assert auth.validate_password("x" * 72) == "x" * 72
    assert auth.validate_password("王" * 24) == "王" * 24  # 24 characters, 72 bytes


def test_default_cost_is_12(monkeypatch):
    monkeypatch.delenv("ITSM_BCRYPT_COST")
    config.override_settings(None)
    try:
        assert auth.hash_password("a-long-enough-password").startswith("$2b$12$")
    finally:
        config.override_settings(None)


def test_cost_is_configurable(monkeypatch):
    monkeypatch.setenv("ITSM_BCRYPT_COST", "5")
    config.override_settings(None)
    try:
        assert auth.hash_password("a-long-enough-password").startswith("$2b$05$")
    finally:
        config.override_settings(None)


def test_oversize_password_rejected_on_create_and_nothing_written(system):
    before = User.select().count()
    with pytest.raises(ValidationError, match="at most 72"):
        users.create_user(system, "zoe", "agent", password="ö" * 40)
    assert User.select().count() == before
    assert not AuditEntry.select().where(AuditEntry.entity_type == "user").exists()


def test_login_succeeds_and_is_recorded(people):
    user = auth.login("Agent", "agent-password-1")  # usernames are case-insensitive
    assert user.username == "agent" and user.last_login_at is not None
    entry = AuditEntry.select().where(AuditEntry.action == "login").get()
    assert entry.actor_id == user.id and entry.entity_id == user.id


def test_one_generic_error_for_unknown_wrong_and_disabled(people, system):
    agent = people["agent"]
    users.update_user(system, agent.id, agent.version, is_active=False)
    messages = set()
    for name, password in (("nobody", "whatever-password"), ("supervisor", "wrong-password-1"),
                           ("agent", "agent-password-1"), ("", ""), ("supervisor", "é" * 80)):
        with pytest.raises(AuthError) as caught:
            auth.login(name, password)
        messages.add(str(caught.value))
    assert messages == {auth.GENERIC_ERROR}
    failures = AuditEntry.select().where(AuditEntry.action == "login_failed").count()
    assert failures == 5  # every attempt recorded


def test_unknown_user_is_checked_against_a_dummy_hash(people, monkeypatch):
    checked = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checked.append(hashed) or real(pw, hashed))
    with pytest.raises(AuthError):
        auth.login("ghost", "some-password-123")
    assert len(checked) == 1  # same work as for a real user: no timing oracle


def test_lockout_after_five_failures_and_release_after_fifteen_minutes(people):
    start = clock.now()
    with clock.frozen(start):
        for _ in range(5):
            with pytest.raises(AuthError, match="invalid username or password"):
                auth.login("agent", "wrong-password-x")
        with pytest.raises(AuthError, match=r"locked .* try again at .* \(in 15 minutes\)"):
            auth.login("agent", "agent-password-1")  # even the right password
    assert User.get(User.username == "agent").locked_until == start + timedelta(minutes=15)
    with clock.frozen(start + timedelta(minutes=14)):
        with pytest.raises(AuthError, match="locked"):
            auth.login("agent", "agent-password-1")
    with clock.frozen(start + timedelta(minutes=15, seconds=1)):
        assert auth.login("agent", "agent-password-1").username == "agent"
    assert User.get(User.username == "agent").failed_logins == 0


def test_success_resets_the_failure_count(people):
    for _ in range(4):
        with pytest.raises(AuthError):
            auth.login("agent", "wrong-password-x")
    auth.login("agent", "agent-password-1")
    for _ in range(4):
        with pytest.raises(AuthError, match="invalid"):
            auth.login("agent", "wrong-password-x")
    assert User.get(User.username == "agent").locked_until is None


def test_lockout_is_configurable(people, monkeypatch):
    config.override_settings(config.Settings(bcrypt_cost=4, lockout_threshold=2, lockout_minutes=1))
    start = clock.now()
    with clock.frozen(start):
        for _ in range(2):
            with pytest.raises(AuthError):
                auth.login("agent", "wrong-password-x")
    assert User.get(User.username == "agent").locked_until == start + timedelta(minutes=1)


def test_admin_unlocks_and_resets_password(people):
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login("agent", "wrong-password-x")
    admin, agent = people["admin"], people["agent"]
    with pytest.raises(PermissionDenied):
        users.unlock(people["supervisor"], agent.id)
    users.unlock(admin, agent.id)
    assert auth.login("agent", "agent-password-1")
    users.reset_password(admin, agent.id, "a-brand-new-password")
    with pytest.raises(AuthError):
        auth.login("agent", "agent-password-1")
    assert auth.login("agent", "a-brand-new-password")
    actions = [e.action for e in AuditEntry.select().where(AuditEntry.actor == admin.id)]
    assert "unlock" in actions and "password_reset" in actions


def test_user_without_password_cannot_log_in(system):
    users.create_user(system, "imported", "requester")
    with pytest.raises(AuthError, match="invalid username or password"):
        auth.login("imported", "")
    with pytest.raises(AuthError):
        auth.login("system", "anything-at-all-1")
