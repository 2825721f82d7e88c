"""The role matrix over HTTP, on both engines: each role's answer to one request per matrix
area, a requester's 404 for someone else's ticket, and a read-only token's 403 on every write."""

from __future__ import annotations

import pytest
from api_helpers import desk

ROLES = ("requester", "agent", "supervisor", "admin")


def _requests(number: str) -> list[tuple[str, str, dict | None, tuple[int, int, int, int]]]:
    """(method, path, body, the status for requester, agent, supervisor, admin)."""
    return [
        ("GET", f"/api/v1/tickets/{number}", None, (404, 200, 200, 200)),  # requester2's ticket
        ("GET", f"/api/v1/tickets/{number}/comments", None, (404, 200, 200, 200)),
        (
            "POST",
            f"/api/v1/tickets/{number}/comments",
            {"body": "note", "internal": True},
            (404, 201, 201, 201),
        ),
        ("GET", "/api/v1/systems", None, (403, 200, 200, 200)),
        ("POST", "/api/v1/departments", {"name": "Dept {role}"}, (403, 201, 201, 201)),
        ("GET", "/api/v1/activity?q=type:ticket", None, (403, 200, 200, 200)),
        ("GET", "/api/v1/activity?q=type:user", None, (403, 200, 200, 200)),  # agents: an empty page
        ("GET", "/api/v1/analytics", None, (403, 200, 200, 200)),
        ("GET", "/api/v1/users", None, (403, 200, 200, 200)),
        ("POST", "/api/v1/users", {"username": "new-{role}", "role": "requester"}, (403, 403, 403, 201)),
        ("POST", "/api/v1/categories", {"name": "Cat {role}"}, (403, 403, 403, 201)),
        ("GET", "/api/v1/webhooks", None, (403, 403, 403, 200)),
        ("PUT", "/api/v1/alerts/sources/zabbix", {"category": "Network"}, (403, 403, 403, 200)),
        (
            "POST",
            "/api/v1/alerts/generic",
            {"source": "s", "dedupe_key": "k-{role}", "status": "firing", "summary": "down"},
            (403, 200, 200, 200),
        ),  # fmt: skip
        ("GET", "/api/v1/tokens?all=true", None, (403, 403, 403, 200)),
        ("GET", "/api/v1/tokens", None, (200, 200, 200, 200)),
        ("GET", "/api/v1/categories?all=true", None, (403, 403, 403, 200)),
        ("POST", "/api/v1/teams", {"name": "Team {role}"}, (403, 403, 403, 201)),
        ("GET", "/api/v1/teams", None, (403, 200, 200, 200)),
        ("GET", "/api/v1/macros", None, (403, 200, 200, 200)),
        ("GET", "/api/v1/me/devices", None, (200, 200, 200, 200)),
        ("PUT", f"/api/v1/tickets/{number}/tags", {"tags": ["t"]}, (404, 200, 200, 200)),
        ("GET", f"/api/v1/tickets/{number}/links", None, (404, 200, 200, 200)),
    ]


def _send(desk, role: str, method: str, path: str, body: dict | None, read_only: bool = False):
    filled = {k: v.format(role=role) if isinstance(v, str) else v for k, v in (body or {}).items()}
    return desk.client.request(
        method, path, json=filled if body else None, headers=desk.headers(role, read_only)
    )


def test_each_role_gets_what_the_matrix_says(desk):
    number = desk.new_ticket("requester2")["number"]
    wrong = []
    for method, path, body, expected in _requests(number):
        for role, status in zip(ROLES, expected):
            answer = _send(desk, role, method, path, body)
            if answer.status_code != status:
                wrong.append(
                    f"{role} {method} {path}: {answer.status_code} (expected {status}) {answer.text[:120]}"
                )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_a_read_only_token_gets_403_on_every_write(desk, role):
    number = desk.new_ticket("requester2")["number"]
    for method, path, body, expected in _requests(number):
        answer = _send(desk, role, method, path, body, read_only=True)
        if method == "GET":  # reads as the role may
            assert answer.status_code == expected[ROLES.index(role)], answer.text
        else:
            assert answer.status_code == 403 and "read-only" in answer.json()["detail"], (method, path)
