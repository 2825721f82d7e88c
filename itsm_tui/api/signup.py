"""``/api/v1/signup/``: self-service sign-up without a token (issue 20), the login screen's two
steps over HTTP: ask for a code for an address, then set the password with it. Both call the
e-mail channel's sign-up service; both count against the client address's limit of failed
authentications (a wrong code as a failure, every code asked for too); off (404) unless sign-up
is on."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from itsm_tui.api.auth import check_limit, count_failure
from itsm_tui.api.problems import RESPONSES, ApiProblem
from itsm_tui.core.errors import AuthError
from itsm_tui.core.mail import signup


async def _open(request: Request) -> None:
    if not signup.enabled():
        raise ApiProblem(404, "self-service sign-up is off: ask your IT department for an account")
    check_limit(request)


router = APIRouter(
    prefix="/api/v1/signup", tags=["sign-up"], responses=RESPONSES, dependencies=[Depends(_open)]
)
SENT = "if the address may sign up, a code is on its way (it works once, within 15 minutes)"


class CodeRequest(BaseModel):
    email: str = Field(max_length=254)


class Sent(BaseModel):
    detail: str


class PasswordIn(BaseModel):
    email: str = Field(max_length=254)
    code: str = Field(max_length=20)
    password: str = Field(max_length=200)


class Account(BaseModel):
    username: str = Field(description="what to log in with")


@router.post("/code", response_model=Sent, status_code=202)
def request_code(body: CodeRequest, request: Request):
    """Mail a one-time code to the address: the same answer whether or not it has an account."""
    count_failure(request)
    signup.request_code(body.email)
    return Sent(detail=SENT)


@router.post("/password", response_model=Account)
def set_password(body: PasswordIn, request: Request):
    """Set the password of the address's requester account with the code it was mailed."""
    try:
        user = signup.complete(body.email, body.code, body.password)
    except AuthError:
        count_failure(request)
        raise
    return Account(username=user.username)
