"""Generic CSV import with a column mapping, through the ordinary services, on both engines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from test_cli import itsm

from itsm_tui.core.errors import ItsmError, PermissionDenied, ValidationError
from itsm_tui.core.people import users
from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry, Category, Peripheral, StockItem, System, Team, Ticket, User
from itsm_tui.core.tickets import categories, teams
from itsm_tui.importers.common import ensure_categories, ensure_teams
from itsm_tui.importers.csv_import import import_csv, load_mapping

DATA = Path(__file__).parents[1] / "data"
SYSTEMS, SYSTEMS_MAP = DATA / "import_systems.csv", DATA / "import_systems_map.json"
TICKET_MAP = {
    "source_number": "Ticket Number",
    "title": "Subject",
    "description": "Message",
    "category": "Help Topic",
    "impact": "Impact",
    "urgency": "Urgency",
    "requester": "From",
}


def _systems(system):
    return import_csv(system, "systems", SYSTEMS, load_mapping("systems", SYSTEMS_MAP))


def test_systems_with_a_mapping_file(system):
    report = _systems(system)
    assert (report.rows, report.created, report.unchanged) == (4, 2, 0)
    assert dict(report.skipped) == {
        4: "IP address '10.0.0.300' is not a valid IPv4 or IPv6 address",
        5: "type 'toaster' is not one of: desktop, laptop, server, virtual machine, other",
    }
    ws = System.get(System.hostname == "ws-001")
    assert (ws.asset_tag, ws.type, ws.ip, ws.notes) == (
        "A-0001",
        "desktop",
        "10.0.0.5",
        "first line\nsecond line",
    )
    assert System.get(System.hostname == "srv-01").notes == '=HYPERLINK("http://x")'  # kept as text
    created = AuditEntry.select().where(
        (AuditEntry.entity_type == "system") & (AuditEntry.action == "create")
    )
    assert sorted(e.entity_id for e in created) == sorted(s.id for s in System.select())
    run = AuditEntry.get(AuditEntry.action == "import")
    assert run.actor_id == system.id and "import_systems.csv" in run.summary

    again = _systems(system)
    assert (again.created, again.unchanged, len(again.skipped)) == (0, 2, 2)
    assert System.select().count() == 2


def test_peripherals_link_to_systems_by_hostname(system):
    _systems(system)
    mapping = load_mapping(
        "peripherals", map_columns=["name=Label", "kind=Kind", "asset_tag=Tag", "system=Attached to"]
    )
    report = import_csv(system, "peripherals", DATA / "import_peripherals.csv", mapping)
    assert report.created == 1
    skipped = dict(report.skipped)
    assert skipped[3] == "no system 'ws-999'"
    assert "already used" in skipped[4]  # A-0001 is a system's tag: one sticker, one thing
    printer = Peripheral.get(Peripheral.asset_tag == "P-0001")
    assert printer.system_id == System.get(System.hostname == "ws-001").id


def test_stock_columns_named_like_fields_need_no_mapping(system):
    report = import_csv(system, "stock", DATA / "import_stock.csv")
    assert report.created == 2 and sorted(dict(report.skipped)) == [4, 5]
    assert "quantity must be between" in dict(report.skipped)[4]
    assert "2 decimal places" in dict(report.skipped)[5]
    toner = StockItem.get(StockItem.name == "Toner 305A")
    assert (toner.quantity, Decimal(str(toner.unit_price)), toner.reorder_level) == (3, Decimal("89.99"), 5)
    assert import_csv(system, "stock", DATA / "import_stock.csv").unchanged == 2


def test_tickets_go_through_the_ticket_service(system):
    users.create_user(system, "alice", "requester")
    report = import_csv(system, "tickets", DATA / "import_tickets.csv", TICKET_MAP)
    assert report.created == 2
    skipped = dict(report.skipped)
    assert sorted(skipped) == [5, 6, 7, 8]
    assert skipped[5] == "title is required"
    assert skipped[6].startswith("unknown category 'Email'")
    assert skipped[7].startswith("impact must be")
    assert skipped[8] == "no user named 'nobody-here'"
    printer = Ticket.get(Ticket.source_number == "1001")
    assert (printer.title, printer.description, printer.impact, printer.urgency, printer.priority) == (
        "Printer jams on floor 2",
        "Paper jam\nevery morning",
        1,
        2,
        2,
    )
    assert (printer.status, User.get_by_id(printer.requester_id).username) == ("new", "alice")
    vpn = Ticket.get(Ticket.source_number == "1002")
    assert vpn.title == "[bold]VPN[/] drops" and vpn.requester_id == system.id  # no From: the importer
    history = [
        e.action
        for e in AuditEntry.select().where(
            (AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == printer.id)
        )
    ]
    assert history == ["create", "update"]  # created, then its source number noted
    again = import_csv(system, "tickets", DATA / "import_tickets.csv", TICKET_MAP)
    assert (again.created, again.unchanged) == (0, 2) and Ticket.select().count() == 2


def test_tickets_without_a_source_number_warn_that_a_rerun_creates_them_again(system, tmp_path):
    """Without the other tool's ticket id nothing tells a rerun's rows from new ones: the report
    (the dry run's too) says so before anyone imports the file twice."""
    users.create_user(system, "alice", "requester")
    plain = {field: column for field, column in TICKET_MAP.items() if field != "source_number"}
    for dry_run in (True, False):
        report = import_csv(system, "tickets", DATA / "import_tickets.csv", plain, dry_run=dry_run)
        assert [line for line, message in report.warnings if "again" in message] == [1]
        assert any("source_number" in line for line in report.lines())
    keyed = import_csv(system, "tickets", DATA / "import_tickets.csv", TICKET_MAP)
    assert not any("again" in message for _, message in keyed.warnings)


def test_dry_run_writes_nothing(system):
    counts = [m.select().count() for m in (System, AuditEntry)]
    report = import_csv(system, "systems", SYSTEMS, load_mapping("systems", SYSTEMS_MAP), dry_run=True)
    assert report.created == 2 and report.summary().startswith("would import")
    assert [m.select().count() for m in (System, AuditEntry)] == counts


def test_mapping_mistakes_are_explained(system, people, tmp_path):
    with pytest.raises(ValidationError, match="systems have no field colour"):
        load_mapping("systems", map_columns=["colour=Red"])
    with pytest.raises(ValidationError, match="must look like field=Header"):
        load_mapping("systems", map_columns=["hostname"])
    bad = tmp_path / "map.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        load_mapping("systems", bad)
    bad.write_text(json.dumps(["Name"]), encoding="utf-8")
    with pytest.raises(ValidationError, match="must be an object"):
        load_mapping("systems", bad)
    with pytest.raises(ValidationError, match="has no column 'Hostname'"):
        import_csv(system, "systems", SYSTEMS, {"hostname": "Hostname"})
    with pytest.raises(ValidationError, match="map a column to hostname, asset_tag \\(e.g."):
        import_csv(system, "systems", SYSTEMS)
    with pytest.raises(ItsmError, match="cannot read"):
        load_mapping("systems", tmp_path / "none.json")
    with pytest.raises(PermissionDenied):
        import_csv(people["agent"], "stock", DATA / "import_stock.csv")
    assert System.select().count() == StockItem.select().count() == 0


@pytest.fixture
def url(engine):
    db.database.close()  # the subprocess owns the database now
    return engine


def test_cli_mapping_file_and_flags(url):
    out = itsm(
        url,
        "import",
        "csv",
        "systems",
        str(SYSTEMS),
        "--map",
        str(SYSTEMS_MAP),
        "--map-column",
        "hostname=Name",
        "--dry-run",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("would import import_systems.csv (systems)")
    real = itsm(url, "import", "csv", "systems", str(SYSTEMS), "--map", str(SYSTEMS_MAP))
    assert "2 created" in real.stdout and "line 5: skipped: type 'toaster'" in real.stdout
    wrong = itsm(url, "import", "csv", "systems", str(SYSTEMS), "--map-column", "colour=Red")
    assert wrong.returncode == 1 and "systems have no field colour" in wrong.stderr


def _tickets_file(tmp_path, rows, header=("Ticket Number", "Subject", "Message"), name="t.csv"):
    import csv

    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_source_numbers_match_as_stored_and_without_regard_to_case(system, tmp_path):
    first = _tickets_file(tmp_path, [("INC\x07001", "Printer", "d"), ("inc002", "VPN", "d")])
    mapping = {"source_number": "Ticket Number", "title": "Subject", "description": "Message"}
    assert import_csv(system, "tickets", first, mapping).created == 2
    assert sorted(t.source_number for t in Ticket.select()) == ["INC001", "inc002"]
    again = import_csv(system, "tickets", first, mapping)  # a control character: matched cleaned
    assert (again.created, again.unchanged) == (0, 2)
    other_case = _tickets_file(
        tmp_path,
        [
            ("inc001", "Printer", "d"),
            ("INC002", "VPN", "d"),
            ("INC003", "New", "d"),
            ("inc003", "Same again", "d"),
        ],
        name="u.csv",
    )
    report = import_csv(system, "tickets", other_case, mapping)
    assert (report.created, report.unchanged) == (1, 3)  # the same on SQLite and MariaDB
    assert Ticket.select().count() == 3


def test_a_duplicated_column_name_refuses_the_file(system, tmp_path):
    path = _tickets_file(tmp_path, [("1", "first", "second")], header=("Ticket Number", "Subject", "Subject"))
    with pytest.raises(ItsmError, match="t.csv has two columns named 'Subject': rename one"):
        import_csv(system, "tickets", path, {"title": "Subject"})
    path = _tickets_file(tmp_path, [("1", "first", "second")], header=("Ticket Number", "Title", "TITLE"))
    with pytest.raises(ItsmError, match="two columns named 'Title' and 'TITLE'"):
        import_csv(system, "tickets", path)
    assert Ticket.select().count() == 0


def test_refused_runs_are_in_the_log(system, tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("Title\nCaf\xe9\n".encode("latin-1"))
    for path, mapping in (
        (tmp_path / "empty.csv", None),
        (tmp_path / "missing.csv", None),
        (tmp_path / "latin1.csv", None),
        (SYSTEMS, {"hostname": "Hostname"}),
    ):
        with pytest.raises(ItsmError):
            import_csv(system, "tickets" if path != SYSTEMS else "systems", path, mapping)
    with pytest.raises(ItsmError):  # a dry run leaves nothing in the log
        import_csv(system, "tickets", tmp_path / "empty.csv", dry_run=True)
    refusals = [
        e.summary
        for e in AuditEntry.select().where(AuditEntry.action == "import_failed").order_by(AuditEntry.id)
    ]
    assert len(refusals) == 4 and all(r.startswith("refused ") for r in refusals)
    assert refusals[0].startswith("refused empty.csv (tickets)") and "empty" in refusals[0]
    assert "cannot read" in refusals[1] and "not UTF-8" in refusals[2]
    assert "has no column 'Hostname'" in refusals[3]
    assert Ticket.select().count() == System.select().count() == 0


def test_a_field_over_csv_default_limit_skips_only_its_row(system, tmp_path):
    huge = "x" * 200_000  # over the csv module's default 131,072
    path = _tickets_file(tmp_path, [("1", "Printer", huge), ("2", "VPN", "short"), ("3", huge, "d")])
    mapping = {"source_number": "Ticket Number", "title": "Subject", "description": "Message"}
    report = import_csv(system, "tickets", path, mapping)
    assert report.created == 1 and Ticket.get().title == "VPN"
    assert dict(report.skipped) == {
        2: "description is too long: 200000 characters, at most 20000",
        4: "title is too long: 200000 characters, at most 200",
    }


def test_an_imported_category_or_team_named_in_another_case_is_the_one_there_is(system):
    """SQLite's LOWER() folds ASCII only: 'ÉDITION' in an import made a second category beside
    'Édition' there (MariaDB's collation matched it)."""
    category, team = categories.add(system, "Édition"), teams.add(system, "Réseau")
    before = (Category.select().count(), Team.select().count())
    found = ensure_categories(system, ["ÉDITION", "édition"], "test.csv")
    assert set(found.values()) == {category.id}
    assert set(ensure_teams(system, ["RÉSEAU"], "test.csv").values()) == {team.id}
    assert (Category.select().count(), Team.select().count()) == before
