"""What the API tests share: a client on the real ASGI app and a token per person."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # starlette asks for "httpx2"; httpx (a test dependency) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from itsm_tui.api.app import create_app
from itsm_tui.core.people import tokens


class Desk:
    """The app under test, one client, and ``headers(name)``: a bearer token per person."""

    def __init__(self, people, **app_options):
        self.app = create_app(**app_options)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.people = people
        self._tokens: dict[tuple[str, bool], str] = {}

    def token(self, name: str, read_only: bool = False) -> str:
        if (name, read_only) not in self._tokens:
            label = f"test-{'ro' if read_only else 'rw'}"
            self._tokens[name, read_only] = tokens.create(self.people[name], label, read_only=read_only)[1]
        return self._tokens[name, read_only]

    def headers(self, name: str, read_only: bool = False, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token(name, read_only)}", **extra}

    def get(self, name: str, path: str, **kw):
        return self.client.get(path, headers=self.headers(name), **kw)

    def post(self, name: str, path: str, json=None, **kw):
        return self.client.post(path, json=json, headers=self.headers(name, **kw.pop("h", {})), **kw)

    def new_ticket(self, name: str = "requester", title: str = "Printer jams", **fields) -> dict:
        answer = self.post(name, "/api/v1/tickets", {"title": title, "description": "Every page", **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture
def desk(people):
    return Desk(people)
