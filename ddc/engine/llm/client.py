"""One shared async HTTP client for every model: limits, timeouts, retries, cache and usage.

``ModelClient.post(alias, route, body)`` returns the parsed JSON of a successful response or raises
``ModelCallError`` (a ``ModelEndpointError``) with a short ``kind``. Retried, with exponential backoff
and full jitter, or exactly the ``Retry-After`` the server asks for: 429, 5xx, timeouts, connection
errors (refused, reset, dropped) and malformed 200 responses. Not retried: other 4xx. Waiting between
attempts happens outside the model's concurrency slot, so other requests keep the slots busy.
Messages name the model alias and URL, never headers (so never an API key).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddc.engine.llm.cache import ResponseCache, cache_key
from ddc.engine.llm.limiter import ConcurrencyLimiter
from ddc.engine.llm.providers import ResolvedModel
from ddc.engine.llm.text import decode_payload
from ddc.engine.llm.usage import ModelUsage
from ddc.errors import ModelEndpointError

if TYPE_CHECKING:
    from ddc.engine.llm.pool import KeepAlivePool, Reply

RETRYABLE_KINDS = frozenset({"rate_limited", "server_error", "timeout", "connection", "malformed_response"})


class ModelCallError(ModelEndpointError):
    """A model call that failed (after retries when the cause was retryable)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        cause: str | None = None,
    ):
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        #: the message without its "model 'alias' at URL: " prefix
        self.cause = cause if cause is not None else message
        super().__init__(message)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``max_retries`` more attempts; delay ``base * 2**attempt`` with full jitter, capped."""

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return ceiling * (0.5 + 0.5 * rng.random())


_EXPECTED_KEY = {"chat/completions": "choices", "embeddings": "data", "images/generations": "data"}


class ModelClient:
    """Sends requests for the resolved models of a run; create inside the running event loop."""

    def __init__(
        self,
        models: Mapping[str, ResolvedModel],
        *,
        cache: ResponseCache | None = None,
        retry: RetryPolicy | None = None,
        adaptive: bool = False,
        on_first_answer: Callable[[], None] | None = None,
    ) -> None:
        from ddc.engine.llm.pool import KeepAlivePool

        #: called once, when the first answer of the run is back: the first requests are out and the run
        #: waits on the network, the moment for background work that would otherwise delay them
        self._on_first_answer = on_first_answer

        self.models = dict(models)
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self.usage = {alias: ModelUsage(alias, m.model) for alias, m in self.models.items()}
        self.limiters = {
            alias: ConcurrencyLimiter(m.max_parallel_requests, adaptive=adaptive) for alias, m in self.models.items()
        }
        # One keep-alive connection pool per provider (``ddc.engine.llm.pool``): the per-model limiters bound
        # the requests in flight, so each slot opens one connection and reuses it, and a request costs the
        # pool O(1) work.
        self._pools: dict[str, KeepAlivePool] = {}
        self._pool_of: dict[str, KeepAlivePool] = {}
        for alias, m in self.models.items():
            if m.provider.endpoint not in self._pools:
                self._pools[m.provider.endpoint] = KeepAlivePool()
            self._pool_of[alias] = self._pools[m.provider.endpoint]
        self._jitter = random.Random()
        #: set (by the early-shutdown monitor) to refuse every request not yet sent
        self.stop_reason: str | None = None

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        if self.cache is not None:
            self.cache.flush()

    def model(self, alias: str) -> ResolvedModel:
        return self.models[alias]

    async def post(
        self,
        alias: str,
        route: str,
        body: dict[str, Any],
        *,
        sample: tuple[object, ...] = (),
        tally: dict[str, float] | None = None,
    ) -> Any:
        """POST ``body`` to the model's ``route``; cached responses are returned without a request.

        ``sample`` names the draw of a stochastic call (column, row, restart ...) for the cache key;
        ``tally`` (per column and batch) adds requests, retries, cache hits and tokens of this call."""
        tally = tally if tally is not None else {}
        model = self.models[alias]
        url = model.provider.url(route)
        usage = self.usage[alias]
        key = cache_key(url, body, sample) if self.cache is not None else None
        if key is not None and self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                usage.cache_hits += 1
                tally["cache_hits"] = tally.get("cache_hits", 0) + 1
                return cached
        payload = await self._call(model, url, route, body, self.retry, usage, tally)
        if key is not None and self.cache is not None:
            self.cache.put(key, payload)
        tokens = payload.get("usage") if isinstance(payload, dict) else None
        if isinstance(tokens, dict):
            for name, field in (("input_tokens", "prompt_tokens"), ("output_tokens", "completion_tokens")):
                if isinstance(tokens.get(field), int):
                    tally[name] = tally.get(name, 0) + tokens[field]
        return payload

    async def probe(self, alias: str, route: str, body: dict[str, Any], retry: RetryPolicy) -> Any:
        """POST a health probe: no cache, not counted in usage (the official engine's probes skip usage
        tracking), and first in line for the model's next free slot (it overlaps the run's first cells
        and must not queue behind them)."""
        model = self.models[alias]
        scratch = ModelUsage(alias, model.model)
        return await self._call(model, model.provider.url(route), route, body, retry, scratch, {}, first=True)

    async def _call(
        self,
        model: ResolvedModel,
        url: str,
        route: str,
        body: dict[str, Any],
        policy: RetryPolicy,
        usage: ModelUsage,
        tally: dict[str, float],
        *,
        first: bool = False,
    ) -> Any:
        """One call with its retries; returns the parsed payload or raises the last ModelCallError."""
        for retry in range(policy.max_retries + 1):
            if self.stop_reason is not None:
                raise ModelCallError("early_shutdown", self.stop_reason)
            try:
                tally["requests"] = tally.get("requests", 0) + 1
                return await self._send_once(model, url, route, body, usage, first=first)
            except ModelCallError as exc:
                # an endpoint that has never answered and refuses connections is down or mistyped:
                # one retry, not the full backoff, so a run against it stops within seconds
                unreachable = exc.kind == "connection" and usage.answered == 0 and retry >= 1
                if not exc.retryable or retry == policy.max_retries or unreachable:
                    usage.failures += exc.kind != "early_shutdown"
                    if retry:
                        after = f" (after {retry + 1} attempts)"
                        raise ModelCallError(
                            exc.kind, exc.message + after, status=exc.status, cause=exc.cause + after
                        ) from exc
                    raise
                usage.retries += 1
                tally["retries"] = tally.get("retries", 0) + 1
                await asyncio.sleep(policy.delay(retry, exc.retry_after, self._jitter))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(
        self,
        model: ResolvedModel,
        url: str,
        route: str,
        body: dict[str, Any],
        usage: ModelUsage,
        *,
        first: bool = False,
    ) -> Any:
        from ddc.engine.llm.netio import TimeoutException, TransportError
        from ddc.engine.llm.pool import InvalidURL
        from ddc.redaction import hide_url_credentials

        where = f"model {model.alias!r} at {hide_url_credentials(url)}"  # it reaches errors.jsonl too

        def failure(kind: str, cause: str, **extra: Any) -> ModelCallError:
            return ModelCallError(kind, f"{where}: {cause}", cause=cause, **extra)

        limiter = self.limiters[model.alias]
        await limiter.acquire(first=first)
        if self.stop_reason is not None:
            await limiter.release()
            raise ModelCallError("early_shutdown", self.stop_reason)
        started = time.monotonic()
        try:
            content = json.dumps(body, ensure_ascii=False).encode()
            response = await self._pool_of[model.alias].post(url, model.provider.headers(), content, model.timeout)
        except TimeoutException as exc:
            raise failure("timeout", f"no answer within {model.timeout:g}s") from exc
        except TransportError as exc:
            raise failure("connection", f"connection failed ({type(exc).__name__})") from exc
        except InvalidURL as exc:
            raise failure("invalid_url", f"the endpoint is not a valid URL: {exc}") from None
        finally:
            ended = time.monotonic()
            usage.record_request(started, ended)
            await limiter.release()
        if self._on_first_answer is not None:
            first_answer, self._on_first_answer = self._on_first_answer, None
            first_answer()
        status = response.status
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            limiter.on_rate_limited(retry_after)
            raise failure("rate_limited", "rate limited (HTTP 429)", status=429, retry_after=retry_after)
        if status >= 500:
            raise failure(
                "server_error",
                f"HTTP {status} {_error_text(response)}".rstrip(),
                status=status,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if status >= 400:
            kind = "auth" if status in (401, 403) else "bad_request" if status in (400, 422) else f"http_{status}"
            raise failure(kind, f"HTTP {status} {_error_text(response)}".rstrip(), status=status)
        try:
            payload = decode_payload(response.content)  # invalid UTF-8 becomes U+FFFD, never an error
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise failure("malformed_response", "the response is not valid JSON") from exc
        expected = _EXPECTED_KEY.get(route.strip("/"))
        if expected and (
            not isinstance(payload, dict) or not isinstance(payload.get(expected), list) or not payload[expected]
        ):
            raise failure("malformed_response", f"the response has no {expected!r}")
        limiter.on_success(ended - started)
        usage.answered += 1
        usage.record_tokens(payload.get("usage") if isinstance(payload, dict) else None)
        return payload

    def usage_report(self) -> dict[str, dict[str, Any]]:
        return {alias: u.report() for alias, u in self.usage.items()}


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_text(response: Reply) -> str:
    """The server's error message, shortened, with any secret it echoes (a wrong API key) redacted first."""
    from ddc.redaction import redact

    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return redact(response.text)[:200]
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    return redact(str(message or payload))[:200]
