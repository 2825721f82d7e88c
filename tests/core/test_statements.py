"""The compiled-SQL cache (itsm_tui.core.store.statements) under the ticket queue, on both engines:
a shape compiled once answers later calls with their own values, and a shape whose SQL cannot be
spliced from its clauses is compiled every time instead of answered wrongly."""

from __future__ import annotations

import pytest

from itsm_tui.core.errors import PermissionDenied
from itsm_tui.core.people import users
from itsm_tui.core.store import statements
from itsm_tui.core.store.models import Category, Ticket, User
from itsm_tui.core.tickets import queue, tags
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.queue import Sort


@pytest.fixture
def desk(people):
    agent = people["agent"]
    names = [c.name for c in Category.select().order_by(Category.id)][:3]
    made = {}
    for i in range(12):
        category = names[i % 3]
        ticket = tickets.create(agent, f"ticket {i}", "words", category=category, impact=1 + i % 3)
        made[ticket.id] = category
    return agent, made


def _ids(page) -> list[int]:
    return [row["id"] for row in page.rows]


def test_a_compiled_shape_answers_each_call_with_its_own_values(desk, monkeypatch):
    agent, made = desk
    statements._shapes.clear()
    built = []
    recipe = statements._recipe
    monkeypatch.setattr(statements, "_recipe", lambda *args: built.append(1) or recipe(*args))
    for name in sorted(set(made.values())):
        page = queue.page(agent, f'cat:"{name}"', Sort("number", False), limit=3)
        expected = sorted(i for i, category in made.items() if category == name)
        assert _ids(page) == expected[:3]
        following = queue.page(agent, f'cat:"{name}"', Sort("number", False), after=page.last, limit=3)
        assert _ids(following) == expected[3:6]
    # one compile each for the role check, the category's name, the first page and the next
    # page (the cursor's clause); the two other categories reused all four with their values
    assert len(built) == 4
    assert None not in statements._shapes.values()


def test_rows_are_read_as_peewee_converts_them(desk):
    """The compiled read gives the very values and types peewee's own dicts give: whole numbers,
    text, booleans (MySQL returns 0 and 1), foreign keys, times (SQLite returns text) and NULLs."""
    agent, made = desk
    tickets.assign(agent, min(made), 1, "agent")

    def build(clauses):
        return (
            Ticket.select(Ticket, Category.name.alias("category_name"), User.is_active, User.username)
            .join(Category, on=(Ticket.category == Category.id))
            .switch(Ticket)
            .join(User, on=(Ticket.requester == User.id))
            .where(*clauses)
            .order_by(Ticket.id)
        )

    clauses = [Ticket.id.in_(sorted(made))]
    expected = list(build(clauses).dicts())
    assert any(row["assignee"] is not None for row in expected)
    assert any(row["resolved_at"] is None for row in expected)
    for _ in range(2):  # compiled, then answered from the compiled shape
        got = statements.dicts(build, clauses, ("test-rows",))
        assert [[(k, type(v), v) for k, v in row.items()] for row in got] == [
            [(k, type(v), v) for k, v in row.items()] for row in expected
        ]
    assert {type(row["is_active"]) for row in got} == {bool}


def test_a_shape_that_does_not_splice_is_compiled_every_time(desk):
    agent, made = desk
    first, second = sorted(made)[:2]
    tags.change(agent, first, add=["printer"])
    tags.change(agent, second, add=["vpn"])
    statements._shapes.clear()
    assert _ids(queue.page(agent, "tag:printer")) == [first]
    assert _ids(queue.page(agent, "tag:vpn")) == [second]  # the same shape, another value
    assert None in statements._shapes.values()  # a subquery's alias: not cached, still right


def test_the_cached_role_check_reads_the_role_each_time(people):
    """The permission check's statement is compiled once; the role it reads is read every time."""
    agent = people["agent"]
    queue.page(agent, "")
    users.update_user(users.system_actor(), agent.id, agent.version, is_active=False)
    with pytest.raises(PermissionDenied):
        queue.page(agent, "")
