"""The full-text indexes of ticket text and comments (schema v13), on both engines.

SQLite: FTS5 tables with the trigram tokenizer (substring matching in any script, case folded,
for terms of three characters or more) over the ticket's title, description and source number
and over comment bodies. They are external-content tables (the text is not stored twice) kept
current by triggers, so every write updates them in its own transaction. Each value they hold
ends with ``END`` (schema v18), so a term of one or two characters begins one of its trigrams
wherever it stands, and is looked up in the index's vocabulary (:func:`short_query`).

MySQL/MariaDB: InnoDB ``FULLTEXT`` indexes on the same columns (word and word-prefix matching,
case and accent folded by the utf8mb4 collation); InnoDB maintains them and makes the change
visible with its transaction's commit. MariaDB also indexes each pair of adjacent words (schema
v16, :func:`paired`), so a phrase of common words is looked up by its pairs, and each pair of
adjacent characters (v17 the inventory's, v20 the tickets' and comments': :func:`grams`), so a
term of two characters is looked up too.

:func:`matching` turns one free-text term into the SQL that finds the ids of the tickets whose
text or comments hold it; a term the index cannot serve (MySQL: shorter than a word token but
for MariaDB's two characters, or only stopwords; SQLite: a short one :func:`short_query`
declines) falls back to a ``LIKE`` scan.
"""

from __future__ import annotations

import operator
import re
import sys
import unicodedata
from collections.abc import Callable
from functools import reduce

from peewee import SQL, Case, Expression, NodeList, Select, fn

from itsm_tui.core.store import limits
from itsm_tui.core.store.db import database, is_mariadb, is_mysql
from itsm_tui.core.store.models import AuditEntry, Comment, Peripheral, StockItem, System, Ticket

TRIGRAM = 3  # SQLite: a shorter term is looked up by the trigrams it begins (short_query)
MYSQL_MIN_TOKEN = 3  # innodb_ft_min_token_size's default
# InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD): not indexed.
MYSQL_STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this to "
    "was what when where who will with und the www".split()
)
_WORD_RE = re.compile(r"\w+")

TICKET_COLUMNS = (Ticket.title, Ticket.description, Ticket.source_number)
_TICKET_COLUMNS = "title, description, source_number"

# SQLite (schema v18): what ends each value the trigram indexes hold, twice a control character
# that no stored text or filter holds (text.clean and the query parser drop them), so the last
# one or two characters of a value begin a trigram too ("ws" of "Printer ws" in "ws\x1f").
END = "\x1f\x1f"


def _ended(columns: str, row: str = "") -> str:
    """The SQL of ``columns`` (of the ``row`` "new." or "old.") as the trigram indexes hold them:
    each with ``END`` after it."""
    end = f"char({', '.join(str(ord(c)) for c in END)})"
    return ", ".join(f"{row}{name} || {end}" for name in columns.split(", "))


