"""The simulated exchange: accounts, prices, matching, faults and limits behind one object, advanced by the clock."""

from __future__ import annotations

from collections import Counter

from autoinvest.simulator.accounts import Accounts
from autoinvest.simulator.clock import DAY_MS, SimClock, wall_ms
from autoinvest.simulator.faults import Faults
from autoinvest.simulator.markets import MARKETS
from autoinvest.simulator.matching import Engine
from autoinvest.simulator.prices import STEP_MS, PriceModel
from autoinvest.simulator.ratelimit import RateLimiter
from autoinvest.simulator.replay import CandleFile, Replay

# A longer gap (a long downtime, a huge manual advance) is skipped rather than walked step by step.
MAX_CATCH_UP_MS = 2 * DAY_MS


class Exchange:
    def __init__(
        self, seed: int = 1, speed: float = 1.0, rate_limit: int = 1000, history: bool = True,
        candles: CandleFile | None = None,
    ) -> None:
        now = wall_ms()
        self.seed = seed
        self.clock = SimClock(now, speed)
        self.accounts = Accounts()
        # A candle file's replay start lines up with now (the simulated clock starts at wall time).
        replay = None if candles is None else Replay.begin(candles, now)
        self.prices = PriceModel(MARKETS, seed, now, history=history, replay=replay)
        self._event_ms: int | None = None
        self.engine = Engine(self.accounts, self.prices, self.now)
        self.faults = Faults(seed)
        self.limiter = RateLimiter(rate_limit)
        self.changes = 0  # bumped on every mutation, so that the saver writes only when something changed
        #: /v2 requests that arrived, by (account id, "METHOD /path"): tests prove what was sent, and how often
        self.requests: Counter[tuple[str, str]] = Counter()
        #: rate-limit weight charged per account id, and unsigned (public) requests by "METHOD /path": benchmarks
        #: count what a reconciliation spends and how often market data was fetched
        self.weights: Counter[str] = Counter()
        self.public_requests: Counter[str] = Counter()

    def now(self) -> int:
        """Simulated time in ms (market data and order timestamps); inside a model step, the step's time."""
        return self._event_ms if self._event_ms is not None else self.clock.now()

    def sync(self) -> None:
        """Walk the price model up to the simulated now, matching resting orders after every step."""
        target = self.clock.now()
        if target - self.prices.model_ms > MAX_CATCH_UP_MS:
            skip_to = target - MAX_CATCH_UP_MS
            self.prices.model_ms = skip_to - skip_to % STEP_MS
        stepped = False
        while self.prices.model_ms + STEP_MS <= target:
            self.prices.step_once()
            self._event_ms = self.prices.model_ms
            try:
                self.engine.match_all()
            finally:
                self._event_ms = None
            stepped = True
        if stepped:
            self.changes += 1

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)
        self.sync()
