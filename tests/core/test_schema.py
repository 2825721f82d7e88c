"""Schema versions, migrations, and the reference DDL in sql/ matching the models."""

from pathlib import Path

import pytest
from peewee import SqliteDatabase

from itsm_tui.core import setup
from itsm_tui.core.errors import SchemaError
from itsm_tui.core.store import db, schema
from itsm_tui.core.store.models import ALL_MODELS, SchemaMeta

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@pytest.mark.parametrize("engine_name", ["sqlite", "mysql"])
def test_reference_ddl_is_what_the_models_create(engine_name):
    kept = (SQL_DIR / f"schema_{engine_name}.sql").read_text()
    assert kept == schema.render_ddl(engine_name), (
        f"sql/schema_{engine_name}.sql is stale: regenerate it with `itsm-tui ddl {engine_name}`"
    )


def _columns(table: str) -> dict[str, bool]:
    return {c.name: c.null for c in db.database.get_columns(table)}


def test_reference_ddl_builds_a_database_the_app_accepts(engine):
    """Apply sql/ to an empty database: same tables, columns and nullability as the models."""
    expected = {m._meta.table_name: _columns(m._meta.table_name) for m in ALL_MODELS}
    engine_name = "mysql" if db.is_mysql() else "sqlite"
    db.database.drop_tables(list(reversed(ALL_MODELS)))
    for statement in (SQL_DIR / f"schema_{engine_name}.sql").read_text().split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if body:
            db.database.execute_sql(body)
    schema.check()  # version recorded by the DDL file
    actual = {m._meta.table_name: _columns(m._meta.table_name) for m in ALL_MODELS}
    assert actual == expected
    setup.initialise()  # the built-in rows go on top of a DDL-made schema


def test_every_table_has_a_primary_key(engine):
    for model in ALL_MODELS:
        assert model._meta.primary_key is not None, model.__name__
        assert db.database.get_primary_keys(model._meta.table_name), model.__name__


def test_init_is_idempotent(engine):
    assert setup.initialise() == (schema.SCHEMA_VERSION, schema.SCHEMA_VERSION)
    schema.check()


def _set_version(version: int) -> None:
    SchemaMeta.update(value=str(version)).where(SchemaMeta.key == schema.VERSION_KEY).execute()


def test_older_database_is_refused_with_upgrade_hint(engine):
    _set_version(schema.SCHEMA_VERSION - 1)
    with pytest.raises(SchemaError, match="run itsm-tui init to upgrade"):
        schema.check()


def test_newer_database_is_refused_clearly(engine):
    _set_version(schema.SCHEMA_VERSION + 5)
    with pytest.raises(SchemaError, match="newer than this itsm-tui"):
        schema.check()
    with pytest.raises(SchemaError, match="newer"):
        schema.init()


def test_uninitialised_database_is_refused(tmp_path):
    db.bind(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaError, match="not initialised: run itsm-tui init"):
            schema.check()
    finally:
        db.database.close()


def test_migrations_run_in_order_and_record_each_version(engine):
    """Upgrade a current database with two more migrations, as a later release would."""
    base = schema.SCHEMA_VERSION
    ran = []

    def add_column():
        ran.append(base + 1)
        db.database.execute_sql("ALTER TABLE category ADD COLUMN colour VARCHAR(20)")

    def backfill():
        ran.append(base + 2)
        db.database.execute_sql("UPDATE category SET colour = 'grey'")

    steps = [*schema.MIGRATIONS, (base + 1, add_column), (base + 2, backfill)]
    try:
        before, after = schema.init(latest=base + 2, migrations=steps)
        assert (before, after, ran) == (base, base + 2, [base + 1, base + 2])
        assert schema.current_version() == base + 2
        colours = {row[0] for row in db.database.execute_sql("SELECT colour FROM category")}
        assert colours == {"grey"}
        assert schema.init(latest=base + 2, migrations=steps) == (base + 2, base + 2)
        assert ran == [base + 1, base + 2]  # nothing ran twice
    finally:
        if "colour" in _columns("category"):  # MariaDB's schema is shared by the session
            db.database.execute_sql("ALTER TABLE category DROP COLUMN colour")


