"""The SLA engine: policies, the business calendar, due and risk times, pauses, SLA states.

Targets count working time only (every moment under a 24x7 calendar). Each ticket stores its
due times and its *risk times*, the moments after which less than 25% of a target's working
time is left, so the SLA state of any number of open tickets is a comparison in SQL
(:func:`state_clause`), never a loop over tickets in Python.

The resolution clock stops while a ticket waits on the user or a vendor, and while it is
resolved or closed (``sla_paused_at``); when it starts again the working time it stood still is
added to ``sla_paused_seconds``, which moves the resolution due and risk times. The response
target is not paused: the agent's status change that starts a pause is itself the first
response. A priority change recomputes every time from the creation time.

All times are naive UTC; the calendar's working hours are local to its time zone (zoneinfo),
so daylight-saving changes move the working hours in UTC as they should.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import Case, fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.people.permissions import require
from itsm_tui.core.settings import get_setting, put_setting
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import database, transactional
from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES, SlaPolicy, Ticket, User
from itsm_tui.core.tickets.rules import parse_priority

# priority -> (first response, resolution) in working minutes
DEFAULT_POLICIES = {1: (15, 4 * 60), 2: (60, 8 * 60), 3: (4 * 60, 3 * 24 * 60), 4: (24 * 60, 5 * 24 * 60)}
RISK_PERCENT = 25  # at risk once less than this share of a target is left
CALENDAR_KEY = "sla.calendar"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAUSED, STOPPED = ("waiting_on_user", "waiting_on_vendor"), ("resolved", "closed")
STATES = ("on_track", "at_risk", "breached")  # in order of :func:`level`: 0, 1, 2
TARGETS = ("response", "resolution")
MAX_CALENDAR_DAYS = 3660  # a target that finds no working time within ten years is an error
_HOURS_RE = re.compile(r"^([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})$")


# ---------------------------------------------------------------- the business calendar


@dataclass(frozen=True)
class Calendar:
    """When the SLA clock runs: always (24x7), or on working days between two local times,
    except on holidays. Days are 0 (Monday) to 6 (Sunday)."""

    always: bool = True
    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(9)
    end: time = time(17)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, data: dict) -> Calendar:
        """Read (and validate) the JSON form kept in the ``sla.calendar`` setting:
        ``{"mode": "24x7"}`` or ``{"mode": "business", "timezone": "Europe/Berlin",
        "days": ["mon", ...], "hours": "09:00-17:00", "holidays": ["2026-12-25", ...]}``."""
        if not isinstance(data, dict):
            raise ValidationError("the calendar must be a JSON object", "calendar")
        mode = data.get("mode", "24x7")
        zone = str(data.get("timezone") or "UTC")
        _zone(zone)  # refuses an unknown name
        if mode == "24x7":
            return cls(always=True, timezone=zone)
        if mode != "business":
            raise ValidationError(f"calendar mode must be 24x7 or business, not {mode!r}", "mode")
        days = []
        for day in data.get("days", WEEKDAYS[:5]):
            name = str(day).strip().lower()[:3]
            if name not in WEEKDAYS:
                raise ValidationError(f"unknown weekday {day!r} (use mon, tue, ... sun)", "days")
            days.append(WEEKDAYS.index(name))
        if not days:
            raise ValidationError("a business calendar needs at least one working day", "days")
        match = _HOURS_RE.match(str(data.get("hours", "09:00-17:00")).replace(" ", ""))
        try:
            start, end = (
                (time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
                if match
                else (None, None)
            )
        except ValueError:
            start = end = None
        if start is None or end is None or start >= end:
            raise ValidationError(
                "working hours must look like 09:00-17:00 and end after they start", "hours"
            )
        holidays = set()
        for value in data.get("holidays", []):
            try:
                holidays.add(date.fromisoformat(str(value)))
            except ValueError:
                raise ValidationError(
                    f"holiday {value!r} is not a date like 2026-12-25", "holidays"
                ) from None
        return cls(False, zone, tuple(sorted(set(days))), start, end, frozenset(holidays))

    def to_json(self) -> dict:
        if self.always:
            return {"mode": "24x7", "timezone": self.timezone}
        return {
            "mode": "business",
            "timezone": self.timezone,
            "days": [WEEKDAYS[d] for d in self.days],
            "hours": f"{self.start:%H:%M}-{self.end:%H:%M}",
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    def describe(self) -> str:
        if self.always:
            return f"24x7 (days in {self.timezone})"
        days = ", ".join(WEEKDAYS[d] for d in self.days)
        extra = f", {len(self.holidays)} holidays" if self.holidays else ""
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}{extra}"

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r} (use a name like Europe/Berlin)", "timezone"
        ) from None


def to_local(cal: Calendar, moment: datetime) -> datetime:
    """A naive UTC moment as naive local time of the calendar's zone."""
    return moment.replace(tzinfo=UTC).astimezone(cal.zone).replace(tzinfo=None)


