"""Reading what a run against llama-server wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ddc import api


def run(spec: Path, out: Path, **options: Any) -> Path:
    """``ddc run`` through the library API; returns the dataset directory."""
    result = api.run(spec, output_dir=out, use_cache=False, **options)
    assert result.path is not None
    return Path(result.path)


def rows(dataset: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    files = sorted((dataset / "parquet-files").glob("batch_*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def error_records(dataset: Path) -> list[dict[str, Any]]:
    path = dataset / "errors.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def decoded(value: Any) -> Any:
    """A structured cell as stored (a JSON string in Parquet, or already a dict)."""
    return json.loads(value) if isinstance(value, str) else value
