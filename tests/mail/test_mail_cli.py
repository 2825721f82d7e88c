"""``itsm-tui mail ingest`` as a mail server's pipe runs it: exit 0 delivered, 65 never
processable (bounced by the MTA), 75 the database is unreachable (the MTA retries, and the retry
ingests the message once)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from mail_helpers import message
from servers import free_port

from itsm_tui.cli import mail as mail_cli
from itsm_tui.core.mail import intake
from itsm_tui.core.store.models import Ticket

ROOT = Path(__file__).resolve().parents[2]


def pipe(url: str, raw: bytes, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ITSM_DATA_DIR": str(tmp_path / "data"),
        "ITSM_MAIL_ALLOWED_DOMAINS": "example.org",
        "ITSM_DB_CONNECT_TIMEOUT": "2",
    }
    env.pop("ITSM_SMTP_HOST", None)
    return subprocess.run(
        [sys.executable, "-m", "itsm_tui", "--db", url, "mail", "ingest"],
        input=raw,
        capture_output=True,
        env=env,
        timeout=120,
    )


def test_database_down_exits_75_and_the_retry_ingests_once(engine, system, tmp_path):
    raw = message().as_bytes()
    down = pipe(f"mysql://root@127.0.0.1:{free_port()}/itsm", raw, tmp_path)
    assert down.returncode == 75, down.stderr
    assert b"will be retried" in down.stderr
    assert Ticket.select().count() == 0
    first = pipe(engine, raw, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(b"ticket INC")
    again = pipe(engine, raw, tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, b"duplicate")
    assert Ticket.select().count() == 1


def test_a_message_that_can_never_be_processed_exits_65(engine, system, tmp_path):
    no_sender = pipe(engine, b"To: helpdesk@example.org\nSubject: hello\n\nwho am I?\n", tmp_path)
    assert no_sender.returncode == 65
    assert b"names no sender" in no_sender.stderr
    assert pipe(engine, b"", tmp_path).returncode == 65


def test_raw_8bit_message_ids_are_delivered_not_retried_forever(engine, system, tmp_path):
    raw = b"From: anna@example.org\nSubject: Drucker\nMessage-ID: <\xe4\xfc-1@mail.example.org>\n\nkaputt\n"
    first = pipe(engine, raw, tmp_path)
    assert first.returncode == 0, first.stderr
    again = pipe(engine, raw, tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, b"duplicate")
    assert Ticket.select().count() == 1


def test_a_failure_that_is_not_the_database_or_a_setting_exits_65(engine, system, monkeypatch, capsys):
    """A defect a message sets off fails every retry the same way: the MTA should return it
    (65), not keep retrying it for days (75)."""

    def defect(raw: bytes):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(intake, "ingest", defect)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(message().as_bytes())))
    assert mail_cli.ingest(engine, str) == 65
    assert "cannot be processed: maximum recursion depth exceeded" in capsys.readouterr().err
