"""Fixtures for submit tests: a NeMo Services test server on loopback, specs written to tmp_path, and a
way to run the real CLI entry point (with its exit-code mapping)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.nemo_services import NemoServices

TOKEN = "nmp-test-token-5c1e7d"

SIMPLE_SPEC = """\
name: reviews
num_records: 4
model_configs:
  - alias: text
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: default/nvidia-build
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [lamps, chairs]}
  - name: review
    column_type: llm-text
    prompt: "Write a review about {{ topic }}"
    model_alias: text
"""

JOIN_SPEC = """\
name: product-reviews
num_records: 6
model_configs:
  - alias: text
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: local-vllm
providers:
  - name: local-vllm
    endpoint: http://127.0.0.1:8000/v1
    api_key: VLLM_API_KEY
submit:
  providers: {local-vllm: default/nvidia-build}
seed_config:
  source:
    seed_type: query
    tables:
      products: data/products.csv
      reviews: data/reviews.parquet
    query: >-
      SELECT p.product_id, p.product, r.rating
      FROM products p JOIN reviews r USING (product_id)
columns:
  - name: review
    column_type: llm-text
    prompt: "Review {{ product }} with {{ rating }} stars"
    model_alias: text
"""


@pytest.fixture
def nemo() -> Iterator[NemoServices]:
    """A NeMo Services test server that requires the test token; job status advances on each poll."""
    with NemoServices(token=TOKEN) as server:
        yield server


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NMP_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    return TOKEN


def write_spec(directory: Path, text: str, name: str = "spec.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def simple_spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path, SIMPLE_SPEC)


def write_join_seed_files(directory: Path) -> None:
    """The two tables JOIN_SPEC joins: a CSV file and a Parquet file under ``directory/data``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = directory / "data"
    data.mkdir()
    (data / "products.csv").write_text("product_id,product\n1,lamp\n2,chair\n3,desk\n", encoding="utf-8")
    pq.write_table(pa.table({"product_id": [1, 2, 3, 1], "rating": [5, 3, 4, 2]}), data / "reviews.parquet")


@pytest.fixture
def join_spec(tmp_path: Path) -> Path:
    """A spec whose seed joins a CSV file and a Parquet file."""
    write_join_seed_files(tmp_path)
    return write_spec(tmp_path, JOIN_SPEC)


@dataclass
class CliResult:
    exit_code: int
    out: str
    err: str


@pytest.fixture
def ddc(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``ddc ARGS...`` through the real entry point; returns exit code, stdout and stderr."""
    from ddc.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
