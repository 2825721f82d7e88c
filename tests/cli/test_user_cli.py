"""``itsm-tui user edit``, run as a user would: every rule is the core's (``users.update_user``),
the command says what changed."""

from test_cli import itsm, url  # noqa: F401  (the fixture)

from itsm_tui import cli
from itsm_tui.core import setup
from itsm_tui.core.store import db
from itsm_tui.core.store.models import ROLES, AuditEntry, User


def _user(url, username):  # noqa: F811
    """The row as the database holds it now (the subprocess wrote it)."""
    setup.open_database(url)
    try:
        return User.get(User.username == username)
    finally:
        db.database.close()


def test_a_role_change_is_written_and_logged(url, people):  # noqa: F811
    changed = itsm(url, "user", "edit", "agent", "--role", "supervisor", "--full-name", "Ann Agent")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "updated agent: role agent → supervisor, full name 'agent' → 'Ann Agent'"
    agent = _user(url, "agent")
    assert (agent.role, agent.full_name) == ("supervisor", "Ann Agent")
    setup.open_database(url)
    entry = AuditEntry.select().where(AuditEntry.entity_id == agent.id).order_by(AuditEntry.id.desc()).get()
    assert (entry.entity_type, entry.action, entry.channel) == ("user", "update", "cli")
    db.database.close()
    again = itsm(url, "user", "edit", "agent", "--role", "supervisor")
    assert again.returncode == 0 and again.stdout.strip() == "nothing changed: it was so already"


def test_an_account_is_disabled_and_enabled_again(url, people):  # noqa: F811
    disabled = itsm(url, "user", "edit", "requester", "--inactive")
    assert disabled.stdout.strip() == "updated requester: state active → disabled", disabled.stderr
    assert not _user(url, "requester").is_active
    refused = itsm(url, "tickets", "list", as_user="requester")
    assert refused.returncode == 1 and "requester is disabled" in refused.stderr
    enabled = itsm(url, "user", "edit", "requester", "--active")
    assert enabled.stdout.strip() == "updated requester: state disabled → active", enabled.stderr
    assert _user(url, "requester").is_active
    both = itsm(url, "user", "edit", "requester", "--active", "--inactive")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_the_last_active_admin_stays_an_active_admin(url, people):  # noqa: F811
    for change in (("--role", "agent"), ("--inactive",)):
        refused = itsm(url, "user", "edit", "admin", *change)
        assert refused.returncode == 1, refused.stderr
        assert "admin is the last active admin and must stay one" in refused.stderr
    admin = _user(url, "admin")
    assert (admin.role, admin.is_active) == ("admin", True)
    # nor is the built-in system user changed (the command line and the jobs act as it)
    system = itsm(url, "user", "edit", "system", "--role", "requester", as_user="admin")
    assert system.returncode == 1 and "system user cannot be changed" in system.stderr
    assert _user(url, "system").role == "admin"


def test_only_an_admin_may_edit_a_user(url, people):  # noqa: F811
    refused = itsm(url, "user", "edit", "agent", "--role", "admin", as_user="supervisor")
    assert refused.returncode == 1 and "may not create users, change roles" in refused.stderr
    assert _user(url, "agent").role == "agent"


def test_no_change_or_an_unknown_user_is_refused_in_one_line(url, people):  # noqa: F811
    nothing = itsm(url, "user", "edit", "agent")
    assert nothing.returncode == 2 and "name what to change: --role" in nothing.stderr
    ghost = itsm(url, "user", "edit", "ghost", "--role", "agent")
    assert ghost.returncode == 1 and ghost.stderr.strip() == "itsm-tui: error: no user named 'ghost'"
    bad = itsm(url, "user", "edit", "agent", "--email", "not-an-address")
    assert bad.returncode == 1 and "email 'not-an-address' is not an e-mail address" in bad.stderr
    assert "Traceback" not in nothing.stderr + ghost.stderr + bad.stderr


def test_the_role_choices_are_the_models():
    """The parser keeps its own copy (no models import at start-up): it must stay the same."""
    assert cli.ROLES == ROLES
