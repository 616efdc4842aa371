"""Per-model concurrency: at most ``max_parallel_requests`` in flight, optionally adaptive (AIMD).

Adaptive mode starts at a quarter of ``max_parallel_requests`` and doubles after each round of
successes (slow start), so the latency of a lightly loaded server is seen first; it then lowers the
limit multiplicatively (x0.75, at least 1) on a 429 and when the smoothed latency rises above 2.5x
the best seen (vLLM queues requests instead of refusing them), holds it for a cooldown (the
``Retry-After`` value, else 2 s), and raises it by one after every ``successes_until_increase``
successes, never above ``max_parallel_requests``.

``acquire(first=True)`` takes the next free slot before every waiting request: the start-up health
probe of a run competes with the run's first cells for the same slots, and must not queue behind
them (its retry would otherwise wait for a whole batch).
"""

from __future__ import annotations

import asyncio
import time


class ConcurrencyLimiter:
    """An async semaphore whose size can change while requests are in flight."""

    def __init__(
        self,
        limit: int,
        *,
        adaptive: bool = False,
        decrease_factor: float = 0.75,
        successes_until_increase: int = 25,
        cooldown: float = 2.0,
        latency_factor: float = 2.5,
    ) -> None:
        self.max_limit = limit
        self.limit = max(1, limit // 4) if adaptive else limit
        self.adaptive = adaptive
        self._slow_start = adaptive
        self.in_flight = 0
        self._decrease = decrease_factor
        self._increase_after = successes_until_increase
        self._cooldown = cooldown
        self._latency_factor = latency_factor
        self._successes = 0
        self._cooldown_until = 0.0
        self._best_latency: float | None = None
        self._smoothed: float | None = None
        self._condition = asyncio.Condition()
        self._first_waiting = 0  # acquire(first=True) calls waiting: the others wait behind them

    async def acquire(self, *, first: bool = False) -> None:
        async with self._condition:
            if first:
                self._first_waiting += 1
                try:
                    while self.in_flight >= self.limit:
                        await self._condition.wait()
                finally:
                    self._first_waiting -= 1
                    if not self._first_waiting:  # the others no longer wait behind us
                        self._condition.notify(max(0, self.limit - self.in_flight))
            else:
                while self.in_flight >= self.limit or self._first_waiting:
                    await self._condition.wait()
            self.in_flight += 1

    async def release(self) -> None:
        async with self._condition:
            self.in_flight -= 1
            if self._first_waiting:
                self._condition.notify_all()  # the waiters are woken in arrival order; the first one may be last
            else:
                self._condition.notify(max(1, self.limit - self.in_flight))

    def on_success(self, latency: float) -> None:
        if not self.adaptive:
            return
        self._smoothed = latency if self._smoothed is None else 0.8 * self._smoothed + 0.2 * latency
        self._best_latency = self._smoothed if self._best_latency is None else min(self._best_latency, self._smoothed)
        now = time.monotonic()
        if now < self._cooldown_until:
            return
        if self._smoothed > self._latency_factor * self._best_latency and self.limit > 1:
            self._decrease_limit(now, self._cooldown)
            return
        self._successes += 1
        if self._slow_start and self._successes >= self.limit:
            self.limit = min(self.max_limit, self.limit * 2)
            self._successes = 0
            self._slow_start = self.limit < self.max_limit
        elif not self._slow_start and self._successes >= self._increase_after and self.limit < self.max_limit:
            self.limit += 1
            self._successes = 0

    def on_rate_limited(self, retry_after: float | None) -> None:
        if self.adaptive:
            self._decrease_limit(time.monotonic(), retry_after if retry_after is not None else self._cooldown)

    def _decrease_limit(self, now: float, hold: float) -> None:
        self._slow_start = False
        self.limit = max(1, int(self.limit * self._decrease))
        self._successes = 0
        self._cooldown_until = now + hold
