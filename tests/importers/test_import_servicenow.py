"""ServiceNow import of the real sample export, on both engines.

The expectations are computed here from the CSV with the csv module, independently of the
importer: an incident's events in time order (sys_updated_at; ties by sys_mod_count, then the
line), its final row the last of them.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from peewee import fn
from sample_data import SAMPLE, needs_sample

from itsm_tui.core.errors import ItsmError, PermissionDenied
from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry, Category, Ticket, User
from itsm_tui.core.tickets import categories, queue
from itsm_tui.importers import servicenow
from itsm_tui.importers.servicenow import import_servicenow

BAD_ROWS = Path(__file__).parents[1] / "data" / "servicenow_bad_rows.csv"
STATE_MAP = {
    "New": "new",
    "Active": "in_progress",
    "Awaiting User Info": "waiting_on_user",
    "Awaiting Evidence": "waiting_on_user",
    "Awaiting Vendor": "waiting_on_vendor",
    "Awaiting Problem": "waiting_on_vendor",
    "Resolved": "resolved",
    "Closed": "closed",
}

pytestmark = needs_sample()


def when(text: str) -> datetime | None:
    return None if text in ("", "?") else datetime.strptime(text, "%d/%m/%Y %H:%M")


def source(path: Path = SAMPLE) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """({number: rows}, {number: final row}) read straight from the CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_number: dict[str, list[dict]] = {}
    for index, row in enumerate(rows):
        by_number.setdefault(row["number"], []).append({**row, "_index": index})
    for rows in by_number.values():
        rows.sort(key=lambda r: (when(r["sys_updated_at"]), int(r["sys_mod_count"]), r["_index"]))
    return by_number, {n: rs[-1] for n, rs in by_number.items()}


def write_subset(path: Path, numbers: int, extra: list[dict] | None = None) -> Path:
    """The first ``numbers`` incidents of the sample (plus ``extra`` rows) as a new export."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, seen, kept = reader.fieldnames, [], []
        for row in reader:
            if row["number"] not in seen:
                seen.append(row["number"])
            if len(seen) > numbers:
                break
            kept.append(row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(kept + (extra or []))
    return path


def history_counts() -> dict[str, int]:
    """{source number: number of history entries} by plain SQL."""
    cursor = db.database.execute_sql(
        "SELECT t.source_number, COUNT(a.id) FROM ticket t LEFT JOIN audit_log a "
        "ON a.entity_type = 'ticket' AND a.entity_id = t.id GROUP BY t.source_number"
    )
    return dict(cursor.fetchall())


def history_times() -> dict[str, list[datetime]]:
    """{source number: the times of its history entries, in the order they were written}."""
    cursor = db.database.execute_sql(
        "SELECT t.source_number, a.at FROM ticket t JOIN audit_log a ON a.entity_type = 'ticket' "
        "AND a.entity_id = t.id ORDER BY a.id"
    )
    times: dict[str, list[datetime]] = {}
    for number, at in cursor.fetchall():
        times.setdefault(number, []).append(_as_time(at))
    return times


def expected_figures(final: dict[str, dict]) -> dict:
    """What the source says about the incidents' final rows, by the csv module alone."""
    timed = [
        when(r["resolved_at"]) - when(r["opened_at"])
        for r in final.values()
        if r["incident_state"] in ("Resolved", "Closed") and r["resolved_at"] != "?"
    ]
    made = Counter(r["made_sla"] for r in final.values())
    return {
        "tickets": len(final),
        "states": Counter(STATE_MAP[r["incident_state"]] for r in final.values()),
        "priority": Counter(int(r["priority"][0]) for r in final.values()),
        "made_sla": (made["true"], made["false"]),
        "reopened": sum(1 for r in final.values() if int(r["reopen_count"]) > 0),
        "timed": len(timed),
        "median_hours": statistics.median(timed).total_seconds() / 3600,
    }


