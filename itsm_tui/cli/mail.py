"""The ``mail`` commands: ``ingest`` (one message on standard input, for a mail server's pipe),
``fetch`` (the IMAP mailbox, for cron) and ``send`` (the outbox, for cron).

``mail ingest`` answers in the exit codes of sysexits.h that MTAs act on: 0 delivered (or
recognised and deliberately dropped: an automatic reply, a duplicate), 65 (EX_DATAERR) for a
message that can never be processed (the MTA bounces it), 75 (EX_TEMPFAIL) for anything that may
pass later: the database or a setting (the MTA keeps the message and retries: nothing is lost).
Any other failure is the message's own and would fail every retry the same way: 65.
"""

from __future__ import annotations

import sys

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75
MAX_MESSAGE = 64 * 1024 * 1024  # bytes read from standard input at most


def add_commands(commands) -> None:
    mail = commands.add_parser("mail", help="the e-mail channel: ingest, fetch, send").add_subparsers(
        dest="mail_command", metavar="ACTION", required=True
    )
    mail.add_parser(
        "ingest",
        help="turn one message on standard input into a ticket or comment (for a mail server's pipe)",
        description="Exit codes: 0 delivered, 65 the message can never be processed (bounce it), "
        "75 try again later (the database is unreachable).",
    )
    mail.add_parser("fetch", help="fetch and process the IMAP mailbox once (for cron)")
    mail.add_parser("send", help="send the e-mail that is due (for cron)")


def ingest(url: str, one_line) -> int:
    """Read the message first (the pipe is drained whatever happens), then process it;
    ``one_line`` says what went wrong in one line, passwords masked."""
    from itsm_tui.core import setup
    from itsm_tui.core.errors import ItsmError
    from itsm_tui.core.mail import intake
    from itsm_tui.core.store import db_errors

    raw = sys.stdin.buffer.read(MAX_MESSAGE + 1)
    if not raw.strip():
        print("itsm-tui: error: no message on standard input", file=sys.stderr)
        return EX_DATAERR
    if len(raw) > MAX_MESSAGE:
        print(f"itsm-tui: error: the message is over {MAX_MESSAGE // 1024 // 1024} MB", file=sys.stderr)
        return EX_DATAERR
    try:
        setup.open_database(url)
        outcome = intake.ingest(raw)
    except intake.Unprocessable as exc:
        print(f"itsm-tui: error: {exc}", file=sys.stderr)
        return EX_DATAERR
    except Exception as exc:
        if isinstance(exc, (ItsmError, OSError)) or db_errors.is_database_error(exc):  # database, setting
            print(f"itsm-tui: error (will be retried): {one_line(exc)}", file=sys.stderr)
            return EX_TEMPFAIL
        print(f"itsm-tui: error: the message cannot be processed: {one_line(exc)}", file=sys.stderr)
        return EX_DATAERR
    print(outcome.describe())
    return EX_OK


def _mail(args, actor) -> int:
    from itsm_tui.core.errors import ItsmError
    from itsm_tui.core.mail import imap
    from itsm_tui.core.notify import mailer
    from itsm_tui.core.people.permissions import require

    require(actor, "settings.manage")  # the desk's jobs, as sla check runs them
    if args.mail_command == "fetch":
        report = imap.fetch()
        done = ", ".join(f"{n} {what}" for what, n in sorted(report.outcomes.items())) or "no new messages"
        print(done + (f"; {report.failed} failed (left for the next fetch)" if report.failed else ""))
        if report.failed:
            messages = "message" if report.failed == 1 else "messages"
            raise ItsmError(f"{report.failed} {messages} failed (left for the next fetch)")
        return 0
    sent, failed = mailer.send_due()
    print(f"{sent} sent, {failed} failed")
    if failed:
        raise ItsmError(f"{failed} of {sent + failed} e-mails could not be sent")
    return 0


HANDLERS = {"mail": _mail}
