"""Organising tickets over HTTP (issue 21): delete (admins), merge, links, tags, a ticket's team,
macros (list, apply), teams (list; admins manage members). Thin routes over the services, which
check the role matrix; a write to a ticket sends its version in ``If-Match``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, Field

from itsm_tui.api import schemas
from itsm_tui.api.auth import Caller
from itsm_tui.api.problems import RESPONSES
from itsm_tui.api.tickets import ticket_out
from itsm_tui.api.versions import IfMatch
from itsm_tui.core.tickets import links, macros, tags, teams
from itsm_tui.core.tickets import service as tickets

router = APIRouter(prefix="/api/v1", tags=["organise"], responses=RESPONSES)
LinkId = Path(ge=1, le=2**31 - 1)
Name = Path(max_length=100)
Tag = Annotated[str, Field(max_length=50)]
IdempotencyKey = Header(None, max_length=36)


class Deleted(BaseModel):
    deleted: str = Field(description="the ticket, its requester and what went with it")


class MergeIn(BaseModel):
    into: str = Field(max_length=40, description="the ticket that keeps the conversation")


class LinkIn(BaseModel):
    kind: Literal["related", "parent", "child", "duplicate", "caused_by", "causes"] = Field(
        description="what this ticket is to the other: parent (of it), child (of it), ..."
    )
    ticket: str = Field(max_length=40, description="the other ticket's number")


class LinkOut(BaseModel):
    id: int
    kind: str
    words: str = Field(description='from this ticket: "parent of", "merged into"...')
    ticket: str
    title: str
    status: str


class TagsIn(BaseModel):
    tags: list[Tag] = Field(max_length=50)


class TagChange(BaseModel):
    add: list[Tag] = Field([], max_length=50)
    remove: list[Tag] = Field([], max_length=50)


class TeamIn(BaseModel):
    team: str | None = Field(max_length=100, description="a team's name; null or empty: none")


class TeamOut(BaseModel):
    name: str
    members: list[str]
    assignment: str | None = Field(description="round_robin, least_loaded or null (off)")


class NewTeam(BaseModel):
    name: str = Field(max_length=100)


class MacroOut(BaseModel):
    name: str
    team: str | None = Field(description="the team it is for; null: everyone")
    does: str = Field(description='what it does: "public reply; status → Resolved (for everyone)"')


class MacroIn(BaseModel):
    macro: str = Field(max_length=60)


@router.delete("/tickets/{ref}", response_model=Deleted)
def delete_ticket(ref: str, p: Caller, version: IfMatch):
    """Delete a ticket with its comments, attachments, links and tags (admins); the activity
    log keeps a deletion entry."""
    return Deleted(deleted=tickets.delete(p.user, tickets.get(p.user, ref).id, version))


@router.post("/tickets/{ref}/merge", response_model=schemas.Ticket)
def merge(ref: str, body: MergeIn, p: Caller, version: IfMatch):
    """Merge this duplicate into ``into`` (its version in ``If-Match``): comments and attachments
    move there, this one is closed with a pointer. Returns the closed duplicate."""
    duplicate = tickets.get(p.user, ref)
    return ticket_out(links.merge(p.user, duplicate.id, version, body.into))


def _link(row: links.Link) -> LinkOut:
    other = {"ticket": row.other_number, "title": row.other_title, "status": row.other_status}
    return LinkOut(id=row.id, kind=row.kind, words=row.words, **other)


@router.get("/tickets/{ref}/links", response_model=list[LinkOut])
def list_links(ref: str, p: Caller):
    return [_link(row) for row in links.links_of(p.user, tickets.get(p.user, ref).id)]


@router.post("/tickets/{ref}/links", response_model=LinkOut, status_code=201)
def add_link(ref: str, body: LinkIn, p: Caller):
    return _link(links.link(p.user, tickets.get(p.user, ref).id, body.ticket, body.kind))


@router.delete("/tickets/{ref}/links/{link_id}", status_code=204, response_class=Response)
def remove_link(ref: str, p: Caller, link_id: int = LinkId):
    links.unlink(p.user, tickets.get(p.user, ref).id, link_id)
    return Response(status_code=204)


@router.get("/tickets/{ref}/tags", response_model=list[str])
def list_tags(ref: str, p: Caller):
    ticket = tickets.get(p.user, ref)
    return tags.of([ticket.id]).get(ticket.id, [])


@router.put("/tickets/{ref}/tags", response_model=list[str])
def set_tags(ref: str, body: TagsIn, p: Caller):
    """Replace the ticket's tags; answers its tags afterwards."""
    ticket = tickets.get(p.user, ref)
    current = tags.of([ticket.id]).get(ticket.id, [])
    wanted = {tags.normal(tag) for tag in body.tags}
    return tags.change(p.user, ticket.id, add=sorted(wanted), remove=[t for t in current if t not in wanted])


@router.patch("/tickets/{ref}/tags", response_model=list[str])
def change_tags(ref: str, body: TagChange, p: Caller):
    """Add and remove tags; answers the ticket's tags afterwards."""
    return tags.change(p.user, tickets.get(p.user, ref).id, add=body.add, remove=body.remove)


@router.put("/tickets/{ref}/team", response_model=schemas.Ticket)
def set_team(
    ref: str,
    body: TeamIn,
    p: Caller,
    version: IfMatch,
    idempotency_key: str | None = IdempotencyKey,
):
    """Put the ticket in a team (null: in none); an unassigned ticket put in a team with automatic
    assignment goes to one of its members."""
    ticket = tickets.get(p.user, ref)
    return ticket_out(teams.set_team(p.user, ticket.id, version, body.team, idempotency_key))


@router.get("/macros", response_model=list[MacroOut])
def list_macros(
    p: Caller, ticket: str | None = Query(None, max_length=40, description="its team's macros first")
):
    """The macros you may apply."""
    team_id = tickets.get(p.user, ticket).team_id if ticket else None
    return [
        MacroOut(name=m.name, team=m.team.name if m.team_id else None, does=macros.describe(m))
        for m in macros.available(p.user, team_id)
    ]


@router.post("/tickets/{ref}/macro", response_model=schemas.Ticket)
def apply_macro(
    ref: str,
    body: MacroIn,
    p: Caller,
    version: IfMatch,
    idempotency_key: str | None = IdempotencyKey,
):
    """Apply a macro: the fields it sets, its reply, then its status, all or nothing."""
    ticket = tickets.get(p.user, ref)
    return ticket_out(macros.apply(p.user, body.macro, ticket.id, version, idempotency_key))


def _team(team, members: list[str]) -> TeamOut:
    return TeamOut(name=team.name, members=members, assignment=team.auto_assign)


@router.get("/teams", response_model=list[TeamOut])
def list_teams(p: Caller):
    return [_team(team, members) for team, members in teams.listing(p.user)]


@router.post("/teams", response_model=TeamOut, status_code=201)
def add_team(body: NewTeam, p: Caller):
    return _team(teams.add(p.user, body.name), [])


@router.put("/teams/{team}/members/{username}", status_code=204, response_class=Response)
def add_member(p: Caller, team: str = Name, username: str = Path(max_length=64)):
    """Make a staff member a member of the team (admins); nothing changes if they are one."""
    teams.add_member(p.user, team, username)
    return Response(status_code=204)


@router.delete("/teams/{team}/members/{username}", status_code=204, response_class=Response)
def remove_member(p: Caller, team: str = Name, username: str = Path(max_length=64)):
    teams.remove_member(p.user, team, username)
    return Response(status_code=204)
