"""Specs and small helpers shared by the real-platform tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

FAST = ("--poll-interval", "0.5")

SAMPLER_SPEC = """\
num_records: 3
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [lamps, chairs]}
  - name: id
    column_type: sampler
    sampler_type: uuid
"""


def write_spec(directory: Path, text: str, name: str = "spec.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def dataset_rows(directory: Path) -> int:
    """Rows of the Parquet files of a downloaded dataset (``directory/artifacts/dataset``)."""
    import pyarrow.parquet as pq

    files = sorted((directory / "artifacts" / "dataset" / "parquet-files").glob("*.parquet"))
    return sum(pq.read_metadata(f).num_rows for f in files)
