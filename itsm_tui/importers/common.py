"""What every importer shares: the report, reading cells and times, audit rows written in bulk,
and the users and categories an import creates as it needs them."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import peewee
from peewee import fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.people.users import USERNAME_RE
from itsm_tui.core.store import audit, natural, records
from itsm_tui.core.store.db import database, is_mysql, transactional
from itsm_tui.core.store.models import AuditEntry, Category, Team, User
from itsm_tui.core.text import strip_controls

MISSING = ("", "?")  # how exports write an empty cell
_MISSING = frozenset(MISSING)  # the same, for the fastest membership test
TIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
YEARS = (1970, 2199)  # a time outside these years is a typo or a placeholder (9999-12-31)
CHUNK = 400  # rows per multi-row INSERT / names per IN (...), well inside both engines' limits

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did, and every row it skipped or doubted, by line number."""

    kind: str
    file: str
    dry_run: bool = False
    rows: int = 0  # data rows read
    events: int = 0  # source events written as history (ServiceNow)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append((line, reason))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append((line, message))

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        events = f", {self.events} events" if self.kind == "servicenow" else ""
        return (
            f"{verb} {Path(self.file).name} ({self.kind}): {self.rows} rows read{events}; "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged; "
            f"{len(self.skipped)} rows skipped, {len(self.warnings)} warnings"
        )

    def lines(self) -> list[str]:
        """The summary, then each skipped row and warning in line order."""
        out = [self.summary()]
        out += [f"line {line}: skipped: {reason}" for line, reason in sorted(self.skipped)]
        out += [f"line {line}: warning: {message}" for line, message in sorted(self.warnings)]
        return out

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "events": self.events,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "warnings": len(self.warnings),
        }


