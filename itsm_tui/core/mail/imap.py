"""Fetching the desk's mailbox over IMAP (TLS, or STARTTLS), for the background worker and
``itsm-tui mail fetch``.

Unprocessed messages are read without marking them (``BODY.PEEK``, a chunk per round trip),
ingested, and then flagged as seen or moved to ``imap_done_folder``. A crash between the two
leaves the messages for the next fetch, where their Message-IDs make them duplicates: nothing is
processed twice, nothing lost. A database error stops the fetch (the rest waits for the next one)
unless the database still answers: then it was that message's (one too large for the server,
say), which stays in the mailbox, counted as failed, and the fetch goes on with the next.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from itsm_tui.core import config
from itsm_tui.core.config import ConfigError, MailSettings
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.mail import intake
from itsm_tui.core.store import db, db_errors

BATCH = 500  # messages per fetch; the rest come next time
CHUNK = 25  # messages per round trip to the server
_UID = re.compile(rb"UID (\d+)")
TIMEOUT = 30.0
log = logging.getLogger("itsm_tui.mail")


class ImapError(ItsmError):
    """The mailbox could not be read (server, login, folder): said in one line."""


@dataclass
class FetchReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # messages left in the mailbox for the next fetch

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())


def configured() -> bool:
    return bool(config.mail_settings().imap_host)


def fetch(limit: int = BATCH) -> FetchReport:
    settings = config.mail_settings()
    if not settings.imap_host:
        raise ConfigError("IMAP is not configured: set imap_host in [mail] (or ITSM_MAIL_IMAP_HOST)")
    report = FetchReport()
    try:
        connection = _connect(settings)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise ImapError(f"cannot read the mailbox on {settings.imap_host}: {_reason(exc)}") from None
    try:
        _check(connection.select(_quoted(settings.imap_folder)), f"open the folder {settings.imap_folder}")
        criteria = "ALL" if settings.imap_done_folder else "UNSEEN"
        uids = _check(connection.uid("SEARCH", criteria), "search the folder")[0].decode().split()
        moving = bool(settings.imap_done_folder)
        uids = uids[:limit]
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            done = [uid for uid, raw in _messages(connection, chunk) if _ingested(uid, raw, report)]
            if done:
                _done(connection, ",".join(done), settings.imap_done_folder if moving else "")
        if moving:
            connection.expunge()
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise ImapError(f"reading the mailbox on {settings.imap_host} failed: {_reason(exc)}") from None
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error, ssl.SSLError):
            pass
    return report


def _messages(connection: imaplib.IMAP4, uids: list[str]) -> list[tuple[str, bytes]]:
    """The messages of one round trip, by UID, in the order asked."""
    data = _check(connection.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])"), "fetch messages")
    found: dict[str, bytes] = {}
    for item in data:
        if isinstance(item, tuple):
            match = _UID.search(item[0])
            if match:
                found[match.group(1).decode()] = item[1]
    return [(uid, found[uid]) for uid in uids if uid in found]


def _ingested(uid: str, raw: bytes, report: FetchReport) -> bool:
    """Ingest one message; False leaves it in the mailbox for the next fetch."""
    try:
        outcome = intake.ingest(raw).outcome
    except intake.Unprocessable as exc:
        outcome = "unprocessable"
        log.warning("IMAP message %s not processed: %s", uid, exc)
    except Exception as exc:
        if db_errors.is_database_error(exc):
            if not _database_answers():
                raise
            log.error(
                "IMAP message %s failed with a database error although the database answers: "
                "it stays in the mailbox, and the fetch goes on: %s",
                uid,
                _reason(exc),
            )
        else:
            log.exception("IMAP message %s failed; it stays for the next fetch", uid)
        report.failed += 1
        return False
    report.add(outcome)
    return True


def _database_answers() -> bool:
    try:
        db.database.execute_sql("SELECT 1")
    except db_errors.DATABASE_ERRORS:
        return False
    return True


def _connect(settings: MailSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=settings.imap_ca_file or None)
    if settings.imap_security == "tls":
        connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            settings.imap_host, settings.imap_port, ssl_context=context, timeout=TIMEOUT
        )
    else:
        connection = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=TIMEOUT)
        connection.starttls(ssl_context=context)
    try:
        connection.login(settings.imap_user, _password(settings.imap_password_file))
    except BaseException:
        connection.shutdown()
        raise
    return connection


def _password(name: str) -> str:
    if not name:
        raise ConfigError("imap_password_file is not set in [mail] (or ITSM_MAIL_IMAP_PASSWORD_FILE)")
    path = Path(name).expanduser()
    try:
        config.check_private(path, "the IMAP password")
        return path.read_text(encoding="utf-8").split("\n", 1)[0].removesuffix("\r")
    except OSError as exc:
        raise ConfigError(f"cannot read the IMAP password file {path}: {exc.strerror}") from None


def _done(connection: imaplib.IMAP4, uid: str, folder: str) -> None:
    """Flag or move the messages ``uid`` names (a UID set: "4,5,9")."""
    if not folder:
        _check(connection.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "flag a message")
        return
    if "MOVE" in connection.capabilities:
        _check(connection.uid("MOVE", uid, _quoted(folder)), f"move a message to {folder}")
        return
    _check(connection.uid("COPY", uid, _quoted(folder)), f"copy a message to {folder}")
    _check(connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "mark a message deleted")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(answer: tuple, what: str) -> list:
    status, data = answer
    if status != "OK":
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"the IMAP server refused to {what}: {text[:200]}")
    return data


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]
