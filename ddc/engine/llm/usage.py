"""Per-model usage: requests, failures, retries, tokens, latency percentiles, effective concurrency."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelUsage:
    """Counters of one model alias over a run.

    ``requests`` counts HTTP requests sent (retries included, cache hits excluded); ``failures`` counts
    calls that still failed after their retries; ``effective_concurrency`` is the mean number of
    requests in flight while the model was busy (Little's law: summed latency / busy wall time).
    """

    alias: str
    model: str
    requests: int = 0
    answered: int = 0  # requests that got a usable response
    failures: int = 0
    retries: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latencies: list[float] = field(default_factory=list)
    first_start: float | None = None
    last_end: float | None = None

    def record_request(self, started: float, ended: float) -> None:
        self.requests += 1
        self.latencies.append(ended - started)
        self.first_start = started if self.first_start is None else min(self.first_start, started)
        self.last_end = ended if self.last_end is None else max(self.last_end, ended)

    def record_tokens(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self.input_tokens += _int(usage.get("prompt_tokens"))
            self.output_tokens += _int(usage.get("completion_tokens"))

    def report(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        busy = (self.last_end - self.first_start) if self.first_start is not None and self.last_end else 0.0
        return {
            "model": self.model,
            "requests": self.requests,
            "failures": self.failures,
            "retries": self.retries,
            "cache_hits": self.cache_hits,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_p50_s": round(_percentile(ordered, 0.50), 4),
            "latency_p95_s": round(_percentile(ordered, 0.95), 4),
            "effective_concurrency": round(sum(ordered) / busy, 2) if busy > 0 else 0.0,
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def format_usage(report: dict[str, dict[str, Any]]) -> list[str]:
    """One line per model for the console."""
    lines = []
    for alias, r in report.items():
        lines.append(
            f"{alias} ({r['model']}): {r['requests']} requests, {r['failures']} failed, "
            f"{r['retries']} retries, "
            f"{r['cache_hits']} cached, tokens {r['input_tokens']} in / {r['output_tokens']} out, "
            f"latency p50 {r['latency_p50_s']:.3f}s p95 {r['latency_p95_s']:.3f}s, "
            f"concurrency {r['effective_concurrency']:.1f}"
        )
    return lines
