"""What the API sends and accepts: the OpenAPI document's schemas come from these classes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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
    created_at: datetime
    updated_at: datetime
    response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
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
    closed_at: datetime | None
    system: str | None
    peripheral: str | None


class TicketIn(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(max_length=20_000)
    category: str | None = None
    impact: Level = 3
    urgency: Level = 3
    requester: str | None = Field(None, description="a username: staff may open tickets for others")


class TicketChange(BaseModel):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    category: str | None = None
    impact: Level | None = None
    urgency: Level | None = None
    priority: Literal[1, 2, 3, 4, "critical", "high", "medium", "low"] | None = None


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
    created_at: datetime


class AttachmentOut(BaseModel):
    id: int
    filename: str
    size: int
    uploaded_by: str
    created_at: datetime


class TokenInfo(BaseModel):
    name: str
    prefix: str
    read_only: bool
    expires_at: datetime | None


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    email: str | None
    token: TokenInfo


class Health(BaseModel):
    status: str
