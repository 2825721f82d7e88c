"""Settings: the command line, then the environment, then a TOML configuration file, then
defaults fit for a single operator.

The file is ``$ITSM_CONFIG``, else ``config.toml`` in the user's config directory, else
``/etc/itsm-tui/config.toml`` (the first that exists). It may hold the database credentials,
so a file holding a password must be private to its owner (a ``password_file`` it names must
be, itself).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from platformdirs import user_config_dir, user_data_dir

from itsm_tui.core.errors import ItsmError

SYSTEM_CONFIG = Path("/etc/itsm-tui/config.toml")
DATABASE_KEYS = (
    "url",
    "host",
    "port",
    "user",
    "password",
    "password_file",
    "name",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "ssl_verify",
    "admin_url",
    "admin",
)
TLS_KEYS = ("ssl_ca", "ssl_cert", "ssl_key", "ssl_verify")


class ConfigError(ItsmError):
    """A setting that cannot be used; the message never holds a password."""


def config_path() -> Path | None:
    """The configuration file in use, or None when there is none."""
    named = os.environ.get("ITSM_CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"ITSM_CONFIG names {path}, which is not a file")
        return path
    for path in (Path(user_config_dir("itsm-tui", appauthor=False)) / "config.toml", SYSTEM_CONFIG):
        if path.is_file():
            return path
    return None


_loaded: tuple[Path | None, dict] | None = None


def load_file() -> tuple[Path | None, dict]:
    """(path, contents) of the configuration file, read once per process."""
    global _loaded
    if _loaded is None:
        path = config_path()
        _loaded = (path, _read(path) if path else {})
    return _loaded


def reload() -> None:
    """Forget what was read (tests, or after the file changed); settings are read again."""
    global _loaded, _settings
    _loaded = None
    _settings = None


def _read(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the configuration file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the configuration file {path} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(Settings)} | {"data_dir", "database", "mail"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {path} (known: {', '.join(sorted(known))})")
    database = data.get("database", {})
    if not isinstance(database, dict):
        raise ConfigError(f"'database' in {path} must be a [database] table")
    unknown = sorted(set(database) - set(DATABASE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]!r} in [database] of {path} (known: {', '.join(DATABASE_KEYS)})"
        )
    if _holds_secret(database):
        check_private(path, "a database password")
    mail = data.get("mail", {})
    if not isinstance(mail, dict):
        raise ConfigError(f"'mail' in {path} must be a [mail] table")
    unknown = sorted(set(mail) - {f.name for f in fields(MailSettings)})
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in [mail] of {path}")
    return data


def check_private(path: Path, what: str) -> None:
    """Refuse a file holding a secret that group or others may read (or change)."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigError(f"{path} holds {what} but group or others may read it: chmod 600 {path}")


def _holds_secret(section: dict) -> bool:
    admin: dict = section["admin"] if isinstance(section.get("admin"), dict) else {}
    urls = [section.get("url"), section.get("admin_url"), admin.get("url")]
    return any(s.get("password") for s in (section, admin)) or any(
        isinstance(u, str) and _url_has_password(u) for u in urls
    )


def _url_has_password(url: str) -> bool:
    """A password in the user part, or in a query parameter (``?password=``, refused by the
    URL's reader but a secret all the same)."""
    rest = url.partition("://")[2]
    query = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)} - {"password_file"}
    return ("@" in rest and ":" in rest.rpartition("@")[0]) or any(
        word in key for key in query for word in ("pass", "secret", "token")
    )


def data_dir() -> Path:
    """The folder for the embedded database and, in served mode, each operator's files."""
    named = os.environ.get("ITSM_DATA_DIR") or load_file()[1].get("data_dir")
    if named is not None and not isinstance(named, str):
        raise ConfigError("data_dir must be a folder name (text)")
    return Path(named).expanduser() if named else Path(user_data_dir("itsm-tui", appauthor=False))


def default_db_url() -> str:
    """The embedded default: a SQLite file in the data directory."""
    return f"sqlite:///{data_dir() / 'itsm.db'}"


def resolve_db_url(cli_value: str | None) -> str:
    """``--db`` wins, then ``ITSM_DB``, then the configuration file, then embedded SQLite."""
    return cli_value or os.environ.get("ITSM_DB") or file_db_url() or default_db_url()


def resolve_admin_url(cli_value: str | None) -> str:
    """The URL ``init`` uses for DDL: the file's admin account when the database comes from
    the file, else the same URL as every other command."""
    if cli_value or os.environ.get("ITSM_DB"):
        return resolve_db_url(cli_value)
    return file_db_url(admin=True) or resolve_db_url(None)