def test_sqlite_connection_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    database = db.bind(url)
    try:
        assert isinstance(database, SqliteDatabase)
        pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 10_000
        assert database._lock_type == "IMMEDIATE"
    finally:
        database.close()


def test_mysql_connection_is_strict_utf8mb4_utc(engine):
    if not db.is_mysql():
        pytest.skip("MySQL only")
    mode, charset, zone = db.database.execute_sql(
        "SELECT @@SESSION.sql_mode, @@SESSION.character_set_connection, @@SESSION.time_zone"
    ).fetchone()
    assert "STRICT_ALL_TABLES" in mode
    assert charset == "utf8mb4"
    assert zone == "+00:00"
    table_charset = db.database.execute_sql(
        "SELECT CCSA.character_set_name FROM information_schema.TABLES T "
        "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA "
        "ON CCSA.collation_name = T.table_collation "
        "WHERE T.table_schema = DATABASE() AND T.table_name = 'ticket'"
    ).fetchone()[0]
    assert table_charset == "utf8mb4"


def test_times_read_back_as_written(engine, people):
    """Stored times come back to the second and microsecond on both engines (MySQL's are read
    by ``datetime.fromisoformat``, not PyMySQL's own parser), and a ticket's too."""
    from datetime import datetime

    from itsm_tui.core.store.models import Ticket
    from itsm_tui.core.tickets import service as tickets

    if db.is_mysql():
        row = db.database.execute_sql(
            "SELECT CAST('2026-12-06 10:11:12.000042' AS DATETIME(6)), "
            "CAST('2026-12-06 10:11:12' AS DATETIME), TIMESTAMP('2026-02-28 23:59:59')"
        ).fetchone()
        assert row == (
            datetime(2026, 12, 6, 10, 11, 12, 42),
            datetime(2026, 12, 6, 10, 11, 12),
            datetime(2026, 2, 28, 23, 59, 59),
        )
    made = tickets.create(people["agent"], "Clock check", "text")
    when = datetime(2026, 12, 6, 10, 11, 12)
    Ticket.update(updated_at=when).where(Ticket.id == made.id).execute()
    assert Ticket.get_by_id(made.id).updated_at == when


def test_describe_url_never_shows_the_password():
    text = db.describe_url("mysql://helpdesk:s3cret@db.example:3307/itsm")
    assert "s3cret" not in text and "itsm" in text and "db.example:3307" in text


def test_unsupported_url_is_a_clear_error():
    from itsm_tui.core.errors import ItsmError

    with pytest.raises(ItsmError, match="unsupported database URL"):
        db.make_database("postgres://x/y")


def _apply_ddl(path: Path) -> None:
    for statement in path.read_text().split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if body:
            db.database.execute_sql(body)


def _indexes(table: str) -> dict:
    return {i.name: (tuple(i.columns), i.unique) for i in db.database.get_indexes(table)}


