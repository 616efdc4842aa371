"""`ddc report` on a dataset whose files were damaged or replaced: a one-line error naming the file and
what is wrong with it, never a pyarrow, DuckDB or Python traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddc.engine.runner import run as run_spec
from tests.cli.test_show_command import overwrite_pages

SPEC = """
name: numbers
num_records: 30
run: {batch_size: 10}
columns:
  - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}
  - {name: pet, column_type: sampler, sampler_type: category, params: {values: [cat, dog]}}
"""


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Three batch files, a metadata.json with column statistics and a builder_config.json."""
    (tmp_path / "numbers.yaml").write_text(SPEC, encoding="utf-8")
    result = run_spec(tmp_path / "numbers.yaml", output_dir=tmp_path / "out")
    assert result.path is not None
    return Path(result.path)


def one_line_error(run: Any, dataset: Path) -> str:
    code, _, err = run("report", str(dataset))
    assert code == 1 and err.count("\n") == 1, err
    return err.removeprefix("error: ").rstrip("\n")


def test_a_batch_file_that_is_not_parquet_is_named(dataset: Path, run: Any) -> None:
    damaged = dataset / "parquet-files" / "batch_00001.parquet"
    damaged.write_bytes(b"not parquet")
    assert one_line_error(run, dataset).startswith(f"{damaged}: not a readable Parquet file: Parquet magic bytes")


def test_a_batch_file_with_damaged_pages_is_named(dataset: Path, run: Any) -> None:
    damaged = dataset / "parquet-files" / "batch_00001.parquet"
    overwrite_pages(damaged)
    assert one_line_error(run, dataset).startswith(f"{damaged}: not a readable Parquet file: ")


def test_a_damaged_batch_file_is_named_when_the_statistics_are_computed_from_the_files(dataset: Path, run: Any) -> None:
    metadata = json.loads((dataset / "metadata.json").read_text(encoding="utf-8"))
    del metadata["column_statistics"]
    (dataset / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    damaged = dataset / "parquet-files" / "batch_00002.parquet"
    overwrite_pages(damaged)
    assert one_line_error(run, dataset).startswith(f"{damaged}: not a readable Parquet file: ")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "expected a JSON object, got an array"),
        ("null", "expected a JSON object, got null"),
        ('{"column_statistics": {}}', "column_statistics: expected an array, got {}"),
        ('{"column_statistics": [1]}', "column_statistics: expected objects with a column_name, got 1"),
        ('{"actual_num_records": "30"}', "actual_num_records: expected a number, got '30'"),
        ('{"model_usage": {"text": []}}', "model_usage: expected an object per model, got []"),
    ],
)
def test_a_metadata_json_that_is_not_a_datasets_is_explained(
    dataset: Path, run: Any, content: str, problem: str
) -> None:
    (dataset / "metadata.json").write_text(content, encoding="utf-8")
    assert one_line_error(run, dataset) == (
        f"{dataset / 'metadata.json'}: {problem} (it is not the metadata.json of a generated dataset)"
    )
