"""The simulated clock: wall time scaled by `speed`, plus manual advances from the admin API; and the exchange's
own clock (`/time` and the signature window), wall time shifted by a settable offset so tests can model skew."""

from __future__ import annotations

import time

MINUTE_MS = 60_000
DAY_MS = 86_400_000
#: Days of minute candles the price model holds (and a replay starts) before the present.
HISTORY_DAYS = 3


def wall_ms() -> int:
    return int(time.time() * 1000)


class SimClock:
    """Simulated milliseconds. Anchored so that it can be paused (speed 0), sped up, or advanced by hand."""

    def __init__(self, start_ms: int, speed: float = 1.0, offset_ms: int = 0) -> None:
        self._anchor_sim = start_ms
        self._anchor_wall = wall_ms()
        self._speed = max(0.0, speed)
        #: How far the exchange's clock runs ahead of the wall clock (negative: behind). It shifts only `/time`
        #: and the access-window check, never the price model.
        self.offset_ms = offset_ms

    def exchange_ms(self) -> int:
        """The exchange's wall clock: what `/time` answers and what a signed timestamp is checked against."""
        return wall_ms() + self.offset_ms

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> int:
        return self._anchor_sim + int((wall_ms() - self._anchor_wall) * self._speed)

    def advance(self, ms: int) -> None:
        self._anchor_sim += ms

    def set_speed(self, speed: float) -> None:
        # Re-anchor first, so that changing the speed never makes the clock jump.
        self._anchor_sim = self.now()
        self._anchor_wall = wall_ms()
        self._speed = max(0.0, speed)

    def reset_to(self, sim_ms: int) -> None:
        self._anchor_sim = sim_ms
        self._anchor_wall = wall_ms()
