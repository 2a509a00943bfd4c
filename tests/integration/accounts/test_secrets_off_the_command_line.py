"""Guarantee 18, secrets never on a command line: `credentials set` takes the secret from a prompt, standard
input or a private file (never an argument the process list shows); `db url` masks passwords; the paper
simulator process inherits no secret."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from autoinvest import paper
from autoinvest.accounts import vault
from autoinvest.db.tx import AppConnection, user_tx
from tests.integration.accounts.conftest import CliResult, VaultKeys, row_counts
from tests.support.database import ROLE_PASSWORD, DatabaseUnderTest
from tests.support.simulator import RunningSimulator

Cli = Callable[..., CliResult]
Admin = psycopg.Connection[dict[str, Any]]


@pytest.fixture
def user(invoke: Cli) -> uuid.UUID:
    result = invoke("users", "create", f"secrets-{uuid.uuid4().hex[:8]}@example.org")
    assert result.code == 0, result.stderr
    return uuid.UUID(result.stdout.strip())


def _process_texts() -> dict[int, bytes]:
    """Every process's command line, and its environment where we may read it."""
    texts: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            for part in ("cmdline", "environ"):
                try:
                    texts[int(entry.name)] = texts.get(int(entry.name), b"") + (entry / part).read_bytes()
                except OSError:  # gone, or another user's environment
                    continue
    return texts


@pytest.mark.parametrize("source", ["stdin", "secret-file"])
async def test_the_secret_of_credentials_set_never_appears_in_the_process_list(
        db: DatabaseUnderTest, vault_keys: VaultKeys, sim: RunningSimulator, app_conn: AppConnection,
        user: uuid.UUID, tmp_path: Path, source: str) -> None:
    view_key = sim.admin.create_account({"EUR": "10"}, ["view"])
    secret = view_key.api_secret.encode()
    args = [sys.executable, "-m", "autoinvest.cli", "credentials", "set", "--user", str(user), "--purpose",
            "readonly", "--key", view_key.api_key, "--exchange-url", sim.url]
    if source == "secret-file":
        secret_file = tmp_path / "secret"
        secret_file.write_bytes(secret + b"\n")
        secret_file.chmod(0o600)
        args += ["--secret-file", str(secret_file)]
    # The read-only key's cancel probe waits 2.5 s at the exchange: the command is observed while it runs.
    sim.admin.fault("DELETE /order", "latency", count=1, latency_ms=2500)
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    with out_path.open("wb") as out_file, err_path.open("wb") as err_file:
        proc = subprocess.Popen(args, env=db.env(**vault_keys.env(), AUTOINVEST_EXCHANGE_URL=sim.url),
                                stdin=subprocess.PIPE, stdout=out_file, stderr=err_file)
    assert proc.stdin is not None
    with proc.stdin:  # `echo "$SECRET" | autoinvest credentials set ...`
        proc.stdin.write(secret + b"\n" if source == "stdin" else b"")
    observed, leaked = 0, set()
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() - started < 60:
        texts = _process_texts()
        observed += proc.pid in texts and b"credentials" in texts[proc.pid]
        leaked |= {pid for pid, text in texts.items() if secret in text}
        time.sleep(0.02)
    proc.wait(timeout=30)
    out, err = out_path.read_bytes(), err_path.read_bytes()
    assert proc.returncode == 0, err.decode()
    assert observed >= 20, f"the command was seen running in only {observed} looks at /proc"
    assert leaked == set(), f"the secret is in the command line or environment of processes {leaked}"
    assert secret not in out + err
    credential_id = uuid.UUID(out.decode().strip())
    async with user_tx(app_conn, user):  # stored, and it is the secret that was typed
        loaded = await vault.load_credential(app_conn, user, "readonly", vault_keys.settings())
    assert loaded.api_secret == view_key.api_secret and credential_id


