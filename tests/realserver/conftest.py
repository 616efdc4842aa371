"""Fixtures of the real-server tier: tiny GGUF models made on the spot, llama-server processes, specs.

Every test here is marked ``realserver``. Without a llama-server binary the tier is skipped, unless
``DDC_REQUIRE_REALSERVER=1`` (set by ``.ci/run`` when it has the binary), where a missing binary fails.
The models are written by ``tiny_gguf.py`` into ``$DDC_REALSERVER_CACHE`` (default
``~/.cache/ddc/realserver``), named by a digest of the script and its arguments, so they are made once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realserver import tiny_gguf
from tests.realserver.server import API_KEY, KEY_ENV, LlamaCppPythonServer, LlamaServer, find_binary

HERE = Path(__file__).parent
CHAT_PARALLEL = 6  # more slots than the model's max_parallel_requests, so ddc's limit is what shows
MAX_PARALLEL = 4


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.realserver)


@pytest.fixture(scope="session")
def llama_binary() -> Path:
    binary = find_binary()
    if binary is None:
        if os.environ.get("DDC_REQUIRE_REALSERVER") == "1":
            pytest.fail("DDC_REQUIRE_REALSERVER=1 but no llama-server binary (set LLAMA_SERVER)")
        pytest.skip("no llama-server binary: set LLAMA_SERVER or put it at ../shared/tools/llama-server")
    return binary


def model_file(pooling: str | None) -> Path:
    """The tiny model, written once into the cache directory."""
    cache = Path(os.environ.get("DDC_REALSERVER_CACHE") or Path.home() / ".cache/ddc/realserver")
    digest = hashlib.sha256(Path(tiny_gguf.__file__).read_bytes() + str(pooling).encode()).hexdigest()[:12]
    path = cache / f"tiny-{pooling or 'chat'}-{digest}.gguf"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tiny_gguf.write_model(path, seed=0, pooling=pooling)
    return path


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama-logs")


@pytest.fixture(scope="session")
def chat_server(llama_binary: Path, logs: Path) -> Iterator[LlamaServer]:
    with LlamaServer(llama_binary, model_file(None), logs / "chat.log", alias="tiny", parallel=CHAT_PARALLEL) as s:
        yield s


@pytest.fixture(scope="session")
def embed_server(llama_binary: Path, logs: Path) -> Iterator[LlamaServer]:
    server = LlamaServer(llama_binary, model_file("mean"), logs / "embed.log", alias="tiny-embed", embeddings=True)
    with server:
        yield server


@pytest.fixture
def own_chat_server(llama_binary: Path, tmp_path: Path) -> Iterator[LlamaServer]:
    """A chat server of the test's own (to kill and restart)."""
    server = LlamaServer(llama_binary, model_file(None), tmp_path / "own.log", alias="tiny", parallel=2)
    with server:
        yield server


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private DDC_HOME (cache, providers file) and the servers' key in its variable."""
    monkeypatch.setenv("DDC_HOME", str(tmp_path / "ddc-home"))
    monkeypatch.setenv(KEY_ENV, API_KEY)
    monkeypatch.delenv("DATA_DESIGNER_SKIP_MODEL_HEALTH_CHECKS", raising=False)


@pytest.fixture(scope="session")
def python_server(logs: Path) -> Iterator[LlamaServer]:
    """llama-cpp-python's server, when ``$DDC_LLAMA_CPP_PYTHON`` names a Python that has it."""
    python = os.environ.get("DDC_LLAMA_CPP_PYTHON")
    if not python:
        pytest.skip("set DDC_LLAMA_CPP_PYTHON to a Python with llama-cpp-python[server]==0.3.36 installed")
    with LlamaCppPythonServer(Path(python), model_file(None), logs / "python.log", alias="tiny") as server:
        yield server
