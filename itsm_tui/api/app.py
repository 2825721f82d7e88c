"""The application: ``create_app()`` builds it on the database the process has opened."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from itsm_tui import __version__
from itsm_tui.api import (
    alerts,
    inventory,
    organise,
    people,
    problems,
    reports,
    schemas,
    signup,
    tickets,
    webhooks,
)
from itsm_tui.api.auth import Authenticate, Caller, FailureLimiter, TokenCache
from itsm_tui.core import config, logs, setup
from itsm_tui.core.store import audit, db, schema

desk = APIRouter(responses=problems.RESPONSES)


@desk.get("/healthz", response_model=schemas.Health, tags=["health"])
def healthz():
    """The process answers (no database work)."""
    return schemas.Health(status="ok")


@desk.get("/readyz", response_model=schemas.Health, tags=["health"])
def readyz():
    """The database answers and its schema is this release's (503 otherwise)."""
    schema.check()
    db.database.execute_sql("SELECT 1")
    return schemas.Health(status="ready")


@desk.get("/api/v1/me", response_model=schemas.Me, tags=["people"])
def me(p: Caller):
    user, token = p.user, p.token
    return schemas.Me(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        email=user.email,
        token=schemas.TokenInfo(
            name=token.name, prefix=token.prefix, read_only=token.read_only, expires_at=token.expires_at
        ),
    )


THREADS = 4  # requests a server process runs at once (itsm-tui serve --threads)


def create_app(
    auth_failures: int = 10,
    auth_window_seconds: float = 60.0,
    token_cache_seconds: float = 5.0,
    threads: int = THREADS,
) -> FastAPI:
    """The API on the database already bound (``setup.open_database``); ``auth_failures`` failed
    authentications per client address within ``auth_window_seconds`` get 429; a token that
    authenticated is trusted for ``token_cache_seconds`` without asking the database again;
    ``threads``: see :func:`_running_at_once`."""
    app = FastAPI(
        lifespan=_running_at_once(threads),
        title="itsm-tui",
        version=__version__,
        description="The IT service desk over HTTP: the same services, role matrix and audit log as the "
        "terminal app. Authenticate with `Authorization: Bearer <token>` (`itsm-tui token create`).",
    )
    app.state.auth_limiter = FailureLimiter(auth_failures, auth_window_seconds)
    app.state.token_cache = TokenCache(token_cache_seconds)
    app.add_middleware(Authenticate)
    for kind, handler in problems.HANDLERS:
        app.add_exception_handler(kind, handler)
    app.include_router(desk)
    app.include_router(tickets.router)
    app.include_router(organise.router)
    app.include_router(signup.router)
    app.include_router(alerts.router)
    app.include_router(webhooks.router)
    app.include_router(people.router)
    app.include_router(reports.router)
    app.include_router(inventory.router)  # last: its /{kind} routes must not shadow the others
    return app


def _running_at_once(threads: int):
    """A lifespan that lets the process run at most ``threads`` routes at once (each in a
    thread, as a route's database calls block); the others wait their turn in order. The
    interpreter runs one thread at a time, so more threads only share it: at 16 clients on 2
    cores and 1,000,000 tickets, a first page's p99 was 96-108 ms with anyio's default of 40
    threads and 39-51 ms with 2 (p50 29-30 ms either way). Each thread also holds a database
    connection. A few more than one keeps a slow request (analytics over a big desk) from
    holding all the others back."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def worker_app() -> FastAPI:
    """The app of one of ``itsm-tui serve --workers N``'s processes: it opens the database the
    way the command did (``ITSM_DB``, which the command sets from ``--db``, or the configuration
    file)."""
    logs.setup()
    setup.open_database(config.resolve_db_url(None))
    audit.enter("api")
    return create_app(threads=int(os.environ.get("ITSM_API_THREADS", THREADS)))
