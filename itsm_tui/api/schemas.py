"""What the API sends and accepts: the OpenAPI document's schemas come from these classes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

# A time the database keeps as naive UTC, sent with its zone (RFC 3339: "2026-12-06T09:00:00Z").
Moment = Annotated[datetime, AfterValidator(lambda t: t.replace(tzinfo=UTC) if t.tzinfo is None else t)]

Level = Literal[1, 2, 3, "high", "medium", "low"]


class TicketRow(BaseModel):
    """A ticket as lists show it."""

    id: int
    number: str
    title: str
    status: str
    priority: int
    category: str
    requester: str
    assignee: str | None
    created_at: Moment
    updated_at: Moment
    response_due: Moment
    resolution_due: Moment
    first_response_at: Moment | None
    resolved_at: Moment | None
    source_number: str | None
    version: int


class TicketPage(BaseModel):
    items: list[TicketRow]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class Ticket(TicketRow):
    description: str
    impact: int
    urgency: int
    contact_type: str | None
    resolution_note: str | None
    closed_at: Moment | None
    system: str | None
    peripheral: str | None
    team: str | None
    tags: list[str]


class TicketIn(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(max_length=20_000)
    category: str | None = None
    impact: Level = 3
    urgency: Level = 3
    requester: str | None = Field(None, description="a username: staff may open tickets for others")
    system: str | None = Field(
        None, max_length=100, description="a system's asset tag or hostname (requesters: one of me/devices)"
    )
    peripheral: str | None = Field(None, max_length=100, description="a peripheral's asset tag or name")


class TicketChange(BaseModel):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    category: str | None = None
    impact: Level | None = None
    urgency: Level | None = None
    priority: Literal[1, 2, 3, 4, "critical", "high", "medium", "low"] | None = None
    system: str | None = Field(None, max_length=100, description="asset tag or hostname; null or empty: none")
    peripheral: str | None = Field(None, max_length=100, description="asset tag or name; null or empty: none")


class StatusIn(BaseModel):
    status: Literal["new", "in_progress", "waiting_on_user", "waiting_on_vendor", "resolved", "closed"]
    note: str | None = Field(None, max_length=20_000, description="required to resolve")


class AssignIn(BaseModel):
    assignee: str | None = Field(description="a staff username; null unassigns")


class CommentIn(BaseModel):
    body: str = Field(max_length=20_000)
    internal: bool = Field(False, description="an internal note (staff only)")


class CommentOut(BaseModel):
    id: int
    author: str
    body: str
    internal: bool
    created_at: Moment


class AttachmentOut(BaseModel):
    id: int
    filename: str
    size: int
    uploaded_by: str
    created_at: Moment


class TokenInfo(BaseModel):
    name: str
    prefix: str
    read_only: bool
    expires_at: Moment | None


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    email: str | None
    token: TokenInfo


class Health(BaseModel):
    status: str