def to_utc(cal: Calendar, local: datetime) -> datetime:
    """Naive local time of the calendar's zone as a naive UTC moment."""
    return local.replace(tzinfo=cal.zone).astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=8192)
def _window(cal: Calendar, day: date) -> tuple[datetime, datetime] | None:
    """The working hours of one local day, in UTC, or None for a day off."""
    if day.weekday() not in cal.days or day in cal.holidays:
        return None
    return to_utc(cal, datetime.combine(day, cal.start)), to_utc(cal, datetime.combine(day, cal.end))


def _windows(cal: Calendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working windows (UTC) from the local day of ``since`` on, in order."""
    day = to_local(cal, since).date()
    for offset in range(MAX_CALENDAR_DAYS):
        window = _window(cal, day + timedelta(days=offset))
        if window is not None:
            yield window
    raise ValidationError("the business calendar has no working time in the next ten years", "calendar")


def add_working(cal: Calendar, start: datetime, seconds: int) -> datetime:
    """The moment ``seconds`` of working time after ``start``. A target that ends exactly at
    the end of a working day is due then, not at the next day's start."""
    if cal.always:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=max(0, seconds))
    for begin, end in _windows(cal, start):
        begin = max(begin, start)
        if end <= begin:
            continue
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("unreachable")


def working_seconds(cal: Calendar, start: datetime, end: datetime) -> int:
    """The working time between two moments, in whole seconds."""
    if end <= start:
        return 0
    if cal.always:
        return int((end - start).total_seconds())
    total = timedelta(0)
    for begin, finish in _windows(cal, start):
        if begin >= end:
            break
        overlap = min(finish, end) - max(begin, start)
        if overlap > timedelta(0):
            total += overlap
    return int(total.total_seconds())


# ---------------------------------------------------------------- settings


def calendar() -> Calendar:
    stored = get_setting(CALENDAR_KEY)
    return Calendar.from_json(stored) if stored is not None else Calendar()


def policies() -> dict[int, tuple[int, int]]:
    """priority -> (response, resolution) working minutes; the defaults fill any gap."""
    stored = {p.priority: (p.response_minutes, p.resolution_minutes) for p in SlaPolicy.select()}
    return {priority: stored.get(priority, default) for priority, default in DEFAULT_POLICIES.items()}


@transactional
def set_calendar(actor: User, data: dict) -> Calendar:
    """Replace the business calendar. Open tickets keep their due times until ``recompute``."""
    require(actor, "settings.manage")
    cal = Calendar.from_json(data)
    before = calendar()
    put_setting(CALENDAR_KEY, cal.to_json())
    audit.record(
        actor,
        "update",
        "setting",
        None,
        f"SLA calendar: {cal.describe()}",
        {CALENDAR_KEY: [before.to_json(), cal.to_json()]},
    )
    return cal


MAX_TARGET_MINUTES = 10 * 365 * 24 * 60


