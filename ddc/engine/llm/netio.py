"""Connections of the model client: one ``asyncio.Protocol`` per socket, read and written by HTTP/1.1.

Reads wait on one future with a timer for the timeout (no task, no cancel scope); a request's writes
go out as one ``send`` when its response is first read; an idle connection is known closed from the
event loop's own end-of-file callback, without asking the kernel. Errors are ``TransportError``s,
named as httpx names them (``ConnectError``, ``ReadError``, ...), so messages stay familiar.
"""

from __future__ import annotations

import asyncio
import os
import ssl

#: a connection stops reading from the socket while this much is received but not yet read
_HIGH_WATER = 1 << 20
#: a pending write this large goes out at once instead of waiting for the next read
_SEND_AT = 1 << 16
#: seconds a closing connection may take to close (a TLS close_notify exchange) before it is cut
_CLOSE_WAIT = 1.0


class TransportError(Exception):
    """No usable answer came over the connection: refused, reset, closed early, malformed or too slow."""


class ConnectError(TransportError):
    """No connection (refused, unreachable, a certificate that is not trusted)."""


class ReadError(TransportError):
    """The connection broke while an answer was awaited."""


class WriteError(TransportError):
    """The connection was closed when the request was sent."""


class RemoteProtocolError(TransportError):
    """The server broke HTTP/1.1 or closed the connection before a complete answer."""


class TimeoutException(TransportError):
    """Connecting, sending or a read took longer than the model's timeout."""


class Stream(asyncio.Protocol):
    """One connection: the protocol the event loop feeds, and a byte stream for the HTTP layer."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._pending: list[bytes] = []  # written, sent at the next read
        self._pending_size = 0
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

    # -- the stream ------------------------------------------------------------------------------
    @property
    def readable(self) -> bool:
        """Data or a close arrived: asked of an idle connection, it means the server is done with it."""
        return bool(self._received) or self._eof

    async def read(self, timeout: float | None) -> bytes:
        """What has arrived (waiting for something); ``b""`` once the peer closed the connection."""
        if self._pending:
            await self._flush(timeout)
        if not self._received and not self._eof:
            self._reader = self._loop.create_future()
            try:
                await _within(self._reader, timeout)
            finally:
                self._reader = None
        if self._received:
            data = bytes(self._received)
            self._received.clear()
            if self._paused and self._transport is not None:
                self._paused = False
                self._transport.resume_reading()
            return data
        if self._lost is not None:
            raise ReadError(str(self._lost) or type(self._lost).__name__)
        return b""  # the peer closed the connection: the HTTP layer decides whether the answer was whole

    async def write(self, data: bytes, timeout: float | None) -> None:
        if not data:
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= _SEND_AT:  # a large body goes out as it is written
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        data, self._pending, self._pending_size = b"".join(self._pending), [], 0
        if self._transport is None or self._transport.is_closing():
            raise WriteError("the connection is closed")
        self._transport.write(data)
        if self._drained is not None and not self._drained.done():
            await _within(self._drained, timeout)

    async def aclose(self) -> None:
        """Close, and wait (briefly) until the socket is closed: a TLS connection says goodbye first."""
        self._pending, self._pending_size = [], 0
        transport = self._transport
        if transport is None or self._closed.done():
            return
        transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), _CLOSE_WAIT)
        except asyncio.TimeoutError:
            transport.abort()


async def _within(future: asyncio.Future[None], timeout: float | None) -> None:
    """Wait for ``future``; past ``timeout`` seconds it fails with ``TimeoutException`` (one timer, no task)."""
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _expire, future, timeout)
    try:
        await future
    finally:
        timer.cancel()


def _expire(future: asyncio.Future[None], timeout: float) -> None:
    if not future.done():
        future.set_exception(TimeoutException(f"nothing within {timeout:g}s"))


async def open_stream(host: str, port: int, *, tls: ssl.SSLContext | None, timeout: float | None) -> Stream:
    """A connection to ``host:port``, over TLS verified by the context ``tls`` when given."""
    loop = asyncio.get_running_loop()
    where = f"{host}:{port}"
    try:
        opening = loop.create_connection(Stream, host, port, ssl=tls, server_hostname=host if tls else None)
        _, stream = await asyncio.wait_for(opening, timeout)
    except asyncio.TimeoutError as exc:
        raise TimeoutException(f"no connection to {where} within {timeout:g}s") from exc
    except (OSError, ssl.SSLError) as exc:  # refused, unreachable, a certificate not trusted
        raise ConnectError(str(exc) or type(exc).__name__) from exc
    return stream


def ssl_context() -> ssl.SSLContext:
    """Certificates trusted as httpx trusts them: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    try:
        import certifi
    except ImportError:  # the system's certificates
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())
