"""Screen 4: analytics. The figures come from the app's SLA monitor (a background pass every
30 s and right after an operator's change); this screen only draws them.

Supervisors and admins see the whole desk, agents the tickets assigned to them. The SLA and
age rows open the queue filtered to exactly the tickets they count. The history part (opened,
resolved and closed in the period, time to resolve, reopened, SLA outcomes) and the trend charts,
whose bucket (day, week, month) follows the period's length, cover closed history too: ``a``
shows all of it.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.tickets import analytics, sla
from itsm_tui.ui.export_modal import EXPORT_KEYS, ExportContext, ExportModal
from itsm_tui.ui.failures import SaysFailedWorkers
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.render import literal, one_line
from itsm_tui.ui.widgets.footer import KeyFooter
from itsm_tui.ui.widgets.frame import Frame

SLA_LABELS = {"on_track": "On track", "at_risk": "At risk", "breached": "Breached"}
SLA_STYLES = {"on_track": "green", "at_risk": "black on yellow", "breached": "bold white on red"}
AGE_LABELS = {"<1d": "under 1 day", "1-3d": "1 to 3 days", "3-7d": "3 to 7 days", ">7d": "over 7 days"}
BAR_WIDTH = 24


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar: full width for the largest value, at least one block for any non-zero."""
    if not largest or not value:
        return ""
    return "█" * max(1, round(width * value / largest))


