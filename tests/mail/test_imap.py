"""The IMAP intake against a real Dovecot started by the tests (TLS and STARTTLS): messages put
into the mailbox over IMAP become tickets and comments, processed ones are flagged or moved, and
a fetch repeated after a crash processes nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from imap_server import PASSWORD, USER, start_dovecot
from mail_helpers import desk, message, outbox

from itsm_tui.core import jobs
from itsm_tui.core.mail import imap
from itsm_tui.core.store import db
from itsm_tui.core.store.models import Comment, EmailMessage, Ticket

pytestmark = pytest.mark.xdist_group("dovecot")


@pytest.fixture(scope="module")
def dovecot():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot, desk, monkeypatch, tmp_path):
    """The desk's IMAP settings pointing at the test server (TLS), its mailbox empty."""
    dovecot.empty()
    secret = tmp_path / "imap-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    for name, value in {
        "ITSM_MAIL_IMAP_HOST": "127.0.0.1",
        "ITSM_MAIL_IMAP_PORT": str(dovecot.tls_port),
        "ITSM_MAIL_IMAP_USER": USER,
        "ITSM_MAIL_IMAP_PASSWORD_FILE": str(secret),
        "ITSM_MAIL_IMAP_CA_FILE": str(dovecot.ca),
    }.items():
        monkeypatch.setenv(name, value)
    return dovecot


def test_the_background_job_fetches_over_tls_and_flags_what_it_processed(engine, system, mailbox):
    mailbox.append(message(sender="anna@example.org", subject="VPN down").as_bytes())
    report = jobs.run_due()
    assert report.errors == {} and report.count("e-mails received") == 1
    [ticket] = Ticket.select()
    assert ticket.title == "VPN down" and ticket.contact_type == "e-mail"
    [ack] = outbox()
    mailbox.append(
        message(subject="Re: VPN", body="Still down.\n\n> old", in_reply_to=ack["Message-ID"]).as_bytes()
    )
    ooo = message(
        subject="Out of office", in_reply_to=ack["Message-ID"], headers={"Auto-Submitted": "auto-replied"}
    )
    mailbox.append(ooo.as_bytes())
    report = imap.fetch()
    assert report.outcomes == {"comment": 1, "auto-reply": 1}
    assert [c.body for c in Comment.select().where(Comment.ticket == ticket.id)] == ["Still down."]
    assert all("\\Seen" in flags for flags in mailbox.flags())
    assert imap.fetch().processed == 0  # nothing new

    mailbox.unflag()  # a crash after ingesting, before flagging: the next fetch sees them again
    assert imap.fetch().outcomes == {"duplicate": 3}
    assert Ticket.select().count() == 1 and Comment.select().count() == 1
    assert EmailMessage.select().count() == 1


def test_starttls_and_processed_messages_moved_to_a_folder(engine, system, mailbox, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_IMAP_SECURITY", "starttls")
    monkeypatch.setenv("ITSM_MAIL_IMAP_PORT", str(mailbox.plain_port))
    monkeypatch.setenv("ITSM_MAIL_IMAP_DONE_FOLDER", "Processed")
    for n in range(3):
        mailbox.append(message(subject=f"Laptop {n}").as_bytes())
    assert imap.fetch().outcomes == {"ticket": 3}
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, 3)
    assert sorted(t.title for t in Ticket.select()) == ["Laptop 0", "Laptop 1", "Laptop 2"]


def test_a_wrong_password_is_one_clear_line(engine, system, mailbox, tmp_path, monkeypatch):
    wrong = tmp_path / "wrong"
    wrong.write_text("not-it\n")
    wrong.chmod(0o600)
    monkeypatch.setenv("ITSM_MAIL_IMAP_PASSWORD_FILE", str(wrong))
    with pytest.raises(imap.ImapError, match="cannot read the mailbox on 127.0.0.1") as error:
        imap.fetch()
    assert "not-it" not in str(error.value)


def test_mail_fetch_for_cron(engine, system, mailbox):
    from test_mail_cli import ROOT

    mailbox.append(message(subject="From cron").as_bytes())
    db.database.close()  # the command owns the database now
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "itsm_tui", "--db", engine, "mail", "fetch"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "1 ticket"), done.stderr
    assert Ticket.get().title == "From cron"


# A message titled "poison" fails in the database every time (not as a constraint, which would
# make it unprocessable), as a real message too large for the server's packet could.
POISON = {
    "sqlite": "CREATE TRIGGER poison BEFORE INSERT ON ticket WHEN NEW.title = 'poison' "
    "BEGIN SELECT json('not json'); END",
    "mysql": "CREATE TRIGGER poison BEFORE INSERT ON ticket FOR EACH ROW BEGIN "
    "IF NEW.title = 'poison' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row'; END IF; END",
}


def test_a_message_failing_in_the_database_stays_and_the_fetch_goes_on(engine, system, mailbox):
    db.database.execute_sql(POISON["mysql" if db.is_mysql() else "sqlite"])
    try:
        mailbox.append(*(message(subject=s).as_bytes() for s in ("VPN down", "poison", "Printer jammed")))
        report = imap.fetch()
        assert (report.outcomes, report.failed) == ({"ticket": 2}, 1)
        assert sorted(t.title for t in Ticket.select()) == ["Printer jammed", "VPN down"]
        assert ["\\Seen" in flags for flags in mailbox.flags()] == [True, False, True]
        again = imap.fetch()  # the next fetch tries it again, and stops at it no more than this one
        assert (again.processed, again.failed) == (0, 1)
    finally:
        db.database.execute_sql("DROP TRIGGER IF EXISTS poison")