@dataclass
class Counts:
    """What one batch did; added to the report only once its transaction committed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


def run_batches(
    actor: User,
    report: ImportReport,
    batches: Iterable[list],
    write: Callable[[list], Counts],
    progress: Progress | None = None,
    total: int | None = None,
) -> None:
    """Write each batch with ``write`` (a ``@transactional`` function: one transaction per
    batch), then record the run in the log. ``batches`` may be a generator (a streamed file:
    give ``total``, the number of items). A dry run does all the work in one transaction and
    rolls it back; a failure still records the run, with the counts of the committed batches.
    Every entry it writes says it came through the import channel."""
    with audit.acting("import"), _bulk_cache():
        _run_batches(actor, report, batches, write, progress, total)


IMPORT_CACHE_KIB = 64 * 1024


@contextmanager
def _bulk_cache() -> Iterator[None]:
    """On SQLite, a page cache of IMPORT_CACHE_KIB for the import's own connection while it
    runs, so the pages of a dozen ticket indexes stay in memory between batches (a few percent
    at 145k events), then the size it had. MariaDB's buffer pool is the server's."""
    if is_mysql():
        yield
        return
    (before,) = database.execute_sql("PRAGMA cache_size").fetchone()
    database.execute_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(Exception):
            database.execute_sql(f"PRAGMA cache_size = {int(before)}")


def _run_batches(
    actor: User,
    report: ImportReport,
    batches: Iterable[list],
    write: Callable[[list], Counts],
    progress: Progress | None,
    total: int | None,
) -> None:
    if total is None:
        batches = list(batches)
        total = sum(len(b) for b in batches)
    done = 0
    try:
        with database.atomic() if report.dry_run else nullcontext():
            for batch in batches:
                counts = write(batch)
                for name in ("created", "updated", "unchanged", "events"):
                    setattr(report, name, getattr(report, name) + getattr(counts, name))
                done += len(batch)
                if progress:
                    progress(done, total)
            if report.dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except BaseException:  # an error, or ctrl+c: the committed batches stay, and say so
        if not report.dry_run:
            with suppress(Exception):  # e.g. the database is gone: the first error is the news
                _record_run(actor, report, "import_failed")
        raise
    if not report.dry_run:
        _record_run(actor, report, "import")


def refused(actor: User, report: ImportReport, problem: ItsmError) -> None:
    """Record a run refused before anything was written (unreadable file, not UTF-8, bad CSV,
    empty, wrong columns): every run is in the log, these too (dry runs excepted)."""
    if not report.dry_run:
        with suppress(Exception), audit.acting("import"):
            _record_refused(actor, report, str(problem))


@transactional
def _record_refused(actor: User, report: ImportReport, problem: str) -> None:
    audit.record(
        actor,
        "import_failed",
        "import",
        None,
        f"refused {Path(report.file).name} ({report.kind}): {problem}"[:500],
        {"file": [None, report.file], "problem": [None, problem[:500]]},
    )


@transactional
def _record_run(actor: User, report: ImportReport, action: str) -> None:
    """The run itself in the log: who imported which file, and the counts."""
    summary = report.summary() if action == "import" else f"failed: {report.summary()}"
    audit.record(
        actor,
        action,
        "import",
        None,
        summary,
        {"file": [None, report.file], **{k: [None, v] for k, v in report.counts().items()}},
    )


FIELD_LIMIT = 64 * 1024 * 1024  # csv's default, 128 KiB, refused a whole file for one long cell


def _refuse_duplicate_columns(header: list[str], name: str) -> None:
    """Two columns of one name (in any case): which one is meant cannot be known."""
    seen: dict[str, str] = {}
    for column in header:
        first = seen.get(column.casefold())
        if column and first is not None:
            named = repr(column) if first == column else f"{first!r} and {column!r}"
            raise ItsmError(f"{name} has two columns named {named}: rename one and try again")
        seen[column.casefold()] = column


class CsvFile:
    """A CSV file read as a stream of rows, any number of times (an import reads it twice:
    first to check it whole and learn who is who, then to write it batch by batch).

    Problems are :class:`ItsmError` with the line they are on: a byte that is not UTF-8 (with
    its offset in the file), a malformed record (at the line where the record, e.g. an
    unterminated quoted field, started), an empty file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        rows = self._records()
        try:
            first = next(rows, None)
        finally:
            rows.close()
        if not first or not first[1]:
            raise ItsmError(f"{self.path.name} is empty: expected a header row")
        self.header = [h.strip() for h in first[1]]
        _refuse_duplicate_columns(self.header, self.path.name)

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(line where the record starts, cells) for every record, the header included. Read as
        text by the csv module (fast); a decoding error is then located by :meth:`_bad_byte`."""
        try:
            handle = self.path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise ItsmError(f"cannot read {self.path}: {exc.strerror}") from None
        # A cell too long for its field is that row's problem, not the whole file's.
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        with handle:
            reader = csv.reader(handle, strict=True)
            start = 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise self._bad_byte() from None
                except csv.Error as exc:
                    more = (
                        f"; the record runs on to line {reader.line_num}: is a quote not closed?"
                        if reader.line_num > start
                        else ""
                    )
                    raise ItsmError(f"{self.path.name} line {start}: not valid CSV ({exc}){more}") from None
                yield start, cells
                start = reader.line_num + 1

    def _bad_byte(self) -> ItsmError:
        """The first byte that is not UTF-8, by its line and its offset in the file (the text
        decoder only knows its offset in the chunk it was decoding)."""
        offset = 0
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return ItsmError(
                        f"{self.path.name} line {number} is not UTF-8 text (byte "
                        f"{offset + exc.start} of the file); save it as UTF-8 and try again"
                    )
                offset += len(raw)
        return ItsmError(f"{self.path.name} is not UTF-8 text; save it as UTF-8 and try again")

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line where the record starts, cells) for each data row, as read (blank lines too)."""
        records = self._records()
        next(records)
        yield from records

    def rows(self) -> Iterator[tuple[int, dict]]:
        """(line where the record starts, {header: cell}) for each data row. A row with more or
        fewer fields than the header holds the key ``None`` (its field count), for the caller
        to skip with :func:`field_count_problem`."""
        header = self.header
        records = self._records()
        next(records)
        for line, cells in records:
            if cells:
                row = dict(zip(header, cells))
                if len(cells) != len(header):
                    row[None] = len(cells)
                yield line, row


