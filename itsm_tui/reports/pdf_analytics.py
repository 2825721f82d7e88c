"""The analytics report: headline figures and charts drawn with reportlab's own graphics.

It takes a plain dict of figures, so it does not depend on how they are computed
(``core/tickets/analytics.py`` computes them; the analytics screen shows the same ones). Every key is
optional; a missing or empty one leaves its section out::

    {
        "period": "2026-11-01 to 2026-11-30",             # words shown under the title
        "totals": {"Open": 42, "Resolved this week": 17},  # headline numbers, in order
        "by_status": {"New": 5, "In progress": 20},        # label -> count, in order
        "by_priority": {"Critical": 2, "High": 9, "Medium": 20, "Low": 11},  # open tickets
        "by_category": {"Network": 12, "Hardware": 9},     # open tickets
        "age_buckets": {"< 1 day": 4, "1-3 days": 9, "3-7 days": 11, "> 7 days": 18},  # open
        "sla": {"On track": 30, "At risk": 7, "Breached": 5},   # open tickets' SLA states
        "compliance": {"Response": 0.94, "Resolution": 0.87},   # fractions 0..1 (None: n/a)
        "agents": [{"Agent": "agent1", "Open": 5, "Resolved": 12, "Breached": 1}, ...],
        "history": {"Opened": 120, "Resolved": 117, ...},   # label -> value (number or words)
        "trend": {"bucket": "week",                        # day, week or month
                  "rows": [("2026-11-02", 7, 5, 4, 40), ...]},  # (bucket's first day, opened,
    }                                                     # resolved, closed, backlog), oldest first

Labels and names are drawn as plain strings (never markup). :func:`from_core` turns the dict
``core.analytics.figures()`` returns into this one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from itsm_tui.reports import fonts
from itsm_tui.reports.pdf_report import heading, rows_table, title_block
from itsm_tui.reports.pdf_style import ACCENT, INK, MUTED, RULE, Masthead, para, styles, table_font

PALETTE = [
    colors.HexColor(c)
    for c in (
        "#1F3A5F",
        "#2563EB",
        "#16A34A",
        "#F59E0B",
        "#DC2626",
        "#7C3AED",
        "#0891B2",
        "#DB2777",
        "#65A30D",
        "#EA580C",
    )
]
# colours with a meaning, where a label says what it is
MEANING = {
    "critical": "#DC2626",
    "high": "#F97316",
    "medium": "#FACC15",
    "low": "#9CA3AF",
    "breached": "#DC2626",
    "at risk": "#F59E0B",
    "on track": "#16A34A",
    "ok": "#16A34A",
    "paused": "#6B7280",
    "met": "#16A34A",
    "missed": "#DC2626",
    "new": "#2563EB",
    "in progress": "#16A34A",
    "waiting on user": "#F59E0B",
    "waiting on vendor": "#D97706",
    "resolved": "#9CA3AF",
    "closed": "#D1D5DB",
}


def _colour(label: str, n: int):
    named = MEANING.get(str(label).lower())
    return colors.HexColor(named) if named else PALETTE[n % len(PALETTE)]


def _drawing(width: float, height: float) -> Drawing:
    """A Drawing whose text starts in our embedded font (reportlab's default is Helvetica,
    which it sets, unembedded, even when every string names another font)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = fonts.fonts().regular
    return drawing


def _caption(drawing: Drawing, text: str, width: float, height: float) -> None:
    f = fonts.fonts()
    drawing.add(String(0, height - 11, fonts.visual(text), fontName=f.bold, fontSize=9, fillColor=ACCENT))


