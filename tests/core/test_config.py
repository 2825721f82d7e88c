"""The configuration file, URL checks that never show a password, file modes, and the CLI's
one-line errors (run as a user would: a subprocess)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from itsm_tui.core import config, setup
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import db


@pytest.fixture
def conf(tmp_path, monkeypatch):
    """A configuration file named by ITSM_CONFIG; the environment's own settings removed."""
    path = tmp_path / "config.toml"
    path.write_text("")
    for name in ("ITSM_DB", "ITSM_DATA_DIR", "ITSM_MODE", "ITSM_IDLE_LOCK_MINUTES", "ITSM_LOCKOUT_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ITSM_CONFIG", str(path))
    config.reload()
    yield path
    config.reload()


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)
    config.reload()


def cli(*args, env_extra=None, config_file=None):
    env = {k: v for k, v in os.environ.items() if k not in ("ITSM_DB", "ITSM_CONFIG")}
    env.update({"ITSM_BCRYPT_COST": "4", **(env_extra or {})})
    if config_file:
        env["ITSM_CONFIG"] = str(config_file)
    return subprocess.run(
        [sys.executable, "-m", "itsm_tui", *args], capture_output=True, env=env, timeout=120
    )


def one_line(run) -> str:
    err = run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err.strip()


# ---------------------------------------------------------------------- the file and precedence


