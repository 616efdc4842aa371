"""A keep-alive connection pool for one provider, with O(1) work per request.

httpcore's own pool re-examines every connection on each request start and end (an ``is_idle`` scan and,
for idle ones, a socket poll plus a dict of socket attributes built by anyio): at 16 requests in flight
that was about a third of a run's client CPU, which on a loaded machine shows as latency. Here the
per-model limiters (``ddc.engine.llm.limiter``) already bound the requests in flight, so the pool needs
no queue: a request takes the most recently used idle connection of its origin (checked for expiry,
only that one), or opens one, and gives it back when the response is read. Connections are therefore
opened once per slot and reused (keep-alive), never churned; at most as many exist as requests were
ever in flight at once. Errors are httpx's exception types, as with ``httpx.AsyncHTTPTransport``.
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx

from ddc.engine.llm.netio import AsyncioBackend


class KeepAlivePool(httpx.AsyncBaseTransport):
    """An ``httpx`` transport over plain ``httpcore`` HTTP/1.1 connections, reused last in, first out."""

    def __init__(self, *, keepalive_expiry: float = 30.0) -> None:
        self._keepalive = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._open: set[httpcore.AsyncHTTPConnection] = set()  # idle or in use: all are closed by aclose()
        self._ssl: Any = None
        self._backend = AsyncioBackend()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.raw_scheme == b"https" else 80)
        key = (url.raw_scheme, url.raw_host, port)
        connection = await self._take(key)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.content,
            extensions=request.extensions,
        )
        try:
            response = await connection.handle_async_request(core)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except BaseException as exc:  # a cancelled request too: its connection is in an unknown state
            await connection.aclose()
            self._open.discard(connection)  # (still listed, for the pool's aclose, if closing was cancelled)
            mapped = getattr(httpx, type(exc).__name__, None)
            if isinstance(exc, httpcore.TimeoutException | httpcore.NetworkError | httpcore.ProtocolError):
                error = mapped if isinstance(mapped, type) and issubclass(mapped, httpx.TransportError) else None
                raise (error or httpx.TransportError)(str(exc)) from exc
            raise
        if connection.is_idle():
            self._idle.setdefault(key, []).append(connection)
        else:
            self._open.discard(connection)
            await connection.aclose()
        return httpx.Response(response.status, headers=response.headers, content=content, request=request)

    async def _take(self, key: tuple[bytes, bytes, int]) -> httpcore.AsyncHTTPConnection:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            self._open.discard(connection)
            await connection.aclose()
        if key[0] == b"https" and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        origin = httpcore.Origin(scheme=key[0], host=key[1], port=key[2])
        connection = httpcore.AsyncHTTPConnection(
            origin,
            ssl_context=self._ssl if key[0] == b"https" else None,
            keepalive_expiry=self._keepalive,
            network_backend=self._backend,
        )
        self._open.add(connection)
        return connection

    async def aclose(self) -> None:
        """Close every connection, also those of requests abandoned mid-flight (a cancelled run)."""
        for connection in list(self._open):
            await connection.aclose()
        self._open.clear()
        self._idle.clear()