def file_db_url(admin: bool = False) -> str | None:
    """The database URL the configuration file describes (None: the file names none).

    ``[database]`` holds either ``url`` or ``host``/``port``/``user``/``password`` or
    ``password_file``/``name``, plus the TLS fields; ``admin_url`` or ``[database.admin]`` (any
    of the same fields, the others inherited) is the account ``init`` uses for DDL."""
    path, data = load_file()
    section = data.get("database")
    if not section:
        return None
    if admin:
        block = section.get("admin")
        if section.get("admin_url"):
            return _check_text(section["admin_url"], "admin_url", path)
        if not block:
            return None
        if not isinstance(block, dict):
            raise ConfigError(f"[database.admin] in {path} must be a table")
        if block.get("url"):
            return _check_text(block["url"], "url", path)
        if section.get("url"):
            raise ConfigError(
                f"[database] in {path} is a url: give the admin account as admin_url "
                "(or a url in [database.admin])"
            )
        section = {
            **{k: v for k, v in section.items() if k not in ("url", "password", "password_file")},
            **block,
        }
    if section.get("url"):
        both = sorted(
            k for k in ("host", "port", "user", "password", "password_file", "name") if k in section
        )
        if both:
            raise ConfigError(f"[database] in {path} has url and {', '.join(both)}: give one or the other")
        url = _check_text(section["url"], "url", path)
        tls = {k: section[k] for k in TLS_KEYS if k in section}
        if tls:
            url += ("&" if "?" in url else "?") + urlencode({k: _text(v) for k, v in tls.items()})
        return url
    if not section.get("name"):
        raise ConfigError(f"[database] in {path} needs url, or name (with host, user, ...)")
    port = section.get("port", 3306)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"port in [database] of {path} must be a number from 1 to 65535")
    user = quote(_check_text(section.get("user", "root"), "user", path), safe="")
    password = section.get("password")
    userinfo = f"{user}:{quote(_check_text(password, 'password', path), safe='')}" if password else user
    query = {k: _text(section[k]) for k in ("password_file", *TLS_KEYS) if k in section}
    host = _check_text(section.get("host", "localhost"), "host", path)
    url = f"mysql://{userinfo}@{host}:{port}/{quote(_check_text(section['name'], 'name', path), safe='')}"
    return url + (f"?{urlencode(query)}" if query else "")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_text(value, key: str, path) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} in [database] of {path} must be text")
    return value


def _int_setting(name: str, env: str, default: int, low: int, high: int | None = None, why: str = "") -> int:
    raw = os.environ.get(env)
    source = env
    if raw is None or raw == "":
        path, data = load_file()
        if name not in data:
            return default
        raw, source = data[name], f"{name} in {path}"
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{source} must be a whole number, got {raw!r}")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{source} must be a whole number, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{source} must be {limits}{why}, got {value}")
    return value


def _mode_setting() -> str:
    raw = os.environ.get("ITSM_MODE")
    source = "ITSM_MODE"
    if not raw:
        path, data = load_file()
        raw, source = data.get("mode", "local"), f"mode in {path}"
    if raw not in ("local", "served"):
        raise ConfigError(f"{source} must be local or served, got {raw!r}")
    return raw


def _keys_setting() -> tuple[tuple[str, str], ...]:
    """The ``[keys]`` section: action name = "key" or "key1,key2" (the terminal app's keys as
    the user wants them; ``?`` names each action)."""
    path, data = load_file()
    section = data.get("keys", {})
    if not isinstance(section, dict):
        raise ConfigError(f'[keys] in {path} must be a table of action = "key"')
    for action, keys in section.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f'{action} in [keys] of {path} must be a key as text, e.g. "ctrl+t"')
    return tuple((action, keys.replace(" ", "")) for action, keys in section.items())


MAX_LOCKOUT_MINUTES = 365 * 24 * 60  # a year: more is a slip, and a lock's end must stay a date


