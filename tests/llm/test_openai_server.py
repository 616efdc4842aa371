"""The loopback server behaves like an OpenAI endpoint and injects the faults tests ask for."""

from __future__ import annotations

import httpx
import pytest

from tests.servers.openai_server import Fault, OpenAIServer


def test_chat_reply_is_deterministic(openai_server: OpenAIServer) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    first = httpx.post(f"{openai_server.base_url}/chat/completions", json=body).json()
    second = httpx.post(f"{openai_server.base_url}/chat/completions", json=body).json()
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]


def test_scheduled_429_carries_retry_after(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.http(429, retry_after=1.5))
    response = httpx.post(f"{openai_server.base_url}/chat/completions", json={"messages": []})
    assert (response.status_code, response.headers["retry-after"]) == (429, "1.5")


def test_dropped_connection_is_a_transport_error(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.drop())
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{openai_server.base_url}/chat/completions", json={"messages": []})


def test_requests_are_recorded_with_headers(openai_server: OpenAIServer) -> None:
    httpx.post(f"{openai_server.base_url}/embeddings", json={"input": ["a"]}, headers={"X-Probe": "1"})
    assert openai_server.requests[0].headers["x-probe"] == "1"