_NEW = f"new.id, {_ended(_TICKET_COLUMNS, 'new.')}"
_OLD = f"'delete', old.id, {_ended(_TICKET_COLUMNS, 'old.')}"
_NEW_BODY, _OLD_BODY = f"new.id, {_ended('body', 'new.')}", f"'delete', old.id, {_ended('body', 'old.')}"
# One statement per line: sql/ splits on ";\n".
SQLITE_STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_fts USING fts5(title, description, source_number, "
    "content='ticket', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS comment_fts USING fts5(body, content='comment', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    f"INSERT INTO ticket_fts(rowid, {_TICKET_COLUMNS}) VALUES ({_NEW}); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    f"INSERT INTO ticket_fts(ticket_fts, rowid, {_TICKET_COLUMNS}) VALUES ({_OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS ticket_fts_update AFTER UPDATE OF {_TICKET_COLUMNS} ON ticket BEGIN "
    f"INSERT INTO ticket_fts(ticket_fts, rowid, {_TICKET_COLUMNS}) VALUES ({_OLD}); "
    f"INSERT INTO ticket_fts(rowid, {_TICKET_COLUMNS}) VALUES ({_NEW}); END",
    "CREATE TRIGGER IF NOT EXISTS comment_fts_insert AFTER INSERT ON comment BEGIN "
    f"INSERT INTO comment_fts(rowid, body) VALUES ({_NEW_BODY}); END",
    "CREATE TRIGGER IF NOT EXISTS comment_fts_delete AFTER DELETE ON comment BEGIN "
    f"INSERT INTO comment_fts(comment_fts, rowid, body) VALUES ({_OLD_BODY}); END",
    "CREATE TRIGGER IF NOT EXISTS comment_fts_update AFTER UPDATE OF body ON comment BEGIN "
    f"INSERT INTO comment_fts(comment_fts, rowid, body) VALUES ({_OLD_BODY}); "
    f"INSERT INTO comment_fts(rowid, body) VALUES ({_NEW_BODY}); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_fts_vocab USING fts5vocab(ticket_fts, 'row')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS comment_fts_vocab USING fts5vocab(comment_fts, 'row')",
)
MYSQL_INDEXES = (
    ("ticket", "ticket_text", _TICKET_COLUMNS),
    ("comment", "comment_text", "body"),
)
MYSQL_STATEMENTS = tuple(
    f"CREATE FULLTEXT INDEX `{name}` ON `{table}` ({columns})" for table, name, columns in MYSQL_INDEXES
)

# MariaDB (schema v16): each ticket's and comment's text again as its pairs of adjacent words
# ("WiFi crash on floor 3" -> "WiFi_crash crash_on on_floor floor_3 3"), a stored generated
# column (so every write keeps it, in its transaction) with its own FULLTEXT index ('_' is a word
# character to InnoDB: a pair is one token). InnoDB reads the whole list of every word of a
# phrase: "wifi crash", two words in 1 ticket of 6, took 380 ms at 1M tickets; its pair's list
# holds only the tickets with the two words side by side. INVISIBLE: ``SELECT *`` leaves it out.
# MySQL's REGEXP_REPLACE writes its groups otherwise ($1), so MySQL keeps the word lookups.
MARIADB_PAIRS = (
    ("ticket", "text_pairs", _TICKET_COLUMNS),
    ("comment", "body_pairs", "body"),
)


def _column(column: str, columns: str, pattern: str, replacement: str, kind: str) -> str:
    """A stored, invisible column of ``columns`` rewritten by a regular expression (in SQL's
    quoting: each backslash doubled)."""
    return (
        f"`{column}` {kind} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci "
        f"AS (REGEXP_REPLACE(CONCAT_WS(' ', {columns}), '{pattern}', '{replacement}')) STORED INVISIBLE"
    )


def _generated(table: str, column: str, index: str, definition: str) -> str:
    """The ALTER TABLE that adds a generated column (``definition``) and its FULLTEXT index."""
    return f"ALTER TABLE `{table}` ADD COLUMN {definition}, ADD FULLTEXT INDEX `{index}` (`{column}`)"


# A pair column is about twice its text: MEDIUMTEXT (v19), as the text of 20,000 characters of
# two bytes and more overflowed TEXT's 65,535 bytes and the write failed.
PAIR_COLUMNS = {
    table: _column(column, columns, r"(\\w+)\\W+(?=(\\w+))", r"\\1_\\2 ", "MEDIUMTEXT")
    for table, column, columns in MARIADB_PAIRS
}
MARIADB_PAIR_STATEMENTS = tuple(
    _generated(table, column, f"{table}_pairs", PAIR_COLUMNS[table]) for table, column, _ in MARIADB_PAIRS
)
MYSQL_MAX_TOKEN = 84  # innodb_ft_max_token_size's default: a longer pair is not indexed

BATCH = 20_000
Progress = Callable[[int, int], None]
upgrade_progress: Progress | None = None  # set by setup.initialise: the upgrade's progress bar


def install(progress: Progress | None = None) -> None:
    """Create the indexes that are missing and fill them from the rows there are; ``progress``
    is called with (done, total) rows (SQLite) or indexes (MySQL, one statement each)."""
    if is_mysql():
        _create_fulltext(MYSQL_STATEMENTS, MYSQL_INDEXES, progress)
        return
    fresh = not database.table_exists("ticket_fts")
    for statement in SQLITE_STATEMENTS:
        database.execute_sql(statement)
    if fresh:
        _fill((("ticket_fts", "ticket", _TICKET_COLUMNS), ("comment_fts", "comment", "body")), progress)