def _read_until(fd: int, done: Callable[[bytes], bool], timeout_s: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout_s
    while not done(seen) and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            seen += os.read(fd, 4096)
    return seen


# Run in a new session: opening the terminal makes it the controlling one (getpass reads /dev/tty), then exec.
ON_TERMINAL = ("import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); [os.dup2(fd, n) for n in (0, 1, 2)];"
               " os.execv(sys.executable, [sys.executable, *sys.argv[2:]])")


async def test_on_a_terminal_the_secret_is_read_from_a_prompt_that_does_not_echo(
        db: DatabaseUnderTest, vault_keys: VaultKeys, simulator: RunningSimulator, app_conn: AppConnection,
        user: uuid.UUID) -> None:
    view_key = simulator.admin.create_account({"EUR": "10"}, ["view"])
    master, slave = os.openpty()  # both ends stay open here until the end: the child opens the terminal by name
    proc = subprocess.Popen([sys.executable, "-c", ON_TERMINAL, os.ttyname(slave), "-m", "autoinvest.cli",
                             "credentials", "set", "--user", str(user), "--purpose", "readonly",
                             "--key", view_key.api_key, "--exchange-url", simulator.url],
                            env=db.env(**vault_keys.env(), AUTOINVEST_EXCHANGE_URL=simulator.url),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        # click writes "API secret:", then getpass turns echo off (flushing input typed so far) and writes " ".
        prompt = _read_until(master, lambda seen: b"API secret: " in seen, 30)
        assert b"API secret: " in prompt, prompt
        os.write(master, view_key.api_secret.encode() + b"\n")
        rest = _read_until(master, lambda _: proc.poll() is not None, 60)
        while select.select([master], [], [], 0.2)[0]:  # what it wrote last
            rest += os.read(master, 4096)
        assert proc.wait(timeout=30) == 0, rest
    finally:
        os.close(master)
        os.close(slave)
    assert view_key.api_secret.encode() not in prompt + rest  # not echoed on the terminal
    async with user_tx(app_conn, user):
        loaded = await vault.load_credential(app_conn, user, "readonly", vault_keys.settings())
    assert loaded.api_secret == view_key.api_secret


def test_no_secret_option_and_a_bad_secret_source_stores_nothing(
        invoke: Cli, admin: Admin, simulator: RunningSimulator, user: uuid.UUID, tmp_path: Path) -> None:
    view_key = simulator.admin.create_account({"EUR": "10"}, ["view"])

    def set_key(*extra: str, stdin: str = "", key: str = view_key.api_key) -> CliResult:
        return invoke("credentials", "set", "--user", str(user), "--purpose", "readonly", "--key", key,
                      "--exchange-url", simulator.url, *extra, stdin=stdin)

    before = row_counts(admin)
    on_the_line = set_key("--secret", view_key.api_secret)
    assert on_the_line.code == 2 and "No such option" in on_the_line.stderr, on_the_line
    assert row_counts(admin) == before

    open_file = tmp_path / "open"
    open_file.write_text(view_key.api_secret)
    open_file.chmod(0o644)
    for extra, stdin, key, reason in [
            ((), "", view_key.api_key, "SECRET_EMPTY"),
            ((), "\n", view_key.api_key, "SECRET_EMPTY"),
            (("--secret-file", str(open_file)), "", view_key.api_key, "SECRET_FILE_TOO_OPEN"),
            (("--secret-file", str(tmp_path / "missing")), "", view_key.api_key, "SECRET_FILE_UNREADABLE"),
            ((), view_key.api_secret, "not-a-bitvavo-key", "API_KEY_INVALID"),
            ((), "not-a-bitvavo-secret", view_key.api_key, "SECRET_INVALID")]:
        refused = set_key(*extra, stdin=stdin, key=key)
        assert refused.code == 2 and reason in refused.stderr, (reason, refused)
        assert view_key.api_secret not in refused.stdout + refused.stderr
    assert row_counts(admin) == before


def test_db_url_leaves_the_password_out_unless_asked(invoke: Cli, db: DatabaseUnderTest) -> None:
    admin_url = "postgresql://admin:s3cr3t-admin@127.0.0.1:5432/autoinvest"
    shown = invoke("db", "url", DATABASE_URL=admin_url)
    assert shown.code == 0, shown.stderr
    assert conninfo_to_dict(shown.stdout.strip()) == {"host": "127.0.0.1", "port": "5432", "user": "admin",
                                                      "dbname": "autoinvest"}
    operator = invoke("db", "url", "--role", "operator")
    assert operator.code == 0 and ROLE_PASSWORD not in operator.stdout, operator
    assert conninfo_to_dict(operator.stdout.strip())["user"] == "autoinvest_operator"
    assert invoke("db", "url", "--show-password", DATABASE_URL=admin_url).stdout.strip() == admin_url
    assert ROLE_PASSWORD in invoke("db", "url", "--role", "operator", "--show-password").stdout


@pytest.mark.parametrize("url", [
    "postgresql://u:p%40ss@h:5432/d",
    "postgres://u@h/d?password=pw&sslmode=require",
    "host=h port=5432 user=u password=pw dbname=d",
    "host=h password = 'p w\\'x' dbname=d",
])
def test_a_printed_url_has_no_password_and_keeps_everything_else(url: str) -> None:
    from autoinvest.db.urls import without_password

    expected = {k: v for k, v in conninfo_to_dict(url).items() if k != "password"}
    assert conninfo_to_dict(without_password(url)) == expected


def test_the_paper_simulator_inherits_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"AUTOINVEST_VAULT_KEY_READONLY": "vault-ro-value", "AUTOINVEST_VAULT_KEY_TRADE": "vault-tr-value",
               "AUTOINVEST_VAULT_KEY_TRADE_PREVIOUS": "vault-prev-value", "AUTOINVEST_APP_DB_PASSWORD": "app-pw",
               "DATABASE_URL": "postgresql://admin:db-pw-value@127.0.0.1/x", "AUTOINVEST_LLM_API_KEY": "llm-value",
               "PGPASSWORD": "pg-pw-value", "SOME_SERVICE_TOKEN": "token-value"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    exchange = paper.start_exchange(tmp_path, speed=1.0)
    try:
        environ = Path(f"/proc/{exchange.process.pid}/environ").read_bytes().decode()
    finally:
        exchange.stop()
    names = {item.partition("=")[0] for item in environ.split("\0") if item}
    assert "PATH" in names  # the simulator's real environment was read
    assert names & set(secrets) == set()
    assert [v for v in secrets.values() if v in environ] == []
    assert os.environ["AUTOINVEST_VAULT_KEY_TRADE"] == "vault-tr-value"  # ours is unchanged
