"""``itsm-tui token create|list|revoke``, run as a user would (a subprocess), on both engines."""

from __future__ import annotations

import json

from test_cli import itsm

from itsm_tui.core.people import tokens
from itsm_tui.core.store import db


def test_create_list_use_and_revoke_a_token(engine, people):
    db.database.close()  # the subprocess owns the database now
    made = itsm(
        engine, "token", "create", "--name", "monitoring", "--expires", "90d", "--read-only", as_user="agent"
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("itsm_") and "shown only now" in made.stderr
    user, row = tokens.authenticate(token)
    assert (user.username, row.name, row.read_only) == ("agent", "monitoring", True)
    assert row.expires_at is not None
    listed = json.loads(itsm(engine, "token", "list", "--format", "json", as_user="agent").stdout)
    assert [(t["name"], t["prefix"], t["revoked_at"]) for t in listed] == [("monitoring", row.prefix, None)]
    assert token not in itsm(engine, "token", "list", as_user="agent").stdout
    refused = itsm(engine, "token", "list", "--all", as_user="agent")
    assert refused.returncode == 1 and "may not list and revoke anyone's API tokens" in refused.stderr
    assert itsm(engine, "token", "revoke", row.prefix, as_user="requester").returncode == 1  # not theirs
    revoked = itsm(engine, "token", "revoke", row.prefix, as_user="admin")
    assert revoked.returncode == 0, revoked.stderr
    everyone = json.loads(itsm(engine, "token", "list", "--all", "--format", "json", as_user="admin").stdout)
    assert everyone[0]["user"] == "agent" and everyone[0]["revoked_at"]
    bad = itsm(engine, "token", "create", "--name", "x", "--expires", "soon", as_user="agent")
    assert bad.returncode == 1 and "90d" in bad.stderr


def test_serve_refuses_no_threads_or_workers(engine, people):
    for option in ("--threads", "--workers"):
        refused = itsm(engine, "serve", "--port", "1", option, "0", as_user="admin")
        assert refused.returncode == 2, refused.stderr
        assert "--workers and --threads need at least 1" in refused.stderr
