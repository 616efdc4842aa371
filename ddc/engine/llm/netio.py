"""An asyncio network backend for httpcore: its documented extension point, without anyio's layers.

httpcore talks to sockets through a pluggable backend (``httpcore.AsyncNetworkBackend``); on asyncio its
default goes through anyio, which wraps every read and write in a cancel scope with a timeout and asks
the kernel (a ``poll``) whether an idle connection is still open each time it is reused. At 16 requests
in flight those layers were about a third of the client's CPU per request, which, since answers arrive
together, shows up as latency. This backend is an ``asyncio.Protocol``: reads wait on one future with
a timer for the timeout, the request's writes go out as one ``send`` when its response is first read,
and an idle connection is known closed from the event loop's own end-of-file callback. HTTP itself
(h11 parsing, keep-alive, TLS setup) stays httpcore's.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any

import httpcore

#: a connection stops reading from the socket while this much is received but not yet read
_HIGH_WATER = 1 << 20
#: seconds a closing connection may take to close (a TLS close_notify exchange) before it is cut
_CLOSE_WAIT = 1.0

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class _Stream(asyncio.Protocol, httpcore.AsyncNetworkStream):
    """One connection: the protocol the event loop feeds, and the stream httpcore reads and writes."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._pending: list[bytes] = []  # written by httpcore, sent at the next read
        self._reader: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._eof = False
        self._lost: BaseException | None = None
        self._paused = False
        self._closed: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._received += data
        if len(self._received) > _HIGH_WATER and self._transport is not None and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        self._wake_reader()
        if not self._closed.done():
            self._closed.set_result(None)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        if self._drained is None or self._drained.done():
            self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    # -- httpcore.AsyncNetworkStream -------------------------------------------------------------
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:
            await self._flush(timeout)
        if not self._received and not self._eof:
            self._reader = self._loop.create_future()
            try:
                await _within(self._reader, timeout, httpcore.ReadTimeout)
            finally:
                self._reader = None
        if self._received:
            data = bytes(self._received[:max_bytes])
            del self._received[:max_bytes]
            if self._paused and len(self._received) <= _HIGH_WATER // 2 and self._transport is not None:
                self._paused = False
                self._transport.resume_reading()
            return data
        if self._lost is not None:
            raise httpcore.ReadError(str(self._lost) or type(self._lost).__name__)
        return b""  # the peer closed the connection: h11 decides whether the message was complete

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._pending.append(buffer)
        if sum(map(len, self._pending)) >= 1 << 16:  # a large body goes out as it is written
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        data, self._pending = b"".join(self._pending), []
        if self._transport is None or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(data)
        if self._drained is not None and not self._drained.done():
            await _within(self._drained, timeout, httpcore.WriteTimeout)

    async def aclose(self) -> None:
        """Close, and wait (briefly) until the socket is closed: a TLS connection says goodbye first."""
        self._pending = []
        transport = self._transport
        if transport is None or self._closed.done():
            return
        transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), _CLOSE_WAIT)
        except asyncio.TimeoutError:
            transport.abort()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        assert self._transport is not None
        try:
            transport = await asyncio.wait_for(
                self._loop.start_tls(self._transport, self, ssl_context, server_hostname=server_hostname),
                timeout,
            )
        except asyncio.TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "is_readable":  # asked of idle connections: data or a close arrived meanwhile
            return bool(self._received) or self._eof
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


async def _within(future: asyncio.Future[None], timeout: float | None, error: type[Exception]) -> None:
    """Wait for ``future``; past ``timeout`` seconds it fails with ``error`` (one timer, no task)."""
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _expire, future, error, timeout)
    try:
        await future
    finally:
        timer.cancel()


def _expire(future: asyncio.Future[None], error: type[Exception], timeout: float) -> None:
    if not future.done():
        future.set_exception(error(f"nothing within {timeout:g}s"))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as ``_Stream`` protocols on the running event loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        opening = asyncio.get_running_loop().create_connection(_Stream, host, port, local_addr=local)
        return await _connect(opening, f"{host}:{port}", timeout, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.AsyncNetworkStream:
        opening = asyncio.get_running_loop().create_unix_connection(_Stream, path)
        return await _connect(opening, path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connect(
    opening: Awaitable[tuple[asyncio.BaseTransport, _Stream]],
    where: str,
    timeout: float | None,
    options: Iterable[SocketOption] | None,
) -> _Stream:
    """Await a connection being opened, with httpcore's errors, and set its socket options."""
    try:
        _, stream = await asyncio.wait_for(opening, timeout)
    except asyncio.TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"no connection to {where} within {timeout:g}s") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    sock: socket.socket | None = stream.get_extra_info("socket")
    if sock is not None:
        for option in options or ():
            sock.setsockopt(*option)
    return stream