def install_pairs(progress: Progress | None = None) -> None:
    """MariaDB: add the word-pair columns and indexes that are missing (schema v16)."""
    _install_generated(MARIADB_PAIRS, MARIADB_PAIR_STATEMENTS, progress)


def install_grams(progress: Progress | None = None) -> None:
    """MariaDB: add the inventory's two-character columns and indexes that are missing (v17)."""
    _install_generated(MARIADB_GRAMS, MARIADB_GRAM_STATEMENTS, progress)


def install_text_grams(progress: Progress | None = None) -> None:
    """MariaDB: add the tickets' and comments' two-character columns and indexes that are
    missing (v20)."""
    _install_generated(MARIADB_TEXT_GRAMS, MARIADB_TEXT_GRAM_STATEMENTS, progress)


def _install_generated(added, statements, progress: Progress | None) -> None:
    """MariaDB: run each of ``statements`` whose column (``added``) is missing; one progress
    step each (a table rebuild)."""
    if not is_mariadb():
        return
    for done, (statement, (table, column, _)) in enumerate(zip(statements, added), start=1):
        if column not in {c.name for c in database.get_columns(table)}:
            database.execute_sql(statement)
        if progress:
            progress(done, len(added))


def _create_fulltext(statements, indexes, progress: Progress | None) -> None:
    """MySQL: run each CREATE FULLTEXT INDEX whose index is missing, one progress step each."""
    for done, (statement, (table, name, _)) in enumerate(zip(statements, indexes), start=1):
        if name not in {index.name for index in database.get_indexes(table)}:
            database.execute_sql(statement)
        if progress:
            progress(done, len(indexes))


