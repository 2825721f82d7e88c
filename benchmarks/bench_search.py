"""Benchmark: the queue's filters (free text through the full-text index, and the combinations a
desk uses) at N tickets per engine, beside hand-written SQL for the same result.

    python benchmarks/bench_search.py [--tickets 1000000] [--systems 100000]
        [--log-entries 1000000] [--engines sqlite,mysql]
        [--mysql-url mysql://root@127.0.0.1:3306/itsm_bench] [--sqlite-url ...] [--reuse]
        [--read-only]

For each filter: the first page (50 rows, newest update first unless said) and the count, each
as itsm-tui runs it and as hand-written SQL. Then the full-text index is dropped and built again
from the rows: the build time and the database size without and with it. Prints figures; it
asserts nothing. The MySQL database named in the URL is dropped and re-created (unless --reuse),
so never point it at real data. The seeded tickets have no comments: the hand-written SQL leaves
them out. ``--read-only`` (with ``--reuse`` for MySQL) times the filters on databases seeded
already and writes nothing to them: no rare titles (the rare word is then absent), no rebuild.

Then the same for the free text of the activity log (``--log-entries``, newest first) and of the
systems list (``--systems``, by hostname), seeded on top of the tickets: the page and the count
beside hand-written SQL through the index (a LIKE scan for a two-letter term), and the time to
build those indexes again. The counts are the screens' (``count_bounded``: "10,000+"); the SQL
column counts them all.
"""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import datetime, timedelta

from bench_queue import DESC, OPEN, _prepare, _sql, _timed, arguments, deferred, engine_urls

from itsm_tui.core import clock, setup
from itsm_tui.core.audit import activity
from itsm_tui.core.inventory import lists
from itsm_tui.core.people import users
from itsm_tui.core.store import db, fulltext
from itsm_tui.core.store.models import AuditEntry, Category, System, Ticket, User
from itsm_tui.core.tickets import queue

RARE = "quokka"  # written into a few titles by the benchmark


def _text(word: str, engine_mysql: bool) -> tuple[str, tuple]:
    """The hand-written full-text condition for one word or phrase (MySQL: a phrase's words,
    then its exact text)."""
    if engine_mysql:
        boolean = fulltext.boolean_query(word)
        match = "MATCH(t.title, t.description, t.source_number) AGAINST (? IN BOOLEAN MODE)"
        if " " not in word:
            return match, (boolean,)
        exact = "(t.title LIKE ? OR t.description LIKE ? OR t.source_number LIKE ?)"
        return f"{match} AND {exact}", (boolean, *[f"%{word}%"] * 3)
    return "t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)", (fulltext.fts5_string(word),)