def read_csv(path: str | Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header, and each data row as (line number where the record starts, {header: cell})
    (see :class:`CsvFile`)."""
    source = CsvFile(path)
    return source.header, list(source.rows())


def field_count_problem(row: dict, header: list[str]) -> str | None:
    if None in row:
        return f"has {row[None]} fields, the header has {len(header)}"
    return None


def cell(row: dict, name: str) -> str | None:
    """The cell as clean single-line text, or None when it is missing, empty or ``?``."""
    value = row.get(name)
    return None if value is None else clean_cell(value)


def clean_cell(value: str) -> str | None:
    """``value`` as clean single-line text, or None when it is empty or ``?``."""
    cleaned = _clean_cache.get(value)  # exports repeat the same few values over and over
    if cleaned is None:
        cleaned = strip_controls(value).strip()
        if len(_clean_cache) < 100_000:
            _clean_cache[value] = cleaned
    return None if cleaned in _MISSING else cleaned


def clean_cells(cells: list[str]) -> list[str | None]:
    """Each cell as :func:`clean_cell` reads it. A bulk import's fast path: a record with
    nothing :func:`strip_controls` would remove (``isprintable`` is false for every control and
    bidi character) is only stripped, with one check for the whole record."""
    if "".join(cells).isprintable():
        return [None if (value := c.strip()) in _MISSING else value for c in cells]
    return list(map(clean_cell, cells))


_clean_cache: dict[str, str] = {}
_time_cache: dict[str, datetime] = {}


class OutOfRange(ValueError):
    """A readable time no desk's history holds (year 0001, 9999-12-31)."""


def parse_time(text: str) -> datetime:
    """``29/2/2016 01:16`` (day first) or ISO 8601; naive UTC whole seconds. ValueError if neither,
    :class:`OutOfRange` for a year outside ``YEARS``."""
    cached = _time_cache.get(text)
    if cached is not None:
        return cached
    value = None
    for fmt in TIME_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
            break
        except ValueError:
            pass
    if value is None:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is not a time (use d/m/Y H:M or ISO 8601)") from None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    value = value.replace(microsecond=0)
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise OutOfRange(f"{text!r} is out of range (years {YEARS[0]} to {YEARS[1]})")
    if len(_time_cache) < 100_000:
        _time_cache[text] = value
    return value


# ---------------------------------------------------------------- audit rows in bulk

AUDIT_COLUMNS = (
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "entity_version",
    "summary",
    "changes",
    "channel",
    "real_actor",
)


def audit_row(
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str,
    changes: dict | str | None,
    entity_version: int | None = None,
    at: datetime | None = None,
) -> tuple:
    """One audit entry as ``audit.record`` writes it (``AUDIT_COLUMNS``, with the channel and
    real actor in force), for :func:`insert_audit`. ``changes`` may be given as JSON already."""
    if changes and not isinstance(changes, str):
        changes = json.dumps(changes, ensure_ascii=False, sort_keys=True)
    acting = audit.current()
    return (
        at or clock.now(),
        actor_id,
        action,
        entity_type,
        entity_id,
        entity_version,
        summary[:500],
        changes or None,
        acting.channel,
        acting.real_actor_id,
    )


def insert_audit(rows: list[tuple]) -> None:
    insert_rows(AuditEntry, AUDIT_COLUMNS, rows)


def _insert_sql(model, columns) -> str:
    quote = database.quote
    names = ", ".join(f"{quote[0]}{c}{quote[1]}" for c in columns)
    table = f"{quote[0]}{model._meta.table_name}{quote[1]}"
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join([database.param] * len(columns))})"


# Values of these types go to the driver as they are for these fields: peewee's conversion
# would return them unchanged (and costs a third of a bulk insert's Python time).
_NATIVE = {
    peewee.CharField: (str,),
    peewee.TextField: (str,),
    peewee.IntegerField: (int,),
    peewee.AutoField: (int,),
    peewee.BooleanField: (bool,),
    peewee.DateTimeField: (datetime,),
    peewee.ForeignKeyField: (int,),
}


def _native(field: peewee.Field) -> tuple[type, ...]:
    """The types ``field`` passes to the driver as they are (see ``_NATIVE``), for its own
    class or the nearest one above it, unless a class between them converts differently."""
    for kind in type(field).__mro__:
        if kind in _NATIVE:
            return _NATIVE[kind]
        if "db_value" in vars(kind) or "adapt" in vars(kind):
            return ()
    return ()


def insert_rows(model, keys: list[str] | tuple[str, ...], rows: list[tuple]) -> None:
    """A parameterised INSERT of many rows (tuples of the fields ``keys``; the model's other
    fields get their defaults, as peewee's insert gives them) through the driver's
    ``executemany``: peewee's query builder costs about 0.3 ms of Python per row, which is most
    of a bulk import's time. Values are converted by the model's fields, as peewee would, in
    the columns that hold a value of a type the driver is not given as it is (one check of a
    column's types, not one per value)."""
    if not rows:
        return
    fields = [model._meta.fields[k] for k in keys]
    columns = list(zip(*rows))
    converted = False
    for other in model._meta.sorted_fields:
        if other.name not in keys and other.default is not None:
            fields.append(other)
            default = other.default
            columns.append([default() for _ in rows] if callable(default) else [default] * len(rows))
            converted = True
    for index, column in enumerate(fields):
        kinds = {*_native(column), type(None)}
        if not set(map(type, columns[index])) <= kinds:
            columns[index] = [v if type(v) in kinds else column.db_value(v) for v in columns[index]]
            converted = True
    database.cursor().executemany(
        _insert_sql(model, [f.column_name for f in fields]), list(zip(*columns)) if converted else rows
    )


