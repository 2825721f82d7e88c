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
from datetime import datetime
from typing import Any

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from itsm_tui.core.store.models import DateTimeField, LongTextField, SortKeyField, database

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
    return _rows(query, cursor)


# field class -> the type its python_value gives; a value the driver returned as that type is
# kept as it is. Exact classes only: a field class not listed (or a subclass) is always converted.
_GIVES: dict[type, type] = {
    AutoField: int, BigIntegerField: int, IntegerField: int, BooleanField: bool, CharField: str,
    SortKeyField: str, TextField: str, LongTextField: str, DateTimeField: datetime,
}  # fmt: skip


def _rows(query, cursor) -> list[dict]:
    """The cursor's rows as peewee's dicts give them (its own column names and converters), in
    a third of the time: one ``fetchall`` instead of a call per row, and a converter called only
    on a value not yet of the type it gives (both drivers return whole numbers and text as such,
    MySQL times as datetimes; SQLite's times are text). Peewee's conversion of a 50-row page
    cost 0.25 ms of the 0.77 its read took on MariaDB."""
    wrapper = query._get_cursor_wrapper(cursor)
    wrapper.initialize()  # peewee resolves the columns' names and converters from the cursor
    names, converters = wrapper.unique_columns, wrapper.converters
    checks = []
    for i in wrapper.convert:
        field = wrapper.fields[i]
        if type(field) is ForeignKeyField:
            field = field.rel_field
        checks.append((i, names[i], converters[i], _GIVES.get(type(field))))
    rows = []
    for row in cursor.fetchall():
        values = dict(zip(names, row))
        for i, name, convert, gives in checks:
            value = row[i]
            if value is not None and type(value) is not gives:
                values[name] = convert(value)
        rows.append(values)
    return rows


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
