"""``/api/v1/users`` (staff list them, admins manage them), ``/api/v1/tokens`` (one's own API
tokens; admins: everyone's), ``/api/v1/categories`` (admins add, rename, deactivate and merge
them) and ``/api/v1/me/devices``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.problems import RESPONSES, ApiProblem
from itsm_tui.api.schemas import Moment
from itsm_tui.api.versions import IfMatch, tag
from itsm_tui.core.inventory import devices
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
    active: bool = True
    tickets: int | None = Field(None, description="how many tickets have it (all=true only)")


class CategoryIn(BaseModel):
    name: str = Field(max_length=50)


class CategoryChange(BaseModel):
    name: str | None = Field(None, max_length=50, description="a new name")
    active: bool | None = Field(None, description="false: no new ticket gets it; its tickets keep it")


class CategoryMerge(BaseModel):
    into: str = Field(max_length=50)


class Moved(BaseModel):
    moved: int = Field(description="how many tickets moved to the other category")


class DeviceOut(BaseModel):
    kind: Literal["system", "peripheral"]
    id: int
    asset_tag: str
    name: str
    detail: str


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
    return _user(
        users.update_user(p.user, username, version, **body.model_dump(exclude_unset=True)), response
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
def list_categories(
    p: Caller, everyone: bool = Query(False, alias="all", description="inactive too, with counts (admins)")
):
    if everyone:
        return [CategoryOut(name=c.name, active=c.is_active, tickets=n) for c, n in categories.every(p.user)]
    return [CategoryOut(name=c.name) for c in categories.active()]


@router.post("/categories", response_model=CategoryOut, status_code=201)
def add_category(body: CategoryIn, p: Caller):
    return CategoryOut(name=categories.add(p.user, body.name).name)


CategoryName = Path(max_length=50)


@router.patch("/categories/{name}", response_model=CategoryOut)
def change_category(body: CategoryChange, p: Caller, name: str = CategoryName):
    """Rename, deactivate or reactivate a category (admins); history keeps the old name."""
    row = categories.rename(p.user, name, body.name) if body.name is not None else None
    if body.active is not None:
        row = categories.set_active(p.user, row or name, body.active)
    if row is None:
        raise ApiProblem(422, "send a new name, active, or both", "name")
    return CategoryOut(name=row.name, active=row.is_active)


@router.post("/categories/{name}/merge", response_model=Moved)
def merge_category(body: CategoryMerge, p: Caller, name: str = CategoryName):
    """Move every ticket of the category to ``into`` and deactivate it (admins)."""
    return Moved(moved=categories.merge(p.user, name, body.into))


@router.get("/me/devices", response_model=list[DeviceOut], tags=["inventory"])
def my_devices(p: Caller):
    """The systems assigned to you and the peripherals attached to them."""
    return [DeviceOut(**vars(d)) for d in devices.of_user(p.user)]