def _fill(sources, progress: Progress | None) -> None:
    """Index the existing rows of each (FTS table, table, columns) a batch at a time, so a bar
    can show progress."""
    total = sum(database.execute_sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for _, t, _ in sources)
    done = 0
    for index, table, columns in sources:
        after = 0
        while True:
            cursor = database.execute_sql(
                f"INSERT INTO {index}(rowid, {columns}) SELECT id, {_ended(columns)} FROM {table} "
                f"WHERE id > ? ORDER BY id LIMIT {BATCH} RETURNING rowid",
                (after,),
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            after, done = max(ids), done + len(ids)
            if progress:
                progress(done, total)
    if progress and total == 0:
        progress(0, 0)


def indexable(text: str) -> bool:
    """True when the index can find ``text`` (else :func:`matching` scans with LIKE)."""
    if is_mysql():
        return bool(index_words(text))
    return len(text) >= TRIGRAM


def index_words(text: str) -> list[str]:
    """The words of ``text`` that InnoDB's index holds: not shorter than its smallest token,
    not stopwords."""
    return [w for w in _words(text) if len(w) >= MYSQL_MIN_TOKEN and w.lower() not in MYSQL_STOPWORDS]


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


SHORT_TRIGRAMS = 1000  # SQLite: a short term that begins more trigrams than this is scanned


def short_query(index: str, text: str) -> str | None:
    """SQLite: the FTS5 query that finds ``text``, one or two characters, in the trigram index
    ``index``: the trigrams that begin with it, read from the index's vocabulary (``"wsa" OR
    "ws\x1f"``; the ``END`` after each value makes its last two characters begin one); "" when
    there is none (nothing holds the term). None when the term begins more than
    ``SHORT_TRIGRAMS`` of them, or has a letter that Python may fold otherwise than FTS5 does
    (beyond Latin, U+0250): it is then scanned."""
    if not shortable(text):
        return None
    folded = text.lower()
    rows = database.execute_sql(
        f"SELECT term FROM {index}_vocab WHERE term >= ? AND term < ? LIMIT {SHORT_TRIGRAMS + 1}",
        (folded, folded[:-1] + chr(ord(folded[-1]) + 1)),
    ).fetchall()
    if len(rows) > SHORT_TRIGRAMS:
        return None
    return " OR ".join(fts5_string(term) for (term,) in rows)


def shortable(text: str) -> bool:
    """SQLite: ``text`` is short enough for :func:`short_query`, folds as FTS5 folds it, and
    ends below the last code point (its range needs the next one)."""
    return (
        0 < len(text) < TRIGRAM and not any(_fold_differs(c) for c in text) and text[-1] < chr(sys.maxunicode)
    )


def _fold_differs(char: str) -> bool:
    """True for a letter whose lower case Python and FTS5's case folding may disagree on."""
    return char.lower() != char.upper() and (ord(char) >= 0x250 or len(char.lower()) != 1)


def fts5_string(text: str) -> str:
    """``text`` as one FTS5 string (a trigram phrase: a substring match)."""
    return '"' + text.replace('"', '""') + '"'


def boolean_query(text: str, words: list[str] | None = None) -> str:
    """``text`` in InnoDB's boolean mode: each word the index holds (or only ``words``, some of
    them) required, its last word as a prefix, as typed so far (``+wifi +cra*``). Never a
    phrase: InnoDB checks one by reading every row that has all its words (14 s for two common
    words at 1,000,000 tickets), while :func:`matching` checks the exact text on the rows found."""
    last = _words(text)[-1]
    chosen = index_words(text) if words is None else words
    return " ".join(f"+{word}*" if word == last else f"+{word}" for word in chosen)


def pairs(text: str) -> list[str] | None:
    """MariaDB: the pairs of adjacent words of a phrase, as text (``["wifi crash", "crash on"]``),
    when the index of pairs finds every match; None when ``text`` is one word or its pairs could
    miss one: a first word the word index does not hold (a phrase may then start inside a word,
    as ``on floor`` in "button floor"), a pair longer than InnoDB indexes, or a letter beyond
    ASCII (what Python, the regular expression and InnoDB take for a word character may differ)."""
    words = _words(text)
    if len(words) < 2 or not text.isascii() or not index_words(words[0]) or not is_mariadb():
        return None
    found = [f"{first} {second}" for first, second in zip(words, words[1:])]
    return None if max(map(len, found)) > MYSQL_MAX_TOKEN else found


def paired(text: str, chosen: list[str] | None = None) -> str | None:
    """MariaDB: the boolean query of a phrase's word pairs (all, or the ``chosen`` of
    :func:`pairs`), the last as typed so far: ``+wifi_crash +crash_on*``; None as for
    :func:`pairs`. The exact text is still checked on the rows they find."""
    every = pairs(text)
    if every is None:
        return None
    return " ".join(
        "+" + pair.replace(" ", "_") + ("*" if pair == every[-1] else "") for pair in chosen or every
    )


def matching(text: str, internal: bool, among=None, words: list[str] | None = None):
    """A query of the ids of the tickets whose title, description, source number or a comment
    holds ``text`` (case folded; a ticket may come twice); ``internal``: internal notes count
    too (staff only); ``among``: only these tickets (a subquery of their ids). MySQL: ``words``,
    some of :func:`index_words` (on MariaDB, of a phrase's :func:`pairs`), are looked up in the
    index (one in many tickets costs InnoDB its whole list); the exact text is checked on the
    rows they find."""
    comments = Comment.select(Comment.ticket.alias("id"))
    if not internal:
        comments = comments.where(Comment.is_internal == False)  # noqa: E712
    if among is not None:
        comments = comments.where(Comment.ticket.in_(among))
    columns = TICKET_COLUMNS
    queries = None if is_mysql() else _fts5_queries(text)
    by_grams = grams(Ticket, text)
    if by_grams:  # MariaDB, two characters: every ticket and comment that holds them
        tickets = Ticket.select(Ticket.id).where(_match((SQL("text_grams"),), by_grams))
        body = _match((SQL("body_grams"),), by_grams)
    elif is_mysql() and indexable(text):
        by_pairs = paired(text, words)
        asked = by_pairs or boolean_query(text, words)
        ticket_text = (SQL("text_pairs"),) if by_pairs else TICKET_COLUMNS
        tickets = Ticket.select(Ticket.id).where(_match(ticket_text, asked))
        body = _match((SQL("body_pairs") if by_pairs else Comment.body,), asked)
        if _WORD_RE.fullmatch(text) is None:  # "100%", "wi-fi", a phrase: the words found, then
            tickets = tickets.where(contains_text(columns, text))  # the exact text among them
            body = body & Comment.body.contains(text)
    elif queries is not None:
        in_tickets, in_comments = queries
        tickets = Ticket.select(SQL("rowid").alias("id")).from_(SQL("ticket_fts"))
        tickets = tickets.where(_matches("ticket_fts", in_tickets))
        body = Comment.id.in_(
            Select([SQL("comment_fts")], [SQL("rowid")]).where(_matches("comment_fts", in_comments))
        )
        if among is not None:
            tickets = tickets.where(SQL("rowid").in_(among))
            among = None
    else:
        tickets = Ticket.select(Ticket.id).where(contains_text(columns, text))
        body = Comment.body.contains(text)
    if among is not None:
        tickets = tickets.where(Ticket.id.in_(among))
    return tickets + comments.where(body)  # UNION ALL: no sort, so a LIMIT stops it early


def _match(columns, query: str):
    """MySQL: ``columns`` (their FULLTEXT index) match the boolean-mode ``query``."""
    return NodeList((fn.MATCH(*columns), fn.AGAINST(NodeList((query, SQL("IN BOOLEAN MODE"))))))


def _fts5_queries(text: str) -> tuple[str, str] | None:
    """SQLite: the FTS5 queries that find ``text`` in the tickets' and the comments' indexes, or
    None when it is scanned."""
    if indexable(text):
        return fts5_string(text), fts5_string(text)
    found = short_query("ticket_fts", text), short_query("comment_fts", text)
    return None if found[0] is None or found[1] is None else (found[0], found[1])


def _matches(index: str, query: str):
    """SQLite: the rows of FTS5 table ``index`` that ``query`` matches (none for "")."""
    return SQL(f"{index} MATCH ?", (query,)) if query else SQL("0")


def holds(text: str, internal: bool):
    """The ticket's own text or a comment holds ``text`` (a LIKE per row): for a term so common
    that walking the sort order's index finds a page of matches sooner than reading them all
    from the index would."""
    columns = TICKET_COLUMNS
    if is_mysql() and _WORD_RE.fullmatch(text) and indexable(text):
        # a word at the start of a word, as the index finds it (the collation folds case; the
        # pattern folds the accents the collation folds: REGEXP does not)
        pattern = "(^|[^[:alnum:]_])" + "".join(_accent_class(c) for c in text)
        match = reduce(operator.or_, (column.iregexp(pattern) for column in columns))
        body = Comment.body.iregexp(pattern)
    else:
        match, body = contains_text(columns, text), Comment.body.contains(text)
    comments = Comment.select(SQL("1")).where((Comment.ticket == Ticket.id) & body).limit(1)
    if not internal:
        comments = comments.where(Comment.is_internal == False)  # noqa: E712
    # A scalar subquery, read for each walked row through the comments' ticket index. MariaDB
    # turns an EXISTS into an IN and reads every comment first: 35 ms a page at 35,000 comments
    # (2 ms this way), and growing with the desk's comments.
    return match | Expression(comments, "IS NOT", None)


def _accent_class(char: str) -> str:
    """One character of a MariaDB REGEXP that matches it with or without an accent, as the
    collation (and so the full-text index) does: ``e`` and ``ë`` both give ``[eèéêë…]``."""
    base = unicodedata.normalize("NFD", char)[0].lower()
    return f"[{base}{_ACCENTED[base]}]" if base in _ACCENTED else char


def _accented() -> dict[str, str]:
    """An ASCII letter -> the Latin letters (U+00C0-U+024F) built on it."""
    found: dict[str, str] = {}
    for letter in map(chr, range(0xC0, 0x250)):
        base = unicodedata.normalize("NFD", letter)[0]
        if letter.isalpha() and base != letter and base.isascii() and base.isalpha():
            found[base.lower()] = found.get(base.lower(), "") + letter
    return found


_ACCENTED = _accented()


def contains_text(columns, text: str):
    """Any of ``columns`` contains ``text``, ignoring case in every script (``ölçer`` finds
    ``ÖLÇER``); ``%`` and ``_`` are literal. MySQL's collation folds case (and accents). SQLite's
    LIKE folds ASCII letters only, so a term with other letters is matched by a GLOB listing each
    letter's cases, behind a LIKE with ``_`` in their place that skips most rows cheaply (a GLOB
    with classes over every row is ten times slower): SQLite's own code either way, no Python
    function per row."""
    if is_mysql() or text.isascii():
        return reduce(lambda a, b: a | b, (column.contains(text) for column in columns))
    like = "%" + "".join(c if c.isascii() and c not in "%_\\" else "_" for c in text) + "%"
    glob = "*" + "".join(_glob_class(c) for c in text) + "*"
    return reduce(
        lambda a, b: a | b,
        ((column**like) & Expression(column, "GLOB", glob) for column in columns),
    )


def _glob_class(char: str) -> str:
    """One character of a GLOB pattern that matches it in either case."""
    variants = sorted(v for v in {char, char.lower(), char.upper()} if len(v) == 1)
    if len(variants) > 1:
        return "[" + "".join(variants) + "]"  # letters only: nothing to escape in a class
    return f"[{char}]" if char in "*?[" else char


# --- the inventory's and the activity log's free text (schema v14) ----------------------
#
# The same scheme for the columns the inventory lists and the activity log look in. Departments
# and networks keep their LIKE scan: a desk has tens of them, read in a millisecond. The log is
# append-only (its BEFORE UPDATE/DELETE triggers abort, see schema.APPEND_ONLY_TRIGGERS), so its
# index needs an insert trigger only.

TEXT_COLUMNS = {  # the columns free text looks in (the ticket queue, the inventory, the log)
    Ticket: TICKET_COLUMNS,
    System: (System.hostname, System.asset_tag, System.serial, System.ip, System.mac),
    Peripheral: (Peripheral.name, Peripheral.asset_tag, Peripheral.serial),
    StockItem: (StockItem.name,),
    AuditEntry: (AuditEntry.summary,),
}
# (FTS5 table, table, columns) of the inventory and the log (the tickets' are above)
TEXT_SOURCES = tuple(
    (f"{model._meta.table_name}_fts", model._meta.table_name, ", ".join(c.column_name for c in columns))
    for model, columns in TEXT_COLUMNS.items()
    if model is not Ticket
)

# MariaDB (schema v17): the inventory's text again as its pairs of adjacent letters or digits,
# each one token behind a "g" ("bulk-01" -> "gbu gul glk k-g01 1"): a two-character term, which
# the word index does not hold (innodb_ft_min_token_size), is looked up instead of scanned
# (an absent one among 100,000 systems: 190 ms by LIKE, under 1 ms by the index). Schema v20
# does the same for the tickets' text and comments (an absent one among 1,000,000 tickets:
# 0.75 s by LIKE, under 1 ms), at about 6 bytes per character of text (column and index).
MARIADB_GRAMS = tuple(
    (table, "text_grams", columns)
    for _, table, columns in TEXT_SOURCES
    if table != AuditEntry._meta.table_name
)
MARIADB_TEXT_GRAMS = (
    ("ticket", "text_grams", _TICKET_COLUMNS),
    ("comment", "body_grams", "body"),
)


def _gram_statements(sources, kind: str) -> tuple[str, ...]:
    pattern, replacement = r"(\\w)(?=(\\w))", r"g\\1\\2 "
    return tuple(
        _generated(table, column, f"{table}_grams", _column(column, columns, pattern, replacement, kind))
        for table, column, columns in sources
    )


MARIADB_GRAM_STATEMENTS = _gram_statements(MARIADB_GRAMS, "TEXT")
# four characters for one: MEDIUMTEXT, as the pairs' (v19)
MARIADB_TEXT_GRAM_STATEMENTS = _gram_statements(MARIADB_TEXT_GRAMS, "MEDIUMTEXT")
_GRAM_TABLES = frozenset(table for table, _, _ in MARIADB_GRAMS + MARIADB_TEXT_GRAMS)


def _text_statements(index: str, table: str, columns: str) -> tuple[str, ...]:
    """The FTS5 table and the triggers that keep it current: on insert, and on update and
    delete unless the table is the append-only log."""
    new = f"new.id, {_ended(columns, 'new.')}"
    old = f"'delete', old.id, {_ended(columns, 'old.')}"
    add = f"INSERT INTO {index}(rowid, {columns}) VALUES ({new});"
    remove = f"INSERT INTO {index}({index}, rowid, {columns}) VALUES ({old});"
    statements = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {index} USING fts5({columns}, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {index}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {index}_vocab USING fts5vocab({index}, 'row')",
    ]
    if table != AuditEntry._meta.table_name:
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {index}_delete AFTER DELETE ON {table} BEGIN {remove} END",
            f"CREATE TRIGGER IF NOT EXISTS {index}_update AFTER UPDATE OF {columns} ON {table} "
            f"BEGIN {remove} {add} END",
        ]
    return tuple(statements)


