"""``itsm-tui serve`` (the HTTP API under uvicorn, with the background jobs on a timer) and
``itsm-tui token create|list|revoke`` (personal API tokens)."""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
import threading

from itsm_tui.cli.common import UsageError, print_rows
from itsm_tui.core.errors import ItsmError

log = logging.getLogger(__name__)


def add_commands(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the HTTP API (uvicorn) with the background jobs",
        description="Serve the HTTP API under /api/v1 (OpenAPI document at /openapi.json, docs at /docs) "
        "and run the background jobs (SLA alerts, e-mail, webhooks) every --jobs-every seconds.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="default: 8080")
    serve.add_argument("--jobs-every", type=float, default=30.0, metavar="SECONDS", help="default: 30")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="server processes (default 1; one per core)"
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=4,
        metavar="N",
        help="requests each process runs at once, the others waiting their turn (default 4): more "
        "keeps slow requests from holding the others back, fewer evens out the quick ones' times",
    )
    token = commands.add_parser("token", help="personal API tokens").add_subparsers(
        dest="token_command", metavar="ACTION", required=True
    )
    create = token.add_parser("create", help="make a token for the --as user (shown once)")
    create.add_argument("--name", required=True, help="what the token is for, e.g. monitoring")
    create.add_argument("--expires", metavar="N[d|w]", help="e.g. 90d (default: never)")
    create.add_argument("--read-only", action="store_true", help="the token may only read")
    listing = token.add_parser("list", help="the --as user's tokens (admins: --all for everyone's)")
    listing.add_argument("--all", action="store_true", help="every user's tokens (admins)")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    revoke = token.add_parser("revoke", help="revoke a token by its prefix or id")
    revoke.add_argument("token", metavar="PREFIX_OR_ID")


def _token(args, actor) -> int:
    from itsm_tui.core.people import tokens

    if args.token_command == "create":
        row, token = tokens.create(actor, args.name, tokens.parse_expiry(args.expires), args.read_only)
        print(token)
        print(
            f"token {row.name} ({row.prefix}) for {actor.username}: shown only now, keep it secret",
            file=sys.stderr,
        )
        return 0
    if args.token_command == "revoke":
        row = tokens.revoke(actor, args.token)
        print(f"revoked token {row.name} ({row.prefix})")
        return 0
    columns = (
        "prefix",
        "name",
        "user",
        "read_only",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    rows = (
        (
            t.prefix,
            t.name,
            t.user.username,
            t.read_only,
            t.created_at,
            t.expires_at,
            t.last_used_at,
            t.revoked_at,
        )
        for t in tokens.list_tokens(actor, everyone=args.all)
    )
    print_rows(columns, rows, args.format)
    return 0


def _serve(args, actor) -> int:
    import uvicorn

    from itsm_tui.api.app import create_app
    from itsm_tui.core import jobs
    from itsm_tui.core.store import audit

    audit.enter("api")
    stop = threading.Event()

    def background() -> None:
        while not stop.is_set():
            with audit.acting("worker"):
                report = jobs.run_due()
            for name, error in report.errors.items():
                log.warning("background job %s failed: %s", name, error)
            stop.wait(args.jobs_every)

    _check_address(args.host, args.port)
    worker = threading.Thread(target=background, name="itsm-jobs", daemon=True)
    worker.start()
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": False}
    # uvicorn shuts down on SIGTERM, then raises it again with the handler it found: this one,
    # so the process ends through the finally below (the leases given up), not killed mid-way.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        if args.workers == 1:
            uvicorn.run(create_app(threads=args.threads), **options)
        else:  # each process opens the database itself; the jobs run here, in the supervisor
            if args.db:
                os.environ["ITSM_DB"] = args.db
            os.environ["ITSM_API_THREADS"] = str(args.threads)
            uvicorn.run("itsm_tui.api.app:worker_app", factory=True, workers=args.workers, **options)
    except SystemExit as exc:  # uvicorn could not start (its log above says why): exit 1, as any failure
        if exc.code:
            raise ItsmError(f"the API server could not start on {args.host}:{args.port}") from None
        raise
    finally:
        stop.set()
        worker.join(10)  # the pass under way ends, then the leases go
        if not worker.is_alive():
            jobs.release_on_exit()
    return 0


def _stopped(signum, frame) -> None:
    raise SystemExit(0)


def _check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address uvicorn would not listen on (it would log and exit 3)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        raise ItsmError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _check(args) -> None:
    """The command line's own mistakes (exit 2), before the database is opened."""
    if args.workers < 1 or args.threads < 1 or not 0 < args.jobs_every < math.inf:  # nan too
        raise UsageError("--workers and --threads need at least 1, --jobs-every a positive number")
    if not 0 < args.port < 65536:  # uvicorn would listen on another port than it says
        raise UsageError(f"--port {args.port}: use a number from 1 to 65535")


HANDLERS = {"token": _token, "serve": _serve}
CHECKS = {"serve": _check}
