"""``/api/v1/tickets``: the queue (filter language, sort, keyset cursor), one ticket by our number
or its source's, create, update (``If-Match``), status, assign, comments, attachments."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Request, Response, UploadFile
from peewee import JOIN, fn

from itsm_tui.api import schemas
from itsm_tui.api.auth import Caller
from itsm_tui.api.paging import MAX_LIMIT, decode_cursor, encode_cursor
from itsm_tui.api.problems import RESPONSES, ApiProblem
from itsm_tui.api.replies import reply
from itsm_tui.api.versions import IfMatch, etag
from itsm_tui.core import config
from itsm_tui.core.store.models import Category, Peripheral, System, Team, Ticket, TicketTag, User
from itsm_tui.core.tickets import queue
from itsm_tui.core.tickets import service as tickets

router = APIRouter(prefix="/api/v1", tags=["tickets"], responses=RESPONSES)


Requester, Assignee = User.alias("requester"), User.alias("assignee")


# The names a ticket points at, as the API shows them, by the alias ``named`` reads them under.
_NAMED = {
    "category": "category_name", "requester": "requester_name", "assignee": "assignee_name",
    "system": "system_name", "peripheral": "peripheral_name", "team": "team_name", "tags": "tag_list",
}  # fmt: skip


def named():
    """Tickets with the names they point at and their tags, in one query (tags hold no comma:
    TAG_RE): ``tickets.get`` reads a ticket with them in its one statement."""
    tagged = TicketTag.select(fn.GROUP_CONCAT(TicketTag.tag)).where(TicketTag.ticket == Ticket.id)
    return (
        Ticket.select(
            Ticket,
            Category.name.alias(_NAMED["category"]),
            Requester.username.alias(_NAMED["requester"]),
            Assignee.username.alias(_NAMED["assignee"]),
            System.hostname.alias(_NAMED["system"]),
            Peripheral.name.alias(_NAMED["peripheral"]),
            Team.name.alias(_NAMED["team"]),
            tagged.alias(_NAMED["tags"]),
        )
        .join(Category, on=(Ticket.category == Category.id))
        .switch(Ticket)
        .join(Requester, on=(Ticket.requester == Requester.id))
        .switch(Ticket)
        .join(Assignee, JOIN.LEFT_OUTER, on=(Ticket.assignee == Assignee.id))
        .switch(Ticket)
        .join(System, JOIN.LEFT_OUTER, on=(Ticket.system == System.id))
        .switch(Ticket)
        .join(Peripheral, JOIN.LEFT_OUTER, on=(Ticket.peripheral == Peripheral.id))
        .switch(Ticket)
        .join(Team, JOIN.LEFT_OUTER, on=(Ticket.team == Team.id))
        .objects()
    )


def _names(ticket: Ticket) -> dict:
    """The names ``ticket`` points at and its tags: as ``named`` read them, or read now (a
    ticket a write returned)."""
    if not hasattr(ticket, _NAMED["tags"]):
        ticket = named().where(Ticket.id == ticket.id).get()
    found = {shown: getattr(ticket, alias) for shown, alias in _NAMED.items()}
    return {**found, "tags": sorted(found["tags"].split(",")) if found["tags"] else []}


# The ticket's own columns that the API shows as they are stored.
_COLUMNS = (
    "id", "title", "description", "status", "priority", "impact", "urgency", "created_at", "updated_at",
    "response_due", "resolution_due", "first_response_at", "resolved_at", "closed_at", "source_number",
    "contact_type", "resolution_note", "version",
)  # fmt: skip


def ticket_out(ticket: Ticket, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The ticket as the API shows it, with its version as the ``ETag``."""
    body = schemas.Ticket(
        **{name: getattr(ticket, name) for name in _COLUMNS},
        number=ticket.number,
        **_names(ticket),
    )
    return reply(body, status_code, {**(headers or {}), **etag(ticket.version)})


ROW_FIELDS = queue.FIELDS & set(schemas.TicketRow.model_fields)  # what a list row holds, and no more


