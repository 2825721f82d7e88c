"""The application: ``create_app()`` builds it on the database the process has opened."""

from __future__ import annotations

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


def create_app(
    auth_failures: int = 10, auth_window_seconds: float = 60.0, token_cache_seconds: float = 5.0
) -> FastAPI:
    """The API on the database already bound (``setup.open_database``); ``auth_failures`` failed
    authentications per client address within ``auth_window_seconds`` get 429; a token that
    authenticated is trusted for ``token_cache_seconds`` without asking the database again."""
    app = FastAPI(
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


def worker_app() -> FastAPI:
    """The app of one of ``itsm-tui serve --workers N``'s processes: it opens the database the
    way the command did (``ITSM_DB``, which the command sets from ``--db``, or the configuration
    file)."""
    logs.setup()
    setup.open_database(config.resolve_db_url(None))
    audit.enter("api")
    return create_app()
