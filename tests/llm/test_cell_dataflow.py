"""Model columns run as a cell dataflow: a row's next cell starts as soon as the cells it reads are done."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from ddc.engine import runner
from ddc.engine.progress import RunObserver
from tests.llm.runner import TOPIC_ESSAY, spec_text
from tests.servers.openai_server import Fault, OpenAIServer

CHAIN = (
    TOPIC_ESSAY
    + """
  - name: summary
    column_type: llm-text
    model_alias: text
    prompt: "Summarise: {{ essay }}"
"""
)


def run_chain(server: OpenAIServer, tmp_path: Path, records: int, extra: str = "", **kwargs: object) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(server.base_url, CHAIN) + f"num_records: {records}\n{extra}")
    return runner.run(spec, output_dir=tmp_path / "out", **kwargs).path  # type: ignore[arg-type, return-value]


def test_a_rows_next_cell_starts_before_the_upstream_column_is_done(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    openai_server.latency = 0.03
    run_chain(openai_server, tmp_path, 32)
    essays = [r.received_at for r in openai_server.cell_requests if r.user_text.startswith("Write about")]
    summaries = [r.received_at for r in openai_server.cell_requests if r.user_text.startswith("Summarise")]
    assert len(essays) == len(summaries) == 32 and min(summaries) < max(essays)


def test_a_cell_whose_upstream_cell_failed_is_skipped_and_recorded(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.fault_policy = lambda request, number: Fault.http(400) if "cats" in request.user_text else None
    dataset = run_chain(openai_server, tmp_path, 12)
    rows = pq.read_table(dataset / "parquet-files").to_pylist()
    records = [json.loads(line) for line in (dataset / "errors.jsonl").read_text().splitlines()]
    skipped = {r["row"] for r in records if r["column"] == "summary"}
    failed = {i for i, row in enumerate(rows) if row["essay"] is None}
    assert failed and skipped == failed
    assert all("upstream" in r["message"] for r in records if r["column"] == "summary")
    assert not [r for r in openai_server.cell_requests if "Summarise" in r.user_text and "None" in r.user_text]


class CellCounter(RunObserver):
    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[int, int]]] = {}

    def cells(self, column: str, done: int, failed: int) -> None:
        self.calls.setdefault(column, []).append((done, failed))


def test_progress_hears_of_every_cell_as_it_finishes(openai_server: OpenAIServer, tmp_path: Path) -> None:
    counter = CellCounter()
    run_chain(openai_server, tmp_path, 10, progress=counter)
    assert counter.calls == {name: [(i, 0) for i in range(1, 11)] for name in ("essay", "summary")}


def test_a_skipped_cell_reads_as_null_to_a_column_that_does_not_propagate_skips(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    columns = (
        TOPIC_ESSAY
        + """    skip: {when: "{{ topic == 'cats' }}"}
  - name: summary
    column_type: llm-text
    model_alias: text
    propagate_skip: false
    prompt: "Summarise: {{ essay }}"
"""
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, columns) + "num_records: 12\n")
    dataset = runner.run(spec, output_dir=tmp_path / "out").path
    assert dataset is not None
    rows = pq.read_table(dataset / "parquet-files").to_pylist()
    cats = [row for row in rows if row["topic"] == "cats"]
    assert cats and all(row["essay"] is None and row["summary"] is not None for row in cats)
    assert any(r.user_text.startswith("Summarise: None") for r in openai_server.cell_requests)
