"""Schema versions: create, upgrade, check, and render the reference DDL in ``sql/``.

The version lives in ``schema_meta``. A migration is a function run once to go from version
N-1 to N; ``MIGRATIONS`` lists them in order. A new database is created from the models at
``SCHEMA_VERSION`` directly; an older one runs the migrations it has not had yet.

Versions: 1, the first release; 2, saved ticket views and user preferences; 3, the SLA engine
(policies, calendar settings, risk times, pauses, frozen outcomes, alerts), automatic assignment,
e-mail, and the fields that imported tickets carry; 4, indexes: covering ones for the figures
over tickets resolved in a period (in place of the v3 index on ``resolved_at``), the SLA
alerts' look-back, and the log's type-and-action filters; 5, the trust boundary: each log
entry's channel and real actor (CLI impersonation), the audit log append-only on SQLite
(triggers; on MySQL by the runtime account's grants, see ``grant_statements``), and failed
logins counted per source (``login_throttle``); 6, request keys (``request_key``): a retried
save is written once; 7, an index led by ``closed_at`` for the history and trend figures; 8, natural
sort keys (``natural.py``) beside the names that lists sort by, with their (key, id) indexes;
9, the HTTP API: API tokens, monitoring alerts' tickets, webhook subscriptions and deliveries, and
the token named on each log entry; 10, the e-mail channel: Message-IDs received and sent
(``mail_message``), a ticket's Cc addresses (``ticket_cc``), sign-up codes (``signup_code``), the
outgoing mail's thread headers; 11, links between tickets (merges too) and tags on tickets; 12,
teams and their members, each ticket's team, and macros; 13, the full-text indexes of ticket text
and comments (``fulltext.py``) and the queue's filter indexes (last: they index every column the
earlier versions add); 14, the full-text indexes of the inventory's and the activity log's free
text (``fulltext.install_text``); 15, covering indexes for the queue's walks; 16 and 17, MariaDB's
indexes of word pairs and of the inventory's character pairs; 18, SQLite's trigram indexes end each
value with a mark (terms of one or two characters); 19, MySQL's long text columns as MEDIUMTEXT;
20, MariaDB's index of the character pairs of tickets and comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from peewee import Case, ForeignKeyField, MySQLDatabase, SqliteDatabase

from itsm_tui.core.errors import SchemaError
from itsm_tui.core.store import fulltext, natural
from itsm_tui.core.store.db import MYSQL_TABLE_SETTINGS, database
from itsm_tui.core.store.models import (
    ALL_MODELS,
    AlertTicket,
    ApiToken,
    AuditEntry,
    Category,
    CategoryAgent,
    Department,
    EmailMessage,
    LoginThrottle,
    LongTextField,
    Macro,
    MailMessage,
    Network,
    Peripheral,
    RequestKey,
    SavedView,
    SchemaMeta,
    Setting,
    SignupCode,
    SlaAlert,
    SlaPolicy,
    StockItem,
    System,
    Team,
    TeamMember,
    Ticket,
    TicketCc,
    TicketLink,
    TicketTag,
    User,
    UserPreference,
    WebhookDelivery,
    WebhookSubscription,
)

SCHEMA_VERSION = 20
VERSION_KEY = "schema_version"

Migration = tuple[int, Callable[[], None]]


def _add_views() -> None:
    """v2: saved ticket views and per-user preferences (two new tables, nothing else)."""
    _create_missing_tables([SavedView, UserPreference])


V3_COLUMNS = (
    (User, ("is_away",)),
    (Category, ("auto_assign", "last_assignee")),
    (
        Ticket,
        (
            "response_risk_at",
            "resolution_risk_at",
            "sla_paused_at",
            "sla_paused_seconds",
            "response_met",
            "resolution_met",
            "subcategory",
            "assignment_group",
            "contact_type",
            "configuration_item",
            "opened_by",
            "resolved_by",
            "source_mod_count",
        ),
    ),
)


def _add_sla() -> None:
    """v3: new columns on user, category and ticket; SLA, assignment and e-mail tables."""
    for model, names in V3_COLUMNS:
        _add_missing_columns(model, names)
    _create_missing_tables([Setting, SlaPolicy, SlaAlert, CategoryAgent, EmailMessage])
    _create_missing_index("ticket_status_resolution_due", "ticket", ("status", "resolution_due"))
    _create_missing_index("ticket_resolved_at", "ticket", ("resolved_at",))
    for index in Ticket._schema._create_indexes(safe=False):  # the covering index of the SLA figures
        sql, params = index.query()
        if "sla_paused_at" in sql and _index_name(sql) not in _index_names("ticket"):
            database.execute_sql(sql, params)


# Each step may have been cut short on MySQL, which commits every DDL statement at once: a step
# adds only what is missing, so the next ``init`` completes it instead of failing on a duplicate.


def _add_missing_columns(model, names: tuple[str, ...]) -> None:
    """Add the columns (with their NOT NULL, foreign key and index) that are not there yet."""
    from playhouse.migrate import MySQLMigrator, SqliteMigrator, migrate

    migrator = (
        MySQLMigrator(database) if isinstance(database.obj, MySQLDatabase) else SqliteMigrator(database)
    )
    table = model._meta.table_name
    columns = {column.name: column for column in database.get_columns(table)}
    keys = {key.column for key in database.get_foreign_keys(table)}
    indexed = {tuple(index.columns) for index in database.get_indexes(table)}
    operations = []
    for field in (model._meta.fields[name] for name in names):
        column = field.column_name
        if column not in columns:
            operations.append(migrator.add_column(table, column, field))
            continue
        if not field.null and columns[column].null:
            operations += [migrator.apply_default(table, column, field), migrator.add_not_null(table, column)]
        if isinstance(field, ForeignKeyField) and migrator.explicit_create_foreign_key and column not in keys:
            operations.append(
                migrator.add_foreign_key_constraint(
                    table,
                    column,
                    field.rel_model._meta.table_name,
                    field.rel_field.column_name,
                    field.on_delete,
                    field.on_update,
                )
            )
        if (field.index or field.unique) and (column,) not in indexed:
            operations.append(migrator.add_index(table, (column,), field.unique))
    migrate(*operations)


def _create_missing_tables(models) -> None:
    """Create each table, then each of its indexes, that is not there yet (peewee's safe mode
    skips every index of an existing table on MySQL)."""
    for model in models:
        if not database.table_exists(model._meta.table_name):
            database.execute(model._schema._create_table(safe=False))
        for index in model._schema._create_indexes(safe=False):
            sql, params = index.query()
            if _index_name(sql) not in _index_names(model._meta.table_name):
                database.execute_sql(sql, params)


def _index_names(table: str) -> set[str]:
    return {index.name for index in database.get_indexes(table)}


def _index_name(create_sql: str) -> str:
    # 'CREATE INDEX "name" ON ...' or 'CREATE UNIQUE INDEX `name` ON ...'
    return create_sql.split(" ON ", 1)[0].split()[-1].strip('"`')


def _create_missing_index(name: str, table: str, columns: tuple[str, ...]) -> None:
    if name not in _index_names(table):
        database.execute_sql(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})")


def _drop_index_if_present(name: str, table: str) -> None:
    if name in _index_names(table):
        on_table = f" ON {table}" if isinstance(database.obj, MySQLDatabase) else ""
        database.execute_sql(f"DROP INDEX {name}{on_table}")


def _create_index(model, columns: tuple[str, ...]) -> None:
    """Create the model's index on exactly ``columns`` (as the model declares it), if missing."""
    for index in model._meta.fields_to_index():
        if tuple(getattr(e, "column_name", None) for e in index._expressions) == columns:
            sql, params = model._schema._create_index(index, safe=False).query()
            if _index_name(sql) not in _index_names(model._meta.table_name):
                database.execute_sql(sql, params)


