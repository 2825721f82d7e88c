"""JSON replies serialised in the route's own thread.

A model returned from a plain (``def``) route is validated again by FastAPI against the route's
``response_model`` in a second hop to a worker thread, then serialised: twice the work and two
thread switches per request. The busiest routes (the queue, one ticket, create, comment) return
:func:`reply` instead; the model was validated when it was built, and ``response_model`` still
documents the body in the OpenAPI document (the schemathesis tests check the two agree)."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def reply(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status_code, headers, media_type="application/json")
