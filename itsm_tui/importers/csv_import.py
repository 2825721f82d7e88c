"""Generic CSV import of tickets, systems, peripherals or stock items, for teams coming from
spreadsheets, GLPI or osTicket exports.

A mapping says which CSV column holds which of our fields (``{"title": "Subject", ...}``);
columns named like a field map themselves. Every row goes through the ordinary service
(``tickets.create``, ``inventory.create``), so the same validation, permissions and audit entries
apply as in the app; a row the service refuses is skipped with its line number and the reason.

Rows are written 200 to a transaction (each row a savepoint inside it). A rerun does not
duplicate: a system whose hostname, a peripheral whose asset tag or a stock item whose name
already exists is left unchanged, and so is a ticket whose ``source_number`` (when mapped, e.g.
the other tool's ticket id) was imported before: compared as stored (control characters
removed) and without regard to the case of ASCII letters, on both engines alike.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from peewee import fn

from itsm_tui.core.errors import ItsmError, ValidationError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import Peripheral, StockItem, System, Ticket, User
from itsm_tui.core.text import clean
from itsm_tui.core.tickets import service as tickets
from itsm_tui.importers.common import (
    CHUNK,
    MISSING,
    Counts,
    ImportReport,
    Progress,
    field_count_problem,
    read_csv,
    refused,
    run_batches,
)

BATCH_SIZE = 200
FIELDS = {
    "tickets": (
        "title",
        "description",
        "category",
        "impact",
        "urgency",
        "requester",
        "system",
        "peripheral",
        "source_number",
    ),
    "systems": (
        "hostname",
        "asset_tag",
        "type",
        "manufacturer",
        "model_name",
        "serial",
        "os",
        "ip",
        "mac",
        "department",
        "network",
        "assigned_user",
        "status",
        "purchase_date",
        "warranty_end",
        "notes",
    ),
    "peripherals": ("name", "kind", "asset_tag", "serial", "system", "department", "network", "status"),
    "stock": ("name", "description", "quantity", "unit_price", "reorder_level"),
}
REQUIRED = {
    "tickets": ("title",),
    "systems": ("hostname", "asset_tag", "type"),
    "peripherals": ("name", "kind", "asset_tag"),
    "stock": ("name",),
}
ENTITY = {"systems": "system", "peripherals": "peripheral", "stock": "stock"}
SOURCE_NUMBER_MAX = 40
# SQLite's LOWER() folds only ASCII letters (MariaDB's folds more): matching folds just those, so
# a source number matches the same tickets on both engines.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def load_mapping(
    kind: str, map_file: str | Path | None = None, map_columns: list[str] | tuple[str, ...] = ()
) -> dict[str, str]:
    """{field: CSV header} from a JSON file and ``field=Header`` flags (the flags win)."""
    mapping: dict[str, str] = {}
    if map_file:
        path = Path(map_file)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ItsmError(f"cannot read {path}: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{path.name} is not valid JSON: {exc}", "map") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValidationError(f'{path.name} must be an object like {{"title": "Subject"}}', "map")
        mapping.update(loaded)
    for flag in map_columns:
        field, sep, header = flag.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise ValidationError(f"--map-column {flag!r} must look like field=Header", "map")
        mapping[field.strip()] = header.strip()
    _check_fields(kind, mapping)
    return mapping


def _check_fields(kind: str, mapping: dict[str, str]) -> None:
    if kind not in FIELDS:
        raise ValidationError(f"cannot import {kind!r}: choose one of {', '.join(FIELDS)}", "kind")
    unknown = sorted(set(mapping) - set(FIELDS[kind]))
    if unknown:
        raise ValidationError(
            f"{kind} have no field {', '.join(unknown)} (fields: {', '.join(FIELDS[kind])})", "map"
        )


def _columns(kind: str, mapping: dict[str, str], header: list[str], name: str) -> dict[str, str]:
    """{field: header as written in the file}: the mapping, plus columns named like a field."""
    by_lower = {h.lower(): h for h in header}
    columns = {}
    for field in FIELDS[kind]:
        wanted = mapping.get(field)
        if wanted is None and field in by_lower:
            columns[field] = by_lower[field]
        elif wanted is not None:
            if wanted.lower() not in by_lower:
                raise ValidationError(
                    f"{name} has no column {wanted!r} (for {field}); its columns: {', '.join(header)}", "map"
                )
            columns[field] = by_lower[wanted.lower()]
    missing = [f for f in REQUIRED[kind] if f not in columns]
    if missing:
        raise ValidationError(
            f"map a column to {', '.join(missing)} (e.g. --map-column "
            f"{missing[0]}=Header); {name}'s columns: {', '.join(header)}",
            "map",
        )
    return columns


def import_csv(
    actor: User,
    kind: str,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Import (or with ``dry_run`` only check) ``kind`` records from a CSV file. A file that
    cannot be read whole or whose columns do not map is refused before anything is written,
    and the refusal is in the log (dry runs excepted)."""
    require(actor, "import.run")
    mapping = mapping or {}
    _check_fields(kind, mapping)
    report = ImportReport(kind, str(path), dry_run=dry_run)
    try:
        header, rows = read_csv(path)
        columns = _columns(kind, mapping, header, Path(path).name)
    except ItsmError as exc:  # unreadable, not UTF-8, bad CSV, empty, columns not mapped
        refused(actor, report, exc)
        raise
    report.rows = len(rows)
    if kind == "tickets" and "source_number" not in columns:
        report.warn(
            1,
            "no column maps to source_number (the other tool's ticket id): importing this file "
            "again creates its tickets again",
        )
    batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    run_batches(
        actor,
        report,
        batches,
        lambda batch: _import_batch(actor, kind, batch, columns, header, report),
        progress,
    )
    return report


