"""Who a request acts as: the bearer token's user (``Principal``), with that user's role.

Every failed authentication answers one generic 401 and counts against the client's address;
an address with too many recent failures gets 429 with ``Retry-After`` before its token is even
looked at. A read-only token may only read (GET, HEAD, OPTIONS). A token that checked out is
remembered for a few seconds (``TokenCache``), so most requests do no database work and no
thread hop before their route: a revoked token, or a disabled user's, stops working within
that time (the services re-read the user's role and active flag on every action anyway).
``Authenticate`` does all this before the route reads the request's body; ``Caller`` hands the
result to the route."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from copy import copy
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from itsm_tui.api import problems
from itsm_tui.api.problems import ApiProblem
from itsm_tui.core.errors import AuthError
from itsm_tui.core.people import tokens
from itsm_tui.core.store import audit
from itsm_tui.core.store.models import ApiToken, User

READS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Principal:
    user: User
    token: ApiToken


class FailureLimiter:
    """Failed authentications per client address in a sliding window (in memory: one process)."""

    def __init__(self, max_failures: int = 10, window_seconds: float = 60.0):
        self.max_failures, self.window = max_failures, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.max_failures:
                if not times:
                    self._failures.pop(address, None)
                return None
            return max(1, math.ceil(times[-self.max_failures] + self.window - now))

    MAX_ADDRESSES = 100_000

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.MAX_ADDRESSES:  # many addresses: keep the recent ones
                for stale in [a for a, times in self._failures.items() if times[-1] <= now - self.window]:
                    del self._failures[stale]
            self._recent(address, now).append(now)


class TokenCache:
    """Tokens that authenticated in the last ``seconds``, by their SHA-256 (0: no caching)."""

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float = 5.0):
        self.seconds = seconds
        self._entries: dict[str, tuple[float, User, ApiToken]] = {}

    def get(self, token: str) -> tuple[User, ApiToken] | None:
        hit = self._entries.get(tokens.digest(token)) if self.seconds > 0 else None
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2]

    def put(self, token: str, user: User, row: ApiToken) -> None:
        if self.seconds > 0:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[tokens.digest(token)] = (time.monotonic() + self.seconds, user, row)


def _authenticate(cache: TokenCache, token: str) -> tuple[User, ApiToken]:
    found = cache.get(token)
    if found is None:
        found = tokens.authenticate(token)
        cache.put(token, *found)
    return found


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_limit(request: Request) -> None:
    """429 when the client's address failed to authenticate too often of late."""
    wait = request.app.state.auth_limiter.retry_after(_address(request))
    if wait is not None:
        raise ApiProblem(
            429, "too many failed authentications from this address", headers={"Retry-After": str(wait)}
        )


def count_failure(request: Request) -> None:
    request.app.state.auth_limiter.failed(_address(request))


async def _authenticate_request(request: Request) -> Principal:
    check_limit(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise AuthError(tokens.GENERIC_ERROR)
        cache: TokenCache = request.app.state.token_cache
        found = cache.get(token.strip())
        user, row = found or await run_in_threadpool(_authenticate, cache, token.strip())
    except AuthError:
        count_failure(request)
        raise ApiProblem(401, tokens.GENERIC_ERROR, headers={"WWW-Authenticate": "Bearer"}) from None
    if request.method not in READS:
        tokens.may_write(row)
    return Principal(user, row)


PUBLIC = ("/api/v1/signup/",)  # the paths under /api/v1 that need no token
_KEY = "itsm.principal"


class Authenticate:
    """ASGI middleware: a request under /api/v1 (but ``PUBLIC``) is authenticated before anything
    else, its body included, is read: no token, no 422 for a body it sends."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/api/v1/") and not path.startswith(PUBLIC):
            request = Request(scope)
            try:
                scope[_KEY] = await _authenticate_request(request)
            except Exception as exc:  # noqa: BLE001 - each kind gets its problem response
                await problems.render(request, exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def principal(request: Request) -> Principal:
    """The acting user (``Authenticate`` found it), for the route's services; sets the audit
    channel ("api") and token name for the rest of the request."""
    found: Principal | None = request.scope.get(_KEY)
    if found is None:
        raise ApiProblem(401, tokens.GENERIC_ERROR, headers={"WWW-Authenticate": "Bearer"})
    audit.enter_request("api", found.token.name)
    return Principal(copy(found.user), found.token)  # the services refresh the role on their copy


Caller = Annotated[Principal, Depends(principal)]  # a route's parameter: the acting user and token
