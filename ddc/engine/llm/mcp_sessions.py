"""One MCP client session per provider per run, through the official ``mcp`` SDK (``pip install 'ddc[mcp]'``).

A session lives in its own task for the whole run: the SDK's transports are anyio context managers that
must be entered and left by the same task, while the cells that call tools are many other tasks. The
task opens the transport (a stdio child process started in the spec's directory, or streamable HTTP /
SSE with an optional bearer token read from an environment variable), initialises the session, hands
it over, and waits until ``aclose`` asks it to leave. A stdio server's stderr goes to a temporary file:
its last line explains a server that failed to start, and its logging never reaches the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError

if TYPE_CHECKING:
    from mcp import ClientSession

    from ddc.spec.document import MCPProviderConfig

MCP_EXTRA_HINT = "pip install 'ddc[mcp]' (the official mcp SDK)"
CONNECT_TIMEOUT = 30.0


def require_mcp() -> None:
    """One clear error when the mcp SDK is not installed."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise RunError("tool use (MCP) needs the mcp package, which is not installed", hint=MCP_EXTRA_HINT) from None


class ToolCallError(Exception):
    """A tool call that could not be made or answered (one line; recorded on the cell)."""


class MCPSession:
    """A provider's session, served by its own task until ``aclose``."""

    def __init__(self, provider: MCPProviderConfig, base_dir: Path, connect_timeout: float = CONNECT_TIMEOUT):
        self.provider = provider
        self.base_dir = base_dir
        self.connect_timeout = connect_timeout
        self._session: ClientSession | None = None
        self._ready: asyncio.Future[ClientSession] | None = None
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._errlog: Any = None
        self._headers: dict[str, str] | None = None

    @property
    def where(self) -> str:
        p = self.provider
        target = p.endpoint if p.command is None else " ".join([p.command, *p.args])
        return f"MCP provider {p.name!r} ({p.transport}: {target})"

    async def open(self) -> ClientSession:
        """Start the serving task and wait (bounded) for the initialised session."""
        self._headers = {"Authorization": f"Bearer {self._api_key()}"} if self.provider.api_key else None
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._task = asyncio.create_task(self._serve(), name=f"mcp-{self.provider.name}")
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), self.connect_timeout)
        except asyncio.TimeoutError:
            await self.aclose()
            raise RunError(
                f"{self.where}: no session within {self.connect_timeout:g}s{self._stderr_tail()}",
                hint="check that the server starts and speaks MCP on this transport",
            ) from None
        except RunError:
            await self.aclose()
            raise

    async def _serve(self) -> None:
        assert self._ready is not None
        from mcp import ClientSession

        try:
            async with self._transport() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self._session = session
                self._ready.set_result(session)
                await self._closing.wait()
        except Exception as exc:  # the transport or the handshake failed: say so once, in one line
            if not self._ready.done():
                self._ready.set_exception(
                    RunError(
                        f"{self.where}: could not start a session ({_one_line(exc)}){self._stderr_tail()}",
                        hint="check the command or endpoint under mcp_providers",
                    )
                )
        finally:
            self._session = None

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        p = self.provider
        if p.command is not None:
            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            self._errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
            params = StdioServerParameters(command=p.command, args=list(p.args), env=dict(p.env), cwd=self.base_dir)
            return stdio_client(params, errlog=self._errlog)
        headers = self._headers
        assert p.endpoint is not None
        if p.transport == "sse":
            from mcp.client.sse import sse_client

            return sse_client(p.endpoint, headers=headers)
        return _streamable_http(p.endpoint, headers)

    def _api_key(self) -> str:
        name = self.provider.api_key or ""
        value = os.environ.get(name)
        if not value:
            raise RunError(f"{self.where}: environment variable {name} is not set", hint=f"export {name}=...")
        from ddc.redaction import register

        register(value)  # never printed or written (ddc.redaction)
        return value

    def _stderr_tail(self) -> str:
        if self._errlog is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._errlog.seek(0)
            lines = [line.strip() for line in self._errlog.read().splitlines() if line.strip()]
            if lines:
                return f"; its stderr ends: {lines[-1][:300]}"
        return ""

    async def list_tools(self) -> list[Any]:
        """Every tool the server offers (following pagination)."""
        session = self._require()
        tools: list[Any] = []
        cursor: str | None = None
        while True:
            result = await asyncio.wait_for(session.list_tools(cursor=cursor), self.connect_timeout)
            tools.extend(result.tools)
            cursor = result.nextCursor
            if not cursor:
                return tools

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout: float) -> Any:
        """The tool's ``CallToolResult``; ToolCallError when the call fails or takes longer than ``timeout``."""
        session = self._require()
        try:
            return await asyncio.wait_for(
                session.call_tool(name, arguments, read_timeout_seconds=timedelta(seconds=timeout)), timeout
            )
        except asyncio.TimeoutError:
            raise ToolCallError(f"tool {name!r} on {self.where}: no answer within {timeout:g}s") from None
        except Exception as exc:  # the SDK raises McpError, anyio and transport errors: one line each
            raise ToolCallError(f"tool {name!r} on {self.where}: {_one_line(exc)}") from exc

    def _require(self) -> ClientSession:
        if self._session is None:
            raise ToolCallError(f"{self.where}: the session is closed")
        return self._session

    async def aclose(self) -> None:
        """Leave the session (the stdio server is stopped) within a bounded time."""
        self._closing.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except (asyncio.TimeoutError, Exception):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            self._task = None
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None


@contextlib.asynccontextmanager
async def _streamable_http(endpoint: str, headers: dict[str, str] | None) -> AsyncIterator[Any]:
    """The streamable HTTP transport over an HTTP client closed with it (the SDK leaves a client it is
    given open)."""
    from mcp.client import streamable_http

    if not hasattr(streamable_http, "streamable_http_client"):  # mcp < 1.24
        async with streamable_http.streamablehttp_client(endpoint, headers=headers) as streams:
            yield streams
        return
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with (
        create_mcp_http_client(headers) as client,
        streamable_http.streamable_http_client(endpoint, http_client=client) as streams,
    ):
        yield streams


def _one_line(exc: BaseException) -> str:
    """An exception (or the first leaf of an exception group) as one short line."""
    inner = getattr(exc, "exceptions", None)
    while isinstance(inner, tuple) and inner:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
