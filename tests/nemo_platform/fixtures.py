"""Fixtures for tests against the real NeMo Platform (a pytest plugin loaded by tests/conftest.py).

The platform starts once per test run, and only when a test asks for ``nemo_platform``. Under
pytest-xdist every worker's session fixture meets at a file lock in the run's shared temporary folder:
the first one starts the platform and records where it is, the others attach to it, and the last one
to finish stops it (a reference count in the same record). (xdist's ``loadgroup`` would pin the tests
to one worker instead, but it does not group here: pytest 9 with xdist 3.8 runs marked tests on both.)

Without an installed platform the tests are skipped with the reason, unless
``DDC_REQUIRE_NEMO_PLATFORM=1`` (set by .ci/run whenever Python 3.12 exists), which makes them fail.
While iterating on these tests, ``DDC_NEMO_ATTACH=ROOT,PORT,INSTANCE`` reuses an instance started by
``NemoPlatform.start`` (its temporary folder, port and instance name) instead of starting one.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.nemo_platform.platform import NemoPlatform, PlatformUnavailable, describe, installed_venv
from tests.servers.openai_server import OpenAIServer

REQUIRED = os.environ.get("DDC_REQUIRE_NEMO_PLATFORM") == "1"


#: Per-test limit (pytest-timeout) for these tests: the first one also starts the platform (up to
#: READY_TIMEOUT) and a job runs the official engine in a subprocess; the suite's default is shorter.
TEST_TIMEOUT = 900


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "nemo_platform: runs against the real NeMo Platform services")
    if not config.pluginmanager.hasplugin("timeout"):  # the marker is pytest-timeout's; harmless without it
        config.addinivalue_line("markers", "timeout(seconds): per-test time limit (pytest-timeout)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "nemo_platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.nemo_platform)
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every xdist worker of this run shares (each worker's basetemp is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def nemo_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NemoPlatform]:
    """The real NeMo Platform services on 127.0.0.1, shared by every test (and worker) of the run.

    Tests share its state: give every job, fileset, secret and provider a name from ``unique``."""
    try:
        venv = installed_venv()
    except PlatformUnavailable as exc:
        if REQUIRED:
            pytest.fail(f"{exc} (DDC_REQUIRE_NEMO_PLATFORM=1)")
        pytest.skip(f"SKIPPED: real NeMo Platform tests: {exc}")
    attach = os.environ.get("DDC_NEMO_ATTACH")
    if attach:
        root, port, instance = attach.split(",")
        yield NemoPlatform(venv, Path(root), int(port), instance)
        return
    shared = _shared_dir(tmp_path_factory)
    lock, record = shared / "nemo-platform.lock", shared / "nemo-platform.json"
    with _locked(lock):
        if record.is_file():
            state = json.loads(record.read_text(encoding="utf-8"))
            platform = NemoPlatform(venv, Path(state["root"]), int(state["port"]), state["instance"])
        else:
            root = shared / "nemo-platform"
            root.mkdir(exist_ok=True)
            platform = NemoPlatform(venv, root).start()
            state = {"root": str(root), "port": platform.port, "instance": platform.instance, "users": 0}
        state["users"] += 1
        record.write_text(json.dumps(state), encoding="utf-8")
    try:
        yield platform
    finally:
        with _locked(lock):
            state = json.loads(record.read_text(encoding="utf-8"))
            state["users"] -= 1
            if state["users"] > 0:
                record.write_text(json.dumps(state), encoding="utf-8")
                platform.release()
            else:
                record.unlink()
                platform.stop()
        timings = os.environ.get("DDC_NEMO_TIMINGS")
        if timings and platform.timings.start_seconds:
            with open(timings, "a", encoding="utf-8") as handle:
                handle.write(describe(platform.timings) + "\n")


@dataclass(frozen=True)
class GatewayProvider:
    """An Inference Gateway provider on the platform that routes to ``llm`` (our OpenAI test server)."""

    name: str  # bare name, in the platform's default workspace
    secret: str
    llm: OpenAIServer

    @property
    def reference(self) -> str:
        return f"default/{self.name}"


@pytest.fixture(scope="session")
def platform_llm() -> Iterator[OpenAIServer]:
    """The loopback OpenAI-compatible server the gateway provider forwards to."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def gateway_provider(nemo_platform: NemoPlatform, platform_llm: OpenAIServer) -> GatewayProvider:
    secret = nemo_platform.unique("llm-key")
    nemo_platform.create_secret(secret, "sk-loopback-test-key")
    name = nemo_platform.unique("loopback")
    nemo_platform.create_provider(name, platform_llm.base_url, secret)
    _wait_until_routed(nemo_platform, name)
    return GatewayProvider(name, secret, platform_llm)


def _wait_until_routed(platform: NemoPlatform, name: str, timeout: float = 120.0) -> None:
    """The gateway learns of a new provider a little after it is created (404 "Model provider not found"
    until then): wait until its route answers, so the first test to use it does not depend on the order."""
    import time

    import httpx

    route = f"{platform.base_url}/apis/inference-gateway/v2/workspaces/{platform.workspace}/provider/{name}/-/models"
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(route, timeout=30).status_code
        if status != 404 or time.monotonic() > deadline:
            return
        time.sleep(1.0)