def select_in(model, key: str, values: list, columns: tuple[str, ...] = ()) -> Iterator:
    """The rows of ``model`` whose field ``key`` is one of ``values``: model instances, or
    tuples of the fields ``columns`` as the driver returns them. Plain parameterised SQL, CHUNK
    values a query: peewee builds an IN list a node per value, slower than the query runs."""
    quote = database.quote
    fields = model._meta.fields
    names = ", ".join(f"{quote[0]}{fields[c].column_name}{quote[1]}" for c in columns) or "*"
    source = f"{quote[0]}{model._meta.table_name}{quote[1]}"
    where = f"{quote[0]}{fields[key].column_name}{quote[1]}"
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        sql = f"SELECT {names} FROM {source} WHERE {where} IN ({', '.join([database.param] * len(chunk))})"
        yield from database.execute_sql(sql, chunk).fetchall() if columns else model.raw(sql, *chunk)


# ---------------------------------------------------------------- users and categories


@lru_cache(maxsize=100_000)  # an import asks for the same people in every batch
def username_for(name: str) -> str:
    """A stable username for a person named in an export: ``Caller 2403`` -> ``caller-2403``,
    ``Zoë Brown`` -> ``zoe-brown``. A name that does not fold into ASCII whole (``王伟``) or is
    too long gets a short hash of itself appended, so different people never share a user."""
    decomposed = unicodedata.normalize("NFKD", name)
    folded = decomposed.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    lost = any(not ch.isascii() and not unicodedata.combining(ch) for ch in decomposed)
    if not lost and len(slug) <= 64 and USERNAME_RE.match(slug):
        return slug
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{slug[:50].strip('-') or 'imported'}-{digest}"


def find_users(names) -> dict[str, int]:
    """{name: user id} for the names whose username already exists (names that differ only in
    case or punctuation, like ``Caller 1`` and ``caller-1``, are one user)."""
    by_username: dict[str, list[str]] = {}
    for name in names:
        by_username.setdefault(username_for(name), []).append(name)
    found: dict[str, int] = {}
    for user_id, username in select_in(User, "username", sorted(by_username), ("id", "username")):
        found.update(dict.fromkeys(by_username[username], user_id))
    return found


def ensure_users(actor: User, roles: dict[str, str], source: str) -> dict[str, int]:
    """{name: user id} for every name in ``roles`` ({name: role}); people not yet known are
    created disabled and without a password (they exist for the history, not to log in)."""
    found = find_users(roles)
    missing = {username_for(n): n for n in roles if n not in found}
    if missing:
        now = clock.now()
        rows = [
            natural.keyed(
                User,
                {
                    "username": username,
                    "full_name": name[:100],
                    "role": roles[name],
                    "is_active": False,
                    "password_hash": None,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for username, name in missing.items()
        ]
        keys = list(rows[0])
        insert_rows(User, keys, list(map(itemgetter(*keys), rows)))
        found.update(find_users([n for n in roles if n not in found]))
        insert_audit(
            [
                audit_row(
                    actor.id,
                    "create",
                    "user",
                    found[name],
                    f"created user {row['username']} (imported from {source}; disabled, no password)",
                    audit.diff({}, {k: row[k] for k in ("username", "full_name", "role", "is_active")}),
                    entity_version=1,
                    at=now,
                )
                for name, row in zip(missing.values(), rows)
            ]
        )
    return found


def ensure_categories(actor: User, names, source: str) -> dict[str, int]:
    """{name: category id}, matching existing categories without regard to case and creating
    the others (with their audit entries)."""
    return _ensure_named(actor, Category, "category", names, source, {})


def ensure_teams(actor: User, names, source: str) -> dict[str, int]:
    """{name: team id}, as :func:`ensure_categories` does for categories (issue 21: an imported
    assignment group becomes a team)."""
    now = clock.now()
    return _ensure_named(actor, Team, "team", names, source, {"created_at": now, "updated_at": now})


def _ensure_named(actor: User, model, kind: str, names, source: str, extra: dict) -> dict[str, int]:
    by_key: dict[str, int] = {}
    keys = sorted({n.lower() for n in names})
    for start in range(0, len(keys), CHUNK):
        query = model.select(model.id, model.name).where(
            fn.LOWER(model.name).in_(keys[start : start + CHUNK])
        )
        for row_id, name in query.tuples():
            by_key[name.lower()] = row_id
    for name in names:
        if name.lower() in by_key:
            continue
        # The engine's own comparison (MySQL's collation also takes 'Cafe' for 'Café'); SQLite's
        # LOWER() above folds ASCII only ('ÉDITION' is 'Édition' here too).
        same = model.get_or_none(records.same_name(model.name, name))
        if same is not None:
            by_key[name.lower()] = same.id
        else:
            row = model.create(name=name, **extra)
            insert_audit(
                [
                    audit_row(
                        actor.id,
                        "create",
                        kind,
                        row.id,
                        f"created {kind} {name} (imported from {source})",
                        {"name": [None, name]},
                    )
                ]
            )
            by_key[name.lower()] = row.id
    return {name: by_key[name.lower()] for name in names}
