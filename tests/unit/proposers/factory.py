"""Hand-made snapshots for proposer tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from autoinvest.proposers.base import Limits, MarketView, Snapshot

WINDOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def closes(*values: str | int) -> tuple[Decimal, ...]:
    return tuple(Decimal(str(v)) for v in values)


def view(market: str = "BTC-EUR", series: tuple[Decimal, ...] = (), *, price: str | None = None,
         position: str = "0", base_available: str | None = None, min_order_eur: str = "5") -> MarketView:
    last = price if price is not None else (str(series[-1]) if series else "100")
    return MarketView(market=market, price=Decimal(last), closes=series, position=Decimal(position),
                      base_available=Decimal(base_available if base_available is not None else position),
                      quantity_decimals=8, min_order_eur=Decimal(min_order_eur))


def snapshot(*views: MarketView, eur: str = "1000", strategy: str = "momentum", min_eur: str = "10",
             max_eur: str = "100", allowlist: tuple[str, ...] | None = None) -> Snapshot:
    markets = {v.market: v for v in views}
    return Snapshot(profile_id="p", strategy=strategy, scan_window=WINDOW, interval_seconds=300, candle_interval="5m",
                    eur_available=Decimal(eur),
                    limits=Limits(allowlist=allowlist if allowlist is not None else tuple(sorted(markets)),
                                  min_order_eur=Decimal(min_eur), max_order_eur=Decimal(max_eur),
                                  allowed_confidences=(50, 75, 100), min_confidence=50),
                    markets=markets)