def test_v2_database_upgrades_to_the_latest_keeping_its_tickets(engine):
    """A database made by the v2 release's DDL (kept in tests/data) upgrades in place."""
    from itsm_tui.core.people import users
    from itsm_tui.core.store.models import Setting, SlaPolicy, Ticket
    from itsm_tui.core.tickets import service as tickets

    engine_name = "mysql" if db.is_mysql() else "sqlite"
    db.database.drop_tables(list(reversed(ALL_MODELS)))
    _apply_ddl(Path(__file__).parents[1] / "data" / f"schema_v2_{engine_name}.sql")
    assert schema.current_version() == 2 and "response_met" not in _columns("ticket")
    db.database.execute_sql("INSERT INTO category (name, is_active) VALUES ('Hardware', 1)")

    assert setup.initialise() == (2, schema.SCHEMA_VERSION)
    columns = _columns("ticket")
    assert {"response_risk_at", "resolution_met", "opened_by_id", "source_mod_count"} <= set(columns)
    assert all(columns[c] for c in ("response_risk_at", "resolution_met", "opened_by_id"))  # nullable
    assert "ticket_status_resolution_due" in {i.name for i in db.database.get_indexes("ticket")}
    made = tickets.create(users.system_actor(), "Printer jams", "Tray 2 jams", category="Hardware")
    kept = Ticket.get_by_id(made.id)
    assert (kept.title, kept.resolution_met, kept.opened_by_id) == ("Printer jams", None, None)
    assert SlaPolicy.select().count() >= 0 and Setting.select().count() >= 0  # the tables exist
    # The upgraded database has the same columns and indexes as one created at the latest version.
    tables = [m._meta.table_name for m in ALL_MODELS]
    upgraded = {t: (_columns(t), _indexes(t)) for t in tables}
    db.database.drop_tables(list(reversed(ALL_MODELS)))
    setup.initialise()
    assert upgraded == {t: (_columns(t), _indexes(t)) for t in tables}


def test_the_upgrade_gives_existing_names_their_natural_sort_keys(engine):
    """Rows written before v8 get their keys, so they list in natural order ("ws-9" before
    "ws-10"), and names written afterwards keep theirs."""
    from itsm_tui.core.inventory import lists as assets
    from itsm_tui.core.inventory import service as inventory
    from itsm_tui.core.people import users

    _load_v2("mysql" if db.is_mysql() else "sqlite")
    stamp = "'2026-01-01 00:00:00'"
    for n in (10, 9, 100):
        db.database.execute_sql(
            f"INSERT INTO department (name, created_at, updated_at, version) "
            f"VALUES ('Dept {n}', {stamp}, {stamp}, 1)"
        )
        db.database.execute_sql(
            f"INSERT INTO system (hostname, asset_tag, type, status, created_at, "
            f"updated_at, version) VALUES ('ws-{n}', 'AT-{n}', 'laptop', 'in use', "
            f"{stamp}, {stamp}, 1)"
        )
    setup.initialise()
    actor = users.system_actor()
    inventory.create(actor, "system", {"hostname": "ws-11", "asset_tag": "AT-11", "type": "laptop"})

    listed = assets.page(actor, "system", limit=10).rows
    assert [r["hostname"] for r in listed] == ["ws-9", "ws-10", "ws-11", "ws-100"]
    tags = assets.page(actor, "system", sort=assets.AssetSort("asset_tag", descending=True), limit=10).rows
    assert [r["asset_tag"] for r in tags] == ["AT-100", "AT-11", "AT-10", "AT-9"]
    departments = [r["name"] for r in assets.page(actor, "department", limit=10).rows]
    assert departments == ["Dept 9", "Dept 10", "Dept 100"]
    assert ("system_hostname_key_id", (("hostname_key", "id"), False)) in _indexes("system").items()


def _schema_shape() -> dict:
    tables = [m._meta.table_name for m in ALL_MODELS]
    return {
        t: (
            _columns(t),
            _indexes(t),
            sorted((k.column, k.dest_table) for k in db.database.get_foreign_keys(t)),
        )
        for t in tables
    }


def _ddl_statements_of_an_upgrade(engine_name: str) -> int:
    """How many DDL statements the upgrade from v2 runs (the places it can be cut short)."""
    _load_v2(engine_name)
    count = 0
    real = db.database.obj.execute_sql

    def counting(sql, *args, **kwargs):
        nonlocal count
        count += sql.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))
        return real(sql, *args, **kwargs)

    db.database.obj.execute_sql = counting
    try:
        setup.initialise()
    finally:
        del db.database.obj.execute_sql
    return count


def _load_v2(engine_name: str) -> None:
    db.database.drop_tables(list(reversed(ALL_MODELS)))
    _apply_ddl(Path(__file__).parents[1] / "data" / f"schema_v2_{engine_name}.sql")
    db.database.execute_sql("INSERT INTO category (name, is_active) VALUES ('Hardware', 1)")


