"""Passwords and login: rules, one generic error, dummy hash, lockout, every attempt recorded."""

from datetime import timedelta

import bcrypt
import pytest

from itsm_tui.core import clock, config
from itsm_tui.core.errors import AuthError, PermissionDenied, ValidationError
from itsm_tui.core.people import auth, users
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store.models import AuditEntry, User


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


def _fail(name, times, source="local", password="wrong-password-x"):
    for _ in range(times):
        with pytest.raises(AuthError, match="^invalid username or password$"):
            auth.login(name, password, source=source)


def test_one_generic_error_for_unknown_wrong_disabled_and_locked(people, system, monkeypatch):
    agent = people["agent"]
    users.update_user(system, agent.id, agent.version, is_active=False)
    _fail("admin", 5, source="203.0.113.9")  # admin is now locked for that source
    checked = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checked.append(hashed) or real(pw, hashed))
    messages = set()
    attempts = (
        ("nobody", "whatever-password", "local"),
        ("supervisor", "wrong-password-1", "local"),
        ("agent", "agent-password-1", "local"),
        ("", "", "local"),
        ("supervisor", "é" * 80, "local"),
        ("admin", "admin-password-1", "203.0.113.9"),
    )
    for name, password, source in attempts:
        with pytest.raises(AuthError) as caught:
            auth.login(name, password, source=source)
        messages.add(str(caught.value))
    assert messages == {auth.GENERIC_ERROR}
    assert len(checked) == len(attempts)  # the same work every time: no timing oracle
    failures = AuditEntry.select().where(AuditEntry.action == "login_failed").count()
    assert failures == 5 + len(attempts)  # every attempt recorded


def test_unknown_user_is_checked_against_a_dummy_hash(people, monkeypatch):
    checked = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checked.append(hashed) or real(pw, hashed))
    with pytest.raises(AuthError):
        auth.login("ghost", "some-password-123")
    assert len(checked) == 1  # same work as for a real user: no timing oracle


def test_what_was_typed_as_an_unknown_username_is_never_stored(people):
    with pytest.raises(AuthError):
        auth.login("My-Secret-Pa55word", "x", source="198.51.100.4")
    entry = AuditEntry.select().where(AuditEntry.action == "login_failed").get()
    assert "pa55word" not in entry.summary.lower()
    assert entry.summary == "login failed for an unknown username (18 characters) from 198.51.100.4"
    assert entry.actor_id is None and entry.entity_id is None


def test_failures_lock_only_the_source_they_come_from(people):
    start = clock.now()
    with clock.frozen(start):
        _fail("agent", 5, source="203.0.113.9")
        _fail("agent", 1, source="203.0.113.9", password="agent-password-1")  # even the right one
        assert auth.login("agent", "agent-password-1", source="10.1.2.3").username == "agent"
    assert User.get(User.username == "agent").locked_until is None  # the account is not locked
    with clock.frozen(start + timedelta(minutes=14)):
        _fail("agent", 1, source="203.0.113.9", password="agent-password-1")
    with clock.frozen(start + timedelta(minutes=15, seconds=1)):
        assert auth.login("agent", "agent-password-1", source="203.0.113.9").username == "agent"
    summaries = [e.summary for e in AuditEntry.select().where(AuditEntry.action == "login_failed")]
    assert any("203.0.113.9 locked out of this account for 15 minutes" in s for s in summaries)


def test_many_sources_lock_the_account_for_every_source_until_it_expires(people):
    config.override_settings(
        config.Settings(bcrypt_cost=4, lockout_threshold=3, account_lockout_threshold=6, lockout_minutes=10)
    )
    start = clock.now()
    with clock.frozen(start):
        _fail("agent", 3, source="198.51.100.1")
        _fail("agent", 3, source="198.51.100.2")
        _fail("agent", 1, source="10.9.9.9", password="agent-password-1")
    assert User.get(User.username == "agent").locked_until == start + timedelta(minutes=10)
    with clock.frozen(start + timedelta(minutes=10, seconds=1)):
        assert auth.login("agent", "agent-password-1", source="10.9.9.9").username == "agent"
    assert User.get(User.username == "agent").failed_logins == 0
    last = AuditEntry.select().where(AuditEntry.action == "login_failed").order_by(AuditEntry.id)
    assert any("account locked for every source for 10 minutes" in e.summary for e in last)


def test_one_abusive_source_never_keeps_the_owner_out(people):
    """An attacker guessing from one address all day: the owner, elsewhere, always gets in."""
    start = clock.now()
    for hour in range(12):
        for quarter in range(4):
            with clock.frozen(start + timedelta(hours=hour, minutes=15 * quarter + 1)):
                _fail("admin", 6, source="203.0.113.66")
        with clock.frozen(start + timedelta(hours=hour, minutes=59)):
            assert auth.login("admin", "admin-password-1", source="10.0.0.5").username == "admin"
    assert User.get(User.username == "admin").locked_until is None


def test_failures_spread_beyond_the_window_do_not_add_up(people):
    start = clock.now()
    with clock.frozen(start):
        _fail("agent", 4)
    with clock.frozen(start + timedelta(minutes=16)):
        _fail("agent", 4)
        assert auth.login("agent", "agent-password-1").username == "agent"


def test_success_resets_the_failure_count(people):
    _fail("agent", 4)
    auth.login("agent", "agent-password-1")
    _fail("agent", 4)
    assert auth.login("agent", "agent-password-1").username == "agent"


