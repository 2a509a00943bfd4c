"""Bulk set-up for the scale benchmarks: many users, each with an exchange account at the simulator, its keys in
the vault and several profiles, written with COPY as the database owner (our writers take minutes for 10,000
profiles; the benchmarks measure what runs afterwards through the real code).
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psycopg

from autoinvest.accounts import vault
from bench._suite import Env, percentile
from tests.support import processes
from tests.support.simulator import SimKey
from tests.support.trading import settings_for

MARKETS = ("BTC-EUR", "ETH-EUR", "SOL-EUR", "ADA-EUR")
#: Profile i of a user trades ALLOWLISTS[i % 4]: every market is scanned, and each profile's first market is one
#: of the two the restart benchmark rests orders in.
ALLOWLISTS = (("BTC-EUR", "SOL-EUR"), ("ETH-EUR", "ADA-EUR"), ("BTC-EUR", "ETH-EUR"), ("ETH-EUR", "SOL-EUR"))


@dataclass(frozen=True)
class BulkUser:
    user_id: uuid.UUID
    key: SimKey  #: the read-only key (also the trade key when made with ``trade=True``)
    profile_ids: tuple[uuid.UUID, ...]


@dataclass
class Bulk:
    users: list[BulkUser] = field(default_factory=list)

    @property
    def profiles(self) -> int:
        return sum(len(u.profile_ids) for u in self.users)


def make_tenants(env: Env, *, users: int, profiles_per_user: int, interval_s: int, strategy: str = "momentum",
                 trade: bool = False, due_now: bool = True) -> Bulk:
    """``users`` users × ``profiles_per_user`` active profiles, each with a scan job (due now, or one interval
    from now) and an allowlist of two of the simulator's markets; every user's read-only key (and, with
    ``trade``, its trade key: the same account) stored encrypted as the vault does."""
    settings = settings_for(env.sim, env.tmp)
    bulk = Bulk()
    for n in range(users):
        permissions = ["view", "trade"] if trade else ["view"]
        key = env.sim.admin.create_account({"EUR": "100000"}, permissions)
        bulk.users.append(BulkUser(uuid.uuid4(), key, tuple(uuid.uuid4() for _ in range(profiles_per_user))))
        if n and n % 500 == 0:
            env.progress(f"set-up: {n} exchange accounts")
    with psycopg.connect(env.db.admin_url) as conn:
        with conn.cursor() as cur, cur.copy("COPY users (id, email) FROM STDIN") as copy:
            for u in bulk.users:
                copy.write_row((u.user_id, f"{u.user_id.hex[:12]}@bench.example.org"))
        with conn.cursor() as cur, cur.copy("COPY exchange_credentials (id, user_id, purpose, api_key,"
                                            " secret_encrypted, exchange_url) FROM STDIN") as copy:
            for u in bulk.users:
                for purpose in ("readonly", "trade") if trade else ("readonly",):
                    copy.write_row((uuid.uuid4(), u.user_id, purpose, u.key.api_key,
                                    vault.encrypt(settings, purpose, u.key.api_secret, user_id=u.user_id),
                                    env.sim.url))
        with conn.cursor() as cur, cur.copy("COPY profiles (id, user_id, name, scan_interval_seconds, strategy)"
                                            " FROM STDIN") as copy:
            for u in bulk.users:
                for i, p in enumerate(u.profile_ids):
                    copy.write_row((p, u.user_id, f"bench-{i}", interval_s, strategy))
        with conn.cursor() as cur, cur.copy("COPY profile_policies (profile_id, user_id, allowlist)"
                                            " FROM STDIN") as copy:
            for u in bulk.users:
                for i, p in enumerate(u.profile_ids):
                    copy.write_row((p, u.user_id, list(ALLOWLISTS[i % 4])))
        with conn.cursor() as cur, cur.copy("COPY capital_accounts (profile_id, user_id) FROM STDIN") as copy:
            for u in bulk.users:
                for p in u.profile_ids:
                    copy.write_row((p, u.user_id))
        due = "now()" if due_now else "now() + make_interval(secs => p.scan_interval_seconds)"
        conn.execute("INSERT INTO scan_jobs (id, user_id, profile_id, next_run_at)"
                     f" SELECT gen_random_uuid(), p.user_id, p.id, {due} FROM profiles p"
                     " WHERE NOT EXISTS (SELECT 1 FROM scan_jobs j WHERE j.profile_id = p.id)")
        conn.execute("ANALYZE")
    return bulk


def start_workers(env: Env, roles: str, n: int, **settings: str) -> list[subprocess.Popen[bytes]]:
    """``n`` ``autoinvest worker --roles ROLES`` processes on the benchmark's database and simulator."""
    variables = processes.env_for(env.db, env.sim, **settings)
    return [subprocess.Popen([*processes.CLI, "worker", "--roles", roles], env=variables,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def signed(key: SimKey, method: str, path: str, body: str = "") -> dict[str, str]:
    """Bitvavo's request signature headers (HMAC-SHA256 of timestamp, method, /v2 path and body)."""
    ts = str(int(time.time() * 1000))
    message = f"{ts}{method}/v2{path}{body}".encode()
    return {"Bitvavo-Access-Key": key.api_key, "Bitvavo-Access-Timestamp": ts, "Bitvavo-Access-Window": "10000",
            "Bitvavo-Access-Signature": hmac.new(key.api_secret.encode(), message, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def bare_balance_ms(env: Env, key: SimKey, n: int = 200) -> float:
    """p50 of one signed ``GET /balance`` round trip on a kept-alive connection: the floor of any private call."""
    samples: list[float] = []
    with httpx.Client(base_url=env.sim.url) as client:
        for _ in range(n):
            started = time.perf_counter()
            response = client.get("/balance", headers=signed(key, "GET", "/balance"))
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return percentile(samples, 50)
