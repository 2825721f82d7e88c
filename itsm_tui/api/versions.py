"""Optimistic locking over HTTP: a read answers the record's version as its ``ETag``; a write
sends it back in ``If-Match`` and meets 409 (who changed what) when someone changed it since."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from itsm_tui.api.problems import ApiProblem

_ETAG_RE = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$')


async def expected_version(if_match: Annotated[str | None, Header()] = None) -> int:
    """The version the client read, from ``If-Match`` (the ``ETag`` a read gave); async, so
    FastAPI runs it on the event loop instead of a thread of its own."""
    if not if_match:
        raise ApiProblem(428, "send the version you read in If-Match (the record's ETag)", "If-Match")
    match = _ETAG_RE.match(if_match)
    if not match:
        raise ApiProblem(400, f'If-Match {if_match[:40]!r} is not a version (like "3")', "If-Match")
    return int(match[1])


IfMatch = Annotated[int, Depends(expected_version)]


def etag(version: int) -> dict[str, str]:
    """The ``ETag`` header of a record at ``version``."""
    return {"ETag": f'"{version}"'}


def tag(response: Response, version: int) -> None:
    response.headers.update(etag(version))