@dataclass(frozen=True)
class Settings:
    bcrypt_cost: int = 12
    lockout_threshold: int = 5  # failures from one source before that source is locked out
    lockout_minutes: int = 15
    # Failures from all sources together (within lockout_minutes) before the account is locked
    # for everyone: high, so one abusive source never locks the rightful owner out.
    account_lockout_threshold: int = 50
    attachment_max_bytes: int = 10 * 1024 * 1024
    # "local" (one person on their own machine) or "served" (a shared host reached over SSH:
    # dialogs confined to the operator's own folder, no way out to a shell).
    mode: str = "local"
    idle_lock_minutes: int = 15
    # Bounded waits on a MySQL server: a frozen or unreachable server becomes an error in
    # seconds instead of a screen that says "loading..." for minutes.
    db_connect_timeout: int = 5
    db_read_timeout: int = 30
    keys: tuple[tuple[str, str], ...] = ()  # issue 21: (action, keys) the user remapped

    @property
    def served(self) -> bool:
        return self.mode == "served"

    @classmethod
    def from_env(cls) -> Settings:
        """The environment (``ITSM_*``) over the configuration file over the defaults."""
        return cls(
            bcrypt_cost=_int_setting(
                "bcrypt_cost", "ITSM_BCRYPT_COST", cls.bcrypt_cost, 4, 31, " (bcrypt's limits)"
            ),
            lockout_threshold=_int_setting(
                "lockout_threshold", "ITSM_LOCKOUT_THRESHOLD", cls.lockout_threshold, 1
            ),
            lockout_minutes=_int_setting(
                "lockout_minutes",
                "ITSM_LOCKOUT_MINUTES",
                cls.lockout_minutes,
                1,
                MAX_LOCKOUT_MINUTES,
                " (a year)",
            ),
            account_lockout_threshold=_int_setting(
                "account_lockout_threshold",
                "ITSM_ACCOUNT_LOCKOUT_THRESHOLD",
                cls.account_lockout_threshold,
                1,
            ),
            attachment_max_bytes=_int_setting(
                "attachment_max_bytes", "ITSM_ATTACHMENT_MAX_BYTES", cls.attachment_max_bytes, 1
            ),
            mode=_mode_setting(),
            idle_lock_minutes=_int_setting(
                "idle_lock_minutes", "ITSM_IDLE_LOCK_MINUTES", cls.idle_lock_minutes, 0
            ),
            db_connect_timeout=_int_setting(
                "db_connect_timeout", "ITSM_DB_CONNECT_TIMEOUT", cls.db_connect_timeout, 1, 3600
            ),
            db_read_timeout=_int_setting(
                "db_read_timeout", "ITSM_DB_READ_TIMEOUT", cls.db_read_timeout, 1, 86400
            ),
            keys=_keys_setting(),
        )


_settings: Settings | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def override_settings(new: Settings | None) -> None:
    """Replace the process-wide settings (tests, or a CLI flag); None re-reads the environment."""
    global _settings
    _settings = new


# ---------------------------------------------------------------- e-mail intake (issue 20)


@dataclass(frozen=True)
class MailSettings:
    """The e-mail channel: ``[mail]`` in the configuration file, each key overridden by
    ``ITSM_MAIL_<KEY>`` in the environment. The SMTP settings for sending are in
    ``notify/mailer.py``."""

    address: str = ""  # the desk's address (Reply-To of what it sends); default: the SMTP From
    # Who may open tickets by e-mail besides known users: "*" anyone, else these domains.
    allowed_domains: tuple[str, ...] = ()
    acknowledge: bool = True  # answer a new e-mail ticket with its number
    reopen_days: int = 14  # a reply reopens a resolved ticket this long; later, a new linked one
    rate_limit: int = 20  # new tickets (and refusals) per sender per hour
    imap_host: str = ""  # IMAP intake is off without a host
    imap_port: int = 993
    imap_security: str = "tls"  # "tls" (port 993) or "starttls" (port 143)
    imap_user: str = ""
    imap_password_file: str = ""
    imap_folder: str = "INBOX"
    imap_done_folder: str = ""  # processed messages move here; empty: they are flagged as seen
    imap_ca_file: str = ""  # a private CA to trust (default: the system's)
    signup: bool = False  # self-service sign-up on the login screen, for the allowed domains

    def allows(self, domain: str) -> bool:
        return "*" in self.allowed_domains or domain.lower() in self.allowed_domains


_BOOL = {"1": True, "yes": True, "true": True, "on": True}
_BOOL.update({"0": False, "no": False, "false": False, "off": False})


def _mail_value(name: str, default, section: dict, path):
    raw = os.environ.get(f"ITSM_MAIL_{name.upper()}")
    source = f"ITSM_MAIL_{name.upper()}"
    if raw is None:
        if name not in section:
            return default
        raw, source = section[name], f"{name} in [mail] of {path}"
    if isinstance(default, bool):
        flag = _BOOL.get(str(raw).strip().lower()) if not isinstance(raw, bool) else raw
        if flag is None:
            raise ConfigError(f"{source} must be yes or no, got {raw!r}")
        return flag
    if isinstance(default, int):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise ConfigError(f"{source} must be at least 0, got {value}")
        return value
    if isinstance(default, tuple):
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{source} must be a list of domains")
        return tuple(str(item).strip().lower().lstrip("@") for item in items if str(item).strip())
    if not isinstance(raw, str):
        raise ConfigError(f"{source} must be text, got {raw!r}")
    return raw.strip()


def mail_settings() -> MailSettings:
    """The e-mail channel's settings, read from the environment and the file each time (cheap)."""
    path, data = load_file()
    section = data.get("mail", {})
    values = {f.name: _mail_value(f.name, f.default, section, path) for f in fields(MailSettings)}
    result = MailSettings(**values)
    if result.imap_security not in ("tls", "starttls"):
        raise ConfigError(f"imap_security must be tls or starttls, got {result.imap_security!r}")
    return result
