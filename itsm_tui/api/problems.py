"""Errors as ``application/problem+json`` (RFC 9457): a status, a title, a one-line detail and,
for a rejected value, the field it names. Never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from itsm_tui.core.config import ConfigError
from itsm_tui.core.errors import (
    AuthError,
    ConflictError,
    ItsmError,
    NotFound,
    PermissionDenied,
    QueryError,
    SchemaError,
    ValidationError,
)
from itsm_tui.core.store import db_errors
from itsm_tui.core.store.db import mask

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None


# Documented on every route, so the OpenAPI document says what an error looks like.
RESPONSES: dict[int | str, dict] = {
    "4XX": {
        "description": "A problem (RFC 9457)",
        "content": {MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
    },
    "5XX": {
        "description": "A problem (RFC 9457)",
        "content": {MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
    },
}

STATUS_OF: tuple[tuple[type[ItsmError], int], ...] = (
    (QueryError, 400),
    (ValidationError, 422),
    (AuthError, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (ConflictError, 409),
    (SchemaError, 503),
    (ConfigError, 503),  # the desk's own settings cannot serve this (no SMTP server for sign-up)
)


class ApiProblem(Exception):
    """A problem the API itself raises (not a service's): 401, 413, 428, 429."""

    def __init__(self, status: int, detail: str, field: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.field, self.headers = status, detail, field, headers


def problem(
    status: int, detail: str, field: str | None = None, headers: dict | None = None, **extra
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, field=field).model_dump()
    if field is None:
        del body["field"]
    return JSONResponse({**body, **extra}, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ItsmError)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 400)
    extra = {}
    if isinstance(exc, ConflictError):
        extra["changes"] = [
            {"actor": e.actor.username if e.actor_id else None, "action": e.action, "at": e.at.isoformat()}
            for e in exc.changes
        ]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, mask(str(exc)), getattr(exc, "field", None), headers, **extra)


def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem(exc.status, exc.detail, exc.field, exc.headers)


def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = list(first.get("loc", ()))
    where = [str(part) for part in location[1:] if not isinstance(part, int)]  # after "body", "query"...
    field = ".".join(where) or None
    message = first.get("msg", "invalid request")
    return problem(422, f"{field}: {message}" if field else message, field)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if db_errors.is_database_error(exc):
        return problem(503, db_errors.reason(exc))
    log.error(
        "unexpected error in %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc
    )
    return problem(500, "an unexpected error; it has been logged")


HANDLERS = (
    (ItsmError, _service_error),
    (ApiProblem, _api_problem),
    (RequestValidationError, _invalid_request),
    (HTTPException, _http_error),
    (Exception, _unexpected),
)


def render(request: Request, exc: Exception) -> JSONResponse:
    """The problem response for ``exc``, by the first handler of its kind (for middleware, which
    runs outside FastAPI's exception handlers)."""
    return next(handler for kind, handler in HANDLERS if isinstance(exc, kind))(request, exc)
