"""Commands as the README shows them, and what a script gets for bad input: each case here failed
once (a README example refused, a part silently lost, a credential for the system admin)."""

import json
import os
import subprocess
import sys

from test_cli import itsm, url  # noqa: F401  (the fixture)

from itsm_tui.core.store import db
from itsm_tui.core.store.models import Ticket


def _create(url, title="Printer jams"):  # noqa: F811
    made = itsm(url, "tickets", "create", "--title", title, "--description", "x")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_tag_removes_a_word_written_with_a_dash_as_the_readme_shows(url):  # noqa: F811
    number = _create(url)
    assert itsm(url, "ticket", "tag", number, "printer", "paper").returncode == 0
    readme = itsm(url, "ticket", "tag", number, "vpn", "-printer")  # README: tag INC000012 vpn -printer
    assert readme.returncode == 0, readme.stderr
    assert readme.stdout.strip() == f"{number}: #paper #vpn"
    only_removed = itsm(url, "ticket", "tag", number, "-paper")
    assert only_removed.stdout.strip() == f"{number}: #vpn", only_removed.stderr
    nothing = itsm(url, "ticket", "tag", number)
    assert nothing.returncode == 2 and "name the tags" in nothing.stderr


def test_export_ticket_takes_its_digits_as_every_ticket_command_does(url, tmp_path):  # noqa: F811
    number = _create(url)
    out = tmp_path / "one.pdf"
    done = itsm(url, "export", "ticket", str(int(number[3:])), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_macro_edit_keeps_the_parts_it_does_not_name(url, people):  # noqa: F811
    assert itsm(url, "team", "add", "Network").returncode == 0
    added = itsm(url, "macro", "add", "Fixed", "--body", "Done, {requester_first}", "--team", "Network")
    assert added.returncode == 0, added.stderr
    edited = itsm(url, "macro", "edit", "Fixed", "--status", "resolved")  # the body is still there
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == (
        "macro Fixed: public reply; status → Resolved; team → Network (for everyone)"
    )
    cleared = itsm(url, "macro", "edit", "fixed", "--team", "", "--rename", "Fixed2")
    assert cleared.stdout.strip() == "macro Fixed2: public reply; status → Resolved (for everyone)"
    note = itsm(url, "macro", "add", "Note", "--body", "seen", "--internal")
    assert note.returncode == 0, note.stderr
    public = itsm(url, "macro", "edit", "Note", "--no-internal")
    assert public.stdout.strip() == "macro Note: public reply (for everyone)", public.stderr


def test_json_output_drops_control_characters_as_csv_and_table_do(engine, people):
    from itsm_tui.core.tickets import service

    ticket = service.create(people["requester"], "VPN down", "x")
    # written before text was cleaned (an old release, a direct SQL fix): the output cleans it
    Ticket.update(title="\x1b]0;pwned\x07VPN\x1b[31m down\r\nnow").where(Ticket.id == ticket.id).execute()
    db.database.close()
    listed = itsm(engine, "tickets", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [item["title"] for item in json.loads(listed.stdout)] == ["VPN down\nnow"]


def test_token_create_needs_a_person(url, people):  # noqa: F811
    refused = itsm(url, "token", "create", "--name", "monitoring")  # no --as: the system admin
    assert refused.returncode == 1 and "system user cannot have API tokens" in refused.stderr
    assert "itsm_" not in refused.stdout
    made = itsm(url, "token", "create", "--name", "monitoring", as_user="admin")
    assert made.returncode == 0 and made.stdout.startswith("itsm_"), made.stderr


def test_serve_refuses_a_port_or_interval_it_cannot_honour(url, people):  # noqa: F811
    for bad in (["--port", "99999"], ["--port", "1", "--jobs-every", "nan"]):
        refused = itsm(url, "serve", *bad, as_user="admin")
        assert refused.returncode == 2, (bad, refused.stderr)
        assert "Uvicorn running" not in refused.stderr


def test_an_empty_db_url_is_refused_not_replaced_by_the_default(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env.pop("ITSM_DB", None)
    command = [sys.executable, "-m", "itsm_tui", "--db", "", "init"]  # --db "$UNSET_VARIABLE"
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 2 and "--db needs a database URL" in refused.stderr
    assert not (home / "data").exists()  # no default database was made


def test_unlinking_tickets_that_are_not_linked_is_a_failure_not_a_usage_error(url):  # noqa: F811
    first, second = _create(url), _create(url, "Toner low")
    result = itsm(url, "ticket", "unlink", first, second)
    assert result.returncode == 1 and "are not linked" in result.stderr