def _v4_indexes() -> None:
    """v4: covering indexes for the figures over tickets resolved in a period (in place of the
    v3 index on ``resolved_at``), for the SLA alerts' look-back and for the log's
    type-and-action filters."""
    _create_index(Ticket, ("resolved_at", "assignee_id", "created_at", "response_met", "resolution_met"))
    _create_index(AuditEntry, ("entity_type", "action", "at"))
    for moment in ("response_due", "response_risk_at", "resolution_risk_at"):
        _create_index(Ticket, (moment,))
    _drop_index_if_present("ticket_resolved_at", "ticket")


V5_COLUMNS = ((AuditEntry, ("real_actor", "channel")), (User, ("failed_since",)))

# SQLite refuses any change to a written log entry; MySQL does the same through the runtime
# account's grants (INSERT and SELECT only on audit_log). One line each: sql/ splits on ";\n".
APPEND_ONLY_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
)


def _v5_trust_boundary() -> None:
    """v5: channel and real actor on log entries, failed logins per source, the log made
    append-only."""
    for model, names in V5_COLUMNS:
        _add_missing_columns(model, names)
    _create_missing_tables([LoginThrottle])
    _append_only()


def _append_only() -> None:
    if not isinstance(database.obj, MySQLDatabase):
        for statement in APPEND_ONLY_TRIGGERS:
            database.execute_sql(statement)


