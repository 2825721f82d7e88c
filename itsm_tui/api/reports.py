"""``/api/v1/activity`` (the log with its filters), ``/api/v1/analytics`` (the figures of
``itsm-tui report analytics``) and ``/api/v1/exports/{list}`` (any list as CSV or PDF, streamed)."""

from __future__ import annotations

import tempfile
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from itsm_tui.api.auth import Caller
from itsm_tui.api.paging import MAX_LIMIT, RowPage, decode_cursor, rows_page
from itsm_tui.api.problems import RESPONSES
from itsm_tui.core.audit import activity
from itsm_tui.core.people.permissions import require
from itsm_tui.core.tickets import analytics
from itsm_tui.reports import export

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=RESPONSES)
CHUNK = 64 * 1024
MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@router.get("/activity", response_model=RowPage)
def activity_log(
    p: Caller,
    q: str = Query("", max_length=2000, description="e.g. `type:ticket actor:agent1 at:-7d`"),
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Newest first; what the token's user may read (agents: ticket and inventory history)."""
    require(p.user, "audit.view_work")
    return rows_page(activity.page(p.user, q, after=decode_cursor(cursor), limit=limit))


@router.get("/analytics")
def desk_analytics(
    p: Caller,
    period: str = Query(
        "30d", max_length=30, description="today, 7d, 30d, quarter, all or YYYY-MM-DD..YYYY-MM-DD"
    ),
    q: str | None = Query(None, max_length=2000, description="narrow the figures to a queue filter"),
) -> dict[str, Any]:
    return analytics.figures(p.user, period, filter_text=q or None)


@router.get(
    "/exports/{what}",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["pdf"]: {}}, "description": "The file"}},
)
def export_list(
    what: Literal["tickets", "systems", "peripherals", "stock", "log"],
    p: Caller,
    format: Literal["csv", "pdf"] = "csv",
    q: str = Query("", max_length=2000),
    sort: str | None = Query(None, max_length=40),
    columns: str | None = Query(None, max_length=500, description="comma-separated column keys"),
    title: str | None = Query(None, max_length=200),
):
    """The list as the terminal app exports it, logged like any export; written to a temporary
    file first (a PDF needs its page count), then streamed."""
    job = export.ListJob(
        what, format, "HTTP download", q, sort, None, tuple(columns.split(",")) if columns else None, title
    )
    spool = tempfile.TemporaryFile()
    try:
        rows, _ = export.write_list(p.user, job, spool)
        export.record(p.user, format, what, "an HTTP download", rows, q, sort)  # the one export entry
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(CHUNK):
                yield block

    name = export.default_name(what, format)
    return StreamingResponse(
        chunks(), media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