def _cases(mysql: bool, network: int, agent: int, now: datetime) -> list[tuple]:
    """(label, filter, sort, hand-written WHERE, its parameters, ORDER BY)."""

    def text(word):
        return _text(word, mysql)

    vpn, vpn_p = text("vpn")
    printer, printer_p = text("printer")
    due = "t.resolution_due ASC, t.id ASC"
    breached = (
        f"t.status IN {OPEN} AND ((t.first_response_at IS NULL AND t.response_due < ?) "
        "OR t.resolution_due < COALESCE(t.sla_paused_at, ?))"
    )
    today = datetime(now.year, now.month, now.day)
    month, week = str(today - timedelta(days=30)), str(today - timedelta(days=7))
    cases = [
        ("common word: vpn", "vpn", None, vpn, vpn_p),
        ("common word: printer", "printer", None, printer, printer_p),
        ("absent word: zzzqx", "zzzqx", None, *text("zzzqx")),
        ("absent accented word: zoë", "zoë", None, *text("zoë")),
        (f"rare word: {RARE}", RARE, None, *text(RARE)),
        ('rare phrase: "vpn printer laptop"', '"vpn printer laptop"', None, *text("vpn printer laptop")),
        ('phrase: "wifi crash"', '"wifi crash"', None, *text("wifi crash")),
        ("negation: vpn -printer", "vpn -printer", None, f"{vpn} AND NOT {printer}", vpn_p + printer_p),
        ("negation: -vpn status:open", "-vpn status:open", None, f"t.status IN {OPEN} AND NOT {vpn}", vpn_p),
        ("text + status: vpn status:open", "vpn status:open", None, f"t.status IN {OPEN} AND {vpn}", vpn_p),
        (
            "absent + status: zzzqx status:open",
            "zzzqx status:open",
            None,
            f"t.status IN {OPEN} AND {text('zzzqx')[0]}",
            text("zzzqx")[1],
        ),
        ("our number: INC000500", "INC000500", None, "t.id = 500", ()),
        (
            "two letters, common: vp",
            "vp",
            None,
            "(t.title LIKE ? OR t.description LIKE ? OR t.source_number LIKE ?)",
            ("%vp%",) * 3,
        ),
        (
            "absent two letters: zq",
            "zq",
            None,
            "(t.title LIKE ? OR t.description LIKE ? OR t.source_number LIKE ?)",
            ("%zq%",) * 3,
        ),
        ("status:open", "status:open", None, f"t.status IN {OPEN}", ()),
        (
            "status:open prio:high",
            "status:open prio:high",
            None,
            f"t.status IN {OPEN} AND t.priority = 2",
            (),
        ),
        (
            "cat:network prio:high",
            "cat:network prio:high",
            None,
            "t.category_id = ? AND t.priority = 2",
            (network,),
        ),
        (
            "status:open prio:high cat:network",
            "status:open prio:high cat:network",
            None,
            f"t.status IN {OPEN} AND t.priority = 2 AND t.category_id = ?",
            (network,),
        ),
        (
            "assignee:agent1 status:open, by due",
            "assignee:agent1 status:open",
            "due",
            f"t.assignee_id = ? AND t.status IN {OPEN}",
            (agent,),
        ),
        ("sla:breached", "sla:breached", None, breached, (str(now), str(now))),
        ("created:>=-30d", "created:>=-30d", None, "t.created_at >= ?", (month,)),
        (
            "updated:>=-7d status:closed",
            "updated:>=-7d status:closed",
            None,
            "t.updated_at >= ? AND t.status = 'closed'",
            (week,),
        ),
        (
            "vpn status:open prio:high",
            "vpn status:open prio:high",
            None,
            f"t.status IN {OPEN} AND t.priority = 2 AND {vpn}",
            vpn_p,
        ),
    ]
    return [
        (label, flt, sort, where, params, due if sort == "due" else DESC)
        for label, flt, sort, where, params in cases
    ]


def _size() -> int:
    """The database's bytes on disk (SQLite: pages in use; MySQL: its tablespace files)."""
    if not db.is_mysql():
        return (
            db.database.execute_sql("PRAGMA page_count").fetchone()[0]
            * db.database.execute_sql("PRAGMA page_size").fetchone()[0]
        )
    datadir = db.database.execute_sql("SELECT @@datadir").fetchone()[0]
    folder = os.path.join(datadir, db.database.database)
    return sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


def _drop_index() -> None:
    if db.is_mysql():
        for table, name, _ in fulltext.MYSQL_INDEXES:
            db.database.execute_sql(f"ALTER TABLE `{table}` DROP INDEX `{name}`")
            # as before schema 9: without InnoDB's hidden FTS_DOC_ID (an index created again
            # on a table that keeps it was found empty here)
            db.database.execute_sql(f"ALTER TABLE `{table}` FORCE, ALGORITHM=COPY")
    else:
        for trigger in (
            "ticket_fts_insert",
            "ticket_fts_delete",
            "ticket_fts_update",
            "comment_fts_insert",
            "comment_fts_delete",
            "comment_fts_update",
        ):
            db.database.execute_sql(f"DROP TRIGGER {trigger}")
        for index in ("ticket_fts", "comment_fts"):
            db.database.execute_sql(f"DROP TABLE {index}_vocab")
            db.database.execute_sql(f"DROP TABLE {index}")
        db.database.execute_sql("VACUUM")


