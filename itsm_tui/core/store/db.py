"""Database selection by URL, engine settings, and the write-transaction helper.

``sqlite:///path/to.db`` is the embedded default; ``mysql://user:pass@host:port/name`` serves a
team (MariaDB 10.6+, MySQL 8), optionally over TLS (``?ssl_ca=...``). Models are bound to
``database`` (a proxy) at run time. No message built here ever holds a password: URLs are shown
through ``mask_url``, and every password met is remembered so ``mask`` can blank it out of any
text (a driver's error, say) before a user sees it.
"""

from __future__ import annotations

import functools
import os
import random
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from peewee import InterfaceError, MySQLDatabase, OperationalError, SqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from itsm_tui.core import config
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import models
from itsm_tui.core.store.models import database  # the proxy the models use; bind() points it at a database

# Strict mode makes oversize or invalid values an error instead of a silent truncation.
MYSQL_SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)
MYSQL_TABLE_SETTINGS = ["ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_unicode_ci"]
# Deadlock (and Galera's certification conflict, reported at COMMIT) and lock-wait timeout: the
# whole transaction may simply be run again.
RETRYABLE_MYSQL_ERRORS = (1213, 1205)
# Lost connection, server gone, node not ready: the transaction may or may not have committed,
# so it runs again only when a request key makes a second run find the first (see requests.py).
RECONNECT_MYSQL_ERRORS = (0, 2006, 2013, 2055, 1047)
MAX_ATTEMPTS = 6
URL_HELP = "use sqlite:///path/to.db or mysql://user:password@host:port/dbname"
URL_PARAMETERS = ("ssl_ca", "ssl_cert", "ssl_key", "ssl_verify", "password_file")
_SECRETS: set[str] = set()


