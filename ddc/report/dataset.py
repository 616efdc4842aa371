"""A generated dataset on disk, read for the report: metadata, the config, and per-column figures.

Reads ddc's datasets and the official library's alike (the same layout: ``metadata.json``,
``builder_config.json``, ``parquet-files/batch_*.parquet``). Every figure is one DuckDB aggregate over the
batch files, so memory stays bounded whatever the dataset's size; nothing but those files is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError

if TYPE_CHECKING:
    import pyarrow as pa

    from ddc.compile.plan import Plan

#: Bars of a histogram, values of a top-values chart, records shown in full.
BINS = 30
TOP = 20
SAMPLE_RECORDS = 5


@dataclass
class Dataset:
    path: Path
    metadata: dict[str, Any]
    files: list[Path]
    schema: pa.Schema
    plan: Plan | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    _con: Any = None

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        import duckdb

        if self._con is None:  # a connection that can read the batch files and nothing else
            from ddc.spec.seed_sql import sandboxed_connection

            files = [str(f) for f in self.files]
            listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
            self._con = sandboxed_connection({"data": f"SELECT * FROM read_parquet({listing})"}, files)
        try:
            return self._con.execute(query, params or []).fetchall()
        except duckdb.Error as exc:
            if type(exc) not in (duckdb.Error, duckdb.IOException):  # ours: a query the report got wrong
                raise
            raise batch_read_error(self.files, exc) from None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def open_dataset(path: Path) -> Dataset:
    """The dataset in ``path`` (a ddc run's or the official library's output directory); a ``RunError``
    naming the file when its metadata.json or a batch file cannot be read."""
    from ddc.engine.records import parquet_footer

    meta_path = path / "metadata.json"
    if not meta_path.is_file():
        raise RunError(f"{path}: no metadata.json; give the directory of a generated dataset (ddc run -o DIR/NAME)")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{meta_path}: cannot read it ({exc})") from exc
    problem = metadata_problem(metadata)
    if problem:
        raise RunError(f"{meta_path}: {problem}", hint="it is not the metadata.json of a generated dataset")
    files = sorted((path / "parquet-files").glob("batch_*.parquet"))
    if not files:
        raise RunError(f"{path}: no parquet-files/batch_*.parquet; the run wrote no records yet")
    footers = [parquet_footer(file) for file in files]  # every batch: a damaged one is named now, not mid-report
    schema = footers[0].schema.to_arrow_schema()
    errors: list[dict[str, Any]] = []
    errors_path = path / "errors.jsonl"
    if errors_path.is_file():
        for line in errors_path.read_text(encoding="utf-8").splitlines():
            try:
                errors.append(json.loads(line))
            except ValueError:
                continue
    return Dataset(path, metadata, files, schema, _plan(path), errors)


#: The keys of metadata.json the report reads, and what a run writes there (null is fine too).
_METADATA_SHAPES: dict[str, tuple[type, str]] = {
    "dataset_name": (str, "a string"),
    "actual_num_records": (int, "a number"),
    "target_num_records": (int, "a number"),
    "column_statistics": (list, "an array"),
    "column_metrics": (dict, "an object"),
    "model_usage": (dict, "an object"),
    "timings": (dict, "an object"),
}


_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def metadata_problem(metadata: object) -> str:
    """What the report cannot read in a parsed ``metadata.json`` ('' when nothing): the file must hold an
    object, and the keys the report uses what a run writes there."""
    if not isinstance(metadata, dict):
        return f"expected a JSON object, got {_JSON_KINDS.get(type(metadata), type(metadata).__name__)}"
    for key, (kind, expected) in _METADATA_SHAPES.items():
        value = metadata.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            return f"{key}: expected {expected}, got {value!r:.40}"
    for entry in metadata.get("column_statistics") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("column_name"), str):
            return f"column_statistics: expected objects with a column_name, got {entry!r:.40}"
    for entry in (metadata.get("model_usage") or {}).values():
        if not isinstance(entry, dict):
            return f"model_usage: expected an object per model, got {entry!r:.40}"
    return ""


def _plan(path: Path) -> Plan | None:
    """The plan of the dataset's ``builder_config.json`` (column types, constraints); None if unreadable."""
    from ddc.compile.plan import plan_spec
    from ddc.errors import DdcError
    from ddc.spec.load import load_spec

    config = path / "builder_config.json"
    if not config.is_file():
        return None
    try:
        return plan_spec(load_spec(config, check=False))
    except DdcError:
        return None


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def histogram(ds: Dataset, expression: str) -> tuple[list[float], list[int]]:
    """Bin edges (BINS + 1) and counts of a numeric expression over the dataset's rows."""
    values = f"(SELECT CAST({expression} AS DOUBLE) AS x FROM data)"
    low, high = ds.sql(f"SELECT min(x), max(x) FROM {values} WHERE NOT isnan(x)")[0]
    if low is None:
        return [], []
    if low == high:
        count = ds.sql(f"SELECT count(*) FROM data WHERE {expression} IS NOT NULL")[0][0]
        return [low - 0.5, high + 0.5], [int(count)]
    width = (high - low) / BINS
    rows = ds.sql(
        f"SELECT least(CAST(floor((x - $1) / $2) AS BIGINT), {BINS - 1}) AS b, count(*) FROM {values} "
        "WHERE x IS NOT NULL AND NOT isnan(x) GROUP BY b",
        [low, width],
    )
    counts = [0] * BINS
    for b, n in rows:
        counts[int(b)] = int(n)
    return [low + i * width for i in range(BINS + 1)], counts


def top_values(ds: Dataset, expression: str) -> list[tuple[str, int]]:
    rows = ds.sql(
        f"SELECT CAST({expression} AS VARCHAR) AS v, count(*) AS n FROM data WHERE {expression} IS NOT NULL "
        f"GROUP BY v ORDER BY n DESC, v LIMIT {TOP}"
    )
    return [(str(v), int(n)) for v, n in rows]


def sample_records(ds: Dataset) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(ds.files[0]).read_row_group(0) if pq.ParquetFile(ds.files[0]).num_row_groups else None
    except (pa.ArrowException, OSError) as exc:
        raise batch_read_error(ds.files[:1], exc) from None
    return table.slice(0, SAMPLE_RECORDS).to_pylist() if table is not None else []


def batch_read_error(files: list[Path], exc: Exception) -> RunError:
    """A one-line error naming the batch file that could not be read (``exc`` when none is found)."""
    from ddc.engine.records import damaged_parquet

    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return damaged_parquet(files) or RunError(f"cannot read the batch files: {reason}")
