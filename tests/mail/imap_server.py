"""A private Dovecot IMAP server for the tests: loopback ports (IMAPS and IMAP with STARTTLS), a
certificate from a test CA, one user from a passwd-file, a maildir in a temporary folder.
Without /usr/sbin/dovecot the tests are skipped, except under CI=true, where they fail."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, make_ca, make_server_cert

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "desk", "imap-test-password"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    ca: Path
    plain_port: int
    tls_port: int
    process: subprocess.Popen

    def client(self) -> imaplib.IMAP4_SSL:
        connection = imaplib.IMAP4_SSL(
            "127.0.0.1", self.tls_port, ssl_context=ssl.create_default_context(cafile=str(self.ca))
        )
        connection.login(USER, PASSWORD)
        return connection

    def append(self, *raw: bytes, folder: str = "INBOX") -> None:
        """Put messages into the folder over IMAP, as a mail server's delivery would."""
        connection = self.client()
        try:
            for message in raw:
                status, _ = connection.append(folder, "", imaplib.Time2Internaldate(time.time()), message)
                assert status == "OK"
        finally:
            connection.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """Each message's flags, in order."""
        connection = self.client()
        try:
            connection.select(folder)
            _, data = connection.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if item]
        except imaplib.IMAP4.error:
            return []
        finally:
            connection.logout()

    def count(self, folder: str) -> int:
        connection = self.client()
        try:
            _, data = connection.select(folder)
            return int(data[0])
        finally:
            connection.logout()

    def empty(self) -> None:
        connection = self.client()
        try:
            for folder in ("INBOX", "Processed"):
                _, data = connection.select(folder)
                if int(data[0]):
                    connection.store("1:*", "+FLAGS", "(\\Deleted)")
                    connection.expunge()
        finally:
            connection.logout()

    def unflag(self, folder: str = "INBOX") -> None:
        """As after a crash between ingesting and flagging: every message unseen again."""
        connection = self.client()
        try:
            connection.select(folder)
            connection.store("1:*", "-FLAGS", "(\\Seen)")
        finally:
            connection.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot() -> Dovecot:
    if not DOVECOT.exists():
        message = f"{DOVECOT} is missing (Debian: apt-get install dovecot-imapd)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: required under CI=true")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="itsm-dovecot-"))
    root.chmod(0o711)  # dovecot's auth process (its own account) reads the passwd-file in it
    ca = make_ca(root / "tls")
    cert, key = make_server_cert(root / "tls", ca)
    # The mail belongs to dovecot's own account (a test must not make system accounts).
    owner = pwd.getpwnam("dovecot")
    for folder in ("mail", "home"):
        (root / folder).mkdir()
        os.chown(root / folder, owner.pw_uid, owner.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{root}/home::\n")
    (root / "passwd").chmod(0o644)
    plain_port, tls_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    ids = {"uid": owner.pw_uid, "gid": owner.pw_gid}
    conf.write_text(
        CONFIG.format(root=root, cert=cert, key=key, plain_port=plain_port, tls_port=tls_port, **ids)
    )
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Dovecot(root, ca, plain_port, tls_port, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error, ssl.SSLError):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (root / "dovecot.log").read_text(errors="replace")
                    if (root / "dovecot.log").exists()
                    else ""
                )
                errors = process.stderr.read().decode(errors="replace") if process.poll() is not None else ""
                server.stop()
                raise RuntimeError(f"dovecot did not start: {errors} {log[-2000:]}") from None
            time.sleep(0.2)