def test_the_file_is_found_where_documented(tmp_path, monkeypatch):
    monkeypatch.delenv("ITSM_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config.reload()
    user_file = tmp_path / "xdg" / "itsm-tui" / "config.toml"
    if not config.SYSTEM_CONFIG.exists():
        assert config.config_path() is None
    user_file.parent.mkdir(parents=True)
    user_file.write_text('mode = "served"\n')
    assert config.config_path() == user_file
    named = tmp_path / "named.toml"
    named.write_text("")
    monkeypatch.setenv("ITSM_CONFIG", str(named))
    assert config.config_path() == named  # ITSM_CONFIG first
    monkeypatch.setenv("ITSM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ItsmError, match="ITSM_CONFIG names .*missing.toml, which is not a file"):
        config.config_path()
    config.reload()


def test_settings_come_from_the_file_and_the_environment_wins(conf, monkeypatch, tmp_path):
    write(
        conf,
        f'mode = "served"\nidle_lock_minutes = 5\nlockout_threshold = 3\ndata_dir = "{tmp_path / "data"}"\n',
    )
    settings = config.Settings.from_env()
    assert (settings.mode, settings.served, settings.idle_lock_minutes) == ("served", True, 5)
    assert settings.lockout_threshold == 3 and settings.bcrypt_cost == 4  # from ITSM_BCRYPT_COST
    assert config.data_dir() == tmp_path / "data"
    assert config.default_db_url() == f"sqlite:///{tmp_path / 'data' / 'itsm.db'}"
    monkeypatch.setenv("ITSM_MODE", "local")
    monkeypatch.setenv("ITSM_IDLE_LOCK_MINUTES", "30")
    assert (config.Settings.from_env().mode, config.Settings.from_env().idle_lock_minutes) == ("local", 30)


def test_database_precedence_cli_then_env_then_file_then_sqlite(conf, monkeypatch, tmp_path):
    monkeypatch.setenv("ITSM_DATA_DIR", str(tmp_path / "d"))
    assert config.resolve_db_url(None) == f"sqlite:///{tmp_path / 'd' / 'itsm.db'}"
    write(conf, '[database]\nurl = "sqlite:///from-file.db"\n')
    assert config.resolve_db_url(None) == "sqlite:///from-file.db"
    monkeypatch.setenv("ITSM_DB", "sqlite:///from-env.db")
    assert config.resolve_db_url(None) == "sqlite:///from-env.db"
    assert config.resolve_db_url("sqlite:///from-cli.db") == "sqlite:///from-cli.db"


def test_database_fields_and_the_admin_account(conf):
    write(
        conf,
        '[database]\nhost = "db.example"\nport = 3307\nuser = "itsm"\nname = "itsm"\n'
        'password = "p@ss:w/rd#?é"\nssl_ca = "/etc/itsm-tui/ca.pem"\n\n'
        '[database.admin]\nuser = "itsm_admin"\npassword_file = "/etc/itsm-tui/admin-password"\n',
    )
    runtime = config.resolve_db_url(None)
    target = db.parse_mysql_url(runtime)
    assert (target.host, target.port, target.user, target.password, target.name) == (
        "db.example",
        3307,
        "itsm",
        "p@ss:w/rd#?é",
        "itsm",
    )
    assert target.ssl_ca == "/etc/itsm-tui/ca.pem" and target.ssl_verify and target.tls
    admin = config.resolve_admin_url(None)
    assert admin.startswith("mysql://itsm_admin@db.example:3307/itsm?")
    assert "password_file=%2Fetc%2Fitsm-tui%2Fadmin-password" in admin and "ssl_ca=" in admin
    assert "p%40ss" not in admin  # the runtime password is not inherited
    assert config.resolve_admin_url("sqlite:///other.db") == "sqlite:///other.db"  # --db: no admin


def test_a_file_holding_a_password_must_be_private(conf):
    for text in (
        '[database]\nurl = "mysql://itsm:secret-pw@db/itsm"\n',
        '[database]\nurl = "mysql://itsm@db/itsm?password=secret-pw"\n',  # refused, but a secret
        '[database]\nname = "itsm"\npassword = "secret-pw"\n',
        '[database]\nname = "itsm"\n[database.admin]\npassword = "secret-pw"\n',
    ):
        for mode in (0o644, 0o640, 0o604):
            write(conf, text, mode)
            with pytest.raises(ItsmError) as caught:
                config.load_file()
            assert str(caught.value) == (
                f"{conf} holds a database password but group or others may read it: chmod 600 {conf}"
            )
        write(conf, text, 0o600)
        assert config.load_file()[0] == conf
    write(conf, '[database]\nname = "itsm"\npassword_file = "/etc/itsm-tui/pw"\nmode = 1\n', 0o644)
    with pytest.raises(ItsmError, match="unknown setting 'mode' in \\[database\\]"):
        config.load_file()
    write(conf, '[database]\nname = "itsm"\npassword_file = "/etc/itsm-tui/pw"\n', 0o644)
    assert config.load_file()[1]["database"]["name"] == "itsm"  # names a file: holds no secret


def test_bad_files_and_values_are_one_clear_line(conf, monkeypatch):
    monkeypatch.delenv("ITSM_BCRYPT_COST")  # the environment would win over the file
    cases = {
        "mode = served\n": "is not valid TOML",
        "colour = 1\n": "unknown setting 'colour'",
        'mode = "shared"\n': "mode in .* must be local or served, got 'shared'",
        'bcrypt_cost = "12"\n': "bcrypt_cost in .* must be a whole number",
        "bcrypt_cost = 40\n": "must be from 4 to 31 \\(bcrypt's limits\\), got 40",
        '[database]\nhost = "db"\n': "needs url, or name",
        '[database]\nname = "x"\nport = 70000\n': "port in \\[database\\] .* from 1 to 65535",
        '[database]\nurl = "sqlite:///x.db"\nname = "x"\n': "has url and name: give one or the other",
    }
    for text, message in cases.items():
        write(conf, text)
        with pytest.raises(ItsmError, match=message):
            config.Settings.from_env()
            config.resolve_db_url(None)


def test_lockout_minutes_is_at_most_a_year(monkeypatch):
    """A lock longer than a year is a slip (9999999999999 overflowed every failed login)."""
    monkeypatch.setenv("ITSM_LOCKOUT_MINUTES", "9999999999999")
    with pytest.raises(
        ItsmError, match=r"^ITSM_LOCKOUT_MINUTES must be from 1 to 525600 \(a year\), got 9999999999999$"
    ):
        config.Settings.from_env()
    monkeypatch.setenv("ITSM_LOCKOUT_MINUTES", "525600")
    assert config.Settings.from_env().lockout_minutes == 525600


# ------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgres://u:Sekr3t-pw@h/db", "unsupported database URL postgres://u:\\*\\*\\*@h/db"),
        ("mysql://u:Sek#r3t-pw@h/db", "cannot read the database URL mysql://u:\\*\\*\\*@h/db: URL-encode"),
        ("mysql://u:Sek/r3t-pw@h/db", "cannot read the database URL"),
        ("mysql://u:Sek?r3t@pw@h/db", "cannot read the database URL"),
        ("mysql://u:Sekr3t-pw@h:abc/db", "bad port 'abc' in database URL mysql://u:\\*\\*\\*@h:abc/db"),
        ("mysql://u:Sekr3t-pw@h:70000/db", "bad port '70000'"),
        ("mysql://u:Sekr3t-pw@h:3306/", "no database name in URL mysql://u:\\*\\*\\*@h:3306/"),
        ("mysql://u:Sekr3t-pw@h/db?sslmode=on", "unknown parameter 'sslmode'"),
        (
            "mysql://u@h/db?password=Sekr3t-pw",
            "unknown parameter 'password' in database URL .*password=\\*\\*\\*",
        ),
    ],
)
def test_bad_urls_give_one_line_without_the_password(url, message):
    with pytest.raises(ItsmError, match=message) as caught:
        db.make_database(url)
    text = str(caught.value)
    assert "Sek" not in text and "r3t" not in text and "\n" not in text
    assert "Sek" not in db.describe_url(url) and "r3t" not in db.describe_url(url)