def _v6_request_keys() -> None:
    """v6: the keys of user actions already written (exactly-once retries)."""
    _create_missing_tables([RequestKey])


def _v7_closed_index() -> None:
    """v7: the covering index of the figures over tickets closed in a period and of the trend's
    backlog (analytics._finished_in, analytics._trend)."""
    _create_index(
        Ticket,
        ("closed_at", "resolved_at", "status", "priority", "category_id", "assignee_id", "resolution_met"),
    )


def _v8_sort_keys() -> None:
    """v8: the natural sort keys, filled in for the rows there are, then their indexes."""
    for model in (Department, Network, User, System, Peripheral, StockItem):
        table = model._meta.table_name
        for field in natural.key_fields(model):
            if field.column_name not in {column.name for column in database.get_columns(table)}:
                # NOT NULL with a default in one statement: SQLite's migrator would rebuild the
                # table for the NOT NULL, which the foreign keys pointing at it refuse
                quoted = [database.quote[0] + name + database.quote[1] for name in (table, field.column_name)]
                database.execute_sql(
                    f"ALTER TABLE {quoted[0]} ADD COLUMN {quoted[1]} "
                    f"VARCHAR({field.max_length}) NOT NULL DEFAULT ''"
                )
            _fill_sort_key(model, field)
            _create_index(model, (field.column_name, "id"))


def _fill_sort_key(model, key, batch: int = 1000) -> None:
    """Write the key of every row that has none yet (so a cut-short run resumes), a batch of
    rows per statement."""
    source = model._meta.fields[key.source]
    after = 0
    while True:
        rows = list(
            model.select(model.id, source)
            .where((model.id > after) & (key == ""))
            .order_by(model.id)
            .limit(batch)
            .tuples()
        )
        if not rows:
            return
        keys = Case(model.id, [(row_id, natural.natural_key(name)) for row_id, name in rows])
        model.update({key: keys}).where(model.id.in_([row_id for row_id, _ in rows])).execute()
        after = rows[-1][0]


def _v9_http_api() -> None:
    """v9 (issue 19): API tokens, alerts' tickets, webhooks; the token named on log entries."""
    _add_missing_columns(AuditEntry, ("token_name",))
    _create_missing_tables([ApiToken, AlertTicket, WebhookSubscription, WebhookDelivery])


def _v10_mail() -> None:
    """v10, the e-mail channel: Message-IDs, Cc addresses, sign-up codes, thread headers."""
    _create_missing_tables([MailMessage, TicketCc, SignupCode])
    _add_missing_columns(EmailMessage, ("headers",))