def test_the_sample_imports_as_the_source_says(system):
    by_number, final = source()
    expected = expected_figures(final)
    report = import_servicenow(system, SAMPLE)

    assert (report.created, report.updated, report.skipped) == (len(final), 0, [])
    assert report.events == sum(len(rows) for rows in by_number.values()) == 10_383
    assert Ticket.select().count() == expected["tickets"] == len(by_number) == 1500
    tickets = {t.source_number: t for t in Ticket.select()}
    assert set(tickets) == set(final)
    for number, row in final.items():
        ticket = tickets[number]
        assert ticket.status == STATE_MAP[row["incident_state"]], number
        assert ticket.priority == int(row["priority"][0]), number
        assert (ticket.impact, ticket.urgency) == (int(row["impact"][0]), int(row["urgency"][0]))
        assert ticket.resolution_met is (row["made_sla"] == "true"), number
        assert ticket.response_met is None  # the export holds no first-response outcome
        assert ticket.source_mod_count == int(row["sys_mod_count"])
        assert ticket.created_at == when(row["opened_at"])
        assert ticket.reopen_count == int(row["reopen_count"])
        assert ticket.reassignment_count == int(row["reassignment_count"])
        # The source's resolve time or none: never one made up.
        assert ticket.resolved_at == when(row["resolved_at"]), number
        assert ticket.closed_at == (when(row["closed_at"]) if ticket.status == "closed" else None)
        if ticket.resolved_at is not None:  # our due time never contradicts the source's outcome
            assert (ticket.resolved_at <= ticket.resolution_due) is ticket.resolution_met, number
        assert ticket.assignment_group == (
            None if row["assignment_group"] == "?" else row["assignment_group"]
        )
        # the assignment group is the ticket's team (issue 21)
        assert (ticket.team.name if ticket.team_id else None) == ticket.assignment_group, number
        named = [row[c] for c in ("category", "subcategory", "u_symptom") if row[c] != "?"]
        assert all(name in ticket.title for name in named) and ticket.title, number
    # One history entry per source event, in time order.
    assert history_times() == {n: [when(r["sys_updated_at"]) for r in rows] for n, rows in by_number.items()}

    # The figures a report gives, by plain SQL, agree with the source.
    sql = db.database.execute_sql
    assert dict(sql("SELECT status, COUNT(*) FROM ticket GROUP BY status").fetchall()) == expected["states"]
    assert (
        dict(sql("SELECT priority, COUNT(*) FROM ticket GROUP BY priority").fetchall())
        == expected["priority"]
    )
    made_sla = {
        bool(k): v
        for k, v in sql("SELECT resolution_met, COUNT(*) FROM ticket GROUP BY resolution_met").fetchall()
    }
    assert (made_sla[True], made_sla[False]) == expected["made_sla"]
    assert sql("SELECT COUNT(*) FROM ticket WHERE reopen_count > 0").fetchone()[0] == expected["reopened"]
    rows = sql("SELECT created_at, resolved_at FROM ticket WHERE resolved_at IS NOT NULL").fetchall()
    ours = [_as_time(resolved) - _as_time(created) for created, resolved in rows]
    assert len(ours) == expected["timed"]
    assert statistics.median(ours).total_seconds() / 3600 == expected["median_hours"]


def test_events_are_ordered_by_time_and_no_transition_is_made_up(system, tmp_path):
    """INC0000135's first row has sys_mod_count 7 and the earliest time: it comes first."""
    by_number, _ = source(write_subset(tmp_path / "some.csv", 140))
    import_servicenow(system, tmp_path / "some.csv")
    ticket = Ticket.get(Ticket.source_number == "INC0000135")
    entries = list(
        AuditEntry.select()
        .where((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == ticket.id))
        .order_by(AuditEntry.id)
    )
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    statuses = [json.loads(e.changes or "{}").get("status") for e in entries]
    assert [s for s in statuses if s] == [
        [None, "in_progress"],
        ["in_progress", "resolved"],
        ["resolved", "closed"],
    ]
    assert ticket.status == "closed" and ticket.source_mod_count == 7


