"""``/api/v1/alerts``: monitoring alerts in (Prometheus Alertmanager's webhook, version 4, and a
generic format for Zabbix and the like), and each source's category and requester (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import AfterValidator, BaseModel, Field

from itsm_tui.api.auth import Caller
from itsm_tui.api.problems import RESPONSES
from itsm_tui.core.tickets import monitoring

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=RESPONSES)
Status = Literal["firing", "resolved"]


def _naive(moment: datetime) -> datetime:
    """UTC without a zone, as the database keeps times; a time with no UTC date (0001-01-01
    at +14:00) is invalid input."""
    try:
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except OverflowError:
        raise ValueError("the time is out of range in UTC") from None


UtcTime = Annotated[datetime, AfterValidator(_naive)]


class AlertmanagerAlert(BaseModel):
    status: Status
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    startsAt: UtcTime | None = None  # noqa: N815 (Alertmanager's names)
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: str | None = None  # noqa: N815
    fingerprint: str = Field(min_length=1, max_length=200)


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body (``version`` "4")."""

    version: Literal["4"] = "4"
    status: Status | None = None
    receiver: str | None = None
    alerts: list[AlertmanagerAlert] = Field(max_length=1000)


class GenericAlert(BaseModel):
    source: str = Field(min_length=1, max_length=60, examples=["zabbix"])
    dedupe_key: str = Field(
        min_length=1, max_length=200, description="the same for every notice of one problem"
    )
    status: Status
    severity: str = Field(
        monitoring.DEFAULT_SEVERITY, max_length=40, description=", ".join(monitoring.SEVERITIES)
    )
    summary: str = Field(max_length=200)
    details: str = Field("", max_length=20_000)
    labels: dict[str, str] = {}
    started_at: UtcTime | None = None


class Outcome(BaseModel):
    dedupe_key: str
    outcome: Literal["opened", "repeated", "resolved", "commented", "ignored"]
    ticket: str | None


class SourceSettings(BaseModel):
    category: str | None = None
    requester: str | None = Field(None, description="a username (default: the token's user)")
    resolve_untouched: bool | None = Field(
        None, description="for every source: resolved alerts resolve tickets nobody worked"
    )


def _outcomes(results) -> list[Outcome]:
    return [Outcome(dedupe_key=r.dedupe_key, outcome=r.outcome, ticket=r.ticket) for r in results]


@router.post("/alertmanager", response_model=list[Outcome])
def alertmanager(payload: AlertmanagerPayload, p: Caller):
    """Point an Alertmanager receiver's ``webhook_configs`` here (see the README)."""
    alerts = [
        monitoring.Alert(
            source="alertmanager",
            dedupe_key=a.fingerprint,
            status=a.status,
            summary=a.annotations.get("summary") or a.labels.get("alertname") or a.fingerprint,
            severity=a.labels.get("severity", monitoring.DEFAULT_SEVERITY),
            details=a.annotations.get("description", ""),
            labels=a.labels,
            started_at=a.startsAt,
        )
        for a in payload.alerts
    ]
    return _outcomes(monitoring.receive(p.user, alerts))


@router.post("/generic", response_model=list[Outcome])
def generic(alert: GenericAlert, p: Caller):
    """One alert from any tool: e.g. a Zabbix webhook media type (see the README)."""
    return _outcomes(monitoring.receive(p.user, [monitoring.Alert(**alert.model_dump())]))


@router.put("/sources/{source}")
def configure(body: SourceSettings, p: Caller, source: str = Path(max_length=60)) -> dict:
    """A source's category and requester (admins)."""
    return monitoring.configure(p.user, source, body.category, body.requester, body.resolve_untouched)