def _v11_links_and_tags() -> None:
    """v11 (issue 21): links between tickets and tags on tickets (two new tables)."""
    _create_missing_tables([TicketLink, TicketTag])


def _v12_teams() -> None:
    """v12 (issue 21): teams, their members and macros; the ticket's team."""
    _create_missing_tables([Team, TeamMember, Macro])
    _add_missing_columns(Ticket, ("team",))


def _v13_search() -> None:
    """v13 (issue 22): the full-text indexes, filled from the rows there are (with a progress
    bar on ``init``), and the indexes of the queue's filter combinations."""
    fulltext.install(fulltext.upgrade_progress)
    for index in Ticket._schema._create_indexes(safe=False):
        sql, params = index.query()
        if _index_name(sql) not in _index_names("ticket"):
            database.execute_sql(sql, params)
    _drop_index_if_present("ticket_category_id_status", "ticket")  # now led by (category, status, updated_at)


def _v14_text_search() -> None:
    """v14 (issue 22): the full-text indexes of systems, peripherals, stock and the activity
    log, filled from the rows there are (with a progress bar on ``init``)."""
    fulltext.install_text(fulltext.upgrade_progress)


def _v15_covering_indexes() -> None:
    """v15 (issue 19, 22): the update time's index and the (category, priority, updated_at)
    one carry the id and the status, so a page's walk checks ``status:open`` without reading
    the rows."""
    _create_index(Ticket, ("updated_at", "id", "status"))
    _create_index(Ticket, ("category_id", "priority", "updated_at", "id", "status"))
    _drop_index_if_present("ticket_updated_at", "ticket")
    _drop_index_if_present("ticket_category_id_priority_updated_at", "ticket")
    # An analysed database must know the new indexes too: SQLite took one without statistics
    # for a few rows a key and drove a page's join through it (2.3 s for a page at 1M tickets).
    if isinstance(database.obj, MySQLDatabase):
        database.execute_sql("ANALYZE TABLE ticket")
    elif database.table_exists("sqlite_stat1"):
        for name in ("ticket_updated_at_id_status", "ticket_category_id_priority_updated_at_id_status"):
            database.execute_sql(f'ANALYZE "{name}"')


def _v16_word_pairs() -> None:
    """v16 (issue 22): MariaDB indexes the pairs of adjacent words of tickets and comments, so a
    phrase of common words is looked up by its pairs (``fulltext.paired``); nothing elsewhere."""
    fulltext.install_pairs(fulltext.upgrade_progress)


def _v17_inventory_grams() -> None:
    """v17 (issue 22): MariaDB indexes the pairs of adjacent characters of the inventory's text,
    so a two-character term is looked up instead of scanned; nothing elsewhere."""
    fulltext.install_grams(fulltext.upgrade_progress)


def _v18_trigram_ends() -> None:
    """v18 (issue 22): SQLite's trigram indexes hold each value with an end mark after it, so a
    term of one or two characters is looked up by the trigrams it begins instead of scanned;
    nothing on MySQL."""
    fulltext.end_values(fulltext.upgrade_progress)


def _v19_long_text() -> None:
    """v19: MySQL's TEXT holds 65,535 bytes: fewer than 20,000 characters of four bytes, and a
    MariaDB pair column, about twice its text, overflowed with two (the write failed). The
    long text columns (``LongTextField``) and the pair columns become MEDIUMTEXT, one table
    rebuild each (then analysed); nothing on SQLite."""
    if not isinstance(database.obj, MySQLDatabase):
        return
    pair_columns = {table: column for table, column, _ in fulltext.MARIADB_PAIRS}
    for model in ALL_MODELS:
        table = model._meta.table_name
        changes = [
            f"MODIFY `{field.column_name}` MEDIUMTEXT {'NULL' if field.null else 'NOT NULL'}"
            for field in model._meta.sorted_fields
            if isinstance(field, LongTextField)
        ]
        if table in pair_columns and pair_columns[table] in {c.name for c in database.get_columns(table)}:
            changes.append(f"MODIFY COLUMN {fulltext.PAIR_COLUMNS[table]}")  # MariaDB's (v16)
        if changes:  # then fresh statistics: a rebuilt ticket table's slowed the filtered page by half
            database.execute_sql(f"ALTER TABLE `{table}` {', '.join(changes)}")
            database.execute_sql(f"ANALYZE TABLE `{table}`")


