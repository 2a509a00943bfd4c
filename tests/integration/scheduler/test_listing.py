"""Which markets an exchange lists, for refusing a profile or a proposal at creation: market_metadata of that
exchange while fresh, else the exchange's /markets (stored on the way)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from autoinvest import runtime
from autoinvest.accounts.inputs import require_listed
from autoinvest.db.tx import AppConnection
from autoinvest.errors import AutoInvestError, InputError
from autoinvest.scheduler import metadata
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator

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
