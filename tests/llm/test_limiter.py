"""Adaptive concurrency (AIMD): multiplicative decrease on 429 and rising latency, additive increase."""

from __future__ import annotations

import asyncio

from ddc.engine.llm.limiter import ConcurrencyLimiter


def test_adaptive_limit_starts_at_a_quarter_and_doubles() -> None:
    limiter = ConcurrencyLimiter(16, adaptive=True, cooldown=0.0)
    seen = [limiter.limit]
    for _ in range(4 + 8):
        limiter.on_success(0.1)
        seen.append(limiter.limit)
    assert (seen[0], seen[4], seen[-1]) == (4, 8, 16)


def test_rate_limit_lowers_an_adaptive_limit() -> None:
    limiter = ConcurrencyLimiter(16, adaptive=True)
    limiter.on_rate_limited(retry_after=None)
    assert limiter.limit == 3


def test_rate_limit_leaves_a_fixed_limit_alone() -> None:
    limiter = ConcurrencyLimiter(16)
    limiter.on_rate_limited(retry_after=None)
    assert limiter.limit == 16


def test_limit_rises_by_one_after_enough_successes() -> None:
    limiter = ConcurrencyLimiter(16, adaptive=True, cooldown=0.0, successes_until_increase=5)
    limiter.on_rate_limited(retry_after=0.0)
    for _ in range(5):
        limiter.on_success(0.1)
    assert limiter.limit == 4


def test_rising_latency_lowers_the_limit() -> None:
    limiter = ConcurrencyLimiter(16, adaptive=True, cooldown=0.0)
    for latency in [0.1] * 12 + [1.0] * 5:
        limiter.on_success(latency)
    assert limiter.limit < 16


def test_limit_never_falls_below_one() -> None:
    limiter = ConcurrencyLimiter(2, adaptive=True)
    for _ in range(5):
        limiter.on_rate_limited(retry_after=0.0)
    assert limiter.limit == 1


def test_acquire_waits_while_the_limit_is_reached() -> None:
    async def main() -> list[str]:
        limiter = ConcurrencyLimiter(1)
        order: list[str] = []

        async def worker(name: str) -> None:
            await limiter.acquire()
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")
            await limiter.release()

        await asyncio.gather(worker("a"), worker("b"))
        return order

    assert asyncio.run(main()) == ["a in", "a out", "b in", "b out"]


def test_a_first_in_line_request_takes_the_next_free_slot() -> None:
    async def main() -> list[str]:
        limiter = ConcurrencyLimiter(1)
        order: list[str] = []

        async def take(name: str, first: bool = False) -> None:
            await limiter.acquire(first=first)
            order.append(name)
            await limiter.release()

        await limiter.acquire()
        cells = [asyncio.ensure_future(take(f"cell{i}")) for i in range(3)]
        await asyncio.sleep(0)
        probe = asyncio.ensure_future(take("probe", first=True))
        await asyncio.sleep(0)
        await limiter.release()
        await asyncio.gather(*cells, probe)
        return order

    assert asyncio.run(main()) == ["probe", "cell0", "cell1", "cell2"]


def test_a_cancelled_first_in_line_request_does_not_hold_back_the_others() -> None:
    async def main() -> int:
        limiter = ConcurrencyLimiter(2)
        await limiter.acquire()
        await limiter.acquire()
        cell = asyncio.ensure_future(limiter.acquire())
        probe = asyncio.ensure_future(limiter.acquire(first=True))
        await asyncio.sleep(0)
        await limiter.release()  # wakes both; the cell waits again, behind the probe ...
        probe.cancel()  # ... which gives up before taking the slot
        await asyncio.gather(probe, return_exceptions=True)
        await asyncio.wait_for(cell, timeout=1.0)
        return limiter.in_flight

    assert asyncio.run(main()) == 2