def test_an_unencoded_colon_in_the_password_is_read_as_part_of_it():
    assert db.parse_mysql_url("mysql://u:pa:ss@h/db").password == "pa:ss"
    assert db.parse_mysql_url("mysql://u:p%40ss%23%3A%2F@h/db").password == "p@ss#:/"


def test_describe_url_never_shows_the_password():
    assert db.describe_url("mysql://helpdesk:s3cret@db.example:3307/itsm") == "MySQL itsm@db.example:3307"
    assert "s3cret" not in db.describe_url("mysql://helpdesk:s3cret#x@db.example/itsm")


# --------------------------------------------------------------------------- file modes


def test_data_folder_0700_and_database_files_0600(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "umask", os.umask)  # restored by monkeypatch after the test
    previous = os.umask(0o022)
    try:
        folder = tmp_path / "data" / "itsm"
        url = f"sqlite:///{folder / 'itsm.db'}"
        setup.open_database(url, check=False)
        setup.initialise()
        db.database.execute_sql("INSERT INTO category (name, is_active) VALUES ('x', 1)")
        modes = {
            name: stat.S_IMODE(os.stat(folder / name).st_mode)
            for name in ("itsm.db", "itsm.db-wal", "itsm.db-shm")
        }
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert modes == {"itsm.db": 0o600, "itsm.db-wal": 0o600, "itsm.db-shm": 0o600}
        db.database.close()
        (folder / "itsm.db").chmod(0o644)  # made by an older release
        setup.open_database(url)
        assert stat.S_IMODE((folder / "itsm.db").stat().st_mode) == 0o600
        db.database.close()
    finally:
        os.umask(previous)


# ------------------------------------------------------------------------ the CLI, one line


