"""Fixtures for LLM tests: a real OpenAI-compatible server on loopback, a private DDC_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh server per test, on 127.0.0.1 with an ephemeral port."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture(autouse=True)
def ddc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep caches and provider files of every test inside its own temporary directory."""
    home = tmp_path / "ddc-home"
    monkeypatch.setenv("DDC_HOME", str(home))
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "NVIDIA_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return home