def first_rows(path: Path, count: int) -> Path:
    """The header and the sample's first ``count`` rows as a file of its own."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(count + 1)]
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


def snapshot(after: int = 0) -> dict:
    """Every imported ticket's fields and history, by source number, with our ids, versions and
    numbers left out (a second import is an update, so it has a later version)."""
    people = dict(User.select(User.id, User.username).tuples())
    names = dict(Category.select(Category.id, Category.name).tuples())
    out = {}
    for ticket in Ticket.select().dicts():
        entries = (
            AuditEntry.select()
            .where(
                (AuditEntry.entity_type == "ticket")
                & (AuditEntry.id > after)
                & (AuditEntry.entity_id == ticket["id"])
            )
            .order_by(AuditEntry.id)
        )
        number = f"INC{ticket['id']:06d}"
        fields = {k: v for k, v in ticket.items() if k not in ("id", "version")}
        for key in ("requester", "assignee", "opened_by", "resolved_by"):
            fields[key] = people.get(fields[key])
        fields["category"] = names[fields["category"]]
        # Our number as a whole, not as the start of the source's (INC000006 in INC0000063).
        own = re.compile(rf"{number}(?!\d)")
        out[ticket["source_number"]] = (
            fields,
            [(e.at, e.action, people.get(e.actor_id), own.sub("#", e.summary), e.changes) for e in entries],
        )
    return out


def test_importing_part_then_all_equals_importing_all_once(system, tmp_path):
    # Row 350 is INC0000135's first: its sys_mod_count (7) is its last one's too.
    import_servicenow(system, first_rows(tmp_path / "350.csv", 350))
    assert Ticket.get(Ticket.source_number == "INC0000135").status == "in_progress"
    later = import_servicenow(system, first_rows(tmp_path / "1000.csv", 1000))
    assert later.updated >= 1 and later.skipped == []
    stepwise = snapshot()
    assert stepwise["INC0000135"][0]["status"] == "closed" and len(stepwise["INC0000135"][1]) == 8
    # The log is append-only: the second import's history is what comes after the first's.
    watermark = AuditEntry.select(fn.MAX(AuditEntry.id)).scalar()
    db.database.execute_sql("DELETE FROM ticket")
    once = import_servicenow(system, tmp_path / "1000.csv")
    assert once.events == 1000
    assert snapshot(after=watermark) == stepwise


def test_an_export_without_some_columns_says_which_stay_empty(system, tmp_path):
    """A ServiceNow export made with fewer columns imports what it has and says which known
    columns it lacks: their resolve and close times and SLA outcomes are then empty."""
    full = first_rows(tmp_path / "all.csv", 200)
    with full.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    dropped = ("made_sla", "resolved_at", "closed_at")
    header = [column for column in rows[0] if column not in dropped]
    fewer = tmp_path / "fewer.csv"
    with fewer.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    report = import_servicenow(system, fewer)
    assert report.created > 0
    (said,) = [message for line, message in report.warnings if line == 1]
    assert said.startswith("no column made_sla, resolved_at, closed_at:")
    assert not [m for line, m in import_servicenow(system, full).warnings if line == 1]


def _as_time(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def test_people_categories_and_history_entries(system, tmp_path):
    by_number, final = source(write_subset(tmp_path / "ten.csv", 10))
    import_servicenow(system, tmp_path / "ten.csv")
    row = final["INC0000047"]
    ticket = Ticket.get(Ticket.source_number == "INC0000047")
    caller = User.get_by_id(ticket.requester_id)
    assert (caller.username, caller.full_name, caller.role) == (
        row["caller_id"].lower().replace(" ", "-"),
        row["caller_id"],
        "requester",
    )
    assert not caller.is_active and caller.password_hash is None
    resolver = User.get_by_id(ticket.resolved_by_id)
    assert (resolver.full_name, resolver.role, resolver.is_active) == (row["resolved_by"], "agent", False)
    assert Category.get_by_id(ticket.category_id).name == row["category"]
    entries = list(
        AuditEntry.select()
        .where((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == ticket.id))
        .order_by(AuditEntry.id)
    )
    rows = sorted(by_number["INC0000047"], key=lambda r: int(r["sys_mod_count"]))
    assert [e.at for e in entries] == [when(r["sys_updated_at"]) for r in rows]
    assert entries[0].action == "create"
    states = [json.loads(e.changes or "{}").get("status") for e in entries]
    expected = [[None, "new"]] + [
        [STATE_MAP[a["incident_state"]], STATE_MAP[b["incident_state"]]]
        if a["incident_state"] != b["incident_state"]
        else None
        for a, b in zip(rows, rows[1:])
    ]
    assert states == expected
    assert [User.get_by_id(e.actor_id).full_name for e in entries] == [r["sys_updated_by"] for r in rows]
    # Every entry the import wrote, history and new people alike, came through the import channel.
    written = AuditEntry.select().where(AuditEntry.entity_type.in_(["ticket", "user", "category"]))
    assert {e.channel for e in written} == {"import"}
    # The source number is searchable like our own.
    found = queue.page(system, "INC0000047").rows
    assert ticket.id in [r["id"] for r in found]
    # The run itself is in the log.
    run = AuditEntry.get(AuditEntry.action == "import")
    assert run.actor_id == system.id and "ten.csv" in run.summary and "10 created" in run.summary


def test_importing_twice_changes_nothing(system):
    path = SAMPLE
    first = import_servicenow(system, path)
    tickets = list(Ticket.select().order_by(Ticket.id).dicts())
    entries = AuditEntry.select().where(AuditEntry.action != "import").count()
    people = User.select().count()
    again = import_servicenow(system, path)
    assert (again.created, again.updated, again.events) == (0, 0, 0)
    assert again.unchanged == first.created == 1500
    assert list(Ticket.select().order_by(Ticket.id).dicts()) == tickets
    assert AuditEntry.select().where(AuditEntry.action != "import").count() == entries
    assert User.select().count() == people


def test_a_later_export_updates_the_ticket(system, tmp_path):
    by_number, final = source(write_subset(tmp_path / "old.csv", 5))
    import_servicenow(system, tmp_path / "old.csv")
    number = "INC0000047"
    before = Ticket.get(Ticket.source_number == number)
    later = {
        **final[number],
        "incident_state": "Active",
        "active": "true",
        "reopen_count": "1",
        "sys_mod_count": str(int(final[number]["sys_mod_count"]) + 1),
        "assigned_to": "Resolver 999",
        "sys_updated_at": "7/3/2016 09:15",
        "priority": "2 - High",
        "impact": "1 - High",
        "made_sla": "false",
    }
    later.pop("_index")
    report = import_servicenow(system, write_subset(tmp_path / "new.csv", 5, extra=[later]))
    assert (report.created, report.updated, report.unchanged, report.events) == (0, 1, 4, 1)
    after = Ticket.get_by_id(before.id)
    assert (after.status, after.reopen_count, after.priority, after.resolution_met) == (
        "in_progress",
        1,
        2,
        False,
    )
    assert after.resolved_at is None and after.closed_at is None
    assert after.source_mod_count == int(later["sys_mod_count"])
    assert after.version == before.version + 1
    assert User.get_by_id(after.assignee_id).full_name == "Resolver 999"
    assert history_counts()[number] == len(by_number[number]) + 1
    newest = (
        AuditEntry.select()
        .where((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == after.id))
        .order_by(AuditEntry.id.desc())
        .get()
    )
    changes = json.loads(newest.changes)
    assert newest.at == datetime(2016, 3, 7, 9, 15)
    assert changes["status"] == ["closed", "in_progress"] and changes["priority"] == [3, 2]
    assert changes["reopen_count"] == [0, 1]


def test_bad_rows_are_skipped_with_their_line_numbers(system):
    report = import_servicenow(system, BAD_ROWS)
    skipped = dict(report.skipped)
    assert sorted(skipped) == [4, 5, 6, 7]
    assert "sys_mod_count 'two'" in skipped[4]
    assert "sys_updated_at" in skipped[5]
    assert "no incident number" in skipped[6]
    assert "fields" in skipped[7]
    warnings = dict(report.warnings)
    assert "'-100'" in warnings[3] and "9 - Unheard of" in warnings[8] and "opened_at" in warnings[9]
    assert (report.rows, report.created, report.events) == (8, 2, 4)
    first = Ticket.get(Ticket.source_number == "INC0900001")
    assert (first.status, first.priority, first.resolution_met) == ("resolved", 2, False)
    assert first.created_at == datetime(2016, 3, 1, 8, 0)  # ISO 8601 read too
    assert first.resolved_at == datetime(2016, 3, 2, 11, 0)
    assert history_counts() == {"INC0900001": 3, "INC0900002": 1}
    second = Ticket.get(Ticket.source_number == "INC0900002")
    assert second.status == "waiting_on_vendor"  # Awaiting Problem
    assert second.created_at == datetime(2016, 3, 1, 12, 0)  # sys_created_at, opened_at unreadable
    assert Category.get_by_id(second.category_id).name == "General"
    assert second.title == "ServiceNow incident INC0900002" and second.configuration_item == "cmdb_ci 7"
    lines = report.lines()
    assert "line 4: skipped: INC0900001: sys_mod_count 'two' is not a whole number" in lines


def test_dry_run_writes_nothing(system, tmp_path):
    path = write_subset(tmp_path / "some.csv", 30)
    counts = [m.select().count() for m in (Ticket, User, AuditEntry, Category)]
    report = import_servicenow(system, path, dry_run=True)
    assert report.created == 30 and report.dry_run and report.summary().startswith("would import")
    assert [m.select().count() for m in (Ticket, User, AuditEntry, Category)] == counts


def test_an_interrupted_import_keeps_whole_batches_and_a_rerun_completes(system, tmp_path, monkeypatch):
    path = write_subset(tmp_path / "some.csv", 50)
    by_number, _ = source(path)
    real, calls = servicenow._ticket_values, []

    def failing(*args):
        calls.append(1)
        if len(calls) == 25:  # the fifth incident of the third batch of ten
            raise RuntimeError("the disk caught fire")
        return real(*args)

    monkeypatch.setattr(servicenow, "_ticket_values", failing)
    with pytest.raises(RuntimeError):
        import_servicenow(system, path, batch_size=10)
    numbers = list(by_number)
    assert history_counts() == {n: len(by_number[n]) for n in numbers[:20]}
    failed = AuditEntry.get(AuditEntry.action == "import_failed")
    assert "20 created" in failed.summary
    monkeypatch.setattr(servicenow, "_ticket_values", real)
    report = import_servicenow(system, path, batch_size=10)
    assert (report.created, report.unchanged) == (30, 20)
    assert history_counts() == {n: len(rows) for n, rows in by_number.items()}


def test_only_admins_import_and_a_wrong_file_is_explained(system, people, tmp_path):
    with pytest.raises(PermissionDenied):
        import_servicenow(people["supervisor"], BAD_ROWS)
    other = tmp_path / "other.csv"
    other.write_text("name,quantity\npaper,3\n", encoding="utf-8")
    with pytest.raises(ItsmError, match="not a ServiceNow incident export: no number"):
        import_servicenow(system, other)
    other.write_text("name,quantity\n", encoding="utf-8")  # a header alone is checked too
    with pytest.raises(ItsmError, match="not a ServiceNow incident export"):
        import_servicenow(system, other)
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(ItsmError, match="empty.csv is empty"):
        import_servicenow(system, tmp_path / "empty.csv")
    with pytest.raises(ItsmError, match="cannot read"):
        import_servicenow(system, tmp_path / "missing.csv")
    header = "number,incident_state,sys_mod_count,sys_updated_at\n"
    (tmp_path / "latin1.csv").write_bytes(f"{header}INC1,Caf\xe9,0,1/3/2016 10:00\n".encode("latin-1"))
    with pytest.raises(
        ItsmError,
        match=rf"latin1.csv line 2 is not UTF-8 text \(byte {len(header) + len('INC1,Caf')} of the file\)",
    ):
        import_servicenow(system, tmp_path / "latin1.csv")
    assert Ticket.select().count() == 0
    # Every refused run is in the log, with its reason.
    refusals = [
        e.summary
        for e in AuditEntry.select().where(AuditEntry.action == "import_failed").order_by(AuditEntry.id)
    ]
    assert len(refusals) == 5 and all(r.startswith("refused ") for r in refusals)
    assert "empty" in refusals[2] and "cannot read" in refusals[3] and "not UTF-8" in refusals[4]


def sample_with(tmp_path: Path, line: int, change) -> Path:
    """The sample with line ``line`` (1 = the header) replaced by ``change(line bytes)``."""
    lines = SAMPLE.read_bytes().split(b"\n")
    lines[line - 1] = change(lines[line - 1])
    path = tmp_path / "changed.csv"
    path.write_bytes(b"\n".join(lines))
    return path


def test_bad_bytes_and_quotes_are_reported_at_their_line(system, tmp_path):
    path = sample_with(tmp_path, 1501, lambda b: b.replace(b"Caller", b"Call\xe9r", 1))
    offset = sum(len(line) + 1 for line in SAMPLE.read_bytes().split(b"\n")[:1500])
    offset += path.read_bytes().split(b"\n")[1500].index(b"\xe9")
    with pytest.raises(ItsmError, match=rf"line 1501 is not UTF-8 text \(byte {offset} of the file\)"):
        import_servicenow(system, path)
    path = sample_with(tmp_path, 1301, lambda b: b.replace(b",Caller", b',"Caller', 1))
    with pytest.raises(ItsmError, match=r"changed.csv line 1301: not valid CSV"):
        import_servicenow(system, path)
    assert Ticket.select().count() == 0


def test_impossible_dates_skip_their_row_with_line_and_reason(system, tmp_path):
    by_number, _ = source(write_subset(tmp_path / "five.csv", 5))
    rows = [r for rows in by_number.values() for r in sorted(rows, key=lambda r: r["_index"])]
    lines = (tmp_path / "five.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(rows[1]["sys_updated_at"], "31/12/9999 23:59")
    lines[4] = lines[4].replace(rows[3]["opened_at"], "2/1/0001 00:00")
    (tmp_path / "five.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_servicenow(system, tmp_path / "five.csv")
    skipped = dict(report.skipped)
    assert sorted(skipped) == [3, 5]
    assert "sys_updated_at '31/12/9999 23:59' is out of range" in skipped[3]
    assert "opened_at '2/1/0001 00:00' is out of range" in skipped[5]
    assert report.events == len(rows) - 2 and report.created == 5
    assert "2 rows skipped" in report.summary()


def test_an_incident_with_no_caller_is_kept_with_a_placeholder_requester(system, tmp_path):
    by_number, _ = source(write_subset(tmp_path / "three.csv", 3))
    number = next(iter(by_number))
    text = (tmp_path / "three.csv").read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    with (tmp_path / "three.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for rows in by_number.values():
            for row in sorted(rows, key=lambda r: r["_index"]):
                row.pop("_index")
                if row["number"] == number:
                    row.update(caller_id="?", opened_by="?")
                writer.writerow(row)
    report = import_servicenow(system, tmp_path / "three.csv")
    assert report.created == 3 and report.skipped == []
    assert report.events == sum(len(rows) for rows in by_number.values())
    ticket = Ticket.get(Ticket.source_number == number)
    requester = User.get_by_id(ticket.requester_id)
    assert (requester.full_name, requester.role, requester.is_active) == (
        "Unknown caller",
        "requester",
        False,
    )
    assert any(
        f"{number}: no caller_id or opened_by" in line and "Unknown caller" in line for line in report.lines()
    )
    assert "Caller: unknown" in ticket.description


def test_hostile_cells_are_kept_literally_without_control_characters(system, tmp_path):
    header = BAD_ROWS.read_text(encoding="utf-8").splitlines()[0].split(",")
    base = dict.fromkeys(header, "?")
    base.update(
        number="INC0900009",
        incident_state="Active",
        sys_mod_count="0",
        made_sla="true",
        caller_id="Zoë 王伟",
        sys_updated_by="Zoe",
        sys_updated_at="1/3/2016 10:00",
        opened_at="1/3/2016 09:00",
        category="[/]\x1b[31mRed[@click=app.quit]",
        u_symptom="=cmd|' /C calc'!A0",
        priority="1 - Critical",
        impact="1 - High",
        urgency="1 - High",
    )
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(
            [
                base,
                {**base, "sys_mod_count": "99999999999", "incident_state": "Closed"},
                {**base, "number": "INC0900010", "category": "reseau"},
            ]
        )
    categories.add(system, "Réseau")  # MySQL's collation takes 'reseau' for it; SQLite does not
    report = import_servicenow(system, path)
    assert dict(report.skipped) == {3: "INC0900009: sys_mod_count '99999999999' is not a whole number"}
    ticket = Ticket.get(Ticket.source_number == "INC0900009")
    assert ticket.title == "[/]Red[@click=app.quit]: =cmd|' /C calc'!A0"
    assert Category.get_by_id(ticket.category_id).name == "[/]Red[@click=app.quit]"
    caller = User.get_by_id(ticket.requester_id)
    assert caller.full_name == "Zoë 王伟" and caller.username.startswith("zoe-")
    assert User.get(User.full_name == "Zoe").username == "zoe"  # a different person, a different user
    assert (ticket.status, ticket.priority) == ("in_progress", 1)
    other = Ticket.get(Ticket.source_number == "INC0900010")
    assert Category.get_by_id(other.category_id).name in ("Réseau", "reseau")


def test_oversize_cells_are_cut_with_a_warning(system, tmp_path):
    header = BAD_ROWS.read_text(encoding="utf-8").splitlines()[0].split(",")
    row = dict.fromkeys(header, "?")
    row.update(
        number="INC0900011",
        incident_state="New",
        sys_mod_count="0",
        sys_updated_at="1/3/2016 10:00",
        opened_at="1/3/2016 09:00",
        caller_id="C" * 300,
        assignment_group="G" * 300,
        category="K" * 80,
        location="L" * 30_000,
    )
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerow(row)
    report = import_servicenow(system, path)
    assert report.created == 1
    assert sorted(m.split(":")[1].split()[0] for _, m in report.warnings) == [
        "assignment_group",
        "caller_id",
        "category",
    ]
    ticket = Ticket.get(Ticket.source_number == "INC0900011")
    assert ticket.assignment_group == "G" * 100 and len(ticket.description) == 20_000
    assert Category.get_by_id(ticket.category_id).name == "K" * 50
    assert User.get_by_id(ticket.requester_id).full_name == "C" * 100


def test_analytics_of_all_the_history_agree_with_the_source(system):
    """The analytics screen's and `report analytics --period all`' figures, against the CSV."""
    from itsm_tui.core.tickets import analytics

    import_servicenow(system, SAMPLE)
    _, final = source()
    expected = expected_figures(final)
    f = analytics.figures(system, period="all")
    h = f["history"]
    assert f["period"]["from"] == min(when(r["opened_at"]) for r in final.values()).strftime(
        "%Y-%m-%dT00:00:00"
    )
    assert h["opened"]["total"] == expected["tickets"]
    assert h["opened"]["status"] == {s: expected["states"].get(s, 0) for s in analytics.STATUSES}
    assert h["opened"]["priority"] == {
        name: expected["priority"].get(p, 0) for p, name in analytics.PRIORITY_NAMES.items()
    }
    assert h["closed"]["total"] == sum(1 for r in final.values() if r["incident_state"] == "Closed")
    assert h["resolved"]["total"] == expected["timed"]
    met, breached = expected["made_sla"]
    assert h["sla_outcome"] == {"met": met, "breached": breached, "unknown": 0}
    assert h["reopened"] == expected["reopened"]
    ttr = h["time_to_resolve"]
    assert ttr["count"] == expected["timed"]
    assert ttr["median_hours"] == round(expected["median_hours"], 2)
    assert ttr["left_out"] == expected["tickets"] - expected["timed"]  # resolved with no resolve time
    assert f["trend"]["bucket"] == "week"
    assert sum(r["opened"] for r in f["trend"]["rows"]) == expected["tickets"]
    assert f["trend"]["rows"][-1]["backlog"] == 0  # all closed
    # The closed history's filters list the same tickets.
    assert queue.count(system, "sla_outcome:breached") == breached
    assert queue.count(system, "sla_outcome:met status:closed") == met
    assert queue.count(system, "reopened:yes") == expected["reopened"]
    assert queue.count(system, "-reopened:yes") == expected["tickets"] - expected["reopened"]


def test_source_numbers_are_found_as_theirs_and_ours_as_ours(system, tmp_path):
    from itsm_tui.core.tickets import service as tickets

    import_servicenow(system, write_subset(tmp_path / "some.csv", 60))
    theirs = Ticket.get(Ticket.source_number == "INC0000045")
    assert queue.page(system, "source:INC0000045").rows[0]["id"] == theirs.id
    assert queue.count(system, "source:inc0000045") == 1
    first = queue.page(system, "INC0000045", queue.Sort.parse("-number")).rows
    assert first[0]["id"] == theirs.id and first[0]["source_number"] == "INC0000045"
    # Our own number finds ours; the same digits in the source's format do not.
    sources = {t.source_number for t in Ticket.select(Ticket.source_number)}
    other = next(
        t
        for t in Ticket.select().order_by(Ticket.id)
        if f"INC{t.id:07d}" not in sources and t.id != theirs.id
    )
    ours = f"INC{other.id:06d}"
    assert [r["id"] for r in queue.page(system, ours).rows] == [other.id]
    assert queue.page(system, f"INC{other.id:07d}").rows == []  # was read as ours
    assert queue.page(system, "INC0024887").rows == []
    # A ticket looked up by the source's number (export ticket INC0000045) is the source's.
    assert tickets.get(system, "INC0000045").id == theirs.id
    assert tickets.get(system, ours).id == other.id


def test_sla_recompute_makes_up_nothing_for_imported_tickets(system, tmp_path):
    from itsm_tui.core.tickets import sla

    import_servicenow(system, write_subset(tmp_path / "some.csv", 80))
    before = list(Ticket.select().order_by(Ticket.id).dicts())
    assert sla.recompute(system) == 0 and sla.recompute(system, everything=True) == 0
    assert list(Ticket.select().order_by(Ticket.id).dicts()) == before
    assert all(t["response_met"] is None for t in before)
    # A policy change moves our estimate of the due time, never the source's outcome.
    sla.set_policy(system, "medium", 60, 120)
    sla.recompute(system, everything=True)
    for ticket in Ticket.select():
        old = next(t for t in before if t["id"] == ticket.id)
        assert (ticket.response_met, ticket.resolution_met) == (old["response_met"], old["resolution_met"])
        if ticket.resolved_at is not None and ticket.resolution_met is not None:
            assert (ticket.resolved_at <= ticket.resolution_due) is ticket.resolution_met


def test_list_exports_carry_the_source_number(system, tmp_path):
    from itsm_tui.reports import export

    import_servicenow(system, write_subset(tmp_path / "some.csv", 5))
    path = tmp_path / "list.csv"
    export.export_list(
        system,
        export.ListJob(
            "tickets", "csv", str(path), "INC0000047", None, columns=("number", "source_number", "status")
        ),
    )
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    ticket = Ticket.get(Ticket.source_number == "INC0000047")
    assert rows[1][:2] == [f"INC{ticket.id:06d}", "INC0000047"]
