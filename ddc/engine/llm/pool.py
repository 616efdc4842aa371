"""Keep-alive HTTP/1.1 connections for one provider: h11 for the protocol, ``netio`` for the sockets.

Why not httpx here (it stays for ddc's other HTTP): a model run's client does one thing, POST JSON and
read the answer, thousands of times. Through httpx and httpcore that cost ~0.3 s of imports before the
first request (httpx, httpcore, and the anyio backend its connection locks load) and, per request, a
request and a response object on each layer, a lock and a pool scan; at 16 requests in flight the
client's CPU showed up as latency. h11, the sans-I/O HTTP/1.1 implementation httpcore itself uses,
does the parsing and the keep-alive rules; this module only moves its bytes.

The per-model limiters (``ddc.engine.llm.limiter``) already bound the requests in flight, so the pool
needs no queue: a request takes the most recently used idle connection of its origin (checked for
expiry and for a close that arrived meanwhile, only that one), or opens one, and gives it back when the
answer is read. Connections are opened once per slot and reused, never churned: at most as many exist
as requests were ever in flight at once.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11

from ddc.engine.llm.netio import RemoteProtocolError, Stream, open_stream, ssl_context


class InvalidURL(ValueError):
    """A URL the pool cannot connect to (bad port, unclosed ``[``, no host, another scheme)."""


@dataclass(frozen=True)
class Reply:
    """An answer: status, headers (names lower-cased) and the whole body."""

    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    """One socket and its h11 state machine."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.http = h11.Connection(h11.CLIENT)
        self.last_used = time.monotonic()

    def reusable(self, expiry: float) -> bool:
        return not self.stream.readable and time.monotonic() - self.last_used < expiry

    async def exchange(self, request: h11.Request, body: bytes, timeout: float | None) -> Reply:
        http = self.http
        head, data, end = http.send(request), http.send(h11.Data(data=body)), http.send(h11.EndOfMessage())
        await self.stream.write(b"".join(part or b"" for part in (head, data, end)), timeout)
        status, headers, chunks = 0, {}, []
        try:
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    http.receive_data(await self.stream.read(timeout))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise RemoteProtocolError("the server closed the connection before answering")
        except h11.RemoteProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from exc
        return Reply(status, headers, b"".join(chunks))

    def release(self) -> bool:
        """Ready the connection for the next request; False when HTTP says it cannot carry one."""
        http = self.http
        if http.our_state is not h11.DONE or http.their_state is not h11.DONE:
            return False
        http.start_next_cycle()
        self.last_used = time.monotonic()
        return True


class KeepAlivePool:
    """HTTP/1.1 connections to the origins of one provider, reused last in, first out."""

    def __init__(self, *, keepalive_expiry: float = 30.0) -> None:
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()  # idle or in use: all are closed by aclose()
        self._ssl: ssl.SSLContext | None = None

    async def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float | None) -> Reply:
        """POST ``body`` to ``url``; a ``netio.TransportError`` when no whole answer came back, ``InvalidURL``
        when ``url`` cannot be connected to at all."""
        try:  # spec endpoints are checked when the spec loads; one from OPENAI_BASE_URL or the gateway is not
            parts = urlsplit(url)
            tls = parts.scheme == "https"
            host = parts.hostname or ""
            port = parts.port or (443 if tls else 80)
        except ValueError as exc:
            raise InvalidURL(str(exc)) from None
        if parts.scheme not in ("http", "https") or not host:
            raise InvalidURL("not an http:// or https:// URL with a host")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fields = [("Host", parts.netloc.rpartition("@")[2]), *headers.items(), ("Content-Length", str(len(body)))]
        request = h11.Request(method="POST", target=target, headers=fields)
        origin = (parts.scheme, host, port)
        connection = await self._take(origin, timeout)
        try:
            reply = await connection.exchange(request, body, timeout)
        except BaseException:  # a cancelled request too: its connection is in an unknown state
            self._open.discard(connection)
            await connection.stream.aclose()
            raise
        if connection.release():
            self._idle.setdefault(origin, []).append(connection)
        else:
            self._open.discard(connection)
            await connection.stream.aclose()
        return reply

    async def _take(self, origin: tuple[str, str, int], timeout: float | None) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable(self._expiry):
                return connection
            self._open.discard(connection)
            await connection.stream.aclose()
        scheme, host, port = origin
        if scheme == "https" and self._ssl is None:
            self._ssl = ssl_context()
        stream = await open_stream(host, port, tls=self._ssl if scheme == "https" else None, timeout=timeout)
        connection = _Connection(stream)
        self._open.add(connection)
        return connection

    async def aclose(self) -> None:
        """Close every connection, also those of requests abandoned mid-flight (a cancelled run)."""
        for connection in list(self._open):
            await connection.stream.aclose()
        self._open.clear()
        self._idle.clear()
