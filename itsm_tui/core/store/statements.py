"""Compiled SQL kept per query shape, so a hot read skips peewee's SQL building.

Turning a deferred-join page (a subquery or a UNION of several, four joins, twenty columns)
into SQL took peewee about 1 ms of Python per page: half the cost of a queue page, more than
the database's own work on SQLite. A list read repeats a handful of shapes with new values,
so :func:`dicts` compiles each shape's SQL once and afterwards only compiles the query's
filter clauses (a few nodes) to know the shape and collect their values.

The cache is checked on the way in: a shape is kept only when the SQL built around its
clauses' compiled text is the very SQL peewee builds for the query, and the values filled in
are the very values peewee would pass. Anything else (an alias numbered differently, say)
leaves that shape uncompiled, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from peewee import SQL

from itsm_tui.core.store.models import database

MAX_SHAPES = 512
_shapes: dict[tuple, tuple[str, list] | None] = {}


class _Slot:
    """A clause's ``index``-th value in the cached parameter list."""

    __slots__ = ("clause", "index")

    def __init__(self, clause: int, index: int):
        self.clause, self.index = clause, index


def _compiled(clause) -> tuple[str, list]:
    if clause is None:
        return "", []
    return database.get_sql_context().sql(clause).query()


def _fill(params: list, values: list[list]) -> list:
    return [values[p.clause][p.index] if isinstance(p, _Slot) else p for p in params]


def dicts(build: Callable[[Sequence], Any], clauses: Sequence, shape: tuple) -> list[dict]:
    """``list(build(clauses).dicts())``, with the SQL compiled once per ``shape`` and clause text.

    ``build`` makes the query from its filter clauses (peewee nodes, or None for no filter);
    everything in it but the clauses must be fixed by ``shape`` (its limit, its order, the
    columns it reads)."""
    compiled = [_compiled(clause) for clause in clauses]
    key = (type(database.obj), shape, *(text for text, _ in compiled))
    query = build(clauses).dicts()  # cheap: the tree, not its SQL; it converts the rows
    if key in _shapes:
        recipe = _shapes.get(key)  # None: another thread just emptied the cache, or no recipe
    else:
        recipe = _recipe(build, query, compiled)
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        _shapes[key] = recipe
    if recipe is None:
        return list(query)
    sql, params = recipe
    cursor = database.execute_sql(sql, _fill(params, [values for _, values in compiled]))
    return list(query._get_cursor_wrapper(cursor))


def _recipe(build, query, compiled: list[tuple[str, list]]) -> tuple[str, list] | None:
    """The query's SQL with a slot for each clause value, or None when splicing the clauses'
    own text does not give back exactly what peewee builds."""
    sql, params = query.sql()
    spliced = [
        SQL(text, [_Slot(i, j) for j in range(len(values))]) if text else None
        for i, (text, values) in enumerate(compiled)
    ]
    template, slotted = build(spliced).dicts().sql()
    if template != sql or _fill(slotted, [values for _, values in compiled]) != params:
        return None
    return template, slotted
