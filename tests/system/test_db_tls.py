"""TLS and credentials against a real MariaDB started by the test (its own CA and certificate).

The server runs with ``--ssl-ca/--ssl-cert/--ssl-key`` on a free loopback port; the account
used is created ``REQUIRE SSL`` with a password holding every troublesome character.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from servers import make_ca, make_server_cert, private_mariadb

from itsm_tui.core import config, setup
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store import db

# its module-scoped server or seed stays on one pytest-xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("tls-server")

PASSWORD = "p@ss:w/rd#?%&= é'\"x;"
USER = "tls_user"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca = make_ca(folder / "certs")
    cert, key = make_server_cert(folder / "certs", ca)
    other_ca = make_ca(folder / "other", "other-ca")
    server = private_mariadb(folder, [f"--ssl-ca={ca}", f"--ssl-cert={cert}", f"--ssl-key={key}"])
    try:
        server.sql("CREATE DATABASE itsm_tls CHARACTER SET utf8mb4")
        escaped = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
        server.sql(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{escaped}' REQUIRE SSL")
        server.sql(f"GRANT ALL ON itsm_tls.* TO '{USER}'@'127.0.0.1'")
        yield server, ca, other_ca, folder
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _unbound():
    yield
    if db.database.obj is not None:
        db.database.close()
    config.reload()


def _url(server, ca=None, host="127.0.0.1", **extra) -> str:
    query = {"ssl_ca": str(ca)} if ca else {}
    query.update(extra)
    tail = "?" + "&".join(f"{k}={quote(str(v))}" for k, v in query.items()) if query else ""
    return f"mysql://{USER}:{quote(PASSWORD, safe='')}@{host}:{server.port}/itsm_tls{tail}"


def _cipher() -> str:
    return db.database.execute_sql("SHOW STATUS LIKE 'Ssl_cipher'").fetchone()[1]


def test_the_right_ca_gives_a_verified_encrypted_session(tls_server):
    server, ca, _, _ = tls_server
    db.bind(_url(server, ca))
    assert _cipher()  # e.g. TLS_AES_256_GCM_SHA384: the session is encrypted
    assert db.database.execute_sql("SELECT CURRENT_USER()").fetchone()[0] == f"{USER}@127.0.0.1"
    assert "(TLS)" in db.describe_url(_url(server, ca)) and PASSWORD not in db.describe_url(_url(server, ca))


def test_a_wrong_ca_fails_loudly_in_one_line_without_the_password(tls_server):
    server, _, other_ca, _ = tls_server
    with pytest.raises(ItsmError) as caught:
        db.bind(_url(server, other_ca))
    message = str(caught.value)
    assert "certificate verify failed" in message and "\n" not in message
    assert "p@ss" not in message and quote(PASSWORD, safe="") not in message


def test_the_host_name_is_checked(tls_server):
    server, ca, _, _ = tls_server  # the certificate names 127.0.0.1, not localhost
    with pytest.raises(ItsmError, match="certificate verify failed|match"):
        db.bind(_url(server, ca, host="localhost"))


def test_verification_is_off_only_when_asked(tls_server):
    server, _, other_ca, _ = tls_server
    db.bind(_url(server, other_ca, ssl_verify="false"))
    assert _cipher()


def test_an_unusable_tls_setting_fails_at_once(tls_server, tmp_path):
    server, ca, _, _ = tls_server
    with pytest.raises(ItsmError, match=r"cannot use ssl_ca .*missing\.pem: No such file"):
        db.bind(_url(server, tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    with pytest.raises(ItsmError, match="cannot use ssl_ca"):
        db.bind(_url(server, tmp_path / "junk.pem"))
    with pytest.raises(ItsmError, match="unknown parameter 'ssl' .*known: ssl_ca"):
        db.bind(_url(server, None, ssl="true"))
    with pytest.raises(ItsmError, match="ssl_verify must be true or false"):
        db.bind(_url(server, ca, ssl_verify="maybe"))


def test_the_config_file_with_a_password_file_and_tls_runs_the_cli(tls_server, tmp_path):
    """As a team would: a 0600 config naming a 0600 password file and the CA; init, then work,
    with no password anywhere in argv."""
    server, ca, _, _ = tls_server
    secret = tmp_path / "db-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    conf = tmp_path / "config.toml"
    conf.write_text(
        "[database]\n"
        f'host = "127.0.0.1"\nport = {server.port}\nuser = "{USER}"\nname = "itsm_tls"\n'
        f'password_file = "{secret}"\nssl_ca = "{ca}"\n'
    )
    env = {**os.environ, "ITSM_CONFIG": str(conf), "ITSM_BCRYPT_COST": "4"}
    env.pop("ITSM_DB", None)

    def itsm(*args):
        return subprocess.run(
            [sys.executable, "-m", "itsm_tui", *args], capture_output=True, text=True, env=env, timeout=120
        )

    made = itsm("init")
    assert made.returncode == 0, made.stderr
    assert f"itsm_tls@127.0.0.1:{server.port} (TLS)" in made.stdout
    created = itsm("tickets", "create", "--title", "VPN down", "--description", "since 9")
    assert created.returncode == 0 and created.stdout.startswith("INC"), created.stderr
    listed = itsm("tickets", "list", "--format", "csv")
    assert "VPN down" in listed.stdout
    # a password file others can read is refused, naming the fix
    secret.chmod(0o644)
    refused = itsm("tickets", "list")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"itsm-tui: error: {secret} holds a database password but group "
        f"or others may read it: chmod 600 {secret}"
    )
    secret.chmod(0o600)
    # the same password given in the file itself (plain, any characters) and URL-encoded
    toml_password = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    conf.write_text(conf.read_text().replace(f'password_file = "{secret}"', f'password = "{toml_password}"'))
    conf.chmod(0o600)
    assert itsm("tickets", "list").returncode == 0
    conf.write_text(f'[database]\nurl = "{_url(server)}"\nssl_ca = "{ca}"\n')
    assert itsm("tickets", "list").returncode == 0
    conf.chmod(0o640)
    refused = itsm("tickets", "list")
    assert refused.returncode == 1 and f"chmod 600 {conf}" in refused.stderr
    assert PASSWORD not in refused.stderr and "p@ss" not in refused.stderr


def test_database_errors_reach_the_cli_user_as_one_masked_line(tls_server):
    server, _, other_ca, _ = tls_server
    env = {**os.environ, "ITSM_DB": _url(server, other_ca)}
    run = subprocess.run(
        [sys.executable, "-m", "itsm_tui", "tickets", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr and "p@ss" not in run.stderr
    assert "certificate verify failed" in run.stderr


def test_an_account_with_its_password_in_a_url_works_with_any_character(tls_server):
    server, ca, _, _ = tls_server
    setup.open_database(_url(server, ca), check=False)
    assert db.database.execute_sql("SELECT 1").fetchone() == (1,)
