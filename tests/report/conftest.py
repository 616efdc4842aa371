"""Fixtures for the report: a mixed dataset generated against the loopback LLM server, and a real
headless Chromium (Debian's, driven by Playwright) with the network disabled."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddc.engine.runner import run
from tests.servers.openai_server import OpenAIServer, RecordedRequest

MIXED = """
name: mixed
random_seed: 11
num_records: 40
providers:
  - {{name: local, endpoint: "{url}"}}
model_configs:
  - {{alias: text, model: mock-model, provider: local, inference_parameters: {{max_parallel_requests: 8}}}}
columns:
  - {{name: topic, column_type: sampler, sampler_type: category, params: {{values: [cats, dogs, "<b>birds</b>"]}}}}
  - {{name: age, column_type: sampler, sampler_type: uniform, params: {{low: 18, high: 90}}, convert_to: int}}
  - {{name: price, column_type: sampler, sampler_type: gaussian, params: {{mean: 50, stddev: 12}}}}
  - name: joined
    column_type: sampler
    sampler_type: datetime
    params: {{start: "2020-01-01", end: "2024-12-31", unit: D}}
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "Write about {{{{ topic }}}} for someone aged {{{{ age }}}} paying {{{{ price }}}}"
  - name: grade
    column_type: llm-judge
    model_alias: text
    prompt: "Judge {{{{ essay }}}}"
    scores:
      - {{name: quality, description: How good, options: {{1: bad, 2: ok, 3: good}}}}
      - {{name: tone, description: Tone, options: {{calm: calm, loud: loud}}}}
constraints:
  - {{target_column: age, operator: ge, rhs: 18}}
"""


def _reply(request: RecordedRequest) -> str:
    if request.user_text.startswith("Judge"):
        score = 1 + len(request.user_text) % 3
        return json.dumps({"quality": {"reasoning": "r", "score": score}, "tone": {"reasoning": "r", "score": "calm"}})
    return f"An essay on {request.user_text[10:]}. " * (1 + len(request.user_text) % 4)


@pytest.fixture(scope="session")
def mixed_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Numbers, categories (one with markup in it), dates, text and a judge column; 40 records."""
    home = tmp_path_factory.mktemp("ddc-home")
    os.environ["DDC_HOME"] = str(home)
    work = tmp_path_factory.mktemp("mixed")
    with OpenAIServer() as server:
        server.chat_reply = _reply
        (work / "mixed.yaml").write_text(MIXED.format(url=server.base_url))
        result = run(work / "mixed.yaml", output_dir=work / "out")
    assert result.path is not None
    return result.path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with the network off (the report must need none)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
