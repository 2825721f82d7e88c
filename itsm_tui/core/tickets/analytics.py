"""Desk figures for the analytics screen and ``itsm-tui report analytics``, by aggregation in
SQL: a handful of queries whatever the number of tickets, never a loop over tickets in Python.

:func:`figures` returns one JSON-ready dict (see its docstring). Supervisors and admins get the
whole desk; agents get the same figures over the tickets assigned to them; requesters none. A
queue filter narrows every figure to the tickets it lists. Days (the period's bounds, the daily
series, the trend's buckets) follow the SLA calendar's time zone.

Unknown stays unknown: a ticket resolved without a resolve time (imported history can have
them) counts in no time to resolve, and the figures say how many were left out.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from functools import reduce

from peewee import SQL, Case, NodeList, fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.people.permissions import allowed, require
from itsm_tui.core.store.db import database, is_mysql
from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES, STATUSES, Category, Team, Ticket, User
from itsm_tui.core.text import strip_controls
from itsm_tui.core.tickets import queue, sla

PERIODS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "quarter": "This quarter",
    "all": "All time",
}
DONE = ("resolved", "closed")
OUTCOMES = ("met", "breached", "unknown")
# The trend's bucket follows the period's length: days up to this many days, weeks up to
# WEEKS_UP_TO, months beyond.
DAYS_UP_TO, WEEKS_UP_TO = 45, 400
AGE_BUCKETS = ("<1d", "1-3d", "3-7d", ">7d")
AGE_LIMITS = (timedelta(days=1), timedelta(days=3), timedelta(days=7))
# The queue filter that lists exactly the tickets behind each count (drill-down).
AGE_FILTERS = {
    "<1d": "status:open age:<1d",
    "1-3d": "status:open age:1d..3d",
    "3-7d": "status:open age:3d..7d",
    ">7d": "status:open age:>7d",
}
SLA_FILTERS = {state: f"sla:{state}" for state in sla.STATES}
DAYS = 30
# A FROM..TO period: far from the ends of Python's dates (a time zone or the next month would
# overflow them), and short enough that its trend (a SQL CASE per bucket) stays cheap.
FIRST_YEAR, LAST_YEAR, MAX_DAYS = 1900, 2999, 100 * 365 + 25
_CUSTOM_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})$")


def period_range(
    period: str,
    now: datetime,
    cal: sla.Calendar,
    extent: tuple[datetime | None, datetime | None] = (None, None),
) -> tuple[str, datetime, datetime]:
    """(label, start, end) in UTC for today, 7d, 30d, quarter (to date), all or ``FROM..TO``
    (whole local days, both included). ``all`` runs over the whole local days from ``extent``'s
    first moment to its last (the tickets' first and latest times; today without tickets)."""
    text = (period or "30d").strip().lower()
    local_now = sla.to_local(cal, now)
    midnight = datetime(local_now.year, local_now.month, local_now.day)
    if text == "all":
        first, last = (sla.to_local(cal, m).date() if m else None for m in extent)
        first, last = first or midnight.date(), last or midnight.date()
        start = sla.to_utc(cal, datetime.combine(first, datetime.min.time()))
        end = sla.to_utc(cal, datetime.combine(max(first, last) + timedelta(days=1), datetime.min.time()))
        return PERIODS[text], start, end
    if text == "today":
        return PERIODS[text], sla.to_utc(cal, midnight), now
    if text in ("7d", "30d"):
        return PERIODS[text], now - timedelta(days=int(text[:-1])), now
    if text == "quarter":
        first = midnight.replace(month=(midnight.month - 1) // 3 * 3 + 1, day=1)
        return PERIODS[text], sla.to_utc(cal, first), now
    match = _CUSTOM_RE.match(text)
    try:
        first, last = (date.fromisoformat(match[1]), date.fromisoformat(match[2])) if match else (None, None)
    except ValueError:
        first = last = None
    if first is None or last is None or first > last:
        raise ValidationError(
            f"unknown period {period!r}: use today, 7d, 30d, quarter, all or FROM..TO "
            "(e.g. 2026-01-01..2026-03-31)",
            "period",
        )
    if first.year < FIRST_YEAR or last.year > LAST_YEAR or (last - first).days > MAX_DAYS:
        raise ValidationError(
            f"the period {period!r} must lie in the years {FIRST_YEAR} to {LAST_YEAR} "
            f"and span at most {MAX_DAYS // 365} years",
            "period",
        )
    start = sla.to_utc(cal, datetime.combine(first, datetime.min.time()))
    end = sla.to_utc(cal, datetime.combine(last + timedelta(days=1), datetime.min.time()))
    return f"{first.isoformat()} to {last.isoformat()}", start, end


def scope_of(actor: User) -> User | None:
    """None for the whole desk (supervisors, admins), else the agent whose tickets count."""
    require(actor, "analytics.view_own")
    return None if allowed(actor.role, "analytics.view") else actor


def figures(
    actor: User, period: str = "30d", now: datetime | None = None, filter_text: str | None = None
) -> dict:
    """Every figure of the analytics screen as one JSON-ready dict::

    generated_at  ISO time (UTC);  calendar  the SLA calendar in words
    scope         {"kind": "desk"} or {"kind": "agent", "user": username}
    filter        the queue filter the figures are narrowed to, or None
    period        {"name", "label", "from", "to"} (ISO, UTC; 'to' excluded)
    totals        {"status": {status: n} (all tickets), "priority": {"Critical": n, ...},
                   "category": {name: n}} (the last two: open tickets)
    period_counts {"opened": n, "resolved": n} in the period
    open_age      {"<1d": n, "1-3d": n, "3-7d": n, ">7d": n} open tickets by age
    sla           {"on_track": n, "at_risk": n, "breached": n, "response": {3 states},
                   "resolution": {3 states}} open tickets now (a target counts while pending)
    compliance    {"response": {"met", "breached", "percent"}, "resolution": {...}}: the
                   frozen outcomes of tickets resolved in the period (percent None: none)
    history       what happened in the period, closed history included:
                   {"opened" | "resolved" | "closed": {"total": n, "priority": {name: n},
                    "category": {name: n}, "status": {status now: n},
                    "assignee": {username or "(unassigned)": n}},
                    "time_to_resolve": {"count", "median_hours", "p90_hours", "mean_hours",
                    "left_out"}: tickets resolved in the period, creation to resolution;
                    left_out: finished in the period (closed_at) with no resolve time,
                    "reopened": n of the tickets opened in the period,
                    "sla_outcome": {"met", "breached", "unknown"}: the resolution outcome
                    of the tickets finished in the period (resolved, else closed, in it)}
    trend         {"bucket": "day" | "week" | "month", "rows": [{"start": ISO local date,
                   "opened", "resolved", "closed", "backlog"}]}: the period in buckets that
                   follow its length; backlog = created by the bucket's end and not finished
                   by then (a finished ticket with no finish time is left out)
    teams         [{"team", "open", "at_risk", "breached", "resolved"}]: per team (issue 21), open
                   tickets now, at risk and breached among them (the worse pending target),
                   resolved in the period; "(no team)" last; empty while there are no teams
    workload      [{"agent", "name", "open", "in_progress", "resolved", "median_hours"}]:
                   resolved and the median time to resolve (hours) in the period
    daily         30 x {"day": ISO date, "opened", "resolved", "backlog"} up to today;
                   backlog = created by the end of that day and not resolved by then
    filters       {"sla": {state: query}, "age": {bucket: query}, "outcome": {outcome:
                   query}, "reopened": query}: the queue filters that list exactly the
                   tickets behind each count (the outcome ones over all of time)
    """
    scope = scope_of(actor)
    now = now or clock.now()
    cal = sla.calendar()
    text = (filter_text or "").strip() or None
    mine = _all(
        (Ticket.assignee == scope.id) if scope else None,
        queue.compile_filter(actor, text, now) if text else None,
    )
    extent = _extent(mine) if (period or "").strip().lower() == "all" else (None, None)
    label, start, end = period_range(period, now, cal, extent)
    own = " assignee:me" if scope else ""
    narrowed = own + (f" {text}" if text else "")
    groups = _open_groups(mine, now)
    return {
        "generated_at": now.isoformat(),
        "calendar": cal.describe(),
        "scope": {"kind": "agent", "user": scope.username} if scope else {"kind": "desk"},
        "filter": text,
        "period": {
            "name": (period or "30d").strip().lower(),
            "label": label,
            "from": start.isoformat(),
            "to": end.isoformat(),
        },
        "totals": _totals(mine, groups),
        "period_counts": _period_counts(mine, start, end),
        **_open_figures(groups),
        "compliance": _compliance(mine, start, end),
        "history": _history(mine, start, end),
        "trend": _trend(mine, start, end, cal),
        "teams": _teams(mine, now, start, end),
        "workload": _workload(scope, groups, start, end, mine),
        "daily": _daily(mine, now, cal),
        "filters": {
            "sla": {s: q + narrowed for s, q in SLA_FILTERS.items()},
            "age": {b: q + narrowed for b, q in AGE_FILTERS.items()},
            "outcome": {o: f"sla_outcome:{o}{narrowed}" for o in OUTCOMES},
            "reopened": f"reopened:yes{narrowed}",
        },
    }


def _all(*clauses):
    present = [c for c in clauses if c is not None]
    return reduce(lambda a, b: a & b, present) if present else None


def _extent(mine) -> tuple[datetime | None, datetime | None]:
    """The first creation and the latest creation, resolution or close time in scope."""
    first, *latest = (
        _where(
            Ticket.select(
                fn.MIN(Ticket.created_at),
                fn.MAX(Ticket.created_at),
                fn.MAX(Ticket.resolved_at),
                fn.MAX(Ticket.closed_at),
            ),
            mine,
        )
        .tuples()
        .get()
    )
    moments = [moment for m in latest if (moment := _moment(m)) is not None]
    return _moment(first), max(moments) if moments else None


def _moment(value) -> datetime | None:
    """A DATETIME as read by a raw aggregate (SQLite gives text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _where(query, *clauses):
    present = [c for c in clauses if c is not None]
    return query.where(*present) if present else query


# "No resolve time" beside a close-time range: the unary + keeps SQLite from serving it from
# the resolve-time index (its statistics count NULLs as distinct values, so it believed that
# stretch tiny and read every open ticket); the close-time index then serves the range.
NOT_RESOLVED = NodeList((SQL("+"), Ticket.resolved_at), glue="").is_null()


def _finished_in(start: datetime, end: datetime, at_update: bool = True) -> list:
    """``COALESCE(resolved_at, closed_at[, updated_at])`` in [start, end) as disjoint clauses,
    each a range of one index (the resolve-time index, the close-time one, status and update
    time): a COALESCE itself is served by none, so the engines scanned every ticket."""
    pieces = [
        (Ticket.resolved_at >= start) & (Ticket.resolved_at < end),
        NOT_RESOLVED & (Ticket.closed_at >= start) & (Ticket.closed_at < end),
    ]
    if at_update:
        pieces.append(
            Ticket.status.in_(DONE)
            & Ticket.resolved_at.is_null()
            & Ticket.closed_at.is_null()
            & (Ticket.updated_at >= start)
            & (Ticket.updated_at < end)
        )
    return pieces


def _count_if(clause):
    return fn.COALESCE(fn.SUM(Case(None, [(clause, 1)], 0)), 0)


def _open_groups(mine, now: datetime) -> list[dict]:
    """The open tickets counted by (age bucket, response level, resolution level, priority,
    category, assignee, status) in one grouped scan: a few hundred groups whatever the number
    of tickets, read from the covering index made for it (see the Ticket model)."""
    one, three, seven = (now - limit for limit in AGE_LIMITS)
    created = Ticket.created_at
    age = Case(None, [(created > one, 0), (created > three, 1), (created > seven, 2)], 3)
    columns = (
        age.alias("age"),
        sla.level("response", now).alias("response"),
        sla.level("resolution", now).alias("resolution"),
        Ticket.priority.alias("priority"),
        Ticket.category.alias("category"),
        Ticket.assignee.alias("assignee"),
        Ticket.status.alias("status"),
        fn.COUNT(Ticket.id).alias("n"),
    )
    names = ("age", "response", "resolution", "priority", "category", "assignee", "status")
    query = _where(Ticket.select(*columns), Ticket.status.in_(OPEN_STATUSES), mine).group_by(
        *(SQL(name) for name in names)
    )
    return list(query.dicts())


def _totals(mine, groups: list[dict]) -> dict:
    # Open statuses from the groups; the others by range counts on the status index, which
    # beat a GROUP BY over every ticket.
    status = Counter(
        {
            s: _where(Ticket.select(), Ticket.status == s, mine).count()
            for s in STATUSES
            if s not in OPEN_STATUSES
        }
    )
    priority: Counter[int] = Counter()
    category: Counter[int] = Counter()
    for g in groups:
        status[g["status"]] += g["n"]
        priority[g["priority"]] += g["n"]
        category[g["category"]] += g["n"]
    names = dict(Category.select(Category.id, Category.name).tuples())
    return {
        "status": {s: status.get(s, 0) for s in STATUSES},
        "priority": {name: priority.get(p, 0) for p, name in PRIORITY_NAMES.items()},
        "category": {
            names[c]: n for c, n in sorted(category.items(), key=lambda item: (-item[1], names[item[0]]))
        },
    }


def _period_counts(mine, start: datetime, end: datetime) -> dict:
    opened = _where(Ticket.select(), Ticket.created_at >= start, Ticket.created_at < end, mine).count()
    resolved = _where(Ticket.select(), Ticket.resolved_at >= start, Ticket.resolved_at < end, mine).count()
    return {"opened": opened, "resolved": resolved}


NO_TEAM = "(no team)"


def _teams(mine, now: datetime, start: datetime, end: datetime) -> list[dict]:
    names = dict(Team.select(Team.id, Team.name).tuples())
    if not names:
        return []
    rows: dict[int | None, Counter[str]] = {}
    levels = (sla.level("response", now), sla.level("resolution", now))
    query = _where(
        Ticket.select(Ticket.team, *levels, fn.COUNT(Ticket.id)), Ticket.status.in_(OPEN_STATUSES), mine
    ).group_by(Ticket.team, *levels)
    for team, response, resolution, n in query.tuples():
        counts = rows.setdefault(team, Counter())
        counts["open"] += n
        counts[sla.STATES[max(response, resolution)]] += n
    resolved = _where(
        Ticket.select(Ticket.team, fn.COUNT(Ticket.id)),
        Ticket.resolved_at >= start,
        Ticket.resolved_at < end,
        mine,
    ).group_by(Ticket.team)
    for team, n in resolved.tuples():
        rows.setdefault(team, Counter())["resolved"] += n
    ordered = sorted(names.items(), key=lambda item: (-rows.get(item[0], Counter())["open"], item[1]))
    keys = ("open", "at_risk", "breached", "resolved")
    return [
        {"team": name, **{k: rows.get(team_id, Counter())[k] for k in keys}}
        for team_id, name in [*ordered, (None, NO_TEAM)]
    ]


def _open_figures(groups: list[dict]) -> dict:
    """Age buckets and SLA states (the worse pending target, and each target) of open tickets."""
    ages: Counter[str] = Counter()
    overall: Counter[str] = Counter()
    per_target: dict[str, Counter[str]] = {target: Counter() for target in sla.TARGETS}
    for g in groups:
        ages[AGE_BUCKETS[g["age"]]] += g["n"]
        overall[sla.STATES[max(g["response"], g["resolution"])]] += g["n"]
        for target in sla.TARGETS:
            per_target[target][sla.STATES[g[target]]] += g["n"]
    states: dict[str, object] = {state: overall[state] for state in sla.STATES}
    for target in sla.TARGETS:
        states[target] = {state: per_target[target][state] for state in sla.STATES}
    return {"open_age": {b: ages[b] for b in AGE_BUCKETS}, "sla": states}


def _compliance(mine, start: datetime, end: datetime) -> dict:
    in_period = (Ticket.resolved_at >= start, Ticket.resolved_at < end, mine)
    row = (
        _where(
            Ticket.select(
                _count_if(Ticket.response_met == True),
                _count_if(Ticket.response_met == False),  # noqa: E712
                _count_if(Ticket.resolution_met == True),
                _count_if(Ticket.resolution_met == False),  # noqa: E712
            ),
            *in_period,
        )
        .tuples()
        .get()
    )
    met_r, missed_r, met_s, missed_s = (int(v or 0) for v in row)
    return {"response": _share(met_r, missed_r), "resolution": _share(met_s, missed_s)}


def _share(met: int, missed: int) -> dict:
    return {
        "met": met,
        "breached": missed,
        "percent": round(100 * met / (met + missed), 1) if met + missed else None,
    }


def _workload(scope: User | None, groups: list[dict], start: datetime, end: datetime, mine) -> list[dict]:
    """Per agent: open and in-progress tickets now, resolved in the period and the median time
    to resolve them (SQL window functions, on both engines)."""
    now_counts: dict[int, list[int]] = {}
    for g in groups:
        if g["assignee"] is not None:
            counts = now_counts.setdefault(g["assignee"], [0, 0])
            counts[0] += g["n"]
            counts[1] += g["n"] if g["status"] == "in_progress" else 0
    resolved = _medians(mine, start, end)
    if scope:
        people = [scope]
    else:
        ids = set(now_counts) | set(resolved)
        people = list(
            User.select().where(
                User.id.in_(list(ids)) | (User.role.in_(("agent", "supervisor")) & User.is_active)
            )
        )
    rows = []
    for person in people:
        open_, in_progress = now_counts.get(person.id, (0, 0))
        count, median = resolved.get(person.id, (0, None))
        rows.append(
            {
                "agent": person.username,
                "name": person.full_name,
                "open": int(open_),
                "in_progress": int(in_progress),
                "resolved": int(count),
                "median_hours": None if median is None else round(median / 3600, 2),
            }
        )
    rows.sort(key=lambda r: (-r["open"], -r["resolved"], r["agent"]))
    return rows


def _durations(mine, start: datetime, end: datetime) -> tuple[str, list]:
    """The SQL (and parameters) of (assignee_id, d): seconds from creation to resolution of the
    tickets resolved in the period, for the window queries below to rank."""
    if is_mysql():
        seconds = "TIMESTAMPDIFF(SECOND, created_at, resolved_at)"
    else:
        seconds = "(julianday(resolved_at) - julianday(created_at)) * 86400.0"
    query = _where(
        Ticket.select(Ticket.assignee.alias("assignee_id"), SQL(seconds).alias("d")),
        Ticket.resolved_at >= start,
        Ticket.resolved_at < end,
        mine,
    )
    return query.sql()


def _medians(mine, start: datetime, end: datetime) -> dict[int, tuple[int, float]]:
    """assignee id -> (tickets resolved in the period, median seconds from creation to resolution).
    The middle row(s) of each agent's sorted durations: 2*rn in [n, n+2] picks one row for odd
    n and the two middle ones for even n, with no integer division (which the engines spell
    differently)."""
    inner, params = _durations(mine, start, end)
    sql = (
        "SELECT assignee_id, MAX(n), AVG(d) FROM ("
        " SELECT assignee_id, d, ROW_NUMBER() OVER (PARTITION BY assignee_id ORDER BY d) AS rn,"
        f" COUNT(*) OVER (PARTITION BY assignee_id) AS n FROM ({inner}) durations"
        " WHERE assignee_id IS NOT NULL) ranked WHERE 2 * rn BETWEEN n AND n + 2 GROUP BY assignee_id"
    )
    return {a: (int(n), float(d)) for a, n, d in database.execute_sql(sql, params).fetchall()}


def _time_to_resolve(mine, start: datetime, end: datetime) -> dict:
    """Median, 90th percentile (nearest rank: the smallest time with at least 90% of the tickets
    at or under it) and mean time from creation to resolution of the tickets resolved in the
    period, with the count they rest on and the finished tickets left out for want of a
    resolve time."""
    inner, params = _durations(mine, start, end)
    sql = (
        "SELECT MAX(n), AVG(CASE WHEN 2 * rn BETWEEN n AND n + 2 THEN d END),"
        " MIN(CASE WHEN 10 * rn >= 9 * n THEN d END), MAX(m) FROM ("
        " SELECT d, ROW_NUMBER() OVER (ORDER BY d) AS rn, COUNT(*) OVER () AS n, AVG(d) OVER () AS m"
        f" FROM ({inner}) durations) ranked"
    )
    n, median, p90, mean = database.execute_sql(sql, params).fetchone()
    left_out = sum(
        _where(Ticket.select(), Ticket.status.in_(DONE), piece, mine).count()
        for piece in _finished_in(start, end)[1:]
    )  # resolved_at is null in these

    def hours(seconds):
        return None if seconds is None else round(float(seconds) / 3600, 2)

    return {
        "count": int(n or 0),
        "median_hours": hours(median),
        "p90_hours": hours(p90),
        "mean_hours": hours(mean),
        "left_out": left_out,
    }


def _breakdown(mine, column, start: datetime, end: datetime, names: dict) -> dict:
    """The tickets whose ``column`` falls in the period, by priority, category, status now and
    assignee, from one grouped query."""
    query = _where(
        Ticket.select(Ticket.priority, Ticket.category, Ticket.status, Ticket.assignee, fn.COUNT(Ticket.id)),
        column >= start,
        column < end,
        mine,
    ).group_by(Ticket.priority, Ticket.category, Ticket.status, Ticket.assignee)
    by: dict[str, Counter] = {key: Counter() for key in ("priority", "category", "status", "assignee")}
    for priority, category, status, assignee, n in query.tuples():
        by["priority"][priority] += n
        by["category"][category] += n
        by["status"][status] += n
        by["assignee"][assignee] += n
    people = names["people"]
    missing = [i for i in by["assignee"] if i is not None and i not in people]
    if missing:
        people.update(User.select(User.id, User.username).where(User.id.in_(missing)).tuples())

    def ranked(counter: Counter, label) -> dict:
        return {
            label(k): n for k, n in sorted(counter.items(), key=lambda item: (-item[1], str(label(item[0]))))
        }

    return {
        "total": sum(by["status"].values()),
        "priority": {name: by["priority"].get(p, 0) for p, name in PRIORITY_NAMES.items()},
        "category": ranked(by["category"], lambda c: names["categories"].get(c, f"#{c}")),
        "status": {s: by["status"].get(s, 0) for s in STATUSES},
        "assignee": ranked(by["assignee"], lambda a: "(unassigned)" if a is None else people.get(a, f"#{a}")),
    }


def _history(mine, start: datetime, end: datetime) -> dict:
    names = {"categories": dict(Category.select(Category.id, Category.name).tuples()), "people": {}}
    outcomes: Counter[str] = Counter()
    for piece in _finished_in(start, end):
        outcomes.update(
            dict(
                _where(
                    Ticket.select(Ticket.resolution_met, fn.COUNT(Ticket.id)),
                    Ticket.status.in_(DONE),
                    piece,
                    mine,
                )
                .group_by(Ticket.resolution_met)
                .tuples()
            )
        )
    reopened = _where(
        Ticket.select(), Ticket.created_at >= start, Ticket.created_at < end, Ticket.reopen_count > 0, mine
    ).count()
    return {
        "opened": _breakdown(mine, Ticket.created_at, start, end, names),
        "resolved": _breakdown(mine, Ticket.resolved_at, start, end, names),
        "closed": _breakdown(mine, Ticket.closed_at, start, end, names),
        "time_to_resolve": _time_to_resolve(mine, start, end),
        "reopened": reopened,
        "sla_outcome": {
            "met": _outcome(outcomes, True),
            "breached": _outcome(outcomes, False),
            "unknown": _outcome(outcomes, None),
        },
    }


def _outcome(counts: dict, value) -> int:
    """The count for one resolution outcome (drivers give booleans as 0/1 or True/False)."""
    return int(sum(n for k, n in counts.items() if (None if k is None else bool(k)) is value))


def trend_bounds(start: datetime, end: datetime, cal: sla.Calendar) -> tuple[str, list[datetime]]:
    """The trend's bucket for a period and the UTC moments that bound its buckets: local days,
    weeks from Monday or months from the 1st, the first and last cut to the period."""
    first, last = sla.to_local(cal, start), sla.to_local(cal, end)
    length = (last - first).days
    bucket = "day" if length <= DAYS_UP_TO else "week" if length <= WEEKS_UP_TO else "month"
    day = first.date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    cuts = [start]
    while True:
        if bucket == "day":
            day += timedelta(days=1)
        elif bucket == "week":
            day += timedelta(days=7)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        moment = sla.to_utc(cal, datetime.combine(day, datetime.min.time()))
        if moment >= end:
            cuts.append(end)
            return bucket, cuts
        cuts.append(moment)


def _trend(mine, start: datetime, end: datetime, cal: sla.Calendar) -> dict:
    bucket, bounds = trend_bounds(start, end, cal)
    opened, resolved, closed, backlogs = _flow(mine, bounds)
    rows = [
        {
            "start": sla.to_local(cal, bounds[k]).date().isoformat(),
            "opened": opened[k],
            "resolved": resolved[k],
            "closed": closed[k],
            "backlog": backlogs[k],
        }
        for k in range(len(bounds) - 1)
    ]
    return {"bucket": bucket, "rows": rows}


def _flow(mine, bounds: list[datetime]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Per bucket between ``bounds``: tickets opened, resolved and closed, and the backlog at its
    end. Finished = resolved, else closed. The backlog when the first bucket opens, created before
    it minus finished before it minus finished with no time (and created before it), is counted
    as the open tickets with neither time minus what was created since plus what finished since
    plus what finished with no time since: the same number, read from short index ranges (the
    open ones lead the close-time index: no close time, no resolve time, status)."""
    start = bounds[0]
    unfinished = Ticket.resolved_at.is_null() & Ticket.closed_at.is_null()
    timeless = Ticket.status.in_(DONE) & unfinished
    opened = _per_day(Ticket.created_at, bounds, mine)
    resolved = _per_day(Ticket.resolved_at, bounds, mine)
    closed = _per_day(Ticket.closed_at, bounds, mine)
    closed_unresolved = _per_day(Ticket.closed_at, bounds, _all(mine, NOT_RESOLVED))
    lost = _per_day(Ticket.created_at, bounds, _all(mine, timeless))
    finished_since = (
        _where(Ticket.select(), Ticket.resolved_at >= start, mine).count()
        + _where(Ticket.select(), NOT_RESOLVED, Ticket.closed_at >= start, mine).count()
    )
    backlog = (
        _where(Ticket.select(), unfinished, Ticket.status.in_(OPEN_STATUSES), mine).count()
        - _where(Ticket.select(), Ticket.created_at >= start, mine).count()
        + finished_since
        + _where(Ticket.select(), Ticket.created_at >= start, timeless, mine).count()
    )
    backlogs = []
    for k in range(len(bounds) - 1):
        backlog += opened[k] - resolved[k] - closed_unresolved[k] - lost[k]
        backlogs.append(backlog)
    return opened, resolved, closed, backlogs


def day_bounds(now: datetime, cal: sla.Calendar, days: int = DAYS) -> list[datetime]:
    """UTC moments of the local midnights that bound the last ``days`` days (today included)."""
    local = sla.to_local(cal, now)
    first = date(local.year, local.month, local.day) - timedelta(days=days - 1)
    return [
        sla.to_utc(cal, datetime.combine(first + timedelta(days=k), datetime.min.time()))
        for k in range(days + 1)
    ]


def _per_day(column, bounds: list[datetime], mine) -> list[int]:
    inner = bounds[1:-1]  # a single bucket (a period under a day) has none: no CASE at all
    bucket = Case(None, [(column < b, k) for k, b in enumerate(inner)], len(inner)) if inner else SQL("0")
    query = _where(
        Ticket.select(bucket.alias("bucket"), fn.COUNT(Ticket.id)),
        column >= bounds[0],
        column < bounds[-1],
        mine,
    ).group_by(SQL("bucket"))
    counts = dict(query.tuples())
    return [int(counts.get(k, 0)) for k in range(len(bounds) - 1)]


def _daily(mine, now: datetime, cal: sla.Calendar) -> list[dict]:
    """The last ``DAYS`` days, with the backlog counted as the trend counts it (a ticket closed
    without a resolve time is finished then, not open for ever)."""
    bounds = day_bounds(now, cal)
    opened, resolved, _, backlogs = _flow(mine, bounds)
    return [
        {
            "day": sla.to_local(cal, bounds[k]).date().isoformat(),
            "opened": opened[k],
            "resolved": resolved[k],
            "backlog": backlogs[k],
        }
        for k in range(DAYS)
    ]


# ---------------------------------------------------------------- plain text (the CLI)


def as_text(f: dict) -> str:
    """The figures as a plain-text report (names from the database are printed literally)."""
    who = f"agent {f['scope']['user']}" if f["scope"]["kind"] == "agent" else "the whole desk"
    lines = [
        f"Analytics for {who}: {f['period']['label']} ({f['period']['from']} to {f['period']['to']} UTC)",
        f"Calendar: {f['calendar']}",
    ]
    if f.get("filter"):
        lines.append(f"Filter: {strip_controls(f['filter'])}")
    lines.append("")

    def pairs(title: str, mapping: dict) -> None:
        lines.append(f"{title:<22}" + "  ".join(f"{strip_controls(str(k))} {v}" for k, v in mapping.items()))

    pairs("Tickets by status", f["totals"]["status"])
    pairs("Open by priority", f["totals"]["priority"])
    pairs("Open by category", f["totals"]["category"])
    pairs("In the period", f["period_counts"])
    pairs("Open by age", f["open_age"])
    pairs("SLA now", {s: f["sla"][s] for s in sla.STATES})
    for target in sla.TARGETS:
        c = f["compliance"][target]
        percent = "—" if c["percent"] is None else f"{c['percent']}%"
        lines.append(
            f"{target.capitalize() + ' compliance':<22}{percent} ({c['met']} met, {c['breached']} breached)"
        )
    h = f["history"]
    lines += ["", "In the period (status: now)"]
    for kind in ("opened", "resolved", "closed"):
        part = h[kind]
        lines.append(f"  {kind.capitalize()}: {part['total']}")
        for key in ("priority", "status", "category", "assignee"):
            items = {k: v for k, v in part[key].items() if v}
            shown = dict(list(items.items())[:8])
            more = len(items) - len(shown)
            pairs(f"    by {key}", {**shown, **({"(more)": more} if more > 0 else {})})
    t = h["time_to_resolve"]

    def hours(value) -> str:
        return "—" if value is None else f"{value:.1f} h"

    lines.append(
        f"{'Time to resolve':<22}median {hours(t['median_hours'])}  p90 {hours(t['p90_hours'])}  "
        f"mean {hours(t['mean_hours'])}  over {t['count']} tickets ({t['left_out']} with no "
        "resolve time left out)"
    )
    lines.append(f"{'Reopened':<22}{h['reopened']} of the tickets opened in the period")
    pairs("SLA outcome", h["sla_outcome"])
    trend = f["trend"]
    lines += ["", f"{trend['bucket'] + ' from':<12}{'opened':>8}{'resolved':>10}{'closed':>8}{'backlog':>9}"]
    for row in trend["rows"]:
        lines.append(
            f"{row['start']:<12}{row['opened']:>8}{row['resolved']:>10}{row['closed']:>8}{row['backlog']:>9}"
        )
    if f["teams"]:
        lines += ["", f"{'team':<20}{'open':>6}{'at risk':>9}{'breached':>10}{'resolved':>10}"]
        for row in f["teams"]:
            lines.append(
                f"{strip_controls(row['team'])[:19]:<20}{row['open']:>6}{row['at_risk']:>9}"
                f"{row['breached']:>10}{row['resolved']:>10}"
            )
    lines += ["", f"{'agent':<20}{'open':>6}{'in progress':>13}{'resolved':>10}{'median h':>10}"]
    for row in f["workload"]:
        median = "—" if row["median_hours"] is None else f"{row['median_hours']:.1f}"
        lines.append(
            f"{strip_controls(row['agent'])[:19]:<20}{row['open']:>6}{row['in_progress']:>13}"
            f"{row['resolved']:>10}{median:>10}"
        )
    return "\n".join(lines) + "\n"