class AnalyticsScreen(SaysFailedWorkers, Screen):
    frame_title = "Analytics"
    DEFAULT_CSS = """
    AnalyticsScreen #period { height: auto; padding: 0 1; background: $boost; }
    AnalyticsScreen #columns { height: auto; }
    AnalyticsScreen #left { width: 1fr; height: auto; padding: 0 1; }
    AnalyticsScreen #right { width: 1fr; height: auto; padding: 0 1; }
    AnalyticsScreen #drill { height: auto; max-height: 9; border: round $primary; }
    AnalyticsScreen Sparkline { height: 2; margin: 0 1; }
    AnalyticsScreen .caption { padding: 0 1; color: $text-muted; }
    AnalyticsScreen #totals { padding: 1 1 0 1; }
    AnalyticsScreen #body { height: 1fr; }
    """
    BINDINGS = [
        Binding("t", "period('today')", "Today"),
        Binding("w", "period('7d')", "7 days"),
        Binding("m", "period('30d')", "30 days"),
        Binding("q", "period('quarter')", "Quarter"),
        Binding("a", "period('all')", "All"),
        Binding("c", "custom_period", "Custom…"),
        Binding("r", "reload", "Refresh"),
        Binding(EXPORT_KEYS, "export", "Export PDF", key_display="e"),
    ]

    def compose(self) -> ComposeResult:
        yield Frame()
        yield Static("", id="period")
        with VerticalScroll(id="body"):
            with Horizontal(id="columns"):
                with Vertical(id="left"):
                    yield OptionList(id="drill")
                    yield Static("", id="compliance")
                    yield Static("", id="history")
                with Vertical(id="right"):
                    yield Static("", id="workload")
            yield Static("", id="totals")  # full width: three name-and-count pairs
            yield Label("", id="opened-caption", classes="caption")
            yield Sparkline([], id="opened")
            yield Label("", id="resolved-caption", classes="caption")
            yield Sparkline([], id="resolved")
            yield Label("", id="backlog-caption", classes="caption")
            yield Sparkline([], id="backlog")
        yield KeyFooter()

    @property
    def monitor(self):
        return self.app.sla_monitor

    def on_mount(self) -> None:
        self.query_one("#drill", OptionList).focus()
        self.figures_ready(self.monitor)
        self.monitor.run_now()  # fresh figures on arrival

    # ------------------------------------------------------------ keys

    def action_period(self, period: str) -> None:
        self.monitor.set_period(period)
        self._period_line(self.monitor.figures, busy=True)

    @work(exclusive=True, group="analytics-period", exit_on_error=False)
    async def action_custom_period(self) -> None:
        text = await self.app.push_screen_wait(
            TextPrompt(
                "Custom period",
                "From..to, whole days in the desk's time zone, e.g. 2026-01-01..2026-03-31",
                multiline=False,
            )
        )
        if not text:
            return
        try:
            analytics.period_range(text, clock.now(), sla.Calendar())  # the syntax; bounds come later
        except ValidationError as exc:  # a clear message, the period stays as it was
            self.app.notify(str(exc), severity="error")
            return
        self.action_period(text.strip())

    def action_reload(self) -> None:
        self.monitor.run_now()

    def action_export(self) -> None:
        """The figures on screen, as they are, to a PDF report with reportlab charts."""
        from itsm_tui.reports import pdf_analytics

        figures = self.monitor.figures
        if figures is None:
            self.app.notify("The figures are still being computed.", severity="warning")
            return
        self.app.push_screen(
            ExportModal(
                ExportContext("analytics", figures=pdf_analytics.from_core(figures), label="analytics")
            )
        )

    @on(OptionList.OptionSelected, "#drill")
    def _drill(self, event: OptionList.OptionSelected) -> None:
        """Open the queue filtered to exactly the tickets behind the chosen count."""
        figures = self.monitor.figures
        if figures is None or event.option.id is None:
            return
        kind, key = event.option.id.split(":", 1)
        text = figures["filters"][kind][key]
        label = f"SLA: {SLA_LABELS[key].lower()}" if kind == "sla" else f"Open {AGE_LABELS[key]}"
        self.app.open_queue_filtered(label, text, "due" if kind == "sla" else "created")

    # ------------------------------------------------------------ drawing

    def figures_ready(self, monitor) -> None:
        figures = monitor.figures
        if figures is None:
            self._period_line(None, busy=True)
            return
        self._period_line(figures)
        self._drill_rows(figures)
        self._compliance(figures)
        self._history(figures)
        self._totals(figures)
        self._workload(figures)
        self._charts(figures)

    def _period_line(self, figures: dict | None, busy: bool = False) -> None:
        line = Text()
        if figures is None:
            line.append("Computing the figures…", style="italic")
        else:
            who = "Your tickets" if figures["scope"]["kind"] == "agent" else "Whole desk"
            line.append(f"{who}  ·  {figures['period']['label']}", style="bold")
            line.append(f"  ·  as of {figures['generated_at'].replace('T', ' ')[:16]} UTC")
            line.append(f"  ·  {one_line(figures['calendar'])}", style="dim")
            if busy:
                line.append("  ·  updating…", style="italic")
        self.query_one("#period", Static).update(line)

    def _bar_width(self) -> int:
        """What the left column leaves for a drill row's bar after its label and count (none
        at 80 columns would wrap the row): up to BAR_WIDTH."""
        return max(0, min(BAR_WIDTH, self.size.width // 2 - 36))

    def _drill_rows(self, figures: dict) -> None:
        drill = self.query_one("#drill", OptionList)
        width = self._bar_width()
        highlighted = drill.highlighted
        options = []
        for state in sla.STATES:
            count = figures["sla"][state]
            text = Text(f" {SLA_LABELS[state]:<10}", style=SLA_STYLES[state] if count else "")
            text.append(f"{'':7} {count:>7,}  ")  # as far right as the age rows' counts
            text.append(bar(count, max(figures["sla"][s] for s in sla.STATES), width), style="dim")
            options.append(Option(text, id=f"sla:{state}"))
        largest = max(figures["open_age"].values())
        for bucket, label in AGE_LABELS.items():
            count = figures["open_age"][bucket]
            text = Text(f" Open {label:<12} {count:>7,}  ")
            text.append(bar(count, largest, width), style="cyan")
            options.append(Option(text, id=f"age:{bucket}"))
        drill.clear_options()
        drill.add_options(options)
        drill.border_title = "SLA now, open by age (⏎ list)"  # whole at 80 columns
        drill.highlighted = 0 if highlighted is None else min(highlighted, len(options) - 1)

    def _compliance(self, figures: dict) -> None:
        text = Text()
        text.append("SLA compliance in the period\n", style="bold")
        for target in sla.TARGETS:
            share = figures["compliance"][target]
            percent = "—" if share["percent"] is None else f"{share['percent']:.1f}%"
            text.append(f"  {target.capitalize():<11}{percent:>7}  {share['met']:,} met\n")
            text.append(f"  {'':<18}  {share['breached']:,} breached\n")
        self.query_one("#compliance", Static).update(text)

    def _totals(self, figures: dict) -> None:
        totals = figures["totals"]
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1), expand=False)
        table.add_column("Status")
        table.add_column("", justify="right")
        table.add_column("Open by priority")
        table.add_column("", justify="right")
        table.add_column("Open by category")
        table.add_column("", justify="right")
        statuses = list(totals["status"].items())
        priorities = list(totals["priority"].items())
        categories = list(totals["category"].items())
        for k in range(max(len(statuses), len(priorities), len(categories))):
            cells = []
            for items in (statuses, priorities, categories):
                name, count = items[k] if k < len(items) else ("", "")
                if items is statuses:  # a status code in words; a category's name stays as it is
                    name = str(name).replace("_", " ")
                cells += [literal(str(name)), Text(f"{count:,}" if count != "" else "")]
            table.add_row(*cells)
        self.query_one("#totals", Static).update(table)

    def _workload(self, figures: dict) -> None:
        # Short headers, so that a name keeps 8 cells in the right column at 80 columns.
        table = _side_table("Workload (done, median h: period)")
        _name_column(table, "Agent")
        for header in ("Open", "In prog", "Done", "Med h"):
            table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
        for row in figures["workload"]:
            median = "—" if row["median_hours"] is None else f"{row['median_hours']:.1f}"
            table.add_row(
                literal(row["agent"]),
                Text(f"{row['open']:,}"),
                Text(f"{row['in_progress']:,}"),
                Text(f"{row['resolved']:,}"),
                Text(median),
            )
        teams = figures.get("teams") or []  # issue 21: once there are teams
        self.query_one("#workload", Static).update(
            Group(_team_table(teams), Text(""), table) if teams else table
        )

    def _history(self, figures: dict) -> None:
        h = figures["history"]
        t = h["time_to_resolve"]
        outcome = h["sla_outcome"]

        def hours(value) -> str:
            return "—" if value is None else f"{value:,.1f} h"

        text = Text()  # lines of at most 36 cells: the left column's width at 80 columns
        text.append("History in the period\n", style="bold")
        text.append(f"  Opened {h['opened']['total']:,} · resolved {h['resolved']['total']:,}\n")
        text.append(f"  Closed {h['closed']['total']:,} · reopened {h['reopened']:,}\n")
        text.append(f"  To resolve ({t['count']:,} tickets):\n")
        text.append(f"    median {hours(t['median_hours'])} · p90 {hours(t['p90_hours'])}\n")
        text.append(f"    mean {hours(t['mean_hours'])}\n")
        if t["left_out"]:
            text.append(f"    {t['left_out']:,} with no resolve time left out\n", style="yellow")
        text.append(f"  SLA outcome: {outcome['met']:,} met\n")
        text.append(f"    {outcome['breached']:,} breached · {outcome['unknown']:,} unknown\n")
        for kind in ("opened", "closed"):
            top = [(name, n) for name, n in h[kind]["category"].items() if n][:1]
            for name, n in top:  # the category that had the most
                text.append(f"  {kind.capitalize()} most: ", style="dim")
                text.append(Text(f"{one_line(str(name))[:13]} {n:,}\n"))
        self.query_one("#history", Static).update(text)

    def _charts(self, figures: dict) -> None:
        trend = figures["trend"]
        rows, bucket = trend["rows"], trend["bucket"]
        first, last = rows[0]["start"], rows[-1]["start"]
        captions = (
            ("opened", f"Opened per {bucket}"),
            ("resolved", f"Resolved per {bucket}"),
            ("backlog", "Backlog"),
        )
        for key, caption in captions:
            values = [r[key] for r in rows]
            self.query_one(f"#{key}", Sparkline).data = values
            self.query_one(f"#{key}-caption", Label).update(
                Text(
                    f"{caption}, {first} to {last}: last {values[-1]:,}, highest {max(values):,}, "
                    f"lowest {min(values):,}"
                )
            )


def _side_table(title: str) -> Table:
    """A table of the right column, as wide as it: its name column (``_name_column``) takes the
    cells the figures leave."""
    return Table(
        expand=True,
        title=title,
        title_style="bold",
        title_justify="left",
        box=None,
        header_style="bold",
        padding=(0, 1),
        pad_edge=False,
    )


def _name_column(table: Table, header: str) -> None:
    """A team's or an agent's name: the width the figures beside it leave (8 cells at 80
    columns, whole names at 120), cut with an ellipsis beyond that."""
    table.add_column(header, ratio=1, min_width=8, no_wrap=True, overflow="ellipsis")


def _team_table(teams: list[dict]) -> Table:
    """Open tickets per team, at risk and breached among them, and done in the period."""
    table = _side_table("By team (done: period)")
    _name_column(table, "Team")
    for header in ("Open", "Risk", "Brch", "Done"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    for row in teams:
        table.add_row(
            literal(row["team"]), *(Text(f"{row[k]:,}") for k in ("open", "at_risk", "breached", "resolved"))
        )
    return table
