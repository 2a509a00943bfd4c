"""Public market-data endpoints: time, markets, assets, tickers, book, trades, candles."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from autoinvest.simulator.clock import DAY_MS, MINUTE_MS, wall_ms
from autoinvest.simulator.errors import invalid, required
from autoinvest.simulator.markets import ASSETS, MARKETS, MarketSpec, dstr
from autoinvest.simulator.prices import MarketPrices
from autoinvest.simulator.routing import Ctx, Route, by_market, route

INTERVALS_MS: dict[str, int] = {
    "1m": MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS, "30m": 30 * MINUTE_MS, "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS, "4h": 240 * MINUTE_MS, "6h": 360 * MINUTE_MS, "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS, "1d": DAY_MS, "1W": 7 * DAY_MS, "1M": 30 * DAY_MS,
}


def _market_json(spec: MarketSpec) -> dict[str, Any]:
    return {
        "market": spec.market, "status": spec.status, "base": spec.base, "quote": spec.quote,
        "pricePrecision": "0", "tickSize": dstr(spec.tick_size),
        "minOrderInBaseAsset": dstr(spec.min_base), "minOrderInQuoteAsset": dstr(spec.min_quote),
        "maxOrderInBaseAsset": "1000000000", "maxOrderInQuoteAsset": "1000000000",
        "quantityDecimals": str(spec.quantity_decimals), "notionalDecimals": "2", "maxOpenOrders": "100",
        "feeCategory": "A", "orderTypes": ["market", "limit"],
    }


def _one_or_all(ctx: Ctx, items: dict[str, Any], param: str = "market") -> Any:
    wanted = ctx.query.get(param)
    if wanted is None:
        return list(items.values())
    if wanted not in items:
        raise invalid(param)
    return items[wanted]


def _path_market(ctx: Ctx) -> MarketPrices:
    name = ctx.path_params["market"]
    if name not in ctx.ex.prices.markets:
        raise invalid("market")
    return ctx.ex.prices.markets[name]


def get_time(ctx: Ctx) -> Any:
    # The exchange's wall clock (with its offset): it is the clock the access window is checked against.
    now_ms = ctx.ex.clock.exchange_ms()
    return {"time": now_ms, "timeNs": time.time_ns() + (now_ms - wall_ms()) * 1_000_000}


def get_markets(ctx: Ctx) -> Any:
    return _one_or_all(ctx, {name: _market_json(spec) for name, spec in MARKETS.items()})


def get_assets(ctx: Ctx) -> Any:
    assets = {
        a.symbol: {
            "symbol": a.symbol, "name": a.name, "decimals": a.decimals, "depositFee": "0",
            "depositConfirmations": 10, "depositStatus": "OK", "withdrawalFee": a.withdrawal_fee,
            "withdrawalMinAmount": a.withdrawal_fee, "withdrawalStatus": "OK", "networks": [a.network], "message": "",
        }
        for a in ASSETS.values()
    }
    return _one_or_all(ctx, assets, "symbol")


def _best(m: MarketPrices) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    bids, asks = m.book(1)
    return bids[0], asks[0]


def get_ticker_price(ctx: Ctx) -> Any:
    return _one_or_all(ctx, {n: {"market": n, "price": dstr(m.price)} for n, m in ctx.ex.prices.markets.items()})


def get_ticker_book(ctx: Ctx) -> Any:
    items = {}
    for name, m in ctx.ex.prices.markets.items():
        (bid, bid_size), (ask, ask_size) = _best(m)
        items[name] = {"market": name, "bid": dstr(bid), "bidSize": dstr(bid_size), "ask": dstr(ask),
                       "askSize": dstr(ask_size)}
    return _one_or_all(ctx, items)


def _ticker_24h(m: MarketPrices, now: int) -> dict[str, Any]:
    since = now - DAY_MS
    window = [(ts, c) for ts, c in m.candles.items() if ts >= since - since % MINUTE_MS]
    (bid, bid_size), (ask, ask_size) = _best(m)
    first_ts, first = window[0] if window else (now, [m.price] * 4 + [Decimal(0)])
    return {
        "market": m.spec.market, "startTimestamp": since, "timestamp": now, "open": dstr(first[0]),
        "openTimestamp": first_ts, "high": dstr(max(c[1] for _, c in window) if window else m.price),
        "low": dstr(min(c[2] for _, c in window) if window else m.price), "last": dstr(m.price),
        "closeTimestamp": now, "bid": dstr(bid), "bidSize": dstr(bid_size), "ask": dstr(ask),
        "askSize": dstr(ask_size), "volume": dstr(sum((c[4] for _, c in window), Decimal(0))),
        "volumeQuote": dstr(sum((c[4] * c[3] for _, c in window), Decimal(0)).quantize(Decimal("0.01"))),
    }


def get_ticker_24h(ctx: Ctx) -> Any:
    now = ctx.ex.now()
    return _one_or_all(ctx, {n: _ticker_24h(m, now) for n, m in ctx.ex.prices.markets.items()})


def get_book(ctx: Ctx) -> Any:
    m = _path_market(ctx)
    depth = ctx.int_param("depth", 1000, 1, 1000) or 1000
    bids, asks = m.book(min(depth, 100))
    return {
        "market": m.spec.market, "nonce": ctx.ex.prices.model_ms // 1000,
        "bids": [[dstr(p), dstr(s)] for p, s in bids], "asks": [[dstr(p), dstr(s)] for p, s in asks],
        "timestamp": ctx.ex.now(),
    }


def get_public_trades(ctx: Ctx) -> Any:
    m = _path_market(ctx)
    limit = ctx.int_param("limit", 500, 1, 1000) or 500
    start = ctx.int_param("start", 0, 0, 2**62) or 0
    end = ctx.int_param("end", 2**62, 0, 2**62) or 2**62
    trades = [t for t in reversed(m.trades) if start <= t.timestamp <= end][:limit]
    return [
        {"id": t.id, "timestamp": t.timestamp, "amount": dstr(t.amount), "price": dstr(t.price), "side": t.side}
        for t in trades
    ]


def get_candles(ctx: Ctx) -> Any:
    m = _path_market(ctx)
    interval = ctx.query.get("interval")
    if not interval:
        raise required("interval")
    if interval not in INTERVALS_MS:
        raise invalid("interval")
    size = INTERVALS_MS[interval]
    limit = ctx.int_param("limit", 1440, 1, 1440) or 1440
    start = ctx.int_param("start", 0, 0, 2**62) or 0
    end = ctx.int_param("end", None, 0, 2**62)
    buckets: dict[int, list[Decimal]] = {}
    for ts, c in m.candles.items():
        bucket = ts - ts % size
        if bucket < start or (end is not None and bucket >= end):
            continue
        agg = buckets.get(bucket)
        if agg is None:
            buckets[bucket] = list(c)
        else:
            agg[1], agg[2], agg[3], agg[4] = max(agg[1], c[1]), min(agg[2], c[2]), c[3], agg[4] + c[4]
    newest = sorted(buckets.items(), reverse=True)[:limit]
    return [[ts, *(dstr(v) for v in c)] for ts, c in newest]


ROUTES: list[Route] = [
    route("GET", "/time", get_time),
    route("GET", "/markets", get_markets),
    route("GET", "/assets", get_assets),
    route("GET", "/ticker/price", get_ticker_price),
    route("GET", "/ticker/book", get_ticker_book),
    route("GET", "/ticker/24h", get_ticker_24h, by_market(1, 25)),
    route("GET", "/{market}/book", get_book),
    route("GET", "/{market}/trades", get_public_trades, 5),
    route("GET", "/{market}/candles", get_candles),
]
