"""A small Language Server Protocol client over stdio, enough to drive yaml-language-server.

Content-Length framing, request/response matching by id, answers to the server's own requests
(workspace/configuration, client/registerCapability ...), and the latest publishDiagnostics per document.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER_JS = HERE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"


def server_command() -> list[str] | None:
    """The command starting the pinned server, or None when node or the npm package is missing."""
    node = shutil.which("node")
    if node is None or not SERVER_JS.exists():
        return None
    return [node, str(SERVER_JS), "--stdio"]


class LspError(RuntimeError):
    """The server answered a request with an error, or did not answer in time."""


class LspClient:
    """One running language server; use as a context manager."""

    def __init__(self, command: list[str], settings: dict[str, Any], root: Path, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.root = root
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._next_id = 0
        self._responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._diagnostics: dict[str, list[dict[str, Any]]] = {}
        self._diag_versions: dict[str, int] = {}
        self._diag_event = threading.Condition()
        self._versions: dict[str, int] = {}
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # --- lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> LspClient:
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": self.root.as_uri(),
                "workspaceFolders": [{"uri": self.root.as_uri(), "name": "ws"}],
                "capabilities": {
                    "workspace": {
                        "configuration": True,
                        "didChangeConfiguration": {"dynamicRegistration": False},
                    },
                    "textDocument": {
                        "completion": {
                            "completionItem": {
                                "snippetSupport": True,
                                "documentationFormat": ["markdown", "plaintext"],
                            }
                        },
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": False},
                    },
                },
                "initializationOptions": {},
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.settings}})
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.request("shutdown", None, timeout=2.0)
            self.notify("exit", None)
            self._proc.wait(timeout=2.0)
        except (LspError, subprocess.TimeoutExpired, OSError):
            self._proc.kill()
            self._proc.wait()
        finally:
            self._reader.join(timeout=2.0)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()

    # --- wire ------------------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self._proc.stdin is not None
        with self._lock:
            self._proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._proc.stdin.flush()

    def _read_loop(self) -> None:
        stream = self._proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            message = json.loads(stream.read(length).decode("utf-8"))
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" in message:  # a request from the server
            self._send({"id": message["id"], "result": self._answer(message["method"], message.get("params"))})
        elif "id" in message:
            box = self._responses.get(message["id"])
            if box is not None:
                box.put(message)
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            with self._diag_event:
                self._diagnostics[params["uri"]] = params["diagnostics"]
                # servers that omit the version publish for the latest text they have
                self._diag_versions[params["uri"]] = params.get("version") or self._versions.get(params["uri"], 0)
                self._diag_event.notify_all()

    def _answer(self, method: str, params: Any) -> Any:
        if method == "workspace/configuration":
            sections = {"yaml": self.settings, "http": {"proxy": "", "proxyStrictSSL": False}}
            return [sections.get(item.get("section"), {}) for item in params["items"]]
        return None  # client/registerCapability, window/workDoneProgress/create ...

    def request(self, method: str, params: Any, timeout: float | None = None) -> Any:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        box: queue.Queue[dict[str, Any]] = queue.Queue()
        self._responses[ident] = box
        self._send({"id": ident, "method": method, "params": params})
        try:
            reply = box.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise LspError(f"no answer to {method} within {timeout or self.timeout}s") from None
        finally:
            self._responses.pop(ident, None)
        if "error" in reply:
            raise LspError(f"{method}: {reply['error']}")
        return reply.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    # --- documents -------------------------------------------------------------------------------------

    def open(self, uri: str, text: str) -> None:
        version = self._versions.get(uri, 0) + 1
        with self._diag_event:
            self._versions[uri] = version
            self._diag_versions.pop(uri, None)
        if version == 1:
            self.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}},
            )
        else:
            self.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
            )

    def completion(self, uri: str, line: int, character: int) -> list[dict[str, Any]]:
        result = self.request(
            "textDocument/completion",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )
        if result is None:
            return []
        return result["items"] if isinstance(result, dict) else result

    def hover(self, uri: str, line: int, character: int) -> str:
        result = self.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )
        if not result:
            return ""
        contents = result["contents"]
        if isinstance(contents, dict):
            return str(contents.get("value", ""))
        if isinstance(contents, list):
            return "\n".join(c if isinstance(c, str) else c.get("value", "") for c in contents)
        return str(contents)

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        """Diagnostics for the latest version of ``uri``, once the server has published them."""
        want = self._versions[uri]
        deadline = time.monotonic() + self.timeout
        with self._diag_event:
            while self._diag_versions.get(uri) != want:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LspError(f"no diagnostics for {uri} version {want}")
                self._diag_event.wait(remaining)
        return list(self._diagnostics[uri])
