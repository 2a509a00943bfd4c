"""Build a proposer Snapshot: the profile's facts from the database, public data from the shared cache, the
user's balances from the exchange (read-only client). No transaction stays open across an exchange call."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import LiteralString
from uuid import UUID

from autoinvest.accounts.profiles import Policy, get_policy
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.proposers.base import Limits, MarketView, Snapshot
from autoinvest.scanner.market_cache import MarketCache
from autoinvest.scheduler.jobs import Run

CANDLES = 30
#: Bitvavo candle intervals, in seconds.
CANDLE_INTERVALS: tuple[tuple[int, str], ...] = (
    (60, "1m"), (300, "5m"), (900, "15m"), (1800, "30m"), (3600, "1h"), (7200, "2h"), (14400, "4h"),
    (21600, "6h"), (28800, "8h"), (43200, "12h"), (86400, "1d"),
)

_FACTS: LiteralString = (
    "SELECT c.allocated - c.reserved_for_orders - c.reserved_for_positions + c.realized_pnl AS free_eur,"
    " coalesce((SELECT jsonb_object_agg(pos.market, pos.quantity::text) FROM positions pos"
    "           WHERE pos.profile_id = c.profile_id), '{}'::jsonb) AS positions,"
    " coalesce((SELECT jsonb_object_agg(m.market, jsonb_build_object('quantity_decimals', m.quantity_decimals,"
    "           'min_order_quote', m.min_order_quote::text, 'status', m.status))"
    "           FROM market_metadata m WHERE m.exchange_url = exchange_key(%(exchange_url)s)"
    "           AND m.market = ANY(%(markets)s)), '{}'::jsonb) AS metadata"
    " FROM capital_accounts c WHERE c.profile_id = %(profile_id)s"
)


def candle_interval(scan_interval_s: int) -> str:
    """The longest candle interval not longer than the scan interval (at least 1m)."""
    chosen = CANDLE_INTERVALS[0][1]
    for seconds, name in CANDLE_INTERVALS:
        if seconds <= scan_interval_s:
            chosen = name
    return chosen


@dataclass(frozen=True)
class ProfileFacts:
    policy: Policy
    free_eur: Decimal
    positions: dict[str, Decimal]
    metadata: dict[str, dict[str, str | int]]
    exchange_url: str  #: the exchange the user's read-only key talks to: market data and metadata are its own


async def load_facts(conn: AppConnection, user_id: UUID, profile_id: UUID, exchange_url: str) -> ProfileFacts:
    """The profile's policy, free capital, positions and the allowlisted markets' metadata at the user's
    exchange (``exchange_url``), in one user_tx."""
    async with user_tx(conn, user_id):
        policy = await get_policy(conn, profile_id)
        cur = await conn.execute(_FACTS, {"profile_id": profile_id, "markets": list(policy.allowlist),
                                          "exchange_url": exchange_url})
        row = await cur.fetchone()
    free = Decimal(row["free_eur"]) if row is not None else Decimal(0)
    positions = {k: Decimal(v) for k, v in (row["positions"] if row else {}).items()}
    return ProfileFacts(policy, free, positions, dict(row["metadata"]) if row else {}, exchange_url)


def limits_of(policy: Policy) -> Limits:
    return Limits(allowlist=policy.allowlist, min_order_eur=policy.min_order_eur, max_order_eur=policy.max_order_eur,
                  allowed_confidences=policy.allowed_confidences, min_confidence=policy.min_confidence)


async def build(reader: MarketData, cache: MarketCache, facts: ProfileFacts, run: Run) -> Snapshot:
    """Prices and candles (shared per window), balances (this user), positions and limits (this profile)."""
    policy = facts.policy
    interval = candle_interval(run.interval_seconds)
    tickers = await cache.tickers(reader, facts.exchange_url, run.interval_seconds, run.scan_window)
    balances = await reader.balances()
    views: dict[str, MarketView] = {}
    for market in sorted(policy.allowlist):
        meta = facts.metadata.get(market, {})
        if meta.get("status", "trading") != "trading":
            continue
        candles = await cache.candles(reader, facts.exchange_url, market, interval, CANDLES, run.interval_seconds,
                                      run.scan_window)
        base = market.split("-", 1)[0]
        ticker = tickers.get(market)
        views[market] = MarketView(
            market=market, price=ticker.price if ticker else None, closes=tuple(c.close for c in candles),
            position=facts.positions.get(market, Decimal(0)),
            base_available=balances[base].available if base in balances else Decimal(0),
            quantity_decimals=int(meta.get("quantity_decimals", 8)),
            min_order_eur=Decimal(str(meta.get("min_order_quote", "0"))))
    eur = balances["EUR"].available if "EUR" in balances else Decimal(0)
    return Snapshot(profile_id=str(policy.profile_id), strategy=policy.strategy, scan_window=run.scan_window,
                    interval_seconds=run.interval_seconds, candle_interval=interval,
                    eur_available=max(Decimal(0), min(eur, facts.free_eur)), limits=limits_of(policy), markets=views)
