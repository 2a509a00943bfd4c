"""The weight budget, driven by an injected clock: deterministic, no real sleeping."""

from __future__ import annotations

import asyncio
import random

import pytest

from autoinvest.errors import RateLimited
from autoinvest.exchange.budget import BudgetRegistry, WeightBudget

START = 1_700_000_000_000


class FakeClock:
    def __init__(self) -> None:
        self.now = START
        self.slept: list[int] = []

    def __call__(self) -> int:
        return self.now

    async def sleep(self, ms: int) -> None:
        self.slept.append(ms)
        self.now += ms
        await asyncio.sleep(0)


def budget(clock: FakeClock, *, limit: int = 1000, max_wait_ms: int = 120_000) -> WeightBudget:
    return WeightBudget(limit=limit, window_ms=60_000, max_wait_ms=max_wait_ms, clock=clock, sleep=clock.sleep)


async def test_spends_up_to_the_limit_without_waiting() -> None:
    clock = FakeClock()
    b = budget(clock)
    for _ in range(200):
        await b.acquire(5)
    assert b.used() == 1000
    assert clock.slept == []


async def test_waits_until_the_oldest_spend_leaves_the_window() -> None:
    clock = FakeClock()
    b = budget(clock)
    await b.acquire(600)
    clock.now += 10_000
    await b.acquire(400)
    await b.acquire(1)  # needs the 600 from t=0 to expire: at t=60 s
    assert clock.slept == [50_000]
    assert clock.now == START + 60_000
    assert b.used() == 401


async def test_no_sliding_window_ever_exceeds_the_limit() -> None:
    clock = FakeClock()
    b = budget(clock)
    rng = random.Random(7)
    granted: list[tuple[int, int]] = []

    async def caller(weights: list[int]) -> None:
        for weight in weights:
            await b.acquire(weight)
            granted.append((clock.now, weight))
            clock.now += rng.randrange(0, 300)

    await asyncio.gather(*(caller([rng.choice([1, 1, 5, 5, 25, 100]) for _ in range(150)]) for _ in range(4)))

    assert sum(w for _, w in granted) > 3 * 1000  # the run spans several windows
    for start, _ in granted:
        in_window = sum(w for t, w in granted if start <= t < start + 60_000)
        assert in_window <= 1000


async def test_raises_at_once_when_the_wait_would_exceed_the_maximum() -> None:
    clock = FakeClock()
    b = budget(clock, max_wait_ms=5_000)
    await b.acquire(1000)
    with pytest.raises(RateLimited):
        await b.acquire(1)
    assert clock.slept == []  # did not sleep in vain


async def test_honours_the_servers_remaining_weight_until_reset() -> None:
    clock = FakeClock()
    b = budget(clock)
    # Another process spent this key's minute: the server says 3 left, reset in 8 s.
    b.observe_headers({"Bitvavo-Ratelimit-Remaining": "3", "Bitvavo-Ratelimit-ResetAt": str(START + 8_000)})
    await b.acquire(1)
    await b.acquire(2)
    await b.acquire(1)
    assert clock.slept == [8_000]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"bitvavo-ratelimit-remaining": "x", "bitvavo-ratelimit-resetat": str(START + 1)},
        {"bitvavo-ratelimit-remaining": "0", "bitvavo-ratelimit-resetat": str(START - 1)},  # already past
    ],
)
async def test_ignores_missing_malformed_or_stale_headers(headers: dict[str, str]) -> None:
    clock = FakeClock()
    b = budget(clock)
    b.observe_headers(headers)
    await b.acquire(10)
    assert clock.slept == []


async def test_out_of_order_headers_keep_the_lowest_remaining() -> None:
    clock = FakeClock()
    b = budget(clock)
    reset = str(START + 30_000)
    b.observe_headers({"bitvavo-ratelimit-remaining": "2", "bitvavo-ratelimit-resetat": reset})
    b.observe_headers({"bitvavo-ratelimit-remaining": "900", "bitvavo-ratelimit-resetat": reset})  # older response
    await b.acquire(2)
    await b.acquire(1)
    assert clock.slept == [30_000]


async def test_a_ban_blocks_until_it_expires() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.block_until(START + 61_000)
    await b.acquire(1)
    assert clock.slept == [61_000]


async def test_waiters_are_served_in_arrival_order() -> None:
    clock = FakeClock()
    b = budget(clock, limit=10)
    await b.acquire(9)  # 1 point left: "small" would fit now, but "big" came first
    order: list[str] = []

    async def take(name: str, weight: int) -> None:
        await b.acquire(weight)
        order.append(name)

    await asyncio.gather(take("big", 5), take("small", 1))
    assert order == ["big", "small"]


async def test_rejects_impossible_weights() -> None:
    b = budget(FakeClock(), limit=10)
    with pytest.raises(ValueError):
        await b.acquire(0)
    with pytest.raises(ValueError):
        await b.acquire(11)


def test_registry_shares_one_budget_per_key() -> None:
    registry = BudgetRegistry()
    assert registry.for_key("a" * 64) is registry.for_key("a" * 64)
    assert registry.for_key("a" * 64) is not registry.for_key("b" * 64)
