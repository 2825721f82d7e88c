"""Server settings a desk's size needs (``itsm-tui doctor``, and after ``init``): MySQL/MariaDB
whose buffer pool cannot hold the ticket table and its indexes reads pages from disk on every
wide list, and full-text settings other than the ones the README's "Search" section assumes
change what free text finds. SQLite needs no settings: the check says whether its FTS5 has the
trigram tokenizer."""

from __future__ import annotations

from itsm_tui.core.store import fulltext
from itsm_tui.core.store.db import database, is_mysql

MB = 1024 * 1024
DEFAULT_POOL = 128 * MB  # MariaDB's and MySQL's default innodb_buffer_pool_size
# The working set: the ticket, comment and log tables with their indexes.
HOT_TABLES = ("ticket", "comment", "audit_log", "user")


def warnings() -> list[str]:
    """One line per setting that is far from what the README recommends (empty: all fine)."""
    if not is_mysql():
        return _sqlite_warnings()
    found = []
    pool = _variable("innodb_buffer_pool_size")
    working = _working_set()
    if pool is not None and pool < working // 2:
        found.append(
            f"innodb_buffer_pool_size is {pool // MB} MB but the tickets, comments and log take "
            f"{working // MB} MB with their indexes: set it to at least {_round_up(working) // MB} MB "
            "(README: MySQL/MariaDB settings)"
        )
    token = _variable("innodb_ft_min_token_size")
    if token is not None and token > fulltext.MYSQL_MIN_TOKEN:
        found.append(
            f"innodb_ft_min_token_size is {token}: words shorter than that are found only by a slow "
            f"scan; set it to {fulltext.MYSQL_MIN_TOKEN} and run itsm-tui init again (README: Search)"
        )
    cache = _variable("innodb_ft_result_cache_limit")
    if cache is not None and cache < 512 * MB:
        found.append(
            f"innodb_ft_result_cache_limit is {cache // MB} MB: a common word's search may fail; "
            "set it to at least 512 MB (README: MySQL/MariaDB settings)"
        )
    return found


def _sqlite_warnings() -> list[str]:
    try:
        database.execute_sql("CREATE VIRTUAL TABLE temp.itsm_probe USING fts5(x, tokenize='trigram')")
        database.execute_sql("DROP TABLE temp.itsm_probe")
    except Exception as exc:  # noqa: BLE001 (any failure means the same: no trigram FTS5)
        return [f"this SQLite has no FTS5 trigram tokenizer (SQLite 3.34 or later needed): {exc}"]
    return []


def _variable(name: str) -> int | None:
    row = database.execute_sql("SHOW VARIABLES LIKE %s", (name,)).fetchone()
    return int(row[1]) if row and str(row[1]).isdigit() else None


def _working_set() -> int:
    placeholders = ", ".join(["%s"] * len(HOT_TABLES))
    row = database.execute_sql(
        "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.TABLES "
        f"WHERE table_schema = DATABASE() AND table_name IN ({placeholders})",
        HOT_TABLES,
    ).fetchone()
    return int(row[0])


def _round_up(size: int) -> int:
    """The next multiple of 128 MB (buffer pool sizes go in chunks), at least 128 MB."""
    return max(DEFAULT_POOL, -(-size // (128 * MB)) * 128 * MB)