def test_bad_settings_and_urls_are_one_line_at_the_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cases = [
        (
            {"ITSM_BCRYPT_COST": "3"},
            ("--db", url, "user", "list"),
            "itsm-tui: error: ITSM_BCRYPT_COST must be from 4 to 31 (bcrypt's limits), got 3",
        ),
        (
            {"ITSM_LOCKOUT_MINUTES": "ten"},
            ("--db", url, "user", "list"),
            "itsm-tui: error: ITSM_LOCKOUT_MINUTES must be a whole number, got 'ten'",
        ),
        (
            {"ITSM_DB": "mysql://u:Sekr3t-pw@127.0.0.1:abc/db"},
            ("tickets", "list"),
            "itsm-tui: error: bad port 'abc' in database URL mysql://u:***@127.0.0.1:abc/db: use a "
            "number from 1 to 65535",
        ),
        (
            {},
            ("--db", "mysql://u:Sek#r3t@127.0.0.1/db", "init"),
            "itsm-tui: error: cannot read the database URL",
        ),
        (
            {},
            ("--db", "mysql://itsm:Sekr3t-pw@127.0.0.1:1/db", "tickets", "list"),
            "itsm-tui: error: cannot open MySQL db@127.0.0.1:1: Can't connect",
        ),
        (
            {},
            ("--db", f"sqlite:///{tmp_path / 'nothing.db'}", "tickets", "list"),
            "itsm-tui: error: the database is not initialised: run itsm-tui init",
        ),
    ]
    for env, args, expected in cases:
        run = cli(*args, env_extra=env)
        assert run.returncode == 1, (args, run.stderr)
        err = run.stderr.decode()
        lines = [line for line in err.splitlines() if not line.startswith("itsm-tui: warning:")]
        assert len(lines) == 1 and lines[0].startswith(expected), err
        assert "Traceback" not in err and "Sek" not in err and "r3t" not in err


def test_a_password_on_the_command_line_warns_that_ps_shows_it(tmp_path):
    run = cli("--db", "mysql://itsm:Sekr3t-pw@127.0.0.1:1/db", "tickets", "list")
    warning = run.stderr.decode().splitlines()[0]
    assert warning.startswith("itsm-tui: warning: the password in --db is visible to every user")
    assert "configuration file" in warning and "Sekr3t" not in run.stderr.decode()
    quiet = cli("--db", f"sqlite:///{tmp_path / 'x.db'}", "init")
    assert quiet.returncode == 0 and b"warning" not in quiet.stderr


def test_a_database_error_mid_command_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli("--db", url, "init").returncode == 0
    import sqlite3

    holder = sqlite3.connect(tmp_path / "x.db", timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock past the 10 s wait
    try:
        run = cli("--db", url, "tickets", "create", "--title", "t", "--description", "d")
    finally:
        holder.rollback()
        holder.close()
    assert run.returncode == 1
    assert one_line(run) == "itsm-tui: error: the database is locked by another writer"


def test_arguments_that_are_not_utf8_are_one_clear_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli("--db", url, "init").returncode == 0
    run = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"itsm_tui",
            b"--db",
            url.encode(),
            b"tickets",
            b"create",
            b"--title=\xff\xfe",
            b"--description",
            b"d",
        ],
        capture_output=True,
        env={**os.environ, "ITSM_BCRYPT_COST": "4"},
        timeout=120,
    )
    assert run.returncode == 2
    err = run.stderr.decode()
    assert "Traceback" not in err and err.splitlines()[-1] == (
        "itsm-tui: error: --title is not valid UTF-8 text: check the terminal's or the file's encoding"
    )


def test_a_host_list_is_read_in_order_and_a_bad_port_in_it_is_one_line():
    target = db.parse_mysql_url("mysql://app:s3cret@node1:3311,node2,[::1]:3313/itsm")
    assert target.hosts == (("node1", 3311), ("node2", 3306), ("::1", 3313))
    assert (target.host, target.port) == ("node1", 3311)
    assert db.describe_url("mysql://app:s3cret@node1:3311,node2/itsm") == "MySQL itsm@node1:3311,node2"
    for bad in ("mysql://app:s3cret@node1:3311,node2:abc/itsm", "mysql://app:s3cret@node1:70000,node2/itsm"):
        with pytest.raises(db.UrlError) as caught:
            db.parse_mysql_url(bad)
        assert "bad port" in str(caught.value) and "s3cret" not in str(caught.value)


def test_keys_section_is_checked_issue21(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nmacro = "M"\nstatus = 3\n')
    monkeypatch.setenv("ITSM_CONFIG", str(path))
    config.reload()
    try:
        with pytest.raises(config.ConfigError, match="status in \\[keys\\]"):
            config.Settings.from_env()
        path.write_text('[keys]\nmacro = "M, ctrl+m"\n')
        config.reload()
        assert config.Settings.from_env().keys == (("macro", "M,ctrl+m"),)
    finally:
        monkeypatch.undo()
        config.reload()
