"""Fixtures for tests against the real NeMo Platform (a pytest plugin loaded by tests/conftest.py).

The platform starts once per test run, and only when a collected test asks for ``nemo_platform``:
such tests are put in one xdist group and the run uses ``--dist loadgroup`` (switched on here when
xdist would otherwise distribute with ``load``), so a single worker owns the one instance.

Without an installed platform the tests are skipped with the reason, unless
``DDC_REQUIRE_NEMO_PLATFORM=1`` (set by .ci/run whenever Python 3.12 exists), which makes them fail.
While iterating on these tests, ``DDC_NEMO_ATTACH=ROOT,PORT,INSTANCE`` reuses an instance started by
``NemoPlatform.start`` (its temporary folder, port and instance name) instead of starting one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.nemo_platform.platform import NemoPlatform, PlatformUnavailable, describe, installed_venv
from tests.servers.openai_server import OpenAIServer

GROUP = "nemo-platform"
REQUIRED = os.environ.get("DDC_REQUIRE_NEMO_PLATFORM") == "1"
_PLATFORM_FIXTURES = {"nemo_platform", "gateway_provider"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "nemo_platform: runs against the real NeMo Platform services")
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"  # one worker owns the platform (see the module docstring)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.nemo_platform)
            item.add_marker(pytest.mark.xdist_group(GROUP))


@pytest.fixture(scope="session")
def nemo_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NemoPlatform]:
    """The real NeMo Platform services on 127.0.0.1, shared by every test of the run.

    Tests share its state: give every job, fileset, secret and provider a name from ``unique``."""
    try:
        venv = installed_venv()
    except PlatformUnavailable as exc:
        if REQUIRED:
            pytest.fail(f"{exc} (DDC_REQUIRE_NEMO_PLATFORM=1)")
        pytest.skip(f"SKIPPED: real NeMo Platform tests: {exc}")
    attach = os.environ.get("DDC_NEMO_ATTACH")  # ROOT,PORT,INSTANCE of a running instance (while iterating)
    if attach:
        root, port, instance = attach.split(",")
        yield NemoPlatform(venv, Path(root), int(port), instance)
        return
    platform = NemoPlatform(venv, tmp_path_factory.mktemp("nemo-platform"))
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()
        timings = os.environ.get("DDC_NEMO_TIMINGS")
        if timings:
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
    return GatewayProvider(name, secret, platform_llm)