@router.get("/tickets", response_model=schemas.TicketPage)
def list_tickets(
    p: Caller,
    q: str = Query(
        "", max_length=2000, description="a filter in the query language, e.g. `status:open prio:high`"
    ),
    sort: str = Query(
        "-updated",
        max_length=40,
        description="number, priority, status, title, requester, "
        "assignee, category, created, updated or due; a leading '-' sorts descending",
    ),
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    page = queue.page(
        p.user, q, queue.Sort.parse(sort), after=decode_cursor(cursor), limit=limit, fields=ROW_FIELDS
    )
    last = page.last
    following = encode_cursor(last) if page.has_more and last else None
    # validated as one page, not row by row (a quarter less time); the rows' other keys are left out
    return reply(schemas.TicketPage.model_validate({"items": page.rows, "next_cursor": following}))


@router.post("/tickets", response_model=schemas.Ticket, status_code=201)
def create_ticket(
    body: schemas.TicketIn,
    p: Caller,
    idempotency_key: str | None = Header(None, max_length=36),
):
    ticket = tickets.create(p.user, request_key=idempotency_key, read=named(), **body.model_dump())
    return ticket_out(ticket, 201, {"Location": f"/api/v1/tickets/{ticket.number}"})


@router.get("/tickets/{ref}", response_model=schemas.Ticket)
def get_ticket(ref: str, p: Caller):
    """By our number (INC000123) or the number its source gave it (an imported INC0000045)."""
    return ticket_out(tickets.get(p.user, ref, named()))


@router.patch("/tickets/{ref}", response_model=schemas.Ticket)
def update_ticket(
    ref: str,
    body: schemas.TicketChange,
    p: Caller,
    version: IfMatch,
):
    ticket = tickets.get(p.user, ref)
    changes = body.model_dump(exclude_unset=True)
    return ticket_out(tickets.update(p.user, ticket.id, version, **changes))


@router.post("/tickets/{ref}/status", response_model=schemas.Ticket)
def change_status(
    ref: str,
    body: schemas.StatusIn,
    p: Caller,
    version: IfMatch,
):
    return ticket_out(tickets.change_status(p.user, ref, version, body.status, body.note))


@router.post("/tickets/{ref}/assign", response_model=schemas.Ticket)
def assign(
    ref: str,
    body: schemas.AssignIn,
    p: Caller,
    version: IfMatch,
):
    return ticket_out(tickets.assign(p.user, ref, version, body.assignee))


@router.get("/tickets/{ref}/comments", response_model=list[schemas.CommentOut])
def list_comments(ref: str, p: Caller):
    ticket = tickets.get(p.user, ref)
    return [_comment_out(c, c.author.username) for c in tickets.comments(p.user, ticket)]


def _comment_out(row, author: str) -> schemas.CommentOut:
    return schemas.CommentOut(
        id=row.id, author=author, body=row.body, internal=row.is_internal, created_at=row.created_at
    )


@router.post("/tickets/{ref}/comments", response_model=schemas.CommentOut, status_code=201)
def add_comment(
    ref: str,
    body: schemas.CommentIn,
    p: Caller,
    idempotency_key: str | None = Header(None, max_length=36),
):
    row = tickets.comment(p.user, ref, body.body, internal=body.internal, request_key=idempotency_key)
    return reply(_comment_out(row, p.user.username), 201)


@router.get("/tickets/{ref}/attachments", response_model=list[schemas.AttachmentOut])
def list_attachments(ref: str, p: Caller):
    ticket = tickets.get(p.user, ref)
    return [_attachment_out(a, a.uploaded_by.username) for a in tickets.attachments_of(ticket.id)]


def _attachment_out(row, who: str) -> schemas.AttachmentOut:
    return schemas.AttachmentOut(
        id=row.id, filename=row.filename, size=row.size, uploaded_by=who, created_at=row.created_at
    )


@router.post("/tickets/{ref}/attachments", response_model=schemas.AttachmentOut, status_code=201)
def upload(ref: str, file: UploadFile, request: Request, p: Caller):
    limit = config.settings().attachment_max_bytes
    declared = request.headers.get("content-length", "")
    content = file.file.read(limit + 1)
    if len(content) > limit or (declared.isdigit() and int(declared) > limit + 64 * 1024):
        raise ApiProblem(413, f"attachments are limited to {limit} bytes", "file")
    ticket = tickets.get(p.user, ref)
    row = tickets.attach(p.user, ticket.id, file.filename or "upload", content)
    return _attachment_out(row, p.user.username)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
)
def download(p: Caller, attachment_id: int = Path(ge=1, le=2**31 - 1)):
    row, content = tickets.attachment_content(p.user, attachment_id)
    disposition = f"attachment; filename*=UTF-8''{quote(row.filename)}"
    return Response(
        content, media_type="application/octet-stream", headers={"Content-Disposition": disposition}
    )