class Killed(BaseException):
    """The process dying mid-statement: nothing after it runs (not even an except clause)."""


def test_an_upgrade_cut_short_anywhere_is_completed_by_the_next_init(engine):
    """An init killed after any DDL statement (MySQL commits each at once) leaves a database
    that the next init completes, identical to one created at the latest version."""
    engine_name = "mysql" if db.is_mysql() else "sqlite"
    db.database.drop_tables(list(reversed(ALL_MODELS)))
    setup.initialise()
    fresh = _schema_shape()
    try:
        _cut_short_everywhere(engine_name, fresh)
    finally:  # whatever happened, leave the next test a whole schema
        db.database.drop_tables(list(reversed(ALL_MODELS)), safe=True)
        setup.initialise()


def _cut_short_everywhere(engine_name: str, fresh: dict) -> None:
    total = _ddl_statements_of_an_upgrade(engine_name)
    assert total > 10
    for cut in range(1, total, 3):
        _load_v2(engine_name)
        done = 0
        real = db.database.obj.execute_sql

        def dying(sql, *args, **kwargs):
            nonlocal done
            if sql.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
                if done == cut:
                    raise Killed(sql)
                done += 1
            return real(sql, *args, **kwargs)

        db.database.obj.execute_sql = dying
        try:
            with pytest.raises(Killed):
                setup.initialise()
        finally:
            del db.database.obj.execute_sql
        if db.database.in_transaction():
            db.database.rollback()
        db.database.close()
        db.database.connect()
        assert schema.current_version() < schema.SCHEMA_VERSION
        assert setup.initialise()[1] == schema.SCHEMA_VERSION, f"cut after {cut} statements"
        assert _schema_shape() == fresh, f"cut after {cut} statements"
        assert ("Hardware",) in db.database.execute_sql("SELECT name FROM category").fetchall()


NEW_IN_V15 = ("ticket_updated_at_id_status", "ticket_category_id_priority_updated_at_id_status")


def test_the_v15_upgrade_gives_its_new_indexes_statistics(engine, people):
    """An analysed database learns about the indexes v15 adds: SQLite took an index without
    statistics for a few rows a key and drove a page's join through it (2.3 s at 1M tickets)."""
    from itsm_tui.core.store.models import Ticket
    from itsm_tui.core.tickets import queue
    from itsm_tui.core.tickets import service as tickets

    made = [tickets.create(people["agent"], f"Ticket {n}", "text").id for n in range(3)]
    on_table = " ON ticket" if db.is_mysql() else ""
    for name in NEW_IN_V15:  # back to v14's indexes
        db.database.execute_sql(f"DROP INDEX {name}{on_table}")
    db.database.execute_sql("CREATE INDEX ticket_updated_at ON ticket (updated_at)")
    db.database.execute_sql(
        "CREATE INDEX ticket_category_id_priority_updated_at ON ticket (category_id, priority, updated_at)"
    )
    db.database.execute_sql("ANALYZE TABLE ticket" if db.is_mysql() else "ANALYZE")
    schema._set_version(14)
    assert setup.initialise() == (14, schema.SCHEMA_VERSION)
    if db.is_mysql():
        rows = db.database.execute_sql("SHOW INDEX FROM ticket").fetchall()
        analysed = {row[2] for row in rows if row[6] is not None}  # Key_name, Cardinality
    else:
        analysed = {row[0] for row in db.database.execute_sql("SELECT idx FROM sqlite_stat1")}
    assert set(NEW_IN_V15) <= analysed
    assert {"ticket_updated_at", "ticket_category_id_priority_updated_at"} & _index_names() == set()
    assert [row["id"] for row in queue.page(people["agent"], "status:open").rows] == sorted(
        made, reverse=True
    )
    assert Ticket.select().count() == 3


def _index_names() -> set[str]:
    return {index.name for index in db.database.get_indexes("ticket")}