@transactional
def _import_batch(
    actor: User,
    kind: str,
    rows: list[tuple[int, dict]],
    columns: dict[str, str],
    header: list[str],
    report: ImportReport,
) -> Counts:
    done = Counts()
    known = _imported_source_numbers(rows, columns.get("source_number")) if kind == "tickets" else set()
    for line, row in rows:
        problem = field_count_problem(row, header)
        if problem:
            report.skip(line, problem)
            continue
        # Raw cells: the services clean them (and keep the line breaks of multi-line fields).
        data = {f: row[h].strip() for f, h in columns.items() if row[h].strip() not in MISSING}
        key = _source_key(data.get("source_number"))
        try:
            if _exists(kind, data, key, known):
                done.unchanged += 1
            else:
                _create(actor, kind, data)
                done.created += 1
                known.add(key)
        except ItsmError as exc:
            report.skip(line, str(exc))
    return done


def _source_number(value: str | None) -> str | None:
    """The source number as it is stored: cleaned like any text field."""
    return clean(value, "source number", max_len=SOURCE_NUMBER_MAX, required=False) or None


def _source_key(value: str | None) -> str | None:
    """What two source numbers must share to be the same ticket; None if there is none (or it
    is unusable, which the row's import then reports)."""
    try:
        number = _source_number(value)
    except ValidationError:
        return None
    return number.translate(_ASCII_LOWER) if number else None


def _imported_source_numbers(rows: list[tuple[int, dict]], column: str | None) -> set[str]:
    """The keys of a batch's source numbers that tickets already have: one query per CHUNK
    numbers (LOWER() defeats the index, so per row it would scan the table each time)."""
    keys = sorted(
        {
            key
            for _, row in rows
            if column and (key := _source_key((row.get(column) or "").strip())) is not None
        }
    )
    found = set()
    for start in range(0, len(keys), CHUNK):
        query = Ticket.select(Ticket.source_number).where(
            fn.LOWER(Ticket.source_number).in_(keys[start : start + CHUNK])
        )
        found.update(number.translate(_ASCII_LOWER) for (number,) in query.tuples())
    return found


def _exists(kind: str, data: dict, key: str | None, known: set[str]) -> bool:
    """Whether the row was imported before (its unique key is taken); for tickets, whether the
    ``key`` of its source number is among those ``known`` to be imported already."""
    if kind == "tickets":
        return key is not None and key in known
    if kind == "systems":
        return System.select().where(System.hostname == inventory.hostname(data.get("hostname"))).exists()
    if kind == "peripherals":
        return (
            Peripheral.select()
            .where(Peripheral.asset_tag == inventory.asset_tag(data.get("asset_tag")))
            .exists()
        )
    name = clean(data.get("name"), "name", max_len=100)
    return StockItem.select().where(StockItem.name == name).exists()


@transactional
def _create(actor: User, kind: str, data: dict) -> None:
    """One row through the service; a savepoint, so a refused row leaves nothing behind."""
    if kind != "tickets":
        inventory.create(actor, ENTITY[kind], data)
        return
    number = data.pop("source_number", None)
    ticket = tickets.create(
        actor,
        data.get("title"),
        data.get("description") or data.get("title"),
        **{
            k: data[k]
            for k in ("category", "impact", "urgency", "requester", "system", "peripheral")
            if k in data
        },
    )
    number = _source_number(number)
    if number:
        Ticket.update(source_number=number).where(Ticket.id == ticket.id).execute()
        audit.record(
            actor,
            "update",
            "ticket",
            ticket.id,
            f"{ticket.number}: source number {number}",
            {"source_number": [None, number]},
            entity_version=ticket.version,
        )
