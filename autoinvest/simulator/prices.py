"""Deterministic price model per market: a seeded random walk with drift and volatility, in Decimal, or the replay
of a CSV of candles (`replay.Replay`) for the markets the file has.

The same path feeds the last price, the synthetic order book, public trades and candles, so that candles are the
history of the prices orders fill at.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autoinvest.simulator.clock import DAY_MS, HISTORY_DAYS, MINUTE_MS
from autoinvest.simulator.markets import MarketSpec, ceil_to, floor_to, truncate

if TYPE_CHECKING:
    from autoinvest.simulator.replay import Replay

STEP_MS = 5_000
KEEP_MINUTES = 7 * 1440
BOOK_LEVELS = 50
PUBLIC_TRADE_MINUTES = 1000  # history minutes that leave one public trade each
HALF_SPREAD = Decimal("0.0001")
LEVEL_GAP = Decimal("0.0002")
_LEVEL_PRECISION = Decimal("1E-12")


@functools.cache
def _fractions(dt_ms: int) -> tuple[Decimal, Decimal]:
    frac = Decimal(dt_ms) / Decimal(DAY_MS)
    return frac, frac.sqrt()


@dataclass
class PublicTrade:
    id: str
    timestamp: int
    amount: Decimal
    price: Decimal
    side: str


@dataclass
class MarketPrices:
    spec: MarketSpec
    level: Decimal  # unrounded walk value; `price` is it on the tick grid
    price: Decimal
    candles: dict[int, list[Decimal]] = field(default_factory=dict)  # minute start → [open, high, low, close, volume]
    trades: deque[PublicTrade] = field(default_factory=lambda: deque(maxlen=1000))

    def set_level(self, level: Decimal) -> None:
        self.level = level.quantize(_LEVEL_PRECISION) if level > 0 else self.spec.tick_size
        price = floor_to(self.level, self.spec.tick_size)
        self.price = price if price > 0 else self.spec.tick_size

    def record(self, ts: int, volume: Decimal) -> None:
        minute = ts - ts % MINUTE_MS
        candle = self.candles.get(minute)
        if candle is None:
            self.candles[minute] = [self.price, self.price, self.price, self.price, volume]
            if len(self.candles) > KEEP_MINUTES:
                del self.candles[next(iter(self.candles))]
            return
        candle[1] = max(candle[1], self.price)
        candle[2] = min(candle[2], self.price)
        candle[3] = self.price
        candle[4] += volume

    def book(self, depth: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Synthetic bids and asks around the last price: `depth` levels of `level_size` each."""
        tick = self.spec.tick_size
        gap = max(tick, floor_to(self.price * LEVEL_GAP, tick))
        best_ask = max(ceil_to(self.price * (1 + HALF_SPREAD), tick), self.price + tick)
        best_bid = min(floor_to(self.price * (1 - HALF_SPREAD), tick), self.price - tick)
        asks = [(best_ask + gap * i, self.spec.level_size) for i in range(depth)]
        bids = [(best_bid - gap * i, self.spec.level_size) for i in range(depth) if best_bid - gap * i > 0]
        return bids, asks