@transactional
def set_policy(actor: User, priority, response_minutes: int, resolution_minutes: int) -> None:
    """Change one priority's targets. Open tickets keep their due times until ``recompute``."""
    require(actor, "settings.manage")
    number = parse_priority(priority)
    for value, label in ((response_minutes, "response"), (resolution_minutes, "resolution")):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TARGET_MINUTES:
            raise ValidationError(
                f"the {label} target must be a whole number of minutes from 1 to {MAX_TARGET_MINUTES:,} "
                "(ten years)",
                label,
            )
    if response_minutes > resolution_minutes:
        raise ValidationError("the response target cannot be longer than the resolution target", "response")
    before = policies()[number]
    now = clock.now()
    updated = (
        SlaPolicy.update(
            response_minutes=response_minutes,
            resolution_minutes=resolution_minutes,
            updated_at=now,
            version=SlaPolicy.version + 1,
        )
        .where(SlaPolicy.priority == number)
        .execute()
    )
    if not updated:
        SlaPolicy.create(
            priority=number,
            response_minutes=response_minutes,
            resolution_minutes=resolution_minutes,
            updated_at=now,
        )
    audit.record(
        actor,
        "update",
        "sla_policy",
        number,
        f"SLA {PRIORITY_NAMES[number]}: response {response_minutes} min, resolution {resolution_minutes} min",
        {"minutes": [list(before), [response_minutes, resolution_minutes]]},
    )


def install_default_policies() -> None:
    """Give a new database the default policy rows (idempotent; setup.initialise calls it)."""
    now = clock.now()
    for priority, (response, resolution) in DEFAULT_POLICIES.items():
        if not SlaPolicy.select().where(SlaPolicy.priority == priority).exists():
            SlaPolicy.create(
                priority=priority, response_minutes=response, resolution_minutes=resolution, updated_at=now
            )


# ---------------------------------------------------------------- due times of one ticket


