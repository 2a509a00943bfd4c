"""A client-side request-weight budget per API key.

Bitvavo allows 1000 weight points per minute per key and bans a key that goes
over for a minute (error 105). Every call spends its endpoint's weight here
*before* it is sent, over a sliding window: the sum of weights sent in any
``window_ms`` never exceeds ``limit``, so our process never causes a ban.
Other processes may share the key, so the server's own counter
(``bitvavo-ratelimit-remaining`` / ``-resetat`` response headers) is honoured
too, as is the expiry of a ban we were told about.

When the budget is exhausted the caller waits (asynchronously) up to
``max_wait_ms``; if more waiting would be needed it gets ``RateLimited`` at
once, without sleeping in vain. Clock and sleep are injected for tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from autoinvest.errors import RateLimited

DEFAULT_LIMIT = 1000
DEFAULT_WINDOW_MS = 60_000
DEFAULT_MAX_WAIT_MS = 10_000

REMAINING_HEADER = "bitvavo-ratelimit-remaining"
RESET_AT_HEADER = "bitvavo-ratelimit-resetat"


def wall_clock_ms() -> int:
    # Wall clock, not monotonic: the server's reset/ban times are epoch milliseconds.
    return time.time_ns() // 1_000_000


async def _sleep_ms(ms: int) -> None:
    await asyncio.sleep(ms / 1000)


class WeightBudget:
    """Spend request weight under a per-key limit; see the module docstring."""

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        window_ms: int = DEFAULT_WINDOW_MS,
        max_wait_ms: int = DEFAULT_MAX_WAIT_MS,
        clock: Callable[[], int] = wall_clock_ms,
        sleep: Callable[[int], Awaitable[None]] = _sleep_ms,
    ) -> None:
        if limit <= 0 or window_ms <= 0 or max_wait_ms < 0:
            raise ValueError("limit and window_ms must be positive, max_wait_ms not negative")
        self.limit = limit
        self.window_ms = window_ms
        self.max_wait_ms = max_wait_ms
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[tuple[int, int]] = deque()  # (sent at ms, weight), oldest first
        self._blocked_until = 0
        self._server_remaining: int | None = None
        self._server_reset_at = 0
        # FIFO: a waiter holds the lock while it sleeps, so later callers cannot overtake it.
        self._lock = asyncio.Lock()

    def used(self) -> int:
        """Weight spent in the current sliding window."""
        self._expire(self._clock())
        return sum(weight for _, weight in self._spent)

    async def acquire(self, weight: int) -> None:
        """Spend ``weight``, waiting until it fits; raise RateLimited if that takes over ``max_wait_ms``."""
        if not 0 < weight <= self.limit:
            raise ValueError(f"weight must be between 1 and {self.limit}")
        async with self._lock:
            started = self._clock()
            while True:
                now = self._clock()
                delay = self._delay(weight, now)
                if delay <= 0:
                    self._spend(weight, now)
                    return
                if now - started + delay > self.max_wait_ms:
                    raise RateLimited(
                        f"request weight budget exhausted: {weight} more points need {delay} ms,"
                        f" over the {self.max_wait_ms} ms maximum wait"
                    )
                await self._sleep(delay)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Take the server's view of this key's remaining weight from response headers."""
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            remaining = int(lowered[REMAINING_HEADER])
            reset_at = int(lowered[RESET_AT_HEADER])
        except (KeyError, ValueError):
            return
        if reset_at <= self._clock():
            return
        if reset_at != self._server_reset_at or self._server_remaining is None:
            self._server_remaining = remaining
        else:
            # Responses may arrive out of order: within one server window the lowest count is the newest.
            self._server_remaining = min(self._server_remaining, remaining)
        self._server_reset_at = reset_at

    def block_until(self, until_ms: int) -> None:
        """Send nothing before ``until_ms`` (a ban or rate-limit expiry the exchange announced)."""
        self._blocked_until = max(self._blocked_until, until_ms)

    def _expire(self, now: int) -> None:
        while self._spent and self._spent[0][0] <= now - self.window_ms:
            self._spent.popleft()
        if self._server_reset_at <= now:
            self._server_remaining = None

    def _delay(self, weight: int, now: int) -> int:
        self._expire(now)
        delays = [self._blocked_until - now]
        excess = sum(w for _, w in self._spent) + weight - self.limit
        if excess > 0:
            # Wait until enough of the oldest spends have left the window.
            freed = 0
            for sent_at, spent in self._spent:
                freed += spent
                if freed >= excess:
                    delays.append(sent_at + self.window_ms - now)
                    break
        if self._server_remaining is not None and self._server_remaining < weight:
            delays.append(self._server_reset_at - now)
        return max(delays)

    def _spend(self, weight: int, now: int) -> None:
        self._spent.append((now, weight))
        if self._server_remaining is not None:
            self._server_remaining -= weight


class BudgetRegistry:
    """One budget per API key, so every client of the same key in this process shares it."""

    def __init__(self, factory: Callable[[], WeightBudget] = WeightBudget) -> None:
        self._factory = factory
        self._budgets: dict[str, WeightBudget] = {}

    def for_key(self, api_key: str) -> WeightBudget:
        """Return the budget of ``api_key``, creating it on first use."""
        # Keyed by a digest so the registry never holds key material.
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        budget = self._budgets.get(digest)
        if budget is None:
            budget = self._budgets[digest] = self._factory()
        return budget


#: The process-wide registry the client factories use unless given another.
DEFAULT_BUDGETS = BudgetRegistry()
