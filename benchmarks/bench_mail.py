"""Benchmark: the e-mail intake, 1,000 mixed messages by pipe and by IMAP, on SQLite and MariaDB.

    python benchmarks/bench_mail.py [--messages 1000] [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench_mail]
        [--engines sqlite,mysql]

The mix: new tickets (most), their requesters' replies threading onto them (a quote to trim),
some with an attachment (20-200 KB), some out-of-office answers. "pipe" runs what ``itsm-tui mail
ingest`` runs for each message, in one process; the cost of starting one ``mail ingest`` process per
message (what an MTA's pipe pays) is measured apart on a sample. "IMAP" appends the messages to a
private Dovecot (tests/mail/imap_server.py) and times one fetch: read, ingest, flag. Prints
messages per second; the target is at least 100 per second on SQLite. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "mail")]
os.environ.setdefault("ITSM_CONFIG", str(Path(tempfile.mkdtemp()) / "none.toml"))
Path(os.environ["ITSM_CONFIG"]).touch()

from bench_queue import _mysql_reset  # noqa: E402

from itsm_tui.core import setup  # noqa: E402
from itsm_tui.core.mail import imap, intake  # noqa: E402
from itsm_tui.core.store import db  # noqa: E402
from itsm_tui.core.store.models import Comment, Ticket  # noqa: E402

DESK = "helpdesk@example.org"
SETTINGS = {
    "ITSM_MAIL_ADDRESS": DESK,
    "ITSM_MAIL_ALLOWED_DOMAINS": "example.org",
    "ITSM_MAIL_RATE_LIMIT": "1000000",
    "ITSM_SMTP_HOST": "127.0.0.1",  # acknowledgements are queued (never sent here)
    "ITSM_SMTP_FROM": DESK,
}
REPLY = "Thanks, but it still fails.\n\nOn Mon, 2 Mar 2026 at 10:00, Help Desk <{desk}> wrote:\n> {quote}\n"


def messages(count: int, seed: int = 7) -> list[bytes]:
    """A reproducible mix; a reply answers a message earlier in the list."""
    rng = random.Random(seed)
    out: list[bytes] = []
    originals: list[tuple[str, str]] = []  # (Message-ID, sender) of the messages that open tickets
    for n in range(count):
        mail = EmailMessage()
        sender = f"user{rng.randrange(300)}@example.org"
        mail["From"], mail["To"], mail["Message-ID"] = sender, DESK, make_msgid(domain="example.org")
        roll = rng.random()
        if roll < 0.25 and originals:
            parent, sender = rng.choice(originals)  # the requester answers (a stranger would not thread)
            mail.replace_header("From", sender)
            mail["Subject"] = "Re: problem"
            mail["In-Reply-To"], mail["References"] = parent, parent
            mail.set_content(REPLY.format(desk=DESK, quote="earlier text " * rng.randrange(5, 60)))
        elif roll < 0.30:
            mail["Subject"] = "Automatic reply: out of office"
            mail["Auto-Submitted"] = "auto-replied"
            mail.set_content("I am away until Monday.")
        else:
            mail["Subject"] = f"Problem {n}: " + rng.choice(["printer", "VPN", "laptop", "Outlook", "badge"])
            mail.set_content("Hello,\n\n" + "It does not work as it should. " * rng.randrange(2, 200))
            originals.append((mail["Message-ID"], sender))
            if roll > 0.90:
                size = rng.randrange(20_000, 200_000)
                mail.add_attachment(
                    rng.randbytes(size), maintype="application", subtype="pdf", filename=f"scan{n}.pdf"
                )
        out.append(mail.as_bytes())
    return out


def fresh(url: str) -> None:
    if url.startswith("mysql"):
        _mysql_reset(url)
    setup.open_database(url, check=False)
    setup.initialise()


def by_pipe(url: str, raw: list[bytes]) -> tuple[float, float]:
    fresh(url)
    started, cpu = time.perf_counter(), time.process_time()
    for message in raw:
        intake.ingest(message)
    return _rates(len(raw), started, cpu)


def _rates(count: int, started: float, cpu: float) -> tuple[float, float]:
    """(messages per second of wall time, per second of this process's CPU time): on a busy
    machine the second says what the code costs."""
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    _check(count)
    return count / elapsed, count / used


def by_imap(url: str, raw: list[bytes], server) -> tuple[float, float]:
    fresh(url)
    server.empty()
    server.append(*raw)
    started, cpu = time.perf_counter(), time.process_time()
    report = imap.fetch(limit=len(raw))
    assert report.processed == len(raw), report
    return _rates(len(raw), started, cpu)


def per_process(url: str, raw: list[bytes], sample: int = 20) -> tuple[float, None]:
    """Messages per second when each is one ``itsm-tui mail ingest`` process."""
    fresh(url)
    db.database.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    for message in raw[:sample]:
        subprocess.run(
            [sys.executable, "-m", "itsm_tui", "--db", url, "mail", "ingest"],
            input=message,
            env=env,
            check=True,
            capture_output=True,
        )
    return sample / (time.perf_counter() - started), None


def _check(count: int) -> None:
    tickets, comments = Ticket.select().count(), Comment.select().count()
    print(f"    ({tickets} tickets, {comments} comments from {count} messages)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/itsm_bench_mail")
    parser.add_argument("--engines", default="sqlite,mysql")
    args = parser.parse_args()
    os.environ.update(SETTINGS)
    raw = messages(args.messages)
    megabytes = sum(map(len, raw)) / 1e6
    print(f"{args.messages} messages, {megabytes:.1f} MB")
    folder = Path(tempfile.mkdtemp(prefix="itsm-bench-mail-"))
    urls = {"SQLite": f"sqlite:///{folder / 'itsm.db'}", "MariaDB": args.mysql_url}
    chosen = {"sqlite": "SQLite", "mysql": "MariaDB"}
    engines = [chosen[e.strip()] for e in args.engines.split(",")]

    import imap_server

    server = imap_server.start_dovecot()
    secret = folder / "imap-password"
    secret.write_text(imap_server.PASSWORD)
    secret.chmod(0o600)
    os.environ.update(
        {
            "ITSM_MAIL_IMAP_HOST": "127.0.0.1",
            "ITSM_MAIL_IMAP_PORT": str(server.tls_port),
            "ITSM_MAIL_IMAP_USER": imap_server.USER,
            "ITSM_MAIL_IMAP_PASSWORD_FILE": str(secret),
            "ITSM_MAIL_IMAP_CA_FILE": str(server.ca),
        }
    )
    results = []
    try:
        for engine in engines:
            url = urls[engine]
            if engine == "SQLite":
                (folder / "itsm.db").unlink(missing_ok=True)
            print(f"{engine}: pipe", flush=True)
            results.append((engine, "pipe (in one process)", *by_pipe(url, raw)))
            if engine == "SQLite":
                (folder / "itsm.db").unlink(missing_ok=True)
            print(f"{engine}: IMAP", flush=True)
            results.append((engine, "IMAP fetch (TLS, flagged)", *by_imap(url, raw, server)))
            results.append((engine, "one 'mail ingest' process each", *per_process(url, raw)))
            db.database.close()
    finally:
        server.stop()
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'engine':<8} {'way in':<32} {'messages/s':>11} {'per CPU s':>10}")
    for engine, way, rate, per_cpu in results:
        cpu = f"{per_cpu:>10.1f}" if per_cpu else f"{'':>10}"
        print(f"{engine:<8} {way:<32} {rate:>11.1f} {cpu}")


if __name__ == "__main__":
    main()
