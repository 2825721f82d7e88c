"""The ``sla``, ``assignment`` and ``report`` commands of the command line (kept apart from
the package's __init__, which only registers them): SLA policies and calendar, recompute, automatic
assignment, the analytics report."""

from __future__ import annotations

import json
import sys


def add_commands(commands) -> None:
    sla = commands.add_parser(
        "sla", help="SLA policies, business calendar, recompute, alerts"
    ).add_subparsers(dest="sla_command", metavar="ACTION", required=True)
    sla.add_parser("show", help="print the policies and the business calendar")
    policy = sla.add_parser("policy", help="set one priority's targets (admins)")
    policy.add_argument("priority", help="critical, high, medium, low or 1..4")
    policy.add_argument("response_minutes", type=int, help="first response target, working minutes")
    policy.add_argument("resolution_minutes", type=int, help="resolution target, working minutes")
    cal = sla.add_parser("calendar", help="set the business calendar (admins)")
    cal.add_argument("--24x7", dest="always", action="store_true", help="the clock always runs")
    cal.add_argument("--days", default="mon,tue,wed,thu,fri", help="working days (default: mon..fri)")
    cal.add_argument(
        "--hours", default="09:00-17:00", help="working hours, local time (default: 09:00-17:00)"
    )
    cal.add_argument("--timezone", default="UTC", help="e.g. Europe/Berlin (default: UTC)")
    cal.add_argument("--holidays", default="", help="comma-separated dates, e.g. 2026-12-25,2026-12-26")
    recompute = sla.add_parser(
        "recompute", help="recompute due and risk times after a policy or calendar change"
    )
    recompute.add_argument("--all", action="store_true", help="every ticket, resolved ones too")

    assign = commands.add_parser("assignment", help="automatic assignment of new tickets").add_subparsers(
        dest="assignment_command", metavar="ACTION", required=True
    )
    assign.add_parser("show", help="the switch and each category's mode and agents")
    assign.add_parser("on", help="switch automatic assignment on for the desk (admins)")
    assign.add_parser("off", help="switch it off (category settings are kept)")
    category = assign.add_parser("category", help="a category's mode and agents (admins)")
    category.add_argument("name")
    category.add_argument("--mode", required=True, choices=("round_robin", "least_loaded", "off"))
    category.add_argument("--agents", help="comma-separated usernames (default: keep the current ones)")
    away = assign.add_parser("away", help="mark an agent away (skipped) or back")
    away.add_argument("username")
    away.add_argument("state", choices=("on", "off"))

    sla.add_parser(
        "check", help="raise the at-risk and breached alerts due now and send due e-mail (for cron)"
    )

    report = commands.add_parser("report", help="reports").add_subparsers(
        dest="report_command", metavar="REPORT", required=True
    )
    analytics = report.add_parser("analytics", help="the analytics screen's figures")
    analytics.add_argument(
        "--period",
        default="30d",
        help="today, 7d, 30d, quarter, all (the whole history), or FROM..TO (dates)",
    )
    analytics.add_argument("--filter", help="only the tickets this queue filter lists, e.g. 'cat:network'")
    analytics.add_argument("--format", choices=("table", "json"), default="table")


def _sla(args, actor) -> int:
    from itsm_tui.core.people.permissions import require
    from itsm_tui.core.tickets import sla

    if args.sla_command == "show":
        for priority, (response, resolution) in sla.policies().items():
            print(
                f"{sla.PRIORITY_NAMES[priority]:<9} response {_minutes(response):>8}   "
                f"resolution {_minutes(resolution):>8}"
            )
        print(f"calendar  {sla.calendar().describe()}")
        return 0
    if args.sla_command == "policy":
        sla.set_policy(actor, args.priority, args.response_minutes, args.resolution_minutes)
        print("policy saved; run `itsm-tui sla recompute` to apply it to open tickets")
        return 0
    if args.sla_command == "calendar":
        data = (
            {"mode": "24x7", "timezone": args.timezone}
            if args.always
            else {
                "mode": "business",
                "timezone": args.timezone,
                "hours": args.hours,
                "days": [d for d in args.days.split(",") if d.strip()],
                "holidays": [d.strip() for d in args.holidays.split(",") if d.strip()],
            }
        )
        cal = sla.set_calendar(actor, data)
        print(f"calendar saved: {cal.describe()}; run `itsm-tui sla recompute` to apply it to open tickets")
        return 0
    if args.sla_command == "check":
        from itsm_tui.core import jobs
        from itsm_tui.core.errors import ItsmError

        require(actor, "settings.manage")
        try:
            report = jobs.run_due()
        finally:
            jobs.release()
        print("; ".join(f"{name}: {n}" for name, n in report.counts.items()))
        if report.elsewhere:  # a terminal or server that runs the jobs holds their lease
            print(f"run by another process of the desk: {', '.join(report.elsewhere)}")
        failed = [f"{name} failed (retried at the next pass): {why}" for name, why in report.errors.items()]
        if failed:
            raise ItsmError("; ".join(failed))
        return 0
    changed = sla.recompute(actor, everything=args.all)
    print(f"recomputed the SLA times of {changed} ticket{'' if changed == 1 else 's'}")
    return 0


def _assignment(args, actor) -> int:
    from itsm_tui.core.tickets import assignment

    command = args.assignment_command
    if command in ("on", "off"):
        assignment.set_enabled(actor, command == "on")
    elif command == "category":
        agents = None if args.agents is None else [a.strip() for a in args.agents.split(",") if a.strip()]
        assignment.configure(actor, args.name, None if args.mode == "off" else args.mode, agents)
    elif command == "away":
        person = assignment.set_away(actor, args.username, args.state == "on")
        print(f"{person.username} is {'away' if person.is_away else 'back'}")
        return 0
    print("\n".join(assignment.describe(actor)))
    return 0


def _minutes(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} d"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _report(args, actor) -> int:
    from itsm_tui.core.tickets import analytics

    figures = analytics.figures(actor, args.period, filter_text=args.filter)
    if args.format == "json":
        json.dump(figures, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(analytics.as_text(figures))
    return 0


HANDLERS = {"sla": _sla, "assignment": _assignment, "report": _report}