def _v20_text_grams() -> None:
    """v20 (issue 22): MariaDB indexes the pairs of adjacent characters of the tickets' text and
    of comments, as v17 the inventory's; nothing elsewhere."""
    fulltext.install_text_grams(fulltext.upgrade_progress)


MIGRATIONS: Sequence[Migration] = (
    (2, _add_views),
    (3, _add_sla),
    (4, _v4_indexes),
    (5, _v5_trust_boundary),
    (6, _v6_request_keys),
    (7, _v7_closed_index),
    (8, _v8_sort_keys),
    (9, _v9_http_api),
    (10, _v10_mail),
    (11, _v11_links_and_tags),
    (12, _v12_teams),
    (13, _v13_search),
    (14, _v14_text_search),
    (15, _v15_covering_indexes),
    (16, _v16_word_pairs),
    (17, _v17_inventory_grams),
    (18, _v18_trigram_ends),
    (19, _v19_long_text),
    (20, _v20_text_grams),
)


def current_version() -> int | None:
    """The database's schema version, or None when it has no itsm-tui tables."""
    if not database.table_exists(SchemaMeta._meta.table_name):
        return None
    row = SchemaMeta.get_or_none(SchemaMeta.key == VERSION_KEY)
    return int(row.value) if row else None


def _set_version(version: int) -> None:
    SchemaMeta.delete().where(SchemaMeta.key == VERSION_KEY).execute()
    SchemaMeta.create(key=VERSION_KEY, value=str(version))


def init(
    latest: int = SCHEMA_VERSION, migrations: Sequence[Migration] = MIGRATIONS
) -> tuple[int | None, int]:
    """Create the schema, or upgrade it step by step. Returns (version before, version after)."""
    before = current_version()
    if before is None:
        existing = [m for m in ALL_MODELS if database.table_exists(m._meta.table_name)]
        if existing:
            raise SchemaError(
                "the database holds some itsm-tui tables but no schema version; "
                "point itsm-tui at an empty database"
            )
        with database.atomic():
            database.create_tables(ALL_MODELS)
            _append_only()
            fulltext.install()
            fulltext.install_text()
            fulltext.install_pairs()
            fulltext.install_grams()
            fulltext.install_text_grams()
            _set_version(latest)
        return None, latest
    if before > latest:
        raise _too_new(before, latest)
    for version, migrate in migrations:
        if before < version <= latest:
            # MySQL commits DDL implicitly, so each step records its version as soon as it is done.
            with database.atomic():
                migrate()
                _set_version(version)
    if before >= 5:  # a SQLite table rebuilt by a migration loses its triggers: put them back
        _append_only()
    installs = (
        (13, fulltext.install),
        (14, fulltext.install_text),
        (16, fulltext.install_pairs),
        (17, fulltext.install_grams),
        (20, fulltext.install_text_grams),
    )
    for version, install in installs:
        if before >= version and latest >= version:
            install()  # only what is missing: a full-text trigger, say
    return before, latest


def check(latest: int = SCHEMA_VERSION) -> None:
    """Refuse to work on a database that is not exactly at this release's schema version."""
    version = current_version()
    if version is None:
        raise SchemaError("the database is not initialised: run itsm-tui init")
    if version < latest:
        raise SchemaError(
            f"the database schema is version {version}, this itsm-tui needs version {latest}: "
            "run itsm-tui init to upgrade"
        )
    if version > latest:
        raise _too_new(version, latest)


