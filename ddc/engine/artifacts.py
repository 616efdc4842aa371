"""What a run leaves on disk: batch files (written last, so a batch file marks its batch complete),
``builder_config.json``, and at the end ``metadata.json`` with statistics, errors and combined files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from ddc.compile.plan import Plan
    from ddc.engine.batches import BatchOut
    from ddc.engine.progress import RunObserver
    from ddc.engine.stats import StatisticsAccumulator
    from ddc.spec.load import LoadedSpec


@dataclass
class RunResult:
    """What a run produced: where, optionally the rows, and the metadata written."""

    path: Path | None
    table: pa.Table | None
    metadata: dict[str, Any]
    column_statistics: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def write_batch(dataset_dir: Path, index: int, out: BatchOut) -> None:
    from ddc.engine import writer

    name = writer.batch_file(index)
    errors = dataset_dir / writer.ERRORS_DIR / name.replace(".parquet", ".jsonl")
    if out.errors:
        writer.write_jsonl(errors, out.errors)
    else:  # one a killed run wrote for this batch before its batch file would count its errors again
        writer.remove_file(errors)
    stats = dataset_dir / writer.BATCH_STATS_DIR / name.replace(".parquet", ".json")
    tallies = BatchTallies(out.dropped_rows, out.stats, out.tokens, out.warnings)
    if tallies.dropped_rows or tallies.column_metrics or tallies.tokens or tallies.warnings:
        writer.write_json(stats, tallies.to_json())
    else:
        writer.remove_file(stats)
    if out.dropped is not None:
        writer.write_parquet(dataset_dir / writer.DROPPED_DIR / name, out.dropped)
    for proc, table in out.processors.items():
        writer.write_parquet(dataset_dir / writer.PROCESSORS_DIR / proc / name, table)
    # last: marks the batch done. Its rename is made durable by finish_run (see ddc.engine.writer).
    writer.write_parquet(dataset_dir / writer.PARQUET_DIR / name, out.output, sync_dir=False)


def read_batch(dataset_dir: Path, index: int) -> pa.Table:
    import pyarrow.parquet as pq

    from ddc.engine import writer

    return pq.read_table(dataset_dir / writer.PARQUET_DIR / writer.batch_file(index))


@dataclass
class BatchTallies:
    """What metadata.json sums over a run's batches beyond their rows; written beside each batch, so that
    a resumed run counts the batches written before it as an uninterrupted run would."""

    dropped_rows: dict[str, int] = field(default_factory=dict)
    column_metrics: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, pa.Array] = field(default_factory=dict)  # per model column, each row's [input, output]
    warnings: list[str] = field(default_factory=list)  # the batch's own (rows dropped, cells left empty)

    def to_json(self) -> dict[str, Any]:
        tokens = {name: counts.to_pylist() for name, counts in self.tokens.items()}
        return {
            "dropped_rows": self.dropped_rows,
            "column_metrics": self.column_metrics,
            "tokens": tokens,
            "warnings": self.warnings,
        }


def read_batch_tallies(dataset_dir: Path, index: int) -> BatchTallies:
    """Batch ``index``'s tallies; none when it had none (no file)."""
    import json

    import pyarrow as pa

    from ddc.engine import writer
    from ddc.errors import RunError

    path = dataset_dir / writer.BATCH_STATS_DIR / writer.batch_file(index).replace(".parquet", ".json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BatchTallies(
            {str(k): int(v) for k, v in data["dropped_rows"].items()},
            {str(k): float(v) for k, v in data["column_metrics"].items()},
            {str(k): pa.array(v) for k, v in data["tokens"].items()},
            [str(w) for w in data.get("warnings", [])],
        )
    except FileNotFoundError:
        return BatchTallies()
    except (OSError, ValueError, TypeError, KeyError, AttributeError, pa.ArrowException) as exc:
        raise RunError(
            f"cannot resume: {path} is damaged ({type(exc).__name__}: {exc})",
            hint="delete it and the batch's file in parquet-files/ to have the batch generated again",
        ) from exc


def write_builder_config(dataset_dir: Path, plan: Plan) -> None:
    from ddc.compile.canonical import dd_config
    from ddc.engine import writer

    path = dataset_dir / "builder_config.json"
    data = {"data_designer": dd_config(plan.spec), "library_version": plan.library_version or "0.9.6"}
    writer.write_json(path, data)


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    import pyarrow as pa

    non_empty = [t for t in tables if t.num_columns]
    if not non_empty:
        return pa.table({})
    return pa.concat_tables(non_empty, promote_options="permissive")


def finish_run(
    plan: Plan,
    loaded: LoadedSpec,
    dataset_dir: Path | None,
    meta: dict[str, Any],
    table: pa.Table | None,
    fmt: str,
    elapsed: float,
    timings: dict[str, float],
    dropped_rows: dict[str, int],
    extra_stats: dict[str, float],
    warnings: list[str],
    return_table: bool,
    observer: RunObserver,
    statistics: StatisticsAccumulator,
) -> RunResult:
    from ddc.engine import writer
    from ddc.engine.stats import row_count

    observer.phase("statistics")
    if dataset_dir is None:
        stats = statistics.result(plan)
        meta.update(state="complete", actual_num_records=table.num_rows if table is not None else 0)
        return RunResult(None, table, meta, stats, warnings)
    writer.sync_directory(dataset_dir / writer.PARQUET_DIR)  # the batch files' renames, before "complete"
    files = writer.relative_files(dataset_dir, writer.PARQUET_DIR)
    absolute = [str(dataset_dir / f) for f in files]
    actual = row_count(absolute)
    stats = statistics.result(plan)
    meta.update(
        state="complete",
        actual_num_records=actual,
        num_completed_batches=len(files),
        file_paths={
            "parquet-files": files,
            "dropped-columns-parquet-files": writer.relative_files(dataset_dir, writer.DROPPED_DIR),
            "processor-files": {
                p.name: writer.relative_files(dataset_dir, f"{writer.PROCESSORS_DIR}/{p.name}")
                for p in (plan.spec.processors or ())
                if p.processor_type == "schema_transform"
            },
        },
        column_statistics=stats,
        dropped_rows=dropped_rows,
        warnings=warnings,
        timings={
            "seconds": round(elapsed, 3),
            "rows_per_second": round(meta["target_num_records"] / elapsed, 1) if elapsed > 0 else None,
            "column_seconds": {k: round(v, 3) for k, v in timings.items()},
        },
        column_metrics=extra_stats,
    )
    if actual < meta["target_num_records"]:
        warnings.append(f"generated {actual} of {meta['target_num_records']} requested records")
    observer.phase("writing")
    error_files = sorted((dataset_dir / writer.ERRORS_DIR).glob("batch_*.jsonl"))
    if error_files:
        writer.combine_text(dataset_dir / "errors.jsonl", error_files)
        meta["file_paths"]["errors"] = "errors.jsonl"
    meta["num_failed_cells"] = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in error_files)
    if fmt in ("jsonl", "csv") and files:
        combined = writer.write_combined(dataset_dir, fmt, meta["dataset_name"])
        meta["file_paths"][fmt] = combined.name
    writer.write_json(dataset_dir / "metadata.json", meta)
    if not return_table:
        table = None
    elif table is None:
        import pyarrow.parquet as pq

        table = pq.read_table(dataset_dir / writer.PARQUET_DIR)
    return RunResult(dataset_dir, table, meta, stats, warnings)


def ddc_version() -> str:
    from ddc import __version__

    return __version__