TEXT_SQLITE_STATEMENTS = tuple(s for source in TEXT_SOURCES for s in _text_statements(*source))
TEXT_MYSQL_INDEXES = tuple((table, f"{table}_text", columns) for _, table, columns in TEXT_SOURCES)
TEXT_MYSQL_STATEMENTS = tuple(
    f"CREATE FULLTEXT INDEX `{name}` ON `{table}` ({columns})" for table, name, columns in TEXT_MYSQL_INDEXES
)


def install_text(progress: Progress | None = None) -> None:
    """Create the inventory's and the log's indexes that are missing and fill them from the rows
    there are, with the progress of :func:`install`."""
    if is_mysql():
        _create_fulltext(TEXT_MYSQL_STATEMENTS, TEXT_MYSQL_INDEXES, progress)
        return
    fresh = [source for source in TEXT_SOURCES if not database.table_exists(source[0])]
    for statement in TEXT_SQLITE_STATEMENTS:
        database.execute_sql(statement)
    if fresh:
        _fill(fresh, progress)


def end_values(progress: Progress | None = None) -> None:
    """SQLite (v18): the trigram indexes made again with ``END`` after each value: each one, its
    vocabulary and its triggers dropped, then made and filled as :func:`install` and
    :func:`install_text` make them. Nothing on MySQL."""
    if is_mysql():
        return
    for index in ("ticket_fts", "comment_fts", *(index for index, _, _ in TEXT_SOURCES)):
        for trigger in ("insert", "delete", "update"):
            database.execute_sql(f"DROP TRIGGER IF EXISTS {index}_{trigger}")
        database.execute_sql(f"DROP TABLE IF EXISTS {index}_vocab")
        database.execute_sql(f"DROP TABLE IF EXISTS {index}")
    install(progress)
    install_text(progress)