def _too_new(version: int, latest: int) -> SchemaError:
    return SchemaError(
        f"the database schema is version {version}, newer than this itsm-tui understands "
        f"(version {latest}): upgrade itsm-tui before using this database"
    )


def render_ddl(engine: str) -> str:
    """The CREATE statements for one engine ('sqlite' or 'mysql'), as kept in ``sql/``."""
    db = MySQLDatabase("itsm") if engine == "mysql" else SqliteDatabase(":memory:")
    settings = MYSQL_TABLE_SETTINGS if engine == "mysql" else []
    statements = [
        f"-- itsm-tui reference schema for {'MySQL/MariaDB' if engine == 'mysql' else 'SQLite'}",
        f"-- schema version {SCHEMA_VERSION}; generated by `itsm-tui ddl {engine}`: do not edit.",
        "",
    ]
    with db.bind_ctx(ALL_MODELS, bind_refs=False, bind_backrefs=False):
        for model in ALL_MODELS:
            previous = model._meta.table_settings
            model._meta.table_settings = settings
            try:
                ctx = model._schema._create_table(safe=False)
                sql, params = ctx.query()
                statements.append(_inline(sql, params) + ";")
                for index in model._schema._create_indexes(safe=False):
                    sql, params = index.query()
                    statements.append(_inline(sql, params) + ";")
            finally:
                model._meta.table_settings = previous
    if engine == "sqlite":
        statements.extend(f"{statement};" for statement in APPEND_ONLY_TRIGGERS)
    search = (
        fulltext.MYSQL_STATEMENTS + fulltext.TEXT_MYSQL_STATEMENTS
        if engine == "mysql"
        else fulltext.SQLITE_STATEMENTS + fulltext.TEXT_SQLITE_STATEMENTS
    )
    statements.extend(f"{statement};" for statement in search)
    if engine == "mysql":
        statements.append("-- MariaDB only (MySQL: leave these out): word pairs and two-character terms")
        mariadb = (
            fulltext.MARIADB_PAIR_STATEMENTS
            + fulltext.MARIADB_GRAM_STATEMENTS
            + fulltext.MARIADB_TEXT_GRAM_STATEMENTS
        )
        statements.extend(f"{statement};" for statement in mariadb)
    statements.append(
        f"INSERT INTO {_quote(engine, 'schema_meta')} ({_quote(engine, 'key')}, "
        f"{_quote(engine, 'value')}) VALUES ('{VERSION_KEY}', '{SCHEMA_VERSION}');"
    )
    return "\n".join(statements) + "\n"


def _quote(engine: str, name: str) -> str:
    return f"`{name}`" if engine == "mysql" else f'"{name}"'


def _inline(sql: str, params: list) -> str:
    if params:
        raise ValueError(f"unexpected parameters in DDL: {params}")
    return sql


# What the runtime account may do per table: no DDL anywhere, the schema version read-only,
# the audit log append-only.
RUNTIME_PRIVILEGES = {"schema_meta": "SELECT", AuditEntry._meta.table_name: "SELECT, INSERT"}
DEFAULT_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
_ACCOUNT_PART = re.compile(r"^[A-Za-z0-9_.%-]{1,80}$")


def grant_statements(database_name: str, user: str, host: str = "%") -> list[str]:
    """The GRANT statements for the runtime account on MySQL/MariaDB, one per table."""
    for part, what in ((user, "user name"), (host, "host")):
        if not _ACCOUNT_PART.match(part):
            raise SchemaError(f"the {what} {part!r} may hold only letters, digits and . _ - %")
    if not database_name.isprintable():  # a line break would end the statement or comment it is in
        raise SchemaError(f"the database name {database_name!r} holds control characters")
    name = database_name.replace("`", "``")
    return [
        f"GRANT {RUNTIME_PRIVILEGES.get(m._meta.table_name, DEFAULT_PRIVILEGES)} ON "
        f"`{name}`.`{m._meta.table_name}` TO '{user}'@'{host}';"
        for m in ALL_MODELS
    ]
