"""``/api/v1/{systems,peripherals,stock,departments,networks}``: the inventory lists (filter
language, sort, cursor), one record, create, update (``If-Match``), delete, stock adjustments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.paging import MAX_LIMIT, RowPage, decode_cursor, plain, rows_page
from itsm_tui.api.problems import RESPONSES
from itsm_tui.api.versions import IfMatch, tag
from itsm_tui.core.inventory import lists
from itsm_tui.core.inventory import service as inventory

router = APIRouter(prefix="/api/v1", tags=["inventory"], responses=RESPONSES)


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


def _add_routes(plural: str, entity: str) -> None:
    """The five routes of one inventory list (a fixed path each, so the OpenAPI document names
    them and no other path is taken for one)."""

    def list_records(
        p: Caller,
        q: str = Query("", max_length=2000, description="a filter in the list's query language"),
        sort: str | None = Query(None, max_length=40),
        cursor: str | None = Query(None, max_length=2000),
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
    ):
        order = lists.AssetSort.parse(entity, sort)
        return rows_page(lists.page(p.user, entity, q, order, after=decode_cursor(cursor), limit=limit))

    def get_record(response: Response, p: Caller, record_id: int = RecordId) -> dict[str, Any]:
        return _record(inventory.get(p.user, entity, record_id), response)

    def create_record(body: dict[str, Any], response: Response, p: Caller) -> dict[str, Any]:
        """The fields as the inventory forms name them; ``department``, ``network``, ``system``
        and ``assigned_user`` by name, asset tag or username."""
        return _record(inventory.create(p.user, entity, body), response)

    def update_record(
        body: dict[str, Any], response: Response, p: Caller, version: IfMatch, record_id: int = RecordId
    ) -> dict[str, Any]:
        return _record(inventory.update(p.user, entity, record_id, version, body), response)

    def delete_record(p: Caller, version: IfMatch, record_id: int = RecordId) -> dict[str, int]:
        """Returns what the delete unlinked (peripherals from a system, tickets from an asset...)."""
        return inventory.delete(p.user, entity, record_id, version)

    one = f"/{plural}/{{record_id}}"
    router.add_api_route(
        f"/{plural}", list_records, methods=["GET"], response_model=RowPage, name=f"list {plural}"
    )
    router.add_api_route(
        f"/{plural}", create_record, methods=["POST"], status_code=201, name=f"create {entity}"
    )
    router.add_api_route(one, get_record, methods=["GET"], name=f"get {entity}")
    router.add_api_route(one, update_record, methods=["PATCH"], name=f"update {entity}")
    router.add_api_route(one, delete_record, methods=["DELETE"], name=f"delete {entity}")


for _plural, _entity in ENTITY.items():
    _add_routes(_plural, _entity)


@router.post("/stock/{record_id}/adjust")
def adjust_stock(
    body: Adjustment, response: Response, p: Caller, record_id: int = RecordId
) -> dict[str, Any]:
    """Add or take stock with a reason; adjustments never conflict (no ``If-Match``)."""
    return _record(inventory.adjust_stock(p.user, record_id, body.delta, body.reason), response)
