"""``/api/v1/users`` (staff list them, admins manage them), ``/api/v1/tokens`` (one's own API
tokens; admins: everyone's) and ``/api/v1/categories``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.problems import RESPONSES
from itsm_tui.api.schemas import Moment
from itsm_tui.api.versions import IfMatch, tag
from itsm_tui.core.people import tokens, users
from itsm_tui.core.tickets import categories

router = APIRouter(prefix="/api/v1", tags=["people"], responses=RESPONSES)
Role = Literal["requester", "agent", "supervisor", "admin"]


class UserOut(BaseModel):
    username: str
    full_name: str
    role: str
    email: str | None
    department: str | None
    active: bool
    last_login_at: Moment | None
    version: int


class UserIn(BaseModel):
    username: str = Field(max_length=64)
    role: Role
    full_name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    department: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=200, description="none: the account cannot log in")


class UserChange(BaseModel):
    full_name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    department: str | None = Field(None, max_length=100)
    role: Role | None = None
    is_active: bool | None = None


class TokenOut(BaseModel):
    prefix: str
    name: str
    user: str
    read_only: bool
    created_at: Moment
    expires_at: Moment | None
    last_used_at: Moment | None
    revoked_at: Moment | None


class CategoryOut(BaseModel):
    name: str


class CategoryIn(BaseModel):
    name: str = Field(max_length=50)


def _user(user, response: Response | None = None) -> UserOut:
    if response is not None:
        tag(response, user.version)
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        email=user.email,
        department=user.department.name if user.department_id else None,
        active=user.is_active,
        last_login_at=user.last_login_at,
        version=user.version,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(p: Caller, role: Role | None = None, active: bool | None = Query(None)):
    return [_user(u) for u in users.list_users(p.user, role, active)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, response: Response, p: Caller):
    return _user(users.create_user(p.user, **body.model_dump()), response)


@router.patch("/users/{username}", response_model=UserOut)
def update_user(
    body: UserChange, response: Response, p: Caller, version: IfMatch, username: str = Path(max_length=64)
):
    target = users.by_username(username)
    return _user(
        users.update_user(p.user, target.id, version, **body.model_dump(exclude_unset=True)), response
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(p: Caller, everyone: bool = Query(False, alias="all", description="every user's (admins)")):
    """The token's user's API tokens, newest first (never the tokens themselves)."""
    return [
        TokenOut(
            prefix=t.prefix,
            name=t.name,
            user=t.user.username,
            read_only=t.read_only,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t in tokens.list_tokens(p.user, everyone)
    ]


@router.delete("/tokens/{prefix}", status_code=204, response_class=Response)
def revoke_token(p: Caller, prefix: str = Path(max_length=16)):
    """Revoke one of your tokens (admins: anyone's), by its prefix."""
    tokens.revoke(p.user, prefix)
    return Response(status_code=204)


@router.get("/categories", response_model=list[CategoryOut])
def list_categories(p: Caller):
    return [CategoryOut(name=c.name) for c in categories.active()]


@router.post("/categories", response_model=CategoryOut, status_code=201)
def add_category(body: CategoryIn, p: Caller):
    return CategoryOut(name=categories.add(p.user, body.name).name)
