"""The shared client: request shape, retries, Retry-After, limits, cache; keys never leak."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ddc.engine.llm.cache import ResponseCache
from ddc.engine.llm.client import ModelCallError, ModelClient, RetryPolicy
from ddc.engine.llm.wire import chat_body, chat_messages
from tests.llm.helpers import models_for
from tests.servers.openai_server import Fault, OpenAIServer

T = TypeVar("T")
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)


def run_with_client(
    server: OpenAIServer,
    use: Callable[[ModelClient], Awaitable[T]],
    *,
    cache: ResponseCache | None = None,
    retry: RetryPolicy = FAST,
    **params: Any,
) -> tuple[T, ModelClient]:
    async def main() -> tuple[T, ModelClient]:
        client = ModelClient(models_for(server.base_url, **params), cache=cache, retry=retry)
        try:
            return await use(client), client
        finally:
            await client.aclose()

    return asyncio.run(main())


def hello(client: ModelClient) -> Awaitable[Any]:
    body = chat_body(client.model("text"), chat_messages("hello"))
    return client.post("text", "chat/completions", body)


def test_text_only_message_content_is_a_plain_string_and_no_empty_system(openai_server: OpenAIServer) -> None:
    run_with_client(openai_server, hello)
    assert openai_server.requests[0].body["messages"] == [{"role": "user", "content": "hello"}]


def test_extra_body_is_merged_at_top_level(openai_server: OpenAIServer) -> None:
    run_with_client(openai_server, hello, extra_body={"foo": "bar"})
    assert openai_server.requests[0].body["foo"] == "bar"


def test_429_is_retried_after_retry_after_seconds(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.http(429, retry_after=0.3))
    run_with_client(openai_server, hello)
    first, second = openai_server.requests
    assert second.received_at - first.received_at >= 0.3


@pytest.mark.parametrize(
    "fault", [Fault.http(500), Fault.http(503), Fault.malformed(), Fault.drop(), Fault.timeout(2.0)],
    ids=["500", "503", "malformed", "dropped", "timeout"],
)  # fmt: skip
def test_transient_failures_are_retried_until_success(openai_server: OpenAIServer, fault: Fault) -> None:
    openai_server.schedule(fault)
    payload, _ = run_with_client(openai_server, hello, timeout=1)
    assert payload["choices"][0]["message"]["content"].startswith("reply")


def test_bad_request_is_not_retried(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.http(400))
    with pytest.raises(ModelCallError, match="HTTP 400"):
        run_with_client(openai_server, hello)
    assert len(openai_server.requests) == 1


def test_failure_after_retries_counts_one_failure_and_the_retries(openai_server: OpenAIServer) -> None:
    openai_server.schedule(*[Fault.http(500)] * 4)
    client_box: list[ModelClient] = []

    async def use(client: ModelClient) -> Any:
        client_box.append(client)
        return await hello(client)

    with pytest.raises(ModelCallError, match="after 4 attempts"):
        run_with_client(openai_server, use)
    usage = client_box[0].usage_report()["text"]
    assert (usage["requests"], usage["retries"], usage["failures"]) == (4, 3, 1)


def test_max_parallel_requests_bounds_requests_in_flight(openai_server: OpenAIServer) -> None:
    openai_server.latency = 0.05

    async def many(client: ModelClient) -> list[Any]:
        bodies = [chat_body(client.model("text"), chat_messages(f"q{i}")) for i in range(12)]
        return await asyncio.gather(*(client.post("text", "chat/completions", b) for b in bodies))

    run_with_client(openai_server, many, max_parallel_requests=3)
    assert openai_server.max_in_flight == 3


def test_requests_of_one_model_overlap_up_to_its_limit(openai_server: OpenAIServer) -> None:
    openai_server.latency = 0.2

    async def many(client: ModelClient) -> list[Any]:
        bodies = [chat_body(client.model("text"), chat_messages(f"q{i}")) for i in range(8)]
        return await asyncio.gather(*(client.post("text", "chat/completions", b) for b in bodies))

    run_with_client(openai_server, many, max_parallel_requests=8)
    assert openai_server.max_in_flight == 8


def test_cached_rerun_sends_no_request(openai_server: OpenAIServer, tmp_path: Path) -> None:
    run_with_client(openai_server, hello, cache=ResponseCache(tmp_path / "c.sqlite3"))
    run_with_client(openai_server, hello, cache=ResponseCache(tmp_path / "c.sqlite3"))
    assert len(openai_server.requests) == 1


def test_api_key_is_sent_as_bearer_but_not_in_errors(
    openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ddc.engine.llm.providers import resolve_models
    from tests.llm.helpers import spec_for

    monkeypatch.setenv("LOCAL_KEY", "sk-very-secret")
    spec = spec_for(openai_server.base_url).model_copy(
        update={
            "providers": [spec_for(openai_server.base_url).providers[0].model_copy(update={"api_key": "LOCAL_KEY"})]
        }
    )
    openai_server.schedule(Fault.http(401))

    async def main() -> str:
        client = ModelClient(resolve_models(spec, aliases=["text"]), retry=FAST)
        try:
            await hello(client)
        except ModelCallError as exc:
            return str(exc)
        finally:
            await client.aclose()
        return ""

    message = asyncio.run(main())
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-very-secret"
    assert "401" in message and "sk-very-secret" not in message


def test_retry_after_as_an_http_date_is_honoured() -> None:
    from email.utils import formatdate

    from ddc.engine.llm.client import retry_after_seconds

    assert 1.0 < (retry_after_seconds(formatdate(time.time() + 3, usegmt=True)) or 0) <= 3.0


def test_adaptive_concurrency_backs_off_when_latency_rises_with_load(openai_server: OpenAIServer) -> None:
    openai_server.queue_latency = 0.01

    async def many(client: ModelClient) -> int:
        model = client.model("text")
        bodies = [chat_body(model, chat_messages(f"q{i}")) for i in range(120)]
        await asyncio.gather(*(client.post("text", "chat/completions", b) for b in bodies))
        return client.limiters["text"].limit

    async def main() -> int:
        client = ModelClient(models_for(openai_server.base_url, max_parallel_requests=16), retry=FAST, adaptive=True)
        try:
            return await many(client)
        finally:
            await client.aclose()

    assert asyncio.run(main()) < 16


def test_connections_are_opened_once_per_slot_and_kept_alive(openai_server: OpenAIServer) -> None:
    openai_server.latency = 0.01

    async def many(client: ModelClient) -> None:
        await asyncio.gather(*(hello(client) for _ in range(60)))

    run_with_client(openai_server, many, max_parallel_requests=6)
    assert len(openai_server.requests) == 60 and openai_server.connections <= 6


def test_the_first_answer_hook_runs_once_after_the_first_request_is_answered(openai_server: OpenAIServer) -> None:
    openai_server.latency = 0.05
    requests_seen_by_the_hook: list[int] = []

    async def main() -> None:
        client = ModelClient(
            models_for(openai_server.base_url, max_parallel_requests=4),
            retry=FAST,
            on_first_answer=lambda: requests_seen_by_the_hook.append(len(openai_server.requests)),
        )
        try:
            await asyncio.gather(*(hello(client) for _ in range(8)))
        finally:
            await client.aclose()

    asyncio.run(main())
    assert requests_seen_by_the_hook == [4]  # once, with the first four requests out and no later one
