"""Self-service sign-up over HTTP, without a token, on both engines: off (404) unless sign-up is
on; a code for an address (the same answer whether or not it has an account) sets its password;
wrong codes and code requests count against the client's limit like failed authentication."""

from __future__ import annotations

import re

from api_helpers import Desk
from mail_helpers import desk as mail_desk
from mail_helpers import outbox

from itsm_tui.core.people import auth, users

__all__ = ["mail_desk"]
PASSWORD = "a-long-password-1"


def _code() -> str:
    return re.search(r"\b(\d{8})\b", outbox()[-1].get_content()).group(1)


def test_signup_is_404_while_it_is_off(people, mail_desk):
    api = Desk(people)
    answer = api.client.post("/api/v1/signup/code", json={"email": "anna@example.org"})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert api.client.post("/api/v1/signup/password", content=b"{").status_code == 404


def test_signup_without_outgoing_mail_is_the_desk_s_problem_503(people, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_SIGNUP", "yes")  # on, but no ITSM_SMTP_HOST
    monkeypatch.setenv("ITSM_MAIL_ALLOWED_DOMAINS", "example.org")
    answer = Desk(people).client.post("/api/v1/signup/code", json={"email": "anna@example.org"})
    assert answer.status_code == 503 and "ITSM_SMTP_HOST" in answer.json()["detail"]


def test_a_code_by_mail_sets_the_password_and_guesses_are_limited(people, mail_desk, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_SIGNUP", "yes")
    api = Desk(people, auth_failures=4)
    ask = api.client.post("/api/v1/signup/code", json={"email": "Anna@Example.org"})
    assert ask.status_code == 202, ask.text
    code = _code()
    agent = people["agent"]
    users.update_user(people["admin"], agent.id, agent.version, email="agent@example.org")
    staff = api.client.post("/api/v1/signup/code", json={"email": "agent@example.org"})
    assert staff.json() == ask.json() and len(outbox()) == 1  # nothing said about who has an account
    wrong = {"email": "anna@example.org", "code": "x", "password": PASSWORD}
    refused = api.client.post("/api/v1/signup/password", json=wrong)
    assert refused.status_code == 401 and "wrong" in refused.json()["detail"]
    done = api.client.post("/api/v1/signup/password", json={**wrong, "code": code})
    assert done.status_code == 200, done.text
    assert auth.login(done.json()["username"], PASSWORD).role == "requester"
    limited = api.client.post("/api/v1/signup/password", json=wrong)  # the 4th counted attempt
    assert limited.status_code == 401
    blocked = api.client.post("/api/v1/signup/code", json={"email": "anna@example.org"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
