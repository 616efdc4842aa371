"""llama.cpp's ``llama-server`` as a test fixture: found, started on 127.0.0.1, watched and stopped.

The binary is ``$LLAMA_SERVER``, else ``shared/tools/llama-server`` beside the repository (or one level
up, as for a git worktree). Every start uses the flags that make grammar-constrained requests work
with a tiny ChatML model (``--no-jinja --chat-template chatml``), one thread, an API key and metrics.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
API_KEY = "ddc-realserver-key"
KEY_ENV = "DDC_REALSERVER_KEY"  # the providers' api_key names this variable
START_TIMEOUT = 30.0


def find_binary() -> Path | None:
    """``$LLAMA_SERVER``, else ``../shared/tools/llama-server`` (or ``../../shared/...``) when executable."""
    named = os.environ.get("LLAMA_SERVER")
    candidates = [Path(named)] if named else [REPO.parent / "shared/tools/llama-server",
                                               REPO.parent.parent / "shared/tools/llama-server"]  # fmt: skip
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """One llama-server process serving one model; ``base_url`` ends in ``/v1``."""

    def __init__(
        self,
        binary: Path,
        model: Path,
        log: Path,
        *,
        alias: str,
        parallel: int = 4,
        embeddings: bool = False,
        extra: tuple[str, ...] = (),
        jinja: bool = False,
    ) -> None:
        self.jinja = jinja  # the GGUF's own template on the Jinja path, where grammar requests fail
        self.binary, self.model, self.log = binary, model, log
        self.alias, self.parallel, self.embeddings, self.extra = alias, parallel, embeddings, extra
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def command(self) -> list[str]:
        args = [str(self.binary), "-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
                "--alias", self.alias, "-c", str(4096 * self.parallel), "-np", str(self.parallel), "-t", "1",
                "--api-key", API_KEY, "--metrics", "--no-webui"]  # fmt: skip
        if not self.jinja:
            args += ["--no-jinja", "--chat-template", "chatml"]
        return [*args, *self.extra, "--embeddings"] if self.embeddings else [*args, *self.extra]

    def start(self) -> LlamaServer:
        """Start (or restart, on the same port) and wait until /health answers."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.root}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"llama-server did not answer /health within {START_TIMEOUT:g}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL, as a crash would end it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.root}{path}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)

    def busy_slots(self) -> int:
        """Slots processing a request now, from the server's own ``/slots``."""
        slots: list[dict[str, Any]] = self.get("/slots").json()
        return sum(1 for slot in slots if slot.get("is_processing"))

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LlamaCppPythonServer(LlamaServer):
    """PyPI's ``llama-cpp-python[server]`` (a different, Python server) serving the same model file.

    ``python`` is an interpreter with ``llama_cpp.server`` installed (``$DDC_LLAMA_CPP_PYTHON``)."""

    def __init__(self, python: Path, model: Path, log: Path, *, alias: str) -> None:
        super().__init__(python, model, log, alias=alias, parallel=1)

    def command(self) -> list[str]:
        return [str(self.binary), "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
                "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--n_threads", "1",
                "--chat_format", "chatml", "--api_key", API_KEY]  # fmt: skip

    def start(self) -> LlamaServer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-cpp-python's server exited with {self.process.returncode}; see {self.log}")
            try:
                if self.get("/v1/models").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama-cpp-python's server did not answer within {START_TIMEOUT:g}s; see {self.log}")
