"""market_metadata per exchange: which markets an exchange lists, for refusing a profile or a proposal at creation
(its stored rows while fresh, else its /markets, stored on the way), and the minimum the pre-flight applies."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
import pytest

from autoinvest import runtime
from autoinvest.accounts import vault
from autoinvest.accounts.inputs import require_listed
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.errors import AutoInvestError, InputError
from autoinvest.execution.claim import Outcome, claim
from autoinvest.scheduler import metadata
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal, set_policy
from tests.support.simulator import RunningSimulator
from tests.support.tenants import make_profile, make_user
from tests.support.trading import VAULT_READONLY, VAULT_TRADE, bitvavo_format_key

_ROW = ("INSERT INTO market_metadata (exchange_url, market, base, quote, status, min_order_base, min_order_quote,"
        " tick_size, quantity_decimals, updated_at) VALUES (exchange_key(%s), %s, %s, 'EUR', %s, 0, 5, 1, 8, %s)")


async def test_fresh_stored_rows_are_the_listing_and_stale_ones_are_fetched_again(
        db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    dead = f"http://127.0.0.1:9/{uuid.uuid4().hex}/v2"  # nothing listens: any fetch fails
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(_ROW, (dead, "BTC-EUR", "BTC", "trading", "now()"))
        admin.execute(_ROW, (dead, "DOGE-EUR", "DOGE", "halted", "now()"))
    listing = await metadata.listing(app_conn, dead, lambda: runtime.public_market_data(dead))
    assert listing == {"BTC-EUR": "trading", "DOGE-EUR": "halted"}
    assert require_listed(("BTC-EUR",), listing) == ("BTC-EUR",)
    with pytest.raises(InputError) as halted:
        require_listed(("BTC-EUR", "DOGE-EUR"), listing)
    assert halted.value.reason == "MARKET_NOT_TRADING"

    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute("UPDATE market_metadata SET updated_at = now() - interval '1 hour'"
                      " WHERE exchange_url = exchange_key(%s)", (dead,))
    with pytest.raises(AutoInvestError):  # stale: asked again, and an exchange that cannot answer is no listing
        await metadata.listing(app_conn, dead, lambda: runtime.public_market_data(dead))


async def test_without_stored_rows_the_exchange_is_asked_and_its_answer_stored(
        app_conn: AppConnection, simulator: RunningSimulator) -> None:
    listing = await metadata.listing(app_conn, simulator.url, lambda: runtime.public_market_data(simulator.url))
    assert listing == {m: "trading" for m in ("ADA-EUR", "BTC-EUR", "ETH-EUR", "SOL-EUR")}
    assert await metadata.stored_listing(app_conn, simulator.base) == listing
    with pytest.raises(InputError) as unknown:
        require_listed(("DOGE-EUR",), listing)
    assert unknown.value.reason == "MARKET_NOT_LISTED"


async def test_the_exchange_minimum_is_the_users_exchanges(db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    settings = Settings(vault_key_readonly=VAULT_READONLY, vault_key_trade=VAULT_TRADE)
    strict, lenient = (f"http://127.0.0.1:9/{uuid.uuid4().hex}/v2" for _ in range(2))
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute(_ROW.replace("0, 5, 1", "0, 50, 1"), (strict, "BTC-EUR", "BTC", "trading", "now()"))
        admin.execute(_ROW, (lenient, "BTC-EUR", "BTC", "trading", "now()"))
    outcomes = {}
    for url in (strict, lenient):
        user = await make_user(app_conn)
        profile = await make_profile(app_conn, user)
        await set_policy(app_conn, user, profile, cooldown_minutes=0, anti_flip_minutes=0)
        async with user_tx(app_conn, user):
            await vault.set_credential(app_conn, user, "trade", *bitvavo_format_key(), settings, exchange_url=url,
                                       actor="test")
        result = await claim(app_conn, user, await make_proposal(app_conn, user, profile, amount_eur=Decimal("10")))
        outcomes[url] = (result.outcome, result.reasons)
    assert outcomes[strict] == (Outcome.REJECTED, ("ORDER_BELOW_EXCHANGE_MIN",))
    assert outcomes[lenient][0] is Outcome.CLAIMED
