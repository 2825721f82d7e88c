"""``/api/v1/webhooks``: admins subscribe URLs to ticket events and read each one's delivery log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.problems import RESPONSES
from itsm_tui.api.schemas import Moment
from itsm_tui.core.notify import webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=RESPONSES)
Event = Literal[webhooks.EVENTS]  # type: ignore[valid-type]
SubscriptionId = Path(ge=1, le=2**31 - 1)


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=500, examples=["https://chat.example.com/hooks/itsm"])
    events: list[Event] = Field(min_length=1)
    allow_private: bool = Field(False, description="allow a private, loopback or link-local target")


class SubscriptionChange(BaseModel):
    events: list[Event] | None = Field(None, min_length=1)
    active: bool | None = Field(None, description="false pauses; true resumes (failures forgotten)")


class Subscription(BaseModel):
    id: int
    url: str
    events: list[str]
    allow_private: bool
    active: bool
    paused_at: Moment | None
    failing_since: Moment | None
    created_at: Moment


class NewSubscription(Subscription):
    secret: str = Field(description="signs every delivery (HMAC-SHA256); shown only now")


class Delivery(BaseModel):
    id: int
    event: str
    attempts: int
    created_at: Moment
    next_attempt_at: Moment
    delivered_at: Moment | None
    last_status: int | None
    last_error: str | None


def _out(row, model=Subscription, **extra):
    return model(
        id=row.id,
        url=row.url,
        events=row.events.split(","),
        allow_private=row.allow_private,
        active=row.is_active,
        paused_at=row.paused_at,
        failing_since=row.failing_since,
        created_at=row.created_at,
        **extra,
    )


@router.get("", response_model=list[Subscription])
def list_subscriptions(p: Caller):
    return [_out(row) for row in webhooks.subscriptions(p.user)]


@router.post("", response_model=NewSubscription, status_code=201)
def subscribe(body: SubscriptionIn, p: Caller):
    row = webhooks.subscribe(p.user, body.url, body.events, body.allow_private)
    return _out(row, NewSubscription, secret=row.secret)


@router.get("/{subscription_id}", response_model=Subscription)
def get_subscription(p: Caller, subscription_id: int = SubscriptionId):
    return _out(webhooks.subscription(p.user, subscription_id))


@router.patch("/{subscription_id}", response_model=Subscription)
def change(body: SubscriptionChange, p: Caller, subscription_id: int = SubscriptionId):
    return _out(webhooks.change(p.user, subscription_id, body.events, body.active))


@router.delete("/{subscription_id}", status_code=204, response_class=Response)
def unsubscribe(p: Caller, subscription_id: int = SubscriptionId):
    webhooks.unsubscribe(p.user, subscription_id)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", response_model=list[Delivery])
def delivery_log(p: Caller, subscription_id: int = SubscriptionId, limit: int = Query(100, ge=1, le=500)):
    return [
        Delivery(
            id=d.id,
            event=d.event,
            attempts=d.attempts,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            last_status=d.last_status,
            last_error=d.last_error,
        )
        for d in webhooks.deliveries(p.user, subscription_id, limit)
    ]