def test_lockout_is_configurable(people, monkeypatch):
    config.override_settings(
        config.Settings(bcrypt_cost=4, lockout_threshold=2, lockout_minutes=1, account_lockout_threshold=2)
    )
    start = clock.now()
    with clock.frozen(start):
        _fail("agent", 2)
    assert User.get(User.username == "agent").locked_until == start + timedelta(minutes=1)


def test_the_source_is_the_ssh_client_address(people, monkeypatch):
    monkeypatch.setenv("SSH_CLIENT", "203.0.113.9 51234 22")
    assert auth.client_source() == "203.0.113.9"
    auth.login("agent", "agent-password-1")
    entry = AuditEntry.select().where(AuditEntry.action == "login").get()
    assert entry.summary == "login succeeded for agent from 203.0.113.9"
    monkeypatch.delenv("SSH_CLIENT")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    assert auth.client_source() == "local"


def test_supervisors_and_admins_unlock_and_admins_reset_passwords(people):
    _fail("agent", 5)
    admin, agent, supervisor = people["admin"], people["agent"], people["supervisor"]
    with pytest.raises(PermissionDenied):
        users.unlock(people["requester"], agent.id)
    with pytest.raises(PermissionDenied):
        users.unlock(people["agent2"], agent.id)
    users.unlock(supervisor, agent.id)
    assert auth.login("agent", "agent-password-1")
    _fail("agent", 5)
    with pytest.raises(PermissionDenied):
        users.reset_password(supervisor, agent.id, "a-brand-new-password")
    users.reset_password(admin, agent.id, "a-brand-new-password")  # also lifts the locks
    with pytest.raises(AuthError):
        auth.login("agent", "agent-password-1")
    assert auth.login("agent", "a-brand-new-password")
    actions = {(e.actor_id, e.action) for e in AuditEntry.select()}
    assert (supervisor.id, "unlock") in actions and (admin.id, "password_reset") in actions


def test_user_without_password_cannot_log_in(system):
    users.create_user(system, "imported", "requester")
    with pytest.raises(AuthError, match="invalid username or password"):
        auth.login("imported", "")
    with pytest.raises(AuthError):
        auth.login("system", "anything-at-all-1")


def test_no_one_gives_the_system_user_a_password(system, people):
    """An admin who set it could log in as the built-in admin and act unnamed."""
    with pytest.raises(PermissionDenied, match="system user cannot be changed"):
        users.reset_password(people["admin"], system.id, "anything-at-all-1")
    with pytest.raises(AuthError):
        auth.login("system", "anything-at-all-1")
    assert User.get_by_id(system.id).password_hash is None


def _at_cost(cost, make):
    """``make()`` with passwords hashed at ``cost``; then the tests' cost again."""
    config.override_settings(config.Settings(bcrypt_cost=cost))
    try:
        return make()
    finally:
        config.override_settings(None)


def test_a_login_rehashes_a_password_stored_at_another_cost(people, system):
    """bcrypt_cost changed since the password was set (4 for the tests now): the first login
    stores it at the new cost, with the same salt, silently (the password is the same)."""
    user = _at_cost(5, lambda: users.create_user(system, "olduser", "agent", password="set-at-cost-5"))
    assert user.password_hash.startswith("$2b$05$")
    session = _at_cost(5, lambda: auth.login("olduser", "set-at-cost-5"))  # a session from before
    _fail("olduser", 1, password="a-wrong-password")  # only a right password can be rehashed
    assert User.get_by_id(user.id).password_hash == user.password_hash
    entries = AuditEntry.select().count()
    auth.login("olduser", "set-at-cost-5")
    stored = User.get_by_id(user.id)
    assert (
        stored.password_hash.startswith("$2b$04$") and stored.password_hash[7:29] == user.password_hash[7:29]
    )
    assert stored.version == user.version  # no change anyone's edit would conflict with
    assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)][entries:] == ["login"]
    assert auth.login("olduser", "set-at-cost-5").username == "olduser"
    require(session, "ticket.work")  # a rehash ends no session: the password is the same


def test_an_unknown_username_costs_what_the_dearest_stored_hash_does(people, system, monkeypatch):
    """Hashes are stored at cost 4 and 6 (bcrypt_cost was 6, is 4 now): an unknown username is
    checked at 6 like the dearest known one, not at 4 (a quarter of its time)."""
    _at_cost(6, lambda: users.create_user(system, "olduser", "agent", password="set-at-cost-6"))
    checked = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checked.append(hashed[:7]) or real(pw, hashed))
    for name in ("ghost", "olduser"):
        with pytest.raises(AuthError):
            auth.login(name, "wrong-password-123")
    assert checked == [b"$2b$06$", b"$2b$06$"]


def test_an_absurd_lockout_time_still_counts_every_failure(people):
    """Settings made in code skip the configuration's bounds (lockout_minutes at most a year):
    a failed login is counted and locks, never an OverflowError."""
    config.override_settings(
        config.Settings(
            bcrypt_cost=4, lockout_threshold=2, lockout_minutes=9999999999999, account_lockout_threshold=3
        )
    )
    start = clock.now()
    with clock.frozen(start):
        _fail("agent", 1)
        assert User.get(User.username == "agent").failed_logins == 1
        _fail("agent", 2, source="198.51.100.1")
    assert User.get(User.username == "agent").locked_until == start + timedelta(
        minutes=config.MAX_LOCKOUT_MINUTES
    )
    summaries = [e.summary for e in AuditEntry.select().where(AuditEntry.action == "login_failed")]
    assert len(summaries) == 3 and "locked for every source for 525600 minutes" in summaries[-1]