class PriceModel:
    """All markets' prices, advanced in fixed steps of simulated time."""

    def __init__(
        self, specs: dict[str, MarketSpec], seed: int, start_ms: int, history: bool = True,
        replay: Replay | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.markets: dict[str, MarketPrices] = {}
        self.model_ms = start_ms - start_ms % STEP_MS
        self.replay = replay  # markets it has follow the candle file; the others walk
        for name, spec in specs.items():
            market = MarketPrices(spec, spec.start_price, spec.start_price)
            market.set_level(spec.start_price)
            self.markets[name] = market
        if history:
            self._generate_history(start_ms)
        if replay is not None:
            for name, market in self.markets.items():
                if replay.replays(name):
                    market.set_level(replay.price_at(name, self.model_ms))

    def replayed(self, name: str) -> bool:
        return self.replay is not None and self.replay.replays(name)

    def _shock(self) -> Decimal:
        # Six decimals of a standard normal draw: enough randomness, exact Decimal arithmetic afterwards.
        return Decimal(str(round(self.rng.gauss(0.0, 1.0), 6)))

    def _move(self, market: MarketPrices, dt_ms: int) -> None:
        spec = market.spec
        frac, root = _fractions(dt_ms)
        ret = spec.drift_per_day * frac + spec.vol_per_day * root * self._shock()
        market.set_level(market.level * (1 + ret))

    def _generate_history(self, start_ms: int) -> None:
        """A few days of 1m candles ending at start, so that strategies see a history from the first scan."""
        first = start_ms - start_ms % MINUTE_MS - HISTORY_DAYS * DAY_MS
        for name, market in self.markets.items():
            if self.replayed(name):
                self._replayed_history(name, market, start_ms)
                continue
            spec = market.spec
            minute_vol = spec.vol_per_day * (Decimal(MINUTE_MS) / Decimal(DAY_MS)).sqrt()
            for minute in range(first, start_ms - start_ms % MINUTE_MS, MINUTE_MS):
                open_ = market.price
                self._move(market, MINUTE_MS)
                close = market.price
                wick = abs(self._shock()) * minute_vol / 2
                high = max(ceil_to(max(open_, close) * (1 + wick), spec.tick_size), max(open_, close))
                low = min(floor_to(min(open_, close) * (1 - wick), spec.tick_size), min(open_, close))
                volume = truncate(spec.level_size * Decimal(self.rng.randint(1, 40)) / 4, spec.quantity_decimals)
                market.candles[minute] = [open_, high, max(low, spec.tick_size), close, volume]
                if minute >= start_ms - PUBLIC_TRADE_MINUTES * MINUTE_MS:  # public trades: one per recent minute
                    self._history_trade(market, minute + MINUTE_MS - 1, volume, close, close >= open_)

    def _replayed_history(self, name: str, market: MarketPrices, start_ms: int) -> None:
        """The file's candles before the replay start, as they are (shifted), instead of a generated history."""
        assert self.replay is not None
        spec = market.spec
        for item in self.replay.history(name)[-KEEP_MINUTES:]:
            c = item.candle
            market.candles[item.timestamp] = [c.open, c.high, c.low, c.close, c.volume]
            volume = truncate(c.volume, spec.quantity_decimals)
            if start_ms - PUBLIC_TRADE_MINUTES * MINUTE_MS < item.end <= start_ms and volume > 0:
                self._history_trade(market, item.end - 1, volume, c.close, c.rising)

    def _history_trade(self, market: MarketPrices, ts: int, amount: Decimal, price: Decimal, rising: bool) -> None:
        trade_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        market.trades.append(PublicTrade(trade_id, ts, amount, price, "buy" if rising else "sell"))

    def step_once(self) -> None:
        self.model_ms += STEP_MS
        for name, market in self.markets.items():
            before = market.price
            if self.replay is not None and self.replay.replays(name):
                market.set_level(self.replay.price_at(name, self.model_ms))
            else:
                self._move(market, STEP_MS)
            self._public_trade(market, self.model_ms, "buy" if market.price >= before else "sell")

    def _public_trade(self, market: MarketPrices, ts: int, side: str) -> None:
        spec = market.spec
        amount = truncate(spec.level_size * Decimal(self.rng.randint(1, 20)) / 10, spec.quantity_decimals)
        trade_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        market.trades.append(PublicTrade(trade_id, ts, amount, market.price, side))
        market.record(ts, amount)

    def set_price(self, name: str, price: Decimal, ts: int) -> None:
        market = self.markets[name]
        side = "buy" if price >= market.price else "sell"
        market.set_level(price)
        self._public_trade(market, ts, side)

    def add_fill_volume(self, name: str, ts: int, amount: Decimal) -> None:
        self.markets[name].record(ts, amount)