def text_ids(model, text: str, limit: int, seconds: float) -> list[int] | None:
    """The ids of the ``model`` rows whose text (:data:`TEXT_COLUMNS`) holds ``text``, read from
    the index; None when the index cannot find ``text`` or when the term is wide: more than
    ``limit`` rows, or (MySQL, where InnoDB reads a word's whole list before any LIMIT) a lookup
    longer than ``seconds``. The caller then scans with LIKE, which finds a page of a wide term
    among the first rows of the list's sort order. SQLite: the rows the trigram index lists;
    MySQL: the rows with a word that starts with ``text``'s longest word, then the exact text
    among them when ``text`` is more than one word (``bulk-0050000``: InnoDB reads the list of
    every word it is asked for, and ``bulk`` is in every seeded hostname)."""
    by_grams = grams(model, text)
    short = not is_mysql() and shortable(text)
    if not (indexable(text) or by_grams or short) or estimates(model, [text], limit)[1][0] > limit:
        return None
    columns = TEXT_COLUMNS[model]
    if by_grams:
        query = model.select(model.id).where(_match((SQL("text_grams"),), by_grams))
    elif is_mysql():
        query = model.select(model.id).where(_match(columns, _longest_word(text)))
        if _WORD_RE.fullmatch(text) is None:
            query = query.where(contains_text(columns, text))
    else:
        index = f"{model._meta.table_name}_fts"
        found = short_query(index, text) if short else fts5_string(text)
        if found is None:  # a short term that begins too many trigrams: as wide
            return None
        query = model.select(SQL("rowid")).from_(SQL(index)).where(_matches(index, found))
    query = query.limit(limit + 1)
    try:
        rows = limits.rows_within(query, seconds) if is_mysql() else list(query.tuples())
    except limits.Stopped:
        return None
    return [row[0] for row in rows] if len(rows) <= limit else None


