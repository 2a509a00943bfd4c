"""Weight-based rate limiting per API key (or per client IP when unsigned), 1000 points per minute."""

from __future__ import annotations

from dataclasses import dataclass

from autoinvest.simulator.errors import ApiError, rate_limited

WINDOW_MS = 60_000
# The SDK sleeps until resetat in a helper thread and crashes on a negative sleep: keep it ahead of the client.
MIN_RESET_LEAD_MS = 1_000


@dataclass
class _Bucket:
    window_start: int
    used: int = 0
    banned_until: int = 0


@dataclass(frozen=True)
class Allowance:
    limit: int
    remaining: int
    reset_at: int

    def headers(self) -> dict[str, str]:
        return {
            "bitvavo-ratelimit-remaining": str(self.remaining),
            "bitvavo-ratelimit-resetat": str(self.reset_at),
            "bitvavo-ratelimit-limit": str(self.limit),
        }


class RateLimiter:
    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._buckets: dict[str, _Bucket] = {}

    def charge(self, who: str, weight: int, now_ms: int) -> Allowance:
        """Count `weight` for `who`; raise 105 (with the headers to send) when banned or over the limit."""
        bucket = self._buckets.get(who)
        if bucket is None or now_ms >= bucket.window_start + WINDOW_MS:
            banned_until = bucket.banned_until if bucket else 0
            bucket = _Bucket(now_ms, 0, banned_until)
            self._buckets[who] = bucket
        reset_at = max(bucket.window_start + WINDOW_MS, now_ms + MIN_RESET_LEAD_MS)
        if now_ms < bucket.banned_until:
            raise RateLimitError(bucket.banned_until, Allowance(self.limit, 0, bucket.banned_until))
        if bucket.used + weight > self.limit:
            # Banned for the rest of this minute and one more, as Bitvavo does for keys.
            bucket.banned_until = bucket.window_start + 2 * WINDOW_MS
            bucket.used = self.limit
            raise RateLimitError(bucket.banned_until, Allowance(self.limit, 0, bucket.banned_until))
        bucket.used += weight
        return Allowance(self.limit, self.limit - bucket.used, reset_at)


class RateLimitError(ApiError):
    def __init__(self, ban_expires_ms: int, allowance: Allowance) -> None:
        err = rate_limited(ban_expires_ms)
        super().__init__(err.code, err.message)
        self.allowance = allowance
