"""A small MCP server for tests, written with the official SDK's FastMCP; a real process.

``python -m tests.servers.mcp_server stdio`` speaks MCP on stdin/stdout;
``python -m tests.servers.mcp_server http`` serves streamable HTTP on 127.0.0.1 at an ephemeral port
and prints its URL (``http://127.0.0.1:PORT/mcp``) on the first line of stdout. ``--require-token T``
makes the HTTP server answer 401 unless the request carries ``Authorization: Bearer T``.

Tools: ``add(a, b)``, ``capital(country)`` (a fixed table), ``broken()`` (always an error result),
``slow(seconds)`` (sleeps, for timeouts), ``pid()`` (the server's process id), ``shout(text)``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from typing import Any

CAPITALS = {"france": "Paris", "japan": "Tokyo", "kenya": "Nairobi", "peru": "Lima"}


def build_server() -> Any:
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("ddc-test-tools", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def capital(country: str) -> str:
        """The capital city of a country."""
        return CAPITALS.get(country.strip().lower(), "unknown")

    @server.tool()
    def broken() -> str:
        """Always fails."""
        raise ValueError("this tool always fails")

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await asyncio.sleep(seconds)
        return "done"

    @server.tool()
    def pid() -> int:
        """The server's process id (which process answered)."""
        return os.getpid()

    @server.tool()
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    return server


def serve_http(require_token: str | None) -> None:
    import uvicorn

    app = build_server().streamable_http_app()
    if require_token is not None:
        app = _token_gate(app, require_token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections made as soon as the URL is printed wait in the backlog
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def _token_gate(app: Any, token: str) -> Any:
    async def gate(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or ())
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return gate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("--require-token")
    args = parser.parse_args(argv)
    if args.transport == "stdio":
        print("test MCP server starting", file=sys.stderr, flush=True)
        build_server().run("stdio")
    else:
        serve_http(args.require_token)


if __name__ == "__main__":
    main()
