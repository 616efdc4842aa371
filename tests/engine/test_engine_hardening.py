"""Issue 12 in the engine: values round-trip exactly, failing conditions fail their cell, template
renders are bounded, and the dataset directory never leaves the output directory."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import column

from ddc.engine.runner import run
from ddc.errors import DdcError

NUL_SPEC = r"""
random_seed: 1
columns:
  - {name: c, column_type: sampler, sampler_type: category, params: {values: ["a\0", "\0b\0", "x\r\ny"]}}
  - {name: e, column_type: expression, expr: "{{ c }}\r\n!"}
"""


def test_nul_bytes_and_crlf_survive_sampling_and_rendering(generate) -> None:
    result = generate(NUL_SPEC, num_records=30)
    assert set(column(result, "c")) == {"a\0", "\0b\0", "x\r\ny"}
    assert all(e == c + "\r\n!" for c, e in zip(column(result, "c"), column(result, "e"), strict=True))


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_nul_bytes_and_crlf_survive_every_output_format(write_spec, tmp_path: Path, fmt: str) -> None:
    result = run(write_spec(NUL_SPEC), num_records=30, output_dir=tmp_path / "out", fmt=fmt)
    assert result.path is not None
    table = pq.read_table(sorted((result.path / "parquet-files").glob("*.parquet"))[0])
    assert set(table.column("c").to_pylist()) == {"a\0", "\0b\0", "x\r\ny"}
    if fmt == "jsonl":
        rows = [json.loads(line) for line in (result.path / "spec.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {r["c"] for r in rows} == {"a\0", "\0b\0", "x\r\ny"}
    if fmt == "csv":
        raw = (result.path / "spec.csv").read_bytes()
        assert b"a\0" in raw and b'"x\r\ny\r\n!"' in raw


def test_a_condition_that_fails_to_evaluate_fails_its_cell_not_the_default_branch(generate) -> None:
    result = generate(
        """
        random_seed: 3
        columns:
          - {name: a, column_type: sampler, sampler_type: category, params: {values: [0, 1, 2]}}
          - name: b
            column_type: sampler
            sampler_type: uniform
            params: {low: 0, high: 1}
            conditional_params:
              "10 / a > 5": {low: 100, high: 101}
        """,
        num_records=40,
    )
    assert 0 not in column(result, "a")  # rows where 10 / a raised were dropped, not sampled from params
    assert any("ZeroDivisionError" in w for w in result.warnings)


def test_a_render_past_the_size_limit_fails_its_cell(generate) -> None:
    result = generate(
        """
        columns:
          - {name: n, column_type: sampler, sampler_type: category, params: {values: [1, 100000000]}}
          - {name: e, column_type: expression, expr: "{{ 'x' * n }}"}
        """,
        num_records=20,
    )
    assert set(column(result, "e")) == {"x"}
    assert any("TooLarge" in w for w in result.warnings)


def test_a_file_stem_that_is_not_a_safe_name_is_refused(write_spec, tmp_path: Path) -> None:
    spec = write_spec("columns: [{name: x, column_type: sampler, sampler_type: uuid}]\n", name="..yaml")
    with pytest.raises(DdcError, match="dataset name"):
        run(spec, num_records=1, output_dir=tmp_path / "out")
