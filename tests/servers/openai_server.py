"""A real OpenAI-compatible HTTP server for tests and benchmarks, on 127.0.0.1 with an ephemeral port.

Stdlib only (HTTP/1.1 with keep-alive over asyncio streams, its event loop in a daemon thread), so it
runs inside the test process or as its own process for benchmarks
(``python -m tests.servers.openai_server --latency 0.1`` prints the base URL on its first line).
Replies are deterministic: a pure function of the request body unless a test installs its own reply
function (``tool_calling_reply`` scripts a model that asks for MCP tool calls, then answers with their
results). Faults are injected per request, either from a FIFO schedule
(``server.schedule(Fault.http(429), ...)``) or from a policy function, and every request is recorded
so tests can assert on bodies and headers.

Echo mode (``server.api_key`` / ``server.echo_key``) quotes the API key a request carried in a 401's
message or in chat replies, as real endpoints do with a wrong key: tests check ddc redacts it.

Routes: ``POST /v1/chat/completions``, ``POST /v1/embeddings``, ``POST /v1/images/generations``,
``GET /v1/models``. Any other path answers 404 (tests use that for remote validators too, by
installing ``server.routes["/validate"] = fn``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import signal
import socket
import ssl
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the raw text when it was not JSON
    received_at: float

    @property
    def user_text(self) -> str:
        """Text of the last user message of a chat request (the prompt)."""
        for message in reversed(self.body.get("messages", [])):
            if message.get("role") == "user":
                return "".join(b.get("text", "") for b in _blocks(message.get("content")))
        return ""

    @property
    def is_health_probe(self) -> bool:
        """The official start-up health probe (chat "Hello!", embeddings ["Hello!"], image thumbs up)."""
        if not isinstance(self.body, dict):
            return False
        if self.path.endswith("/chat/completions"):
            return self.user_text == "Hello!" and self.system_text == "You are a helpful assistant."
        if self.path.endswith("/embeddings"):
            return self.body.get("input") == ["Hello!"]
        return self.body.get("prompt") == "Generate a simple illustration of a thumbs up sign."

    @property
    def system_text(self) -> str | None:
        for message in self.body.get("messages", []):
            if message.get("role") == "system":
                return "".join(b.get("text", "") for b in _blocks(message.get("content")))
        return None


@dataclass(frozen=True)
class Fault:
    """Something that goes wrong with one request."""

    kind: str  # "status" | "malformed" | "timeout" | "drop" | "delay"
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    body: str = ""

    @classmethod
    def http(cls, status: int, retry_after: float | None = None, body: str = "") -> Fault:
        """Answer with this HTTP status (and a ``Retry-After`` header when given)."""
        return cls("status", status=status, retry_after=retry_after, body=body)

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with a body that is not JSON."""
        return cls("malformed")

    @classmethod
    def timeout(cls, seconds: float = 5.0) -> Fault:
        """Hold the request this long before answering (longer than the client's timeout)."""
        return cls("timeout", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally after an extra delay."""
        return cls("delay", seconds=seconds)


ChatReply = Callable[[RecordedRequest], "str | dict[str, Any]"]
FaultPolicy = Callable[[RecordedRequest, int], "Fault | None"]


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def default_chat_reply(request: RecordedRequest) -> str:
    """A deterministic reply derived from the request's messages."""
    prompt = request.user_text
    return f"reply {digest(request.body.get('messages'))[:12]} to: {prompt[:60]}"


class OpenAIServer:
    """The server; use as a context manager or call ``start``/``stop``."""

    def __init__(self, *, latency: float = 0.0, embedding_dimension: int = 8) -> None:
        self.latency = latency
        #: extra seconds per request in flight, like a vLLM server that queues instead of refusing
        self.queue_latency = 0.0
        self.embedding_dimension = embedding_dimension
        self.chat_reply: ChatReply = default_chat_reply
        self.fault_policy: FaultPolicy | None = None
        self.routes: dict[str, Callable[[RecordedRequest], tuple[int, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.models = ["mock-model", "mock-embed", "mock-image"]
        self._scheduled: deque[Fault | None] = deque()
        self._lock = threading.Lock()
        self._count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0  # TCP connections accepted (a client that keeps its connections alive opens few)
        #: per request answered without a fault, seconds the server spent on it besides the latency it
        #: adds on purpose (parsing, the reply, writing it, waking up late): a benchmark's measure of the
        #: server's own overhead
        self.own_time: list[float] = []
        #: per delayed request, how much later than asked the event loop woke it
        self.overshoot: list[float] = []
        #: when set, a request without this bearer key answers 401 quoting the key it sent, as OpenAI does
        #: ("Incorrect API key provided: ..."): what ddc must never print or write back
        self.api_key: str | None = None
        #: echo mode: every chat reply also quotes the bearer key of its request
        self.echo_key = False
        #: close a keep-alive connection that stays idle this long (seconds), as servers and proxies do
        self.idle_timeout: float | None = None
        self._tls = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, *, tls: ssl.SSLContext | None = None) -> OpenAIServer:
        """Serve on 127.0.0.1 (ephemeral port) from an event loop in a daemon thread; HTTPS with ``tls``."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="openai-server")
        self._thread.start()
        self._tls = tls is not None
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve_connection, "127.0.0.1", 0, backlog=1024, ssl=tls), self._loop
        ).result()
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join()
        self._loop.close()
        self._loop = None

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in ``/v1``."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}/v1"

    # -- programming -----------------------------------------------------------------------------
    def schedule(self, *faults: Fault | None) -> None:
        """Apply these faults to the next requests, in order (``None`` = answer normally)."""
        with self._lock:
            self._scheduled.extend(faults)

    def requests_to(self, suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    @property
    def cell_requests(self) -> list[RecordedRequest]:
        """Every request but the start-up health probes."""
        return [r for r in self.requests if not r.is_health_probe]

    def _next_fault(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            number = self._count
            self._count += 1
            if self._scheduled:
                return self._scheduled.popleft()
        return self.fault_policy(request, number) if self.fault_policy else None

    # -- HTTP/1.1 over asyncio streams ------------------------------------------------------------
    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while await self._serve_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is to be closed."""
        try:
            line = await asyncio.wait_for(reader.readline(), self.idle_timeout)
        except asyncio.TimeoutError:
            return False
        if not line.strip():
            return False
        begun = time.perf_counter()
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        raw = (await reader.readexactly(length)).decode() if length else ""
        try:
            body: Any = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = raw
        request = RecordedRequest(method, path, headers, body, time.monotonic())
        with self._lock:
            self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(request, writer, begun) and headers.get("connection", "").lower() != "close"
        finally:
            self.in_flight -= 1

    async def _respond(self, request: RecordedRequest, writer: asyncio.StreamWriter, begun: float) -> bool:
        fault = self._next_fault(request)
        delay = self.latency + self.queue_latency * self.in_flight
        if delay:  # counted from the request's arrival: reading and parsing it are part of the latency
            await asyncio.sleep(max(0.0, begun + delay - time.perf_counter()))
            self.overshoot.append(time.perf_counter() - begun - delay)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            fault = None
        if fault is not None and fault.kind == "drop":
            return False
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
            return False
        if fault is not None and fault.kind == "malformed":
            await _send(writer, 200, '{"choices": [{"message": {"content": "trunc', {})
            return True
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            text = fault.body or json.dumps({"error": {"message": f"injected {fault.status}"}})
            await _send(writer, fault.status, text, headers)
            return True
        try:
            status, payload = self.answer(request)
        except Exception as exc:  # a test's reply function failed: answer 500 and say why
            status, payload = 500, {"error": {"message": f"reply function failed: {exc!r}"}}
        await _send(writer, status, json.dumps(payload), {})
        self.own_time.append(time.perf_counter() - begun - delay)
        return True

    # -- replies ---------------------------------------------------------------------------------
    def answer(self, request: RecordedRequest) -> tuple[int, Any]:
        path = request.path.split("?", 1)[0]
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.api_key is not None and presented != self.api_key:
            message = f"Incorrect API key provided: {presented}. You can find your API key in your account."
            return 401, {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
        for suffix, route in self.routes.items():
            if path.endswith(suffix):
                return route(request)
        if path.endswith("/models") and request.method == "GET":
            return 200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
        if request.method != "POST" or not isinstance(request.body, dict):
            return 404, {"error": {"message": f"no route {request.method} {path}"}}
        if path.endswith("/chat/completions"):
            return 200, self._chat(request)
        if path.endswith("/embeddings"):
            return 200, self._embeddings(request)
        if path.endswith("/images/generations"):
            return 200, self._images(request)
        return 404, {"error": {"message": f"no route {path}"}}

    def _chat(self, request: RecordedRequest) -> dict[str, Any]:
        reply = self.chat_reply(request)
        if self.echo_key and isinstance(reply, str):
            reply += f" (sent with key {request.headers.get('authorization', '').removeprefix('Bearer ')})"
        message = {"role": "assistant", "content": reply} if isinstance(reply, str) else reply
        prompt_chars = sum(len(json.dumps(m.get("content"))) for m in request.body.get("messages", []))
        completion_tokens = max(1, len(str(message.get("content") or "")) // 4)
        return {
            "id": "chatcmpl-" + digest(request.body)[:16],
            "object": "chat.completion",
            "created": 0,
            "model": request.body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": max(1, prompt_chars // 4),
                "completion_tokens": completion_tokens,
                "total_tokens": max(1, prompt_chars // 4) + completion_tokens,
            },
        }

    def _embeddings(self, request: RecordedRequest) -> dict[str, Any]:
        inputs = request.body.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        dim = int(request.body.get("dimensions") or self.embedding_dimension)
        data = []
        for i, text in enumerate(texts):
            seed = hashlib.sha256(str(text).encode()).digest()
            vector = [round((seed[j % 32] - 128) / 128, 6) for j in range(dim)]
            data.append({"object": "embedding", "index": i, "embedding": vector})
        tokens = sum(max(1, len(str(t)) // 4) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": request.body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _images(self, request: RecordedRequest) -> dict[str, Any]:
        n = int(request.body.get("n") or 1)
        shade = hashlib.sha256(str(request.body.get("prompt")).encode()).digest()[0]
        return {
            "created": 0,
            "data": [{"b64_json": base64.b64encode(tiny_png(shade)).decode()} for _ in range(n)],
        }


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}  # fmt: skip


async def _send(writer: asyncio.StreamWriter, status: int, text: str, headers: dict[str, str]) -> None:
    """Status line, headers and body in one write."""
    data = text.encode()
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Content-Type: application/json",
            f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
    await writer.drain()


def tiny_png(shade: int = 0) -> bytes:
    """A valid 1x1 grey PNG."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes([0, shade]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


ToolPlan = Callable[[RecordedRequest], "list[tuple[str, dict[str, Any]]]"]


def tool_calling_reply(plan: ToolPlan, answer: Callable[[list[str]], str] | None = None) -> ChatReply:
    """A scripted model that uses tools: asked a question (the last message is the user's), it asks for
    the calls ``plan`` names; shown their results (the last messages are ``role: tool``), it answers
    with ``answer(results)`` (default: ``"answer: " + "; ".join(results)``). Without ``tools`` in the
    request, or when ``plan`` names no call, it answers at once."""

    def reply(request: RecordedRequest) -> str | dict[str, Any]:
        messages = request.body.get("messages", [])
        results: list[str] = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            results.insert(0, "".join(b.get("text", "") for b in _blocks(message.get("content"))))
        if results or not request.body.get("tools"):
            return answer(results) if answer else "answer: " + "; ".join(results)
        calls = plan(request)
        if not calls:
            return answer([]) if answer else "answer: no tools needed"
        turn = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"call_{turn}_{i}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(arguments)}}
                for i, (name, arguments) in enumerate(calls)
            ],
        }  # fmt: skip

    return reply


def failure_policy(rate: float, *, seed: int = 0, timeout_seconds: float = 1.0) -> FaultPolicy:
    """Fail a deterministic share of requests, cycling through 429, 500, timeout and malformed JSON.

    Start-up health probes are always answered: they are not cells, and failing one ends the run."""
    kinds = [
        Fault.http(429, retry_after=0),
        Fault.http(500),
        Fault.timeout(timeout_seconds),
        Fault.malformed(),
    ]

    def policy(request: RecordedRequest, number: int) -> Fault | None:
        if request.is_health_probe:
            return None
        h = int(hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()[:8], 16)
        if (h % 10_000) / 10_000 < rate:
            return kinds[h % len(kinds)]
        return None

    return policy


def _quantile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground; print the base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of requests that fail")
    parser.add_argument("--timeout-seconds", type=float, default=1.0, help="how long an injected timeout hangs")
    parser.add_argument("--stats-file", help="on exit (SIGTERM), write chat request count and first/last times here")
    args = parser.parse_args(argv)
    server = OpenAIServer(latency=args.latency)
    if args.fail_rate:
        server.fault_policy = failure_policy(args.fail_rate, timeout_seconds=args.timeout_seconds)
    server.start()
    print(server.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if args.stats_file:
            times = sorted(r.received_at for r in server.requests_to("/chat/completions"))
            stats = {
                "chat_requests": len(times),
                "first": times[0] if times else None,
                "arrivals": times,  # the benchmark finds a client's start-up in them
                "last": times[-1] if times else None,
                "max_in_flight": server.max_in_flight,
                "connections": server.connections,
                "own_time_p50": _quantile(server.own_time, 0.5),
                "own_time_p95": _quantile(server.own_time, 0.95),
                "overshoot_p50": _quantile(server.overshoot, 0.5),
            }
            Path(args.stats_file).write_text(json.dumps(stats), encoding="utf-8")


if __name__ == "__main__":
    main()