def grams(model, text: str) -> str | None:
    """MariaDB: the boolean query that finds a two-character term in ``model``'s two-character
    index (``+gws``), or None: another engine or length, a table without one, or a character
    the index may not hold (:func:`_gram_character`)."""
    if len(text) == 2 and all(map(_gram_character, text)) and is_mariadb():
        return f"+g{text}" if model._meta.table_name in _GRAM_TABLES else None
    return None


# The characters that MariaDB's regular expression and its full-text parser both take for word
# characters, so the index holds every pair of them: ASCII letters and digits, '_', the Latin
# letters of Latin-1 to Latin Extended-B, kana, the CJK ideographs of Unicode 1.1 and Hangul
# syllables (checked one by one; letters given to Unicode later, as U+0377 or U+052F, are word
# characters to the one and not to the other).
_GRAM_RANGES = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A), (0xC0, 0x24F), (0x3041, 0x30FF),
                (0x4E00, 0x9FA5), (0xAC00, 0xD7A3))  # fmt: skip


def _gram_character(char: str) -> bool:
    return (char.isalnum() or char == "_") and any(low <= ord(char) <= high for low, high in _GRAM_RANGES)


SAMPLE = 1000  # the ids a term's share is estimated from
RUNS = 10  # in this many runs of consecutive ids, spread over all of them


