"""One database role per component: each one connects as itself and is refused, by the database, what its
component must not do (guarantee 3: a compromised scanner cannot trade; guarantee 8: capital moves only by
ledger entries; guarantee 20: audit rows cannot be forged)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest import audit
from autoinvest.db import tx
from autoinvest.db.tx import AppConnection, connect
from autoinvest.errors import UnsafeDatabaseRole
from tests.support import tenants
from tests.support.database import DatabaseUnderTest
from tests.support.processes import CLI

COMPONENTS = ("scanner", "trader", "api", "operator")


@dataclass(frozen=True)
class Tenant:
    user_id: uuid.UUID
    profile_id: uuid.UUID


@pytest.fixture
async def tenant(app_conn: AppConnection) -> Tenant:
    user_id = await tenants.make_user(app_conn)
    profile_id = await tenants.make_profile(app_conn, user_id, allocated=Decimal("100"))
    async with tx.user_tx(app_conn, user_id):
        await app_conn.execute("UPDATE profiles SET auto_approve_threshold = 75 WHERE id = %s", (profile_id,))
        await app_conn.execute(
            "INSERT INTO exchange_credentials (id, user_id, purpose, api_key, secret_encrypted)"
            " VALUES (%s, %s, 'readonly', 'k', 'not-a-real-token')", (uuid.uuid4(), user_id))
    return Tenant(user_id, profile_id)


@pytest.fixture
def as_role(db: DatabaseUnderTest) -> Iterator[Any]:
    opened: list[psycopg.Connection[Any]] = []

    def connect_as(component: str, user_id: uuid.UUID) -> psycopg.Connection[Any]:
        conn = psycopg.connect(db.role_url(component))
        opened.append(conn)
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(user_id),))
        conn.commit()
        return conn

    yield connect_as
    for conn in opened:
        conn.close()


def _refused(conn: psycopg.Connection[Any], statement: str, params: dict[str, Any]) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement, params)  # type: ignore[arg-type]
    conn.rollback()


_PROPOSE = ("SELECT * FROM propose(gen_random_uuid(), %(profile)s, 'BTC-EUR', 'buy', 10, NULL, %(confidence)s, '',"
            " 'rules', '{}', 600, NULL, NULL, NULL, NULL, %(cooldown)s, false)")

# (what, statement): refused to every component
EVERYONE_REFUSED = [
    ("update a capital account", "UPDATE capital_accounts SET allocated = allocated + 1000"
                                 " WHERE profile_id = %(profile)s"),
    ("insert a capital account with money", "INSERT INTO capital_accounts (profile_id, user_id, allocated)"
                                            " VALUES (%(profile)s, %(user)s, 1000)"),
    ("insert an audit row", "INSERT INTO audit_log (user_id, actor, action, subject_type)"
                            " VALUES (%(user)s, 'operator:alice', 'kill_switch.off', 'profile')"),
    ("change an audit row", "UPDATE audit_log SET actor = 'someone else' WHERE user_id = %(user)s"),
    ("delete an audit row", "DELETE FROM audit_log WHERE user_id = %(user)s"),
    ("insert a proposal directly", "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur,"
                                   " confidence, source, status, expires_at, override_cooldown) VALUES"
                                   " (gen_random_uuid(), %(user)s, %(profile)s, 'BTC-EUR', 'buy', 10, 100, 'rules',"
                                   " 'APPROVED', now() + interval '1 hour', true)"),
]
# (component, what, statement): refused to that component
COMPONENT_REFUSED = [
    *[(c, "update a policy", "UPDATE profile_policies SET max_order_eur = 1000000 WHERE profile_id = %(profile)s")
      for c in ("scanner", "trader", "api")],
    *[(c, "switch a profile back on", "UPDATE profile_policies SET trading_enabled = true"
                                      " WHERE profile_id = %(profile)s") for c in ("scanner", "trader", "api")],
    *[(c, "clear a user's kill switch", "UPDATE users SET kill_switch = false WHERE id = %(user)s")
      for c in ("scanner", "trader", "api")],
    *[(c, "switch all trading back on", "SELECT set_global_kill_switch(false, 'operator:alice', 'forged')")
      for c in ("scanner", "trader", "api")],
    *[(c, "point a credential at another exchange", "UPDATE exchange_credentials SET exchange_url = 'https://evil'"
                                                    " WHERE user_id = %(user)s") for c in ("scanner", "trader", "api")],
    *[(c, "store a credential", "INSERT INTO exchange_credentials (id, user_id, purpose, api_key, secret_encrypted)"
                                " VALUES (gen_random_uuid(), %(user)s, 'trade', 'k', 's')")
      for c in ("scanner", "trader", "api")],
    *[(c, "approve a proposal", "UPDATE trade_proposals SET status = 'APPROVED' WHERE user_id = %(user)s")
      for c in ("scanner", "trader", "api")],
    *[(c, "post a ledger entry", "INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_allocated)"
                                 " VALUES (%(user)s, %(profile)s, 'ALLOCATE', gen_random_uuid()::text, 1000)")
      for c in ("scanner", "api")],
    *[(c, "create an execution", "INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state,"
                                 " client_order_id) VALUES (gen_random_uuid(), %(user)s, %(profile)s,"
                                 " gen_random_uuid(), 'BTC-EUR', 'buy', 'CLAIMED', gen_random_uuid())")
      for c in ("scanner", "api")],
    *[(c, "pause a profile", "SELECT pause_profile(%(profile)s)") for c in ("scanner", "api")],
    *[(c, "restate an account", "SELECT restate_capital_account(%(profile)s)") for c in ("scanner", "trader", "api")],
    ("scanner", "propose with a cooldown override", _PROPOSE),
    ("trader", "propose", _PROPOSE),
    ("api", "propose", _PROPOSE),
]


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize(("what", "statement"), EVERYONE_REFUSED, ids=[w for w, _ in EVERYONE_REFUSED])
async def test_no_component_may(tenant: Tenant, as_role: Any, component: str, what: str, statement: str) -> None:
    conn = as_role(component, tenant.user_id)
    _refused(conn, statement, {"user": tenant.user_id, "profile": tenant.profile_id, "confidence": 100,
                               "cooldown": True})


@pytest.mark.parametrize(("component", "what", "statement"), COMPONENT_REFUSED,
                         ids=[f"{c}-{w}" for c, w, _ in COMPONENT_REFUSED])
async def test_a_component_may_not(tenant: Tenant, as_role: Any, component: str, what: str, statement: str) -> None:
    conn = as_role(component, tenant.user_id)
    _refused(conn, statement, {"user": tenant.user_id, "profile": tenant.profile_id, "confidence": 100,
                               "cooldown": True})


async def test_the_scanners_proposal_is_approved_only_by_the_profiles_own_threshold(tenant: Tenant,
                                                                                   as_role: Any) -> None:
    scanner = as_role("scanner", tenant.user_id)
    params = {"profile": tenant.profile_id, "cooldown": False}
    low = scanner.execute(_PROPOSE, {**params, "confidence": 50}).fetchone()
    high = scanner.execute(_PROPOSE, {**params, "confidence": 75}).fetchone()
    scanner.commit()
    assert low is not None and high is not None
    assert (low[1], low[4]) == ("PENDING", None), "below the threshold a proposal waits for a decision"
    assert (high[1], high[4]) == ("APPROVED", "auto"), "at the threshold the database approves it itself"
    rows = scanner.execute("SELECT override_cooldown, override_anti_flip FROM trade_proposals"
                           " WHERE id = ANY(%s)", ([low[0], high[0]],)).fetchall()
    assert rows == [(False, False), (False, False)]


async def test_the_scanner_cannot_propose_for_another_tenants_profile(app_conn: AppConnection, tenant: Tenant,
                                                                      as_role: Any) -> None:
    other = await tenants.make_user(app_conn)
    scanner = as_role("scanner", other)  # app.user_id is the other tenant: the profile is not theirs
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        scanner.execute(_PROPOSE, {"profile": tenant.profile_id, "confidence": 100, "cooldown": False})


async def test_capital_moves_by_the_entry_the_trader_inserts_and_only_for_its_own_account(
        app_conn: AppConnection, tenant: Tenant, as_role: Any) -> None:
    trader = as_role("trader", tenant.user_id)
    trader.execute("INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_reserved_for_orders)"
                   " VALUES (%s, %s, 'RESERVE', %s, 30)", (tenant.user_id, tenant.profile_id, uuid.uuid4().hex))
    trader.commit()
    row = trader.execute("SELECT allocated, reserved_for_orders FROM capital_accounts WHERE profile_id = %s",
                         (tenant.profile_id,)).fetchone()
    assert row == (Decimal("100"), Decimal("30")), "the trigger moves the account by the inserted entry"
    trader.rollback()
    # An entry that names another tenant's profile moves nothing (and is refused).
    other = await tenants.make_user(app_conn)
    intruder = as_role("trader", other)
    with pytest.raises((psycopg.errors.ForeignKeyViolation, psycopg.errors.InsufficientPrivilege)):
        intruder.execute("INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_allocated)"
                         " VALUES (%s, %s, 'ALLOCATE', %s, 1000)", (other, tenant.profile_id, uuid.uuid4().hex))


async def test_an_audit_row_carries_the_login_that_wrote_it_and_only_for_its_own_user(
        app_conn: AppConnection, tenant: Tenant, as_role: Any) -> None:
    scanner = as_role("scanner", tenant.user_id)
    scanner.execute("SELECT audit_record(%s, 'operator:alice', 'kill_switch.off', 'profile', %s, '{}')",
                    (tenant.user_id, str(tenant.profile_id)))
    scanner.commit()
    row = scanner.execute("SELECT actor, db_user FROM audit_log WHERE user_id = %s AND action = 'kill_switch.off'",
                          (tenant.user_id,)).fetchone()
    assert row == ("operator:alice", "autoinvest_scanner"), "the claimed actor is kept, the real login stamped"
    scanner.rollback()
    other = await tenants.make_user(app_conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="own user"):
        scanner.execute("SELECT audit_record(%s, 'x', 'y', 'z', NULL, '{}')", (other,))


async def test_reconciliation_may_pause_a_profile_but_not_start_it(tenant: Tenant, as_role: Any) -> None:
    trader = as_role("trader", tenant.user_id)
    assert trader.execute("SELECT pause_profile(%s)", (tenant.profile_id,)).fetchone() == (tenant.user_id,)
    trader.commit()
    assert trader.execute("SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                          (tenant.profile_id,)).fetchone() == (False,)
    _refused(trader, "UPDATE profile_policies SET trading_enabled = true WHERE profile_id = %(profile)s",
             {"profile": tenant.profile_id})


@pytest.mark.parametrize("component", COMPONENTS)
async def test_each_component_role_passes_its_own_start_up_check(db: DatabaseUnderTest, component: str) -> None:
    conn = await connect(db.role_url(component))
    try:
        await tx.assert_safe_role(conn, component)
    finally:
        await conn.close()


@pytest.mark.parametrize("component", ("scanner", "trader", "api"))
async def test_a_url_with_more_rights_than_the_component_is_refused_at_start(db: DatabaseUnderTest,
                                                                             component: str) -> None:
    conn = await connect(db.role_url("operator"))  # e.g. the scanner's URL set to the operator's login
    try:
        with pytest.raises(UnsafeDatabaseRole, match=f"more than the {component} role"):
            await tx.assert_safe_role(conn, component)
    finally:
        await conn.close()


async def test_an_operator_with_a_login_of_their_own_is_named_by_every_audit_row_they_write(
        db: DatabaseUnderTest, tenant: Tenant) -> None:
    name = f"alice_{uuid.uuid4().hex[:6]}"
    done = subprocess.run([*CLI, "db", "add-operator", name], env=db.env(), input="a-long-enough-password\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "a-long-enough-password" not in done.stdout + done.stderr
    url = _with_user_and_password(db.admin_url, f"autoinvest_op_{name}", "a-long-enough-password")
    conn = await connect(url)
    try:
        await tx.assert_safe_role(conn, "operator")  # the operator's grants, nothing more
        async with tx.user_tx(conn, tenant.user_id):
            await audit.record(conn, tenant.user_id, "operator:someone-else", "kill_switch.on", "profile",
                               tenant.profile_id)
            cur = await conn.execute("SELECT db_user FROM audit_log WHERE user_id = %s AND action = 'kill_switch.on'",
                                     (tenant.user_id,))
            assert await cur.fetchone() == {"db_user": f"autoinvest_op_{name}"}
    finally:
        await conn.close()


def _with_user_and_password(url: str, user: str, password: str) -> str:
    params = conninfo_to_dict(url)
    params.update(user=user, password=password)
    return make_conninfo(**params)  # type: ignore[arg-type]


def test_the_group_the_policies_name_holds_no_privilege(db: DatabaseUnderTest) -> None:
    """Every component inherits what autoinvest_app holds: a grant to it would be a grant to all of them."""
    with psycopg.connect(db.admin_url) as conn:
        granted = conn.execute(
            "SELECT c.relname FROM pg_class c, aclexplode(c.relacl) a"
            " WHERE a.grantee = 'autoinvest_app'::regrole AND c.relnamespace = 'public'::regnamespace"
            " UNION ALL SELECT p.proname FROM pg_proc p, aclexplode(p.proacl) a"
            " WHERE a.grantee = 'autoinvest_app'::regrole AND p.pronamespace = 'public'::regnamespace").fetchall()
    assert granted == []
