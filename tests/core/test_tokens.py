"""Personal API tokens in the core: whose they may be."""

from datetime import timedelta

import pytest

from itsm_tui.core.errors import AuthError, PermissionDenied
from itsm_tui.core.people import tokens
from itsm_tui.core.store.models import ApiToken, AuditEntry


def test_the_built_in_system_user_cannot_have_a_token(system, people):
    """Every shell asks the core, so none can make an admin credential that is no one's."""
    with pytest.raises(PermissionDenied, match="built-in system user cannot have API tokens"):
        tokens.create(system, "monitoring")
    assert not ApiToken.select().exists()
    assert not AuditEntry.select().where(AuditEntry.action == "token_create").exists()
    row, token = tokens.create(people["admin"], "monitoring")  # a person, admin or not, may
    assert tokens.authenticate(token)[0].username == "admin" and row.user_id == people["admin"].id


def test_a_token_says_what_it_can_do_now(people):
    """One rule for the :tokens list and for authentication: a lapsed token is said so, not
    'read-write', and answers nothing."""
    agent = people["agent"]
    row, token = tokens.create(agent, "monitoring", tokens.parse_expiry("1d"), read_only=True)
    assert tokens.state(row) == "read-only"
    later = row.expires_at + timedelta(seconds=1)
    assert tokens.state(row, later) == "expired"
    with pytest.raises(AuthError):
        tokens.authenticate(token, later)
    assert tokens.authenticate(token)[1].id == row.id
    tokens.revoke(agent, row.prefix)
    assert tokens.state(ApiToken.get_by_id(row.id)) == "revoked"
    with pytest.raises(AuthError):
        tokens.authenticate(token)