def _rare_titles(count: int) -> None:
    """Put the rare word in a few titles (the index follows through triggers / FULLTEXT)."""
    if Ticket.select().where(Ticket.title.startswith(RARE.capitalize())).exists():
        return
    step = max(1, count // 7)
    ids = list(range(step, count + 1, step))
    Ticket.update(title=RARE.capitalize() + " " + Ticket.title).where(Ticket.id.in_(ids)).execute()


def run_engine(url: str, count: int, read_only: bool = False) -> list[tuple]:
    """``read_only``: a database seeded already, only read (no seeding, no rare titles, no
    index rebuild): the shared 1M benchmark databases."""
    if read_only:
        setup.open_database(url)
        seconds = None
    else:
        seconds = _prepare(url, count)
        _rare_titles(count)
    actor = users.system_actor()
    results: list[tuple] = [("seed (s)", seconds)]
    network = Category.get(Category.name == "Network").id
    agent = User.get(User.username == "agent1").id
    now = clock.now().replace(microsecond=0)
    for label, flt, sort_key, where, params, order in _cases(db.is_mysql(), network, agent, now):
        sort = queue.Sort(sort_key or "updated", sort_key is None)
        results.append(
            (
                label,
                _timed(lambda: queue.page(actor, flt, sort)),
                _timed(_sql(deferred(where, order), params)),
                _timed(lambda: queue.count_bounded(actor, flt)),
                _timed(_sql(f"SELECT COUNT(*) FROM ticket t WHERE {where}", params)),
            )
        )
    if read_only:
        db.database.close()
        return results
    before = _size()
    _drop_index()
    without = _size()
    start = time.perf_counter()
    fulltext.install()
    built = time.perf_counter() - start
    results.append(("index build (s)", built))
    results.append(("size with the index, as seeded (MB)", before / 1e6))
    results.append(("size without the index (MB)", without / 1e6))
    results.append(("size with the index, built at once (MB)", _size() / 1e6))
    db.database.close()
    return results


def _indexed(table: str, columns: str, word: str) -> tuple[str, tuple]:
    """The hand-written full-text condition on an inventory or log table (``x``)."""
    if db.is_mysql():
        where = f"MATCH({columns}) AGAINST (? IN BOOLEAN MODE)"
        if re.fullmatch(r"\w+", word) is None:  # a phrase: then the exact text among them
            return f"{where} AND CONCAT_WS(' ', {columns}) LIKE ?", (
                fulltext.boolean_query(word),
                f"%{word}%",
            )
        return where, (fulltext.boolean_query(word),)
    return f"x.id IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)", (fulltext.fts5_string(word),)


def _text_cases(table: str, columns: str, words: list[tuple[str, str]], short: str) -> list[tuple]:
    """(label, filter, hand-written WHERE, its parameters) for each (label, word), and a term of two
    characters, which the hand-written SQL scans with LIKE (MariaDB's inventory has an index of them)."""
    likes = " OR ".join(f"x.{column.strip()} LIKE ?" for column in columns.split(","))
    return [(f"{label}: {word}", word, *_indexed(table, columns, word)) for label, word in words] + [
        (f"two letters: {short}", short, f"({likes})", (f"%{short}%",) * (likes.count("?")))
    ]


def run_text(url: str, tickets: int, systems: int, log_entries: int, read_only: bool = False) -> list[tuple]:
    """The activity log's and the systems list's free text: page and count beside SQL;
    ``read_only`` as for :func:`run_engine`."""
    if read_only:
        setup.open_database(url)
        seconds = None
    else:
        seconds = _prepare(url, tickets, systems, log_entries)
    actor = users.system_actor()
    results: list[tuple] = [("seed systems and log (s)", seconds)]
    middle = AuditEntry.get_by_id(
        AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).scalar() // 2
    )
    host = System.get_by_id(System.select(System.id).order_by(System.id.desc()).scalar() // 2)
    summary = ", ".join(c.column_name for c in fulltext.TEXT_COLUMNS[AuditEntry])
    log_cases = _text_cases(
        "audit_log",
        summary,
        [
            ("absent", "zzzqx"),
            ("rare phrase", middle.summary.split(":")[0]),
            ("common", "updated"),
            ("common", "comment"),
        ],
        "on",
    )
    names = "x.id, x.at, u.username, x.action, x.entity_type, x.entity_id, x.summary"
    for label, flt, where, params in log_cases:
        page = (
            f"SELECT {names} FROM (SELECT id FROM audit_log x WHERE {where} ORDER BY x.at DESC, x.id DESC "
            "LIMIT 51) p JOIN audit_log x ON x.id = p.id LEFT JOIN {user} u ON u.id = x.actor_id "
            "ORDER BY x.at DESC, x.id DESC"
        )
        results.append(
            (
                f"log {label}",
                _timed(lambda: activity.page(actor, flt)),
                _timed(_sql(page, params)),
                _timed(lambda: activity.count_bounded(actor, flt)),
                _timed(_sql(f"SELECT COUNT(*) FROM audit_log x WHERE {where}", params)),
            )
        )
    columns = ", ".join(c.column_name for c in fulltext.TEXT_COLUMNS[System])
    system_cases = _text_cases(
        "system",
        columns,
        [("absent", "zzzqx"), ("hostname", host.hostname), ("serial", host.serial), ("common", "bulk")],
        "ws",
    )
    for label, flt, where, params in system_cases:
        page = (
            "SELECT x.id, x.hostname, x.asset_tag, x.ip, d.name FROM (SELECT id FROM system x WHERE "
            f"{where} ORDER BY x.hostname_key, x.id LIMIT 51) p JOIN system x ON x.id = p.id "
            "LEFT JOIN department d ON d.id = x.department_id ORDER BY x.hostname_key, x.id"
        )
        results.append(
            (
                f"systems {label}",
                _timed(lambda: lists.page(actor, "system", flt)),
                _timed(_sql(page, params)),
                _timed(lambda: lists.count_bounded(actor, "system", flt)),
                _timed(_sql(f"SELECT COUNT(*) FROM system x WHERE {where}", params)),
            )
        )
    if not read_only:
        start = time.perf_counter()
        _drop_text_indexes()
        fulltext.install_text()
        results.append(("inventory and log index build (s)", time.perf_counter() - start))
    db.database.close()
    return results


def _drop_text_indexes() -> None:
    if db.is_mysql():
        for table, name, _ in fulltext.TEXT_MYSQL_INDEXES:
            db.database.execute_sql(f"ALTER TABLE `{table}` DROP INDEX `{name}`")
            db.database.execute_sql(f"ALTER TABLE `{table}` FORCE, ALGORITHM=COPY")
        return
    for index, _, _ in fulltext.TEXT_SOURCES:
        for verb in ("insert", "update", "delete"):
            db.database.execute_sql(f"DROP TRIGGER IF EXISTS {index}_{verb}")
        db.database.execute_sql(f"DROP TABLE {index}_vocab")
        db.database.execute_sql(f"DROP TABLE {index}")


def _print(rows: list[tuple]) -> None:
    for name, *figures in rows:
        shown = [
            "(reused)" if f is None else f"{f:.1f}" if len(figures) == 1 else f"{f:.2f}" for f in figures
        ]
        print(f"{name:<42} " + " ".join(f"{text:>8}" for text in shown))


def main() -> None:
    read_only = "--read-only" in sys.argv  # an option of this benchmark alone
    if read_only:
        sys.argv.remove("--read-only")
    args = arguments("python benchmarks/bench_search.py", __doc__.split("\n")[0])
    if read_only and "mysql" in args.engines and not args.reuse:
        raise SystemExit("--read-only needs --reuse: without it the MySQL database is dropped")
    for url in engine_urls(args):
        print(f"\n== {db.describe_url(url)}: {args.tickets:,} tickets (median of runs, ms) ==")
        print(f"{'filter':<42} {'page':>8} {'SQL':>8} {'count':>8} {'SQL':>8}")
        _print(run_engine(url, args.tickets, read_only))
        print(f"\n== {db.describe_url(url)}: {args.systems:,} systems, {args.log_entries:,} log entries ==")
        print(f"{'filter':<42} {'page':>8} {'SQL':>8} {'count':>8} {'SQL':>8}")
        _print(run_text(url, args.tickets, args.systems, args.log_entries, read_only))


if __name__ == "__main__":
    main()
