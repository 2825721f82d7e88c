"""Personal API tokens in the core: whose they may be."""

import pytest

from itsm_tui.core.errors import PermissionDenied
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
