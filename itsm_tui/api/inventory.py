"""``/api/v1/{systems,peripherals,stock,departments,networks}``: the inventory lists (filter
language, sort, cursor), one record, create, update (``If-Match``), delete, stock adjustments."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.paging import MAX_LIMIT, RowPage, decode_cursor, plain, rows_page
from itsm_tui.api.problems import RESPONSES
from itsm_tui.api.versions import IfMatch, tag
from itsm_tui.core.inventory import lists
from itsm_tui.core.inventory import service as inventory

router = APIRouter(prefix="/api/v1", tags=["inventory"], responses=RESPONSES)


Kind = Literal["systems", "peripherals", "stock", "departments", "networks"]


ENTITY = {"systems": "system", "peripherals": "peripheral", "stock": "stock", "departments": "department",
          "networks": "network"}  # fmt: skip
RecordId = Path(ge=1, le=2**31 - 1)


class Adjustment(BaseModel):
    delta: int = Field(description="how many to add (negative: take)", ge=-2_000_000_000, le=2_000_000_000)
    reason: str = Field(max_length=200)


def _record(row, response: Response | None = None) -> dict[str, Any]:
    if response is not None:
        tag(response, row.version)
    return {key: plain(value) for key, value in row.__data__.items() if not key.endswith("_key")}


@router.get("/{kind}", response_model=RowPage)
def list_records(
    kind: Kind,
    p: Caller,
    q: str = Query("", max_length=2000, description="a filter in the list's query language"),
    sort: str | None = Query(None, max_length=40),
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    entity = ENTITY[kind]
    order = lists.AssetSort.parse(entity, sort)
    return rows_page(lists.page(p.user, entity, q, order, after=decode_cursor(cursor), limit=limit))


@router.get("/{kind}/{record_id}")
def get_record(kind: Kind, response: Response, p: Caller, record_id: int = RecordId) -> dict[str, Any]:
    return _record(inventory.get(p.user, ENTITY[kind], record_id), response)


@router.post("/{kind}", status_code=201)
def create_record(kind: Kind, body: dict[str, Any], response: Response, p: Caller) -> dict[str, Any]:
    """The fields as the inventory forms name them; ``department``, ``network``, ``system`` and
    ``assigned_user`` by name, asset tag or username."""
    return _record(inventory.create(p.user, ENTITY[kind], body), response)


@router.patch("/{kind}/{record_id}")
def update_record(
    kind: Kind,
    body: dict[str, Any],
    response: Response,
    p: Caller,
    version: IfMatch,
    record_id: int = RecordId,
) -> dict[str, Any]:
    return _record(inventory.update(p.user, ENTITY[kind], record_id, version, body), response)


@router.delete("/{kind}/{record_id}")
def delete_record(kind: Kind, p: Caller, version: IfMatch, record_id: int = RecordId) -> dict[str, int]:
    """Returns what the delete unlinked (peripherals from a system, tickets from an asset...)."""
    return inventory.delete(p.user, ENTITY[kind], record_id, version)


@router.post("/stock/{record_id}/adjust")
def adjust_stock(
    body: Adjustment, response: Response, p: Caller, record_id: int = RecordId
) -> dict[str, Any]:
    """Add or take stock with a reason; adjustments never conflict (no ``If-Match``)."""
    return _record(inventory.adjust_stock(p.user, record_id, body.delta, body.reason), response)