def targets(
    created_at: datetime,
    priority: int,
    paused_seconds: int = 0,
    cal: Calendar | None = None,
    pols: dict | None = None,
) -> dict:
    """Due and risk times from the creation time, the priority and the working time paused."""
    cal = cal or calendar()
    response, resolution = (pols or policies())[priority]
    r, s = response * 60, resolution * 60
    return {
        "response_due": add_working(cal, created_at, r),
        "response_risk_at": add_working(cal, created_at, r - r * RISK_PERCENT // 100),
        "resolution_due": add_working(cal, created_at, s + paused_seconds),
        "resolution_risk_at": add_working(cal, created_at, s - s * RISK_PERCENT // 100 + paused_seconds),
    }


RESOLUTION_TIMES = ("resolution_due", "resolution_risk_at")  # what a pause moves on


def on_status(ticket: Ticket, status: str, now: datetime, first_response_at: datetime | None) -> dict:
    """The SLA fields a status change sets: stop or restart the clock, freeze the outcome on
    resolving (and thaw the resolution outcome on reopening)."""
    values: dict = {}
    stops = status in PAUSED + STOPPED
    if stops and ticket.sla_paused_at is None:
        values["sla_paused_at"] = now
    elif not stops and ticket.sla_paused_at is not None:
        # The times it had, moved on by this pause: not made again from today's policy, which
        # applies to open tickets only through `sla recompute`.
        cal = calendar()
        pause = working_seconds(cal, ticket.sla_paused_at, now)
        values.update(sla_paused_at=None, sla_paused_seconds=(ticket.sla_paused_seconds or 0) + pause)
        if ticket.resolution_due is None or ticket.resolution_risk_at is None:  # never computed
            moved = targets(ticket.created_at, ticket.priority, values["sla_paused_seconds"], cal)
        else:
            moved = {key: add_working(cal, getattr(ticket, key), pause) for key in RESOLUTION_TIMES}
        values.update({key: moved[key] for key in RESOLUTION_TIMES})
    if status == "resolved":
        stopped = ticket.sla_paused_at or now  # resolved while waiting: the clock stood since
        values["resolution_met"] = stopped <= ticket.resolution_due
        values["response_met"] = first_response_at is not None and first_response_at <= ticket.response_due
    elif not stops and ticket.status in STOPPED:
        values["resolution_met"] = None
    return values


# ---------------------------------------------------------------- SLA state in SQL


def reached(target: str, threshold: str, now: datetime):
    """The open ticket's pending ``target`` has passed its risk time (``threshold='risk'``) or
    its due time (``'due'``). Never NULL: a NULL risk time (not computed yet) counts as the due
    time, so such a ticket is on track until it breaches."""
    if target == "response":
        due, risk = Ticket.response_due, Ticket.response_risk_at
        pending, moment = Ticket.first_response_at.is_null(), now
    else:
        due, risk = Ticket.resolution_due, Ticket.resolution_risk_at
        pending, moment = Ticket.status.in_(OPEN_STATUSES), fn.COALESCE(Ticket.sla_paused_at, now)
    limit = due if threshold == "due" else fn.COALESCE(risk, due)
    return pending & (limit < moment)


def level(target: str, now: datetime):
    """An open ticket's state for one target as a number in SQL: 0 on track (or no longer
    pending), 1 at risk, 2 breached. The rule of :func:`reached`, written for a scan of open
    tickets only (the caller's WHERE), as one short CASE per row, so that one grouped scan
    counts every state (analytics)."""
    if target == "response":
        due, risk, moment = Ticket.response_due, Ticket.response_risk_at, now
        done = [(Ticket.first_response_at.is_null(False), 0)]
    else:
        due, risk, moment = (
            Ticket.resolution_due,
            Ticket.resolution_risk_at,
            fn.COALESCE(Ticket.sla_paused_at, now),
        )
        done = []
    return Case(None, done + [(due < moment, 2), (fn.COALESCE(risk, due) < moment, 1)], 0)


def state_clause(state: str, now: datetime, target: str | None = None):
    """Open tickets in SLA ``state`` (on_track, at_risk, breached), for one target or for the
    worse of the two still pending. A target counts while it is pending: the response until
    the first response, the resolution until the ticket is resolved. ``target`` None: both."""
    if state not in STATES:
        raise ValueError(state)
    chosen = TARGETS if target is None else (target,)
    open_ = Ticket.status.in_(OPEN_STATUSES)
    breached = _any(reached(t, "due", now) for t in chosen)
    risky = _any(reached(t, "risk", now) for t in chosen)
    if state == "breached":
        return open_ & breached
    if state == "at_risk":
        return open_ & risky & ~breached
    return open_ & ~risky


def _any(clauses):
    clauses = list(clauses)
    result = clauses[0]
    for clause in clauses[1:]:
        result = result | clause
    return result


def state_of(ticket: Ticket, now: datetime) -> str:
    """One ticket's state, by the same rules as :func:`state_clause` ('done' when resolved)."""
    if ticket.status not in OPEN_STATUSES:
        return "done"
    moment = {"response": now, "resolution": ticket.sla_paused_at or now}
    pending = {"response": ticket.first_response_at is None, "resolution": True}
    due = {"response": ticket.response_due, "resolution": ticket.resolution_due}
    risk = {
        "response": ticket.response_risk_at or ticket.response_due,
        "resolution": ticket.resolution_risk_at or ticket.resolution_due,
    }
    if any(pending[t] and due[t] < moment[t] for t in TARGETS):
        return "breached"
    if any(pending[t] and risk[t] < moment[t] for t in TARGETS):
        return "at_risk"
    return "on_track"


# ---------------------------------------------------------------- recompute


def recompute(actor: User, everything: bool = False, batch: int = 2000, progress=None) -> int:
    """Recompute due and risk times (current policies and calendar) of open tickets and of
    tickets whose risk times were never computed (an upgraded database, bulk or imported data),
    or of every ticket with ``everything``; freeze a missing outcome of resolved tickets from
    their stored times. Waiting or resolved tickets without a pause moment get their last
    update (or resolution) as one. Returns the number of tickets changed. Runs in batches, each
    its own transaction, with one prepared UPDATE per batch."""
    require(actor, "settings.manage")
    cal, pols = calendar(), policies()
    where = (
        None
        if everything
        else (
            Ticket.status.in_(OPEN_STATUSES)
            | Ticket.resolution_risk_at.is_null()
            | Ticket.response_risk_at.is_null()
        )
    )
    total = (Ticket.select().where(where) if where is not None else Ticket.select()).count()
    last_id, changed, seen = 0, 0, 0
    while True:
        query = Ticket.select(*READ).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)
        if where is not None:
            query = query.where(where)
        rows = list(query.dicts())
        if not rows:
            break
        changed += _recompute_batch(rows, cal, pols)
        last_id, seen = rows[-1]["id"], seen + len(rows)
        if progress:
            progress(seen, total)
    if changed:
        _record_recompute(actor, changed, cal)
    return changed


FIELDS = (
    "response_due",
    "response_risk_at",
    "resolution_due",
    "resolution_risk_at",
    "sla_paused_at",
    "response_met",
    "resolution_met",
)
READ = tuple(
    getattr(Ticket, name)
    for name in (
        "id",
        "created_at",
        "updated_at",
        "priority",
        "status",
        "sla_paused_seconds",
        "first_response_at",
        "resolved_at",
        "source_number",
    )
    + FIELDS
)


def recomputed(row: dict, cal: Calendar, pols: dict) -> dict:
    """The SLA fields a ticket (a dict of ``READ``) should have under ``cal`` and ``pols``.

    A frozen outcome is never changed, and the due time of a finished target is made to agree
    with it (:func:`agreeing`). An imported ticket (``source_number``) keeps the outcomes its
    source gave, unknown ones included: none is made up from our policies, and its resolution
    is judged at the source's resolve time (none: no adjustment)."""
    values = targets(row["created_at"], row["priority"], row["sla_paused_seconds"] or 0, cal, pols)
    paused = row["sla_paused_at"]
    if paused is None and row["status"] in PAUSED + STOPPED:
        paused = row["resolved_at"] if row["status"] in STOPPED and row["resolved_at"] else row["updated_at"]
    values.update(
        sla_paused_at=paused, response_met=row["response_met"], resolution_met=row["resolution_met"]
    )
    imported = row.get("source_number") is not None
    if row["status"] in STOPPED:
        if row["response_met"] is None and not imported:
            values["response_met"] = (
                row["first_response_at"] is not None and row["first_response_at"] <= values["response_due"]
            )
        if row["resolution_met"] is None and not imported:
            values["resolution_met"] = paused <= values["resolution_due"]
        stopped = row["resolved_at"] if imported else paused
        agreeing(values, "resolution", stopped, values["resolution_met"])
        agreeing(values, "response", row["first_response_at"], values["response_met"])
    return values


def agreeing(values: dict, target: str, moment: datetime | None, met: bool | None) -> None:
    """Move ``target``'s due (and risk) time in ``values`` to ``moment`` where they contradict
    the known outcome ``met`` at that moment: met yet after the due time (the due time becomes
    the moment), or missed yet by the due time (it becomes a second before). The outcome is the
    fact (frozen when it happened, or given by an imported ticket's source); the due time from
    today's policies is only our estimate of the target it was judged against."""
    if met is None or moment is None:
        return
    due, risk = f"{target}_due", f"{target}_risk_at"
    if met and moment > values[due]:
        values[due] = moment
    elif not met and moment <= values[due]:
        values[due] = moment - timedelta(seconds=1)
    else:
        return
    values[risk] = min(values[risk], values[due])


@transactional
def _recompute_batch(rows: list[dict], cal: Calendar, pols: dict) -> int:
    p = database.param
    sql = f"UPDATE ticket SET {', '.join(f'{name} = {p}' for name in FIELDS)} WHERE id = {p}"
    updates = []
    for row in rows:
        values = recomputed(row, cal, pols)
        if any(values[name] != row[name] for name in FIELDS):
            updates.append(
                tuple(getattr(Ticket, name).db_value(values[name]) for name in FIELDS) + (row["id"],)
            )
    if updates:
        database.cursor().executemany(sql, updates)
    return len(updates)


@transactional
def _record_recompute(actor: User, changed: int, cal: Calendar) -> None:
    audit.record(
        actor,
        "sla_recompute",
        "ticket",
        None,
        f"recomputed the SLA times of {changed} tickets ({cal.describe()})",
    )