class ReconnectingMySQLDatabase(ReconnectMixin, MySQLDatabase):
    """A MySQL/MariaDB database behind one or more hosts (a Galera cluster's nodes).

    Connecting tries the hosts in the URL's order and passes over one that does not answer
    within the connect timeout or, on Galera, is not ready (``wsrep_ready`` OFF: out of quorum,
    answering 1047 to everything). A lost connection, or a node that stops being ready, is
    reconnected (so to the next good host) before the next statement, but never inside a
    transaction: ``transactional`` decides whether a transaction may be run again. On Galera
    each session waits for the cluster's earlier commits before it reads
    (``wsrep_sync_wait``), so an operator always reads their own writes, whichever node served
    them.
    """

    reconnect_errors = ReconnectMixin.reconnect_errors + ((OperationalError, "1047"),)
    is_mariadb = False  # the server is MariaDB (known once connected): see is_mariadb()

    def __init__(self, *args, hosts: tuple[tuple[str, int], ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.hosts = hosts or ((kwargs.get("host", "localhost"), kwargs.get("port", 3306)),)

    def open_on(self, host: str, port: int):
        """A connection of its own to one node (not a session's: see limits.Stopper, which must
        stop a statement on the node that runs it)."""
        import pymysql

        params = {**self.connect_params, "host": host, "port": port, "conv": _conversions()}
        return pymysql.connect(database=self.database, autocommit=True, **params)

    def _connect(self):
        import pymysql

        failures = []
        for host, port in self.hosts:
            try:
                conn = self.open_on(host, port)
            except pymysql.err.OperationalError as exc:
                if exc.args and exc.args[0] in (1044, 1045, 1049):  # the same on every node
                    raise
                failures.append(exc)
                continue
            if _ready(conn):
                self.is_mariadb = "mariadb" in conn.get_server_info().lower()
                return conn
            conn.close()
            failures.append(pymysql.err.OperationalError(1047, f"node {host}:{port} is not ready"))
        raise failures[-1]


@functools.cache
def _conversions() -> dict:
    """PyMySQL's converters, DATETIME and TIMESTAMP read by ``datetime.fromisoformat`` (C)
    instead of PyMySQL's regular expression: a page of 50 tickets has 400 of them, and their
    parsing was a seventh of a MariaDB page's CPU."""
    from pymysql.constants import FIELD_TYPE
    from pymysql.converters import conversions, convert_datetime

    def read(text):
        try:
            return datetime.fromisoformat(text)
        except (TypeError, ValueError):  # what PyMySQL makes of it (an invalid date: the text)
            return convert_datetime(text)

    return {**conversions, FIELD_TYPE.DATETIME: read, FIELD_TYPE.TIMESTAMP: read}


def _ready(conn) -> bool:
    """A plain server is ready; a Galera node only while it is in the primary component. Its
    sessions then read their own writes made through any node."""
    with conn.cursor() as cur:
        cur.execute("SHOW VARIABLES LIKE 'wsrep_on'")
        row = cur.fetchone()
        if not row or row[1] != "ON":
            return True
        cur.execute("SHOW STATUS LIKE 'wsrep_ready'")
        row = cur.fetchone()
        if not row or row[1] != "ON":
            return False
        cur.execute("SET SESSION wsrep_sync_wait = 1")
    return True


class UrlError(ItsmError):
    """A database URL or setting that cannot be used; the message never holds the password."""


def remember_secret(secret: str | None) -> None:
    """Note a password so ``mask`` blanks it (and its URL-encoded form) out of any message."""
    if secret and len(secret) >= 3:  # shorter ones would blank ordinary words out of messages
        _SECRETS.update({secret, quote(secret, safe="")})


def mask(text: str) -> str:
    """``text`` with every password this process has met replaced by ***."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def mask_url(url: str) -> str:
    """The URL with its password (whatever it holds, even unencoded '/', '#' or '@') as ***,
    and the value of every query parameter it should not have (``?password=...``) too."""
    head, sep, rest = url.partition("://")
    if sep and "@" in rest:
        userinfo, _, tail = rest.rpartition("@")
        user = userinfo.split(":", 1)[0]
        url = f"{head}://{user}:***@{tail}" if ":" in userinfo else url
    return mask(_UNKNOWN_VALUE.sub(lambda m: m[0] if m[2] in URL_PARAMETERS else f"{m[1]}{m[2]}=***", url))


_UNKNOWN_VALUE = re.compile(r"([?&])([^=&#]*)=([^&#]*)")


@dataclass(frozen=True)
class MySQLTarget:
    host: str  # the first of ``hosts``
    port: int
    user: str
    password: str
    name: str
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    ssl_verify: bool = True
    # Every (host, port) of the URL, in the order to try them (a Galera cluster's nodes).
    hosts: tuple[tuple[str, int], ...] = ()

    @property
    def tls(self) -> bool:
        return bool(self.ssl_ca or self.ssl_cert or self.ssl_key)


def _bool(value: str, what: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise UrlError(f"{what} must be true or false, got {value!r}")


def parse_mysql_url(url: str) -> MySQLTarget:
    """Read a mysql:// URL, or raise UrlError with one line that never shows the password."""
    shown = mask_url(url)
    parts = urlsplit(url)
    # An unencoded '/', '?' or '#' in the password ends the host part early: what follows then
    # holds an '@' (or a fragment), and the "port" would be a piece of the password.
    if parts.fragment or "@" in parts.path or "@" in parts.query or "#" in url:
        raise UrlError(
            f"cannot read the database URL {shown}: URL-encode special characters in the "
            "user and password (# as %23, / as %2F, ? as %3F, @ as %40, : as %3A, % as %25), "
            "or give the password in the configuration file"
        )
    hosts = tuple(_host_and_port(item, shown) for item in parts.netloc.rpartition("@")[2].split(","))
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        raise UrlError(f"no database name in URL {shown}: end it with /dbname")
    password = unquote(parts.password or "")
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in URL_PARAMETERS:
            raise UrlError(
                f"unknown parameter {key!r} in database URL {shown} (known: {', '.join(URL_PARAMETERS)})"
            )
        options[key] = value
    if "password_file" in options:
        password = read_password_file(options["password_file"])
    remember_secret(password)
    return MySQLTarget(
        host=hosts[0][0],
        port=hosts[0][1],
        hosts=hosts,
        user=unquote(parts.username or "root"),
        password=password,
        name=name,
        ssl_ca=options.get("ssl_ca") or None,
        ssl_cert=options.get("ssl_cert") or None,
        ssl_key=options.get("ssl_key") or None,
        ssl_verify=_bool(options["ssl_verify"], "ssl_verify") if "ssl_verify" in options else True,
    )


def _host_and_port(item: str, shown: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6::addr]:port`` of a URL's host list."""
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        raw_port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, raw_port = item.partition(":")
    if not raw_port:
        return host or "localhost", 3306
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise UrlError(f"bad port {raw_port!r} in database URL {shown}: use a number from 1 to 65535")
    return host or "localhost", int(raw_port)


def read_password_file(name: str) -> str:
    """The password in a file: its first line, taken as is (any characters)."""
    path = Path(name).expanduser()
    try:
        config.check_private(path, "a database password")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UrlError(f"cannot read the password file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UrlError(f"the password file {path} is not UTF-8 text") from None
    password = text.split("\n", 1)[0].removesuffix("\r")
    remember_secret(password)
    return password


def tls_context(target: MySQLTarget) -> ssl.SSLContext | None:
    """The TLS settings as an SSLContext: verification on (CA, hostname) unless switched off.

    Built before connecting, so a missing or unreadable file fails at once and by name.
    PyMySQL's own ``ssl`` dict would silently skip verification when no CA is given."""
    if not target.tls:
        return None
    try:
        context = ssl.create_default_context(cafile=target.ssl_ca)
    except (OSError, ssl.SSLError) as exc:
        raise UrlError(f"cannot use ssl_ca {target.ssl_ca}: {_reason(exc)}") from None
    if not target.ssl_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if target.ssl_cert or target.ssl_key:
        if not (target.ssl_cert and target.ssl_key):
            raise UrlError("ssl_cert and ssl_key go together: give both or neither")
        try:
            context.load_cert_chain(target.ssl_cert, target.ssl_key)
        except (OSError, ssl.SSLError) as exc:
            raise UrlError(
                f"cannot use ssl_cert {target.ssl_cert} with ssl_key {target.ssl_key}: {_reason(exc)}"
            ) from None
    return context


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)


def describe_url(url: str) -> str:
    """Engine and database name for display; never the password."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return f"SQLite {_sqlite_path(url)}"
    try:
        target = parse_mysql_url(url)
    except ItsmError:
        return mask_url(url)
    hosts = parts.netloc.rpartition("@")[2]  # as typed: a port only where one was given
    return f"MySQL {target.name}@{hosts}{' (TLS)' if target.tls else ''}"


def _sqlite_path(url: str) -> str:
    # sqlite:///rel.db -> "rel.db"; sqlite:////abs/x.db -> "/abs/x.db"; sqlite:///:memory: too.
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    return path[1:] if path.startswith("/") else path


# Schema changes and bulk loads: an index over a million rows takes minutes on a slow disk.
LONG_READ_TIMEOUT = 3600


def make_database(url: str, long_statements: bool = False):
    """Build (without connecting) the peewee database for a URL; ``long_statements`` lifts the
    read timeout meant for interactive work (see ``LONG_READ_TIMEOUT``)."""
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme == "sqlite":
        path = _sqlite_path(url)
        if not path:
            raise UrlError(f"no file name in database URL {url!r}")
        if path != ":memory:":
            _private_folder(Path(path).expanduser().parent)
        return SqliteDatabase(
            str(Path(path).expanduser()) if path != ":memory:" else path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10_000,
                "synchronous": "normal",
            },
            timeout=10,
            # A write that reads first must hold the write lock from the start, or SQLite
            # answers SQLITE_BUSY at once instead of waiting for the busy timeout.
            lock_type="IMMEDIATE",
        )
    if scheme in ("mysql", "mariadb"):
        target = parse_mysql_url(url)
        settings = config.settings()
        return ReconnectingMySQLDatabase(
            target.name,
            host=target.host,
            port=target.port,
            user=target.user,
            # PyMySQL sends a str password as Latin-1; UTF-8 bytes let any character through.
            password=target.password.encode("utf-8"),
            ssl=tls_context(target),
            charset="utf8mb4",
            sql_mode=MYSQL_SQL_MODE,
            init_command="SET time_zone = '+00:00'",
            connect_timeout=settings.db_connect_timeout,
            read_timeout=LONG_READ_TIMEOUT if long_statements else settings.db_read_timeout,
            write_timeout=LONG_READ_TIMEOUT if long_statements else settings.db_read_timeout,
            hosts=target.hosts,
        )
    raise UrlError(f"unsupported database URL {mask_url(url)}: {URL_HELP}")


def _private_folder(folder: Path) -> None:
    """Create the database's folder readable by its owner only (0700)."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
        folder.chmod(0o700)  # mkdir's mode passes through the umask


def _private_files(path: str) -> None:
    """The SQLite file and its -wal and -shm files: owner only (0600). SQLite gives a new -wal
    or -shm the mode of the database file, so this holds for the files it makes later too."""
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(name).st_uid == os.geteuid():
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def is_mysql(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, MySQLDatabase)


def is_mariadb() -> bool:
    """The database is on a MariaDB server (not MySQL): asked of a connected database."""
    if not is_mysql():
        return False
    database.obj.connection()  # the server is known once connected
    return getattr(database.obj, "is_mariadb", False)


def bind(url: str, long_statements: bool = False):
    """Point the models at the database behind ``url`` and connect to it."""
    db = make_database(url, long_statements)
    if database.obj is not None and not database.is_closed():
        database.close()
    database.initialize(db)
    settings = MYSQL_TABLE_SETTINGS if is_mysql(db) else []
    for model in models.ALL_MODELS:
        model._meta.table_settings = settings
    sqlite_file = isinstance(db, SqliteDatabase) and db.database != ":memory:"
    previous = os.umask(0o077) if sqlite_file else None
    try:
        db.connect(reuse_if_open=True)
    except OperationalError as exc:
        raise ItsmError(f"cannot open {describe_url(url)}: {mask(str(exc.args[-1]))}") from None
    finally:
        if previous is not None:
            os.umask(previous)
    if sqlite_file:
        _private_files(db.database)
    return db


T = TypeVar("T")


def _code(exc: Exception) -> int | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Run ``fn`` in one write transaction (a savepoint when nested).

    The outermost call runs the whole transaction again, after a growing pause with jitter, on
    a MySQL deadlock, a lock-wait timeout or a Galera certification conflict (each reported at
    commit, each harmless to repeat). After a lost connection or a node that stopped being
    ready it runs again only when the call carries a ``request_key``: the first run may have
    committed, and the key makes the second find it instead of writing twice.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if database.in_transaction():
            with database.atomic():
                return fn(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with database.atomic():
                    return fn(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                code = _code(exc) if isinstance(exc, OperationalError) else 0
                again = code in RETRYABLE_MYSQL_ERRORS or (
                    code in RECONNECT_MYSQL_ERRORS and kwargs.get("request_key") and is_mysql()
                )
                if attempt == MAX_ATTEMPTS or not again:
                    raise
                if code in RECONNECT_MYSQL_ERRORS:
                    database.close()  # the next attempt connects to the next good host
                time.sleep(random.uniform(0.5, 1.0) * 0.04 * 2**attempt)
        raise AssertionError("unreachable")

    return wrapper


def optimize(full: bool = False) -> None:
    """Refresh the planner's statistics, so queue queries pick the index that serves the sort.

    SQLite plans blindly without statistics. ``PRAGMA optimize`` analyses only what the
    session's queries would have profited from, so it is cheap when a session ends; ``full``
    (after a bulk load) analyses everything. InnoDB keeps its own statistics; a bulk load
    refreshes them at once.
    """
    if is_mysql():
        if full:
            database.execute_sql("ANALYZE TABLE ticket, audit_log, comment, `user`")
    else:
        database.execute_sql("ANALYZE" if full else "PRAGMA optimize")