def estimates(model, texts: list[str], limit: int) -> tuple[int, list[int]]:
    """About how many rows ``model`` has (its highest id) and how many of them hold each of
    ``texts``, estimated from ``SAMPLE`` ids in ``RUNS`` runs spread from the first id to the
    newest (ranges of the primary key, one statement) before the index is asked; zeros when the
    highest id is ``limit`` or less. Listing a wide term's ids costs more than the page a walk
    of the sort order finds, and InnoDB reads a common word's whole list whatever the time
    limit (a log word in 400,000 of 1,000,000 entries: 360 ms). Spread, so that a burst of like
    rows (an alert storm, a benchmark's tickets) is one run of ten, not the whole sample.
    Matches count per id: an id deleted (or used by another test database) counts as a row
    without the text."""
    top = model.select(fn.MAX(model.id)).scalar() or 0
    if top <= limit:
        return top, [0] * len(texts)
    run, step = SAMPLE // RUNS, top // RUNS  # beyond SAMPLE ids, the runs never overlap
    runs = [(1, top)] if top <= SAMPLE else [(top - k * step - run + 1, top - k * step) for k in range(RUNS)]
    sampled = reduce(operator.or_, (model.id.between(first, last) for first, last in runs))
    ids = sum(last - first + 1 for first, last in runs)
    columns = TEXT_COLUMNS[model]
    hits = [fn.SUM(Case(None, [(contains_text(columns, text), 1)], 0)) for text in texts]
    found = model.select(*hits).where(sampled).tuples()[0]
    return top, [round(int(hit or 0) * top / ids) for hit in found]  # MySQL: Decimals


def _longest_word(text: str) -> str:
    """InnoDB's boolean query for the longest word of ``text`` the index holds, as a prefix."""
    words = [w for w in _words(text) if len(w) >= MYSQL_MIN_TOKEN and w.lower() not in MYSQL_STOPWORDS]
    return f"+{max(words, key=len)}*"
