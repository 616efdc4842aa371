"""The failure policy: a cell whose upstream cell failed is skipped and listed, never generated from null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from ddc.engine import runner
from ddc.engine.batches import upstream_failures
from tests.llm.runner import spec_text
from tests.servers.openai_server import Fault, OpenAIServer

CHAIN = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats, dogs]}
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "Write about {{ topic }}"
  - name: title
    column_type: llm-text
    model_alias: text
    prompt: "Title this essay: {{ essay }}"
  - name: words
    column_type: expression
    expr: "{{ essay.split() | length }}"
  - name: shout
    column_type: expression
    expr: "{{ title | upper }}"
"""


def run_chain(server: OpenAIServer, tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """6 rows; every essay about cats is refused (HTTP 400)."""
    server.fault_policy = lambda request, number: Fault.http(400) if "Write about cats" in request.user_text else None
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(server.base_url, CHAIN) + "num_records: 6\n")
    dataset = runner.run(spec, output_dir=tmp_path / "out").path
    assert dataset is not None
    errors = [json.loads(line) for line in (dataset / "errors.jsonl").read_text().splitlines()]
    return pq.read_table(dataset / "parquet-files").to_pylist(), errors


def test_a_dependent_llm_cell_is_not_generated_from_a_failed_cell(openai_server: OpenAIServer, tmp_path: Path) -> None:
    table, _ = run_chain(openai_server, tmp_path)
    titles = [r.user_text for r in openai_server.cell_requests if r.user_text.startswith("Title")]
    assert len(titles) == sum(r["topic"] == "dogs" for r in table) and all("None" not in t for t in titles)


def test_skipped_cells_are_listed_as_skipped_because_of_their_upstream(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    table, errors = run_chain(openai_server, tmp_path)
    cats = [i for i, r in enumerate(table) if r["topic"] == "cats"]
    skipped = {(e["row"], e["column"], e["message"]) for e in errors if e["message"].startswith("upstream")}
    assert skipped == {
        *((row, "title", "upstream: column 'essay' failed") for row in cats),
        *((row, "words", "upstream: column 'essay' failed") for row in cats),
        *((row, "shout", "upstream: column 'title' failed") for row in cats),
    }


def test_expressions_over_failed_cells_fail_per_cell(openai_server: OpenAIServer, tmp_path: Path) -> None:
    table, _ = run_chain(openai_server, tmp_path)
    assert {(r["topic"], r["words"] is None, r["shout"] is None) for r in table} == {
        ("cats", True, True),
        ("dogs", False, False),
    }


def test_the_skip_action_says_the_row_is_kept(openai_server: OpenAIServer, tmp_path: Path) -> None:
    _, errors = run_chain(openai_server, tmp_path)
    actions = {e["action"] for e in errors if e["column"] == "title"}
    assert actions == {"row kept, cell empty (upstream failed)"}


def test_upstream_failures_names_the_first_failed_dependency_per_row() -> None:
    failed = {"a": np.array([True, False, False]), "b": np.array([True, True, False])}
    mask, causes = upstream_failures(("a", "b", "c"), failed, 3)
    assert mask is not None and mask.tolist() == [True, True, False] and causes == {0: "a", 1: "b"}


def test_upstream_failures_is_empty_without_failed_dependencies() -> None:
    assert upstream_failures(("a",), {"b": np.array([True])}, 1) == (None, {})


def test_a_batch_whose_every_upstream_cell_failed_still_completes(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.fault_policy = lambda request, number: None if request.is_health_probe else Fault.http(400)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, CHAIN) + "num_records: 4\n")
    dataset = runner.run(spec, output_dir=tmp_path / "out").path
    assert dataset is not None
    table = pq.read_table(dataset / "parquet-files").to_pylist()
    assert [(r["essay"], r["title"], r["words"], r["shout"]) for r in table] == [(None, None, None, None)] * 4