def bar_chart(
    title: str, counts: dict, width: float, height: float = 150, horizontal: bool = False
) -> Drawing:
    f = fonts.fonts()
    if horizontal:  # reportlab stacks the first category at the bottom: read top-down instead
        counts = dict(reversed(list(counts.items())))
    labels = [fonts.visual(str(k)) for k in counts]
    values = [int(v or 0) for v in counts.values()]
    drawing = _drawing(width, height)
    _caption(drawing, title, width, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    left = 90 if horizontal else 30
    chart.x, chart.y = left, 24 if not horizontal else 10
    chart.width, chart.height = width - left - 24, height - 48 if not horizontal else height - 30
    chart.data = [values]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = f.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = f.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = 1
    chart.valueAxis.gridStrokeColor = RULE
    chart.valueAxis.visibleGrid = 1
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = f.regular
    chart.barLabels.fontSize = 7
    chart.barLabels.fillColor = INK
    if horizontal:
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
    else:
        chart.barLabels.nudge = 6
        if len(labels) > 5 or max(map(len, labels), default=0) * len(labels) > 40:
            chart.categoryAxis.labels.angle = 25
            chart.categoryAxis.labels.boxAnchor = "ne"
            chart.y, chart.height = 40, height - 64
    chart.bars.strokeColor = None
    for n, label in enumerate(counts):
        chart.bars[(0, n)].fillColor = _colour(label, n)
        chart.categoryAxis.labels[n].fontName = fonts.font_for(labels[n], f.regular)
    drawing.add(chart)
    return drawing


def pie_chart(title: str, counts: dict, width: float, height: float = 150) -> Drawing:
    f = fonts.fonts()
    drawing = _drawing(width, height)
    _caption(drawing, title, width, height)
    values = [int(v or 0) for v in counts.values()]
    if not sum(values):
        drawing.add(String(0, height / 2, "nothing to show", fontName=f.regular, fontSize=8, fillColor=MUTED))
        return drawing
    pie = Pie()
    size = min(height - 30, width / 2 - 10)
    pie.x, pie.y, pie.width, pie.height = 10, (height - 16 - size) / 2, size, size
    pie.data = values
    pie.simpleLabels = 1
    pie.labels = None
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 1
    legend = Legend()
    legend.x, legend.y = size + 30, height - 30
    legend.fontName, legend.fontSize = f.regular, 8
    legend.alignment = "right"
    legend.columnMaximum = 8
    total = sum(values)
    pairs = []
    for n, (label, value) in enumerate(zip(counts, values)):
        pie.slices[n].fillColor = _colour(label, n)
        pairs.append((_colour(label, n), fonts.visual(f"{label}: {value:,} ({100 * value / total:.0f}%)")))
    legend.colorNamePairs = pairs
    drawing.add(pie)
    drawing.add(legend)
    return drawing


TREND_LINES = ("opened", "resolved", "closed")


def trend_chart(title: str, rows, width: float, height: float = 170) -> Drawing:
    """Opened, resolved and closed per bucket, as lines."""
    f = fonts.fonts()
    drawing = _drawing(width, height)
    _caption(drawing, title, width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 30, 30, width - 42, height - 62
    chart.data = [[int(row[k + 1] or 0) for row in rows] for k in range(len(TREND_LINES))]
    chart.categoryAxis.categoryNames = _day_names(rows)
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName, axis.labels.fontSize = f.regular, 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = RULE
    for k, colour in enumerate((PALETTE[1], PALETTE[2], PALETTE[5])):
        chart.lines[k].strokeColor, chart.lines[k].strokeWidth = colour, 1.5
    legend = Legend()
    legend.x, legend.y = width - 220, height - 6
    legend.fontName, legend.fontSize = f.regular, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.colorNamePairs = list(zip((PALETTE[1], PALETTE[2], PALETTE[5]), TREND_LINES))
    drawing.add(chart)
    drawing.add(legend)
    return drawing


def _day_names(rows) -> list[str]:
    """'11-30' for each bucket's first day (the year too when the buckets span years), at
    most a dozen of them shown (the others blank)."""
    years = {str(row[0])[:4] for row in rows}
    names = [str(row[0]) if len(years) > 1 else str(row[0])[5:] for row in rows]
    step = max(1, len(names) // 12)
    return [n if i % step == 0 else "" for i, n in enumerate(names)]


def backlog_chart(title: str, rows, width: float, height: float = 150) -> Drawing:
    """The open backlog at the end of each bucket, as bars."""
    f = fonts.fonts()
    drawing = _drawing(width, height)
    _caption(drawing, title, width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 24, width - 42, height - 48
    chart.data = [[int(row[4] or 0) for row in rows]]
    chart.categoryAxis.categoryNames = _day_names(rows)
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName, axis.labels.fontSize = f.regular, 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = 1
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = RULE
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = PALETTE[0]
    drawing.add(chart)
    return drawing


def _tiles(values: dict, width: float):
    """Headline numbers as a row of tiles."""
    style = styles()
    big = style["title"].clone("big", fontSize=18, leading=22, spaceAfter=0)
    cells = [
        [para(str(label), style["label"]) for label in values],
        [para(value if isinstance(value, str) else f"{value:,}", big) for value in values.values()],
    ]
    table = Table(cells, colWidths=[width / len(values)] * len(values))
    table.setStyle(
        TableStyle(
            table_font()
            + [
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F8FAFC")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _side_by_side(left, right, width: float):
    table = Table([[left, right]], colWidths=[width / 2, width / 2])
    table.setStyle(
        TableStyle(table_font() + [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table


def analytics_story(masthead: Masthead, figures: dict, width: float) -> list:
    story = title_block(masthead, f"Period: {figures['period']}" if figures.get("period") else "")
    headline = dict(figures.get("totals") or {})
    for name, fraction in (figures.get("compliance") or {}).items():
        headline[f"{name} SLA met"] = "n/a" if fraction is None else f"{100 * fraction:.1f}%"
    if headline:
        story += [_tiles(headline, width), Spacer(1, 8)]
    half = width / 2 - 6
    charts = []
    if figures.get("by_status"):
        charts.append(bar_chart("Tickets by status", figures["by_status"], half))
    if figures.get("by_priority"):
        charts.append(bar_chart("Open tickets by priority", figures["by_priority"], half))
    if figures.get("age_buckets"):
        charts.append(bar_chart("Age of open tickets", figures["age_buckets"], half))
    if figures.get("sla"):
        charts.append(pie_chart("SLA state of open tickets", figures["sla"], half))
    for n in range(0, len(charts), 2):
        pair = charts[n : n + 2] + ([""] if len(charts[n : n + 2]) == 1 else [])
        story += [_side_by_side(*pair, width), Spacer(1, 6)]
    if figures.get("by_category"):
        rows = len(figures["by_category"])
        story.append(
            bar_chart(
                "Open tickets by category",
                figures["by_category"],
                width,
                height=max(90, 30 + 16 * rows),
                horizontal=True,
            )
        )
    history = figures.get("history") or {}
    if history:
        rows = [
            [label, value if isinstance(value, str) else f"{value:,}"] for label, value in history.items()
        ]
        story.append(
            KeepTogether(
                [
                    heading("History in the period"),
                    rows_table(["Figure", "Value"], rows, [width * 0.35, width * 0.65]),
                ]
            )
        )
    trend = figures.get("trend") or {}
    if trend.get("rows"):
        bucket = trend.get("bucket") or "day"
        story.append(trend_chart(f"Opened, resolved and closed per {bucket}", trend["rows"], width))
        story.append(
            backlog_chart(f"Backlog: open tickets at the end of each {bucket}", trend["rows"], width)
        )
    story += _rows_section("By team", figures.get("teams") or [], width)  # issue 21
    story += _rows_section("Agent workload", figures.get("agents") or [], width)
    return story


def _rows_section(title: str, rows: list[dict], width: float) -> list:
    """A heading and a table of ``rows`` (dicts with the same keys), kept together while short."""
    if not rows:
        return []
    headers = list(rows[0])
    widths = [width * 0.3] + [width * 0.7 / (len(headers) - 1)] * (len(headers) - 1)
    table = rows_table(headers, [[row.get(h) for h in headers] for row in rows], widths)
    return [KeepTogether([heading(title), table])] if len(rows) < 30 else [heading(title), table]


AGE_LABELS = {"<1d": "< 1 day", "1-3d": "1-3 days", "3-7d": "3-7 days", ">7d": "> 7 days"}
SLA_LABELS = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}


def from_core(f: dict) -> dict:
    """The figures of ``core.analytics.figures()`` (the analytics screen's) in this module's
    shape; keys it lacks are left out."""
    from itsm_tui.core.store.models import OPEN_STATUSES
    from itsm_tui.core.tickets.rules import STATUS_LABELS

    out: dict = {}
    period, scope = f.get("period") or {}, f.get("scope") or {}
    if period:
        words = f"{period.get('label', '')} ({_span(period.get('from'), period.get('to'))})"
        if scope.get("kind") == "agent":
            words += f", tickets assigned to {scope.get('user')}"
        out["period"] = words
    totals = f.get("totals") or {}
    status = totals.get("status") or {}
    counts = f.get("period_counts") or {}
    out["totals"] = {
        "Open now": sum(n for s, n in status.items() if s in OPEN_STATUSES),
        "Opened in period": counts.get("opened", 0),
        "Resolved in period": counts.get("resolved", 0),
    }
    out["by_status"] = {STATUS_LABELS.get(s, s): n for s, n in status.items()}
    out["by_priority"] = dict(totals.get("priority") or {})
    out["by_category"] = dict(totals.get("category") or {})
    out["age_buckets"] = {AGE_LABELS.get(b, b): n for b, n in (f.get("open_age") or {}).items()}
    sla_now = f.get("sla") or {}
    out["sla"] = {label: sla_now.get(key, 0) for key, label in SLA_LABELS.items() if key in sla_now}
    out["compliance"] = {
        name.capitalize(): None if c.get("percent") is None else c["percent"] / 100
        for name, c in (f.get("compliance") or {}).items()
    }
    out["agents"] = [  # only people with work: no row of zeros for a supervisor who takes none
        {
            "Agent": r.get("agent"),
            "Name": r.get("name") or "",
            "Open": r.get("open"),
            "In progress": r.get("in_progress"),
            "Resolved": r.get("resolved"),
            "Median hours": "" if r.get("median_hours") is None else f"{r['median_hours']:.1f}",
        }
        for r in f.get("workload") or []
        if any(r.get(k) for k in ("open", "in_progress", "resolved"))
    ]
    out["teams"] = [
        {
            "Team": r["team"],
            "Open": r["open"],
            "At risk": r["at_risk"],
            "Breached": r["breached"],
            "Resolved in period": r["resolved"],
        }
        for r in f.get("teams") or []
    ]
    if f.get("history"):
        out["history"] = _history(f["history"])
    trend = f.get("trend") or {}
    if trend.get("rows"):
        out["trend"] = {
            "bucket": trend.get("bucket"),
            "rows": [tuple(r.get(k) for k in ("start", *TREND_LINES, "backlog")) for r in trend["rows"]],
        }
    return out


def _history(h: dict) -> dict:
    """The history totals in words: what happened in the period, time to resolve with the
    count it rests on and those left out, reopened, SLA outcomes."""

    def hours(value) -> str:
        return "n/a" if value is None else f"{value:,.1f} h"

    t = h.get("time_to_resolve") or {}
    outcome = h.get("sla_outcome") or {}
    out = {
        label: (h.get(key) or {}).get("total", 0)
        for key, label in (("opened", "Opened"), ("resolved", "Resolved"), ("closed", "Closed"))
    }
    out["Reopened (of those opened)"] = h.get("reopened", 0)
    out["Time to resolve"] = (
        f"median {hours(t.get('median_hours'))}, p90 {hours(t.get('p90_hours'))}, "
        f"mean {hours(t.get('mean_hours'))} ({t.get('count', 0):,} tickets)"
    )
    if t.get("left_out"):
        out["Time to resolve"] += f"; {t['left_out']:,} with no resolve time left out"
    out["SLA outcome (resolution)"] = (
        f"{outcome.get('met', 0):,} met, {outcome.get('breached', 0):,} "
        f"breached, {outcome.get('unknown', 0):,} unknown"
    )
    return out


def _span(start, end) -> str:
    """'2026-11-24 to 2026-11-30' for a period whose end (excluded) is 2026-12-01 00:00: the
    days it covers, the last one included; a period ending mid-day ends at that minute."""
    try:
        first, after = datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end))
    except ValueError:
        return f"{str(start)[:10]} to {str(end)[:10]}"
    if after.time() == time():
        last = (after - timedelta(days=1)).date()
        return first.date().isoformat() if last == first.date() else f"{first:%Y-%m-%d} to {last}"
    return f"{first:%Y-%m-%d} to {after:%Y-%m-%d %H:%M}"
