"""The runner: plan -> batches -> columns -> files.

A run covers the dataset rows ``[lo, hi)`` (all rows, or one ``--partition`` shard), cut into batches
of ``batch_size`` rows. Each batch starts from its seed rows (``ddc.engine.seeds``), then runs the
sampler columns in sampler-DAG order, then the other columns level by level (columns of a level do
not depend on each other and are awaited together, so LLM columns of a level share their wait).
Failed cells are dropped or kept according to the column kind; dropped columns, processors and
internal side columns are split off; the batch is written atomically. Row r's values depend only on
(spec, seed, r), so batch sizes, ``--resume`` and shards never change the data.

Start-up checks: a shared resource's ``ready()`` (the LLM health check) starts with the first
batches; nothing is written before it passes, and if it fails the batches in flight are cancelled
and its error is raised (see ``RunContext``).

Resume: ``metadata.json`` is written (state "running") before the first batch; each batch's
``parquet-files/batch_NNNNN.parquet`` is written last, so its presence means the batch is complete.
``--resume`` checks the fingerprint, seed, size, batch size and partition, and the seed data
(``seed_inputs``: each seed file's size and content hash or mtime, an ``hf`` file's ETag, the seed's
row count; see ``ddc.engine.seed_inputs``), and continues after the last complete batch.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ddc.engine.kinds import BatchInput, ColumnKind, ColumnOutput, RunContext, column_kinds, kind_for
from ddc.engine.rng import ColumnRng, new_seed
from ddc.engine.stats import ARROW_ROWS
from ddc.errors import RunError, UsageError

if TYPE_CHECKING:
    import asyncio

    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import Plan, PlannedColumn
    from ddc.engine.hfhub import HubSeed
    from ddc.engine.seeds import SeedReader
    from ddc.spec.load import LoadedSpec

INTERNAL_PREFIX = "__ddc_"
#: Batches generated concurrently when a column kind waits on I/O (LLM calls); written in order.
MAX_BATCHES_IN_FLIGHT = 3
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    """What a run produced: where, optionally the rows, and the metadata written."""

    path: Path | None
    table: pa.Table | None
    metadata: dict[str, Any]
    column_statistics: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _BatchOut:
    output: pa.Table
    dropped: pa.Table | None
    processors: dict[str, pa.Table]
    dropped_rows: dict[str, int]
    errors: list[dict[str, Any]] = field(default_factory=list)  # one entry per failed cell


# --- loading -----------------------------------------------------------------------------------------


def _load(spec: str | Path | LoadedSpec) -> LoadedSpec:
    from ddc.spec.load import LoadedSpec, load_spec

    if isinstance(spec, LoadedSpec):
        return spec
    return load_spec(spec)


def _open_seed(
    loaded: LoadedSpec, random_seed: int, warn: Callable[[str], None], *, stamp: bool = False
) -> tuple[SeedReader | None, dict[str, Any] | None]:
    """The seed's reader and, with ``stamp``, the ``seed_inputs`` it reads (``ddc.engine.seed_inputs``)."""
    from ddc.engine.seeds import SeedReader

    config = loaded.spec.seed_config
    if config is None:
        return None, None
    hub, hub_files = None, None
    if config.source.seed_type == "nmp":
        config = _local_fileset_seed(loaded, config)
    elif config.source.seed_type == "hf":
        hub, hub_files = _local_hf_seed(loaded, warn)
    files = [str(p) for p in hub_files] if hub_files is not None else None
    reader = SeedReader(config, loaded.base_dir, random_seed, files=files)
    with contextlib.ExitStack() as on_error:
        on_error.callback(reader.close)
        declared = {c.name for c in loaded.spec.columns if c.column_type != "seed-dataset"}
        clash = sorted(declared & set(reader.columns))
        if clash:
            raise RunError(f"column {clash[0]!r} is also a column of the seed dataset; rename one of them")
        inputs = None
        if stamp:
            from ddc.engine.seed_inputs import stamp_seed

            inputs = stamp_seed(config, loaded.base_dir, reader.total, hub=hub, hub_files=hub_files or ())
        on_error.pop_all()
    return reader, inputs


def _local_fileset_seed(loaded: LoadedSpec, config: Any) -> Any:
    """A fileset seed, downloaded into the local cache (reused by later runs), as a local seed."""
    from ddc.nemo.resources import NemoAccess, fetch_fileset_seed
    from ddc.spec.seeds import LocalFileSeedSource

    access = NemoAccess.for_spec(loaded.spec)
    if access is None:
        raise RunError(
            f"seed data: the fileset seed {config.source.path!r} needs NeMo Services",
            hint="set NMP_BASE_URL (and NMP_ACCESS_TOKEN), or `ddc migrate --to local` to download it once",
        )
    local, _ = fetch_fileset_seed(access, config.source.path)
    return config.model_copy(update={"source": LocalFileSeedSource(path=local)})


def _local_hf_seed(loaded: LoadedSpec, warn: Callable[[str], None]) -> tuple[HubSeed, list[Path]]:
    """A Hugging Face seed's files, downloaded into the local cache (reused while unchanged on the Hub)."""
    from ddc.engine.hfhub import fetch_hf_seed, hub_seed

    seed = hub_seed(loaded)
    paths, _ = fetch_hf_seed(seed, warn=warn)
    return seed, paths


def default_batch_size(plan: Plan) -> int:
    """1000 rows when any column calls a model or a validator (the official buffer size: progress and resume
    stay fine-grained); 20,000 otherwise, where per-batch overhead would dominate vectorised work."""
    from ddc.spec.columns import MODEL_COLUMN_TYPES

    slow = MODEL_COLUMN_TYPES | {"validation"}
    return 1000 if any(c.column_type in slow for c in plan.columns) else 20_000


def parse_partition(text: str) -> tuple[int, int]:
    """``I/N`` -> (I, N) with 0 <= I < N."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise UsageError(f"--partition must look like I/N, e.g. 0/4 (got {text!r})") from None
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"--partition {text}: need 0 <= I < N")
    return index, count


def partition_rows(num_records: int, partition: tuple[int, int] | None) -> tuple[int, int]:
    if partition is None:
        return 0, num_records
    index, count = partition
    return num_records * index // count, num_records * (index + 1) // count


# --- the engine (one batch at a time) ---------------------------------------------------------------


class _Engine:
    def __init__(self, plan: Plan, context: RunContext, kinds: Mapping[str, ColumnKind]) -> None:
        self.plan = plan
        self.context = context
        self.seed = context.random_seed
        self.prepared: dict[str, tuple[PlannedColumn, ColumnKind, Any]] = {}
        for planned in plan.all_columns:
            kind = kind_for(kinds, planned)
            self.prepared[planned.name] = (planned, kind, kind.prepare(planned, context))
        self.rngs = {name: ColumnRng(self.seed, name) for name in self.prepared}
        self.io_bound = waits_on_io(plan, kinds)
        self.levels = _levels(plan)
        self.dropped_names = _dropped(plan)
        self.timings: dict[str, float] = {name: 0.0 for name in self.prepared}
        self.stats: dict[str, float] = {}
        from ddc.engine.processors import SchemaTransform

        self.transforms = [
            SchemaTransform(p) for p in (plan.spec.processors or ()) if p.processor_type == "schema_transform"
        ]

    async def aclose(self) -> None:
        for _, _, generator in self.prepared.values():
            await generator.aclose()
        for resource in self.context.resources():
            closer = getattr(resource, "aclose", None)
            if closer is not None:
                await closer()
            elif hasattr(resource, "close"):
                resource.close()

    async def run_batch(self, index: int, rows: np.ndarray, seed_table: pa.Table | None) -> _BatchOut:
        import numpy as np

        data: dict[str, pa.Array] = {}
        if seed_table is not None:
            data.update({name: seed_table.column(name).combine_chunks() for name in seed_table.column_names})
        skipped: dict[str, np.ndarray] = {}
        dropped_rows: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        for level in self.levels:
            if not len(rows):
                break
            if self.io_bound:
                import asyncio

                results = await asyncio.gather(*(self._run_column(n, index, rows, data, skipped) for n in level))
            else:
                results = [await self._run_column(n, index, rows, data, skipped) for n in level]
            drop = np.zeros(len(rows), dtype=bool)
            for name, (values, sides, drop_mask, failed) in zip(level, results, strict=True):
                data[name] = values
                data.update(sides)
                errors.extend(failed)
                if drop_mask is not None and drop_mask.any():
                    drop |= drop_mask
                    dropped_rows[name] = dropped_rows.get(name, 0) + int(drop_mask.sum())
            if drop.any():
                keep = ~drop
                rows = rows[keep]
                mask = _arrow_mask(keep)
                data = {k: v.filter(mask) for k, v in data.items()}
                skipped = {k: v[keep] for k, v in skipped.items()}
        out = self._assemble(data, len(rows), dropped_rows)
        out.errors = sorted(errors, key=lambda e: (e["row"], e["column"]))
        return out

    async def _run_column(
        self,
        name: str,
        index: int,
        rows: np.ndarray,
        data: dict[str, pa.Array],
        skipped: dict[str, np.ndarray],
    ) -> tuple[pa.Array, dict[str, pa.Array], np.ndarray | None, list[dict[str, Any]]]:
        import numpy as np

        planned, kind, generator = self.prepared[name]
        started = time.perf_counter()
        skip_mask = self._skip_mask(planned, kind, rows, data, skipped)
        if skip_mask is not None and skip_mask.any():
            skipped[name] = skip_mask
            live = np.flatnonzero(~skip_mask)
            sub = {k: v.take(_arrow_indices(live)) for k, v in data.items()}
            batch = BatchInput(index, rows[live], sub, self.rngs[name])
        else:
            live = None
            batch = BatchInput(index, rows, data, self.rngs[name])
        output = await generator.generate(batch) if batch.num_rows else ColumnOutput(values=[])
        values, sides, drop, failed = self._apply(planned, kind, batch, output)
        if live is not None:
            values = _scatter(values, live, len(rows), getattr(planned.config.skip, "value", None), planned)
            sides = {k: _scatter(v, live, len(rows), None, planned) for k, v in sides.items()}
            if drop is not None:
                full = np.zeros(len(rows), dtype=bool)
                full[live] = drop
                drop = full
        self.timings[name] += time.perf_counter() - started
        for key, amount in output.stats.items():
            self.stats[f"{name}.{key}"] = self.stats.get(f"{name}.{key}", 0.0) + float(amount)
        return values, sides, drop, failed

    def _skip_mask(
        self,
        planned: PlannedColumn,
        kind: ColumnKind,
        rows: np.ndarray,
        data: Mapping[str, pa.Array],
        skipped: Mapping[str, np.ndarray],
    ) -> np.ndarray | None:

        if not kind.skippable:
            return None
        mask = None
        config = planned.config
        if getattr(config, "propagate_skip", False):
            for dep in planned.depends_on:
                if dep in skipped:
                    mask = skipped[dep].copy() if mask is None else mask | skipped[dep]
        skip = getattr(config, "skip", None)
        if skip is not None:
            from ddc.engine.expressions import skip_rows

            when = skip_rows(skip.when, data, len(rows))
            mask = when if mask is None else mask | when
        return mask

    def _apply(
        self, planned: PlannedColumn, kind: ColumnKind, batch: BatchInput, output: ColumnOutput
    ) -> tuple[pa.Array, dict[str, pa.Array], np.ndarray | None, list[dict[str, Any]]]:
        import numpy as np

        n = batch.num_rows
        values = _to_arrow(output.values, n, planned.name)
        sides = {k: _to_arrow(v, n, k) for k, v in output.side_columns.items()}
        if not output.errors:
            return values, sides, None, []
        policy = "drop" if kind.failed_cells == "drop" else self.context.settings.on_error
        positions = sorted(output.errors)
        failed = [
            {
                "row": int(batch.rows[p]),
                "column": planned.name,
                "kind": planned.column_type,
                "action": "row kept, cell empty" if policy == "keep" else "row dropped",
                "message": output.errors[p],
            }
            for p in positions
        ]
        first = positions[0]
        cause = output.errors[first]
        where = f"column {planned.name!r}, row {int(batch.rows[first])}"
        template = _template_of(planned)
        detail = f"{where}: {cause}" + (f" (template: {template!r})" if template else "")
        if policy == "fail":
            raise RunError(detail)
        if policy == "keep":
            self.context.warn(
                f"{len(positions)} cells of column {planned.name!r} failed and were left empty; first: {detail}"
            )
            return values, sides, None, failed
        if len(positions) == n:
            raise RunError(f"every row of batch {batch.index} failed; first: {detail}")
        self.context.warn(f"dropped {len(positions)} rows of batch {batch.index}: first: {detail}")
        drop = np.zeros(n, dtype=bool)
        drop[positions] = True
        return values, sides, drop, failed

    def _assemble(self, data: dict[str, pa.Array], n: int, dropped_rows: dict[str, int]) -> _BatchOut:
        import pyarrow as pa

        names = [k for k in data if not k.startswith(INTERNAL_PREFIX)]
        order = _output_order(self.plan, names)
        kept = [k for k in order if k not in self.dropped_names]
        gone = [k for k in order if k in self.dropped_names]
        output = pa.table({k: data[k] for k in kept}) if kept else pa.table({})
        dropped = pa.table({k: data[k] for k in gone}) if gone else None
        full = pa.table({k: data[k] for k in order}) if order else pa.table({})
        processors = {t.name: t.apply(full) for t in self.transforms}
        return _BatchOut(output, dropped, processors, dropped_rows)


def _levels(plan: Plan) -> list[list[str]]:
    """Samplers one by one (each may read the previous ones), then DAG levels of the other columns."""
    levels: list[list[str]] = [[c.name] for c in plan.samplers]
    depth: dict[str, int] = {}
    others = {c.name for c in plan.columns}
    for col in plan.columns:
        depth[col.name] = 1 + max((depth[d] for d in col.depends_on if d in others), default=-1)
    grouped: dict[int, list[str]] = {}
    for col in plan.columns:
        grouped.setdefault(depth[col.name], []).append(col.name)
    levels.extend(grouped[d] for d in sorted(grouped))
    return levels


def _dropped(plan: Plan) -> set[str]:
    from ddc.compile.plan import dropped_columns

    names = set(dropped_columns(plan.spec))
    for col in plan.all_columns:
        if col.name in names:
            names.update(col.side_effects)
    return names


def _output_order(plan: Plan, names: list[str]) -> list[str]:
    """Seed columns, then columns in spec order, each followed by its side-effect columns."""
    present = set(names)
    order = [c for c in (plan.seed_columns or ()) if c in present]
    for col in sorted(plan.all_columns, key=lambda c: c.index):
        order.extend(n for n in (col.name, *col.side_effects) if n in present and n not in order)
    seen = set(order)
    order.extend(k for k in names if k not in seen)
    return order


def _template_of(planned: PlannedColumn) -> str | None:
    for attr in ("expr", "prompt"):
        value = getattr(planned.config, attr, None)
        if isinstance(value, str):
            return value
    return None


def _to_arrow(values: Any, n: int, name: str) -> pa.Array:
    import numpy as np
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        try:
            if isinstance(values, np.ndarray) and values.dtype.kind == "U":
                values = pa.array(values, pa.string())
            else:
                values = pa.array(values if isinstance(values, np.ndarray) else list(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise RunError(f"column {name!r}: values of mixed types cannot be stored ({exc})") from exc
    if len(values) != n:
        from ddc.errors import InternalError

        raise InternalError(f"column {name!r}: generator returned {len(values)} values for {n} rows")
    return values


def _arrow_mask(keep: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(keep, pa.bool_())


def _arrow_indices(positions: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(positions, pa.int64())


def _scatter(values: pa.Array, live: np.ndarray, n: int, fill: Any, planned: PlannedColumn) -> pa.Array:
    """Values for ``live`` rows spread over n rows; the others get ``fill`` (the skip value)."""
    import numpy as np
    import pyarrow as pa

    if fill is not None and getattr(planned.config, "dtype", None):
        from ddc.engine.expressions import cast_value

        with contextlib.suppress(ValueError, OverflowError):
            fill = cast_value(str(fill), planned.config.dtype)
    target = values.type if not pa.types.is_null(values.type) else None
    try:
        filler = pa.array([fill], target) if target is not None else pa.array([fill])
        combined = pa.concat_arrays([values.cast(filler.type) if target is None else values, filler])
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        combined = pa.array(
            [
                *(None if v is None else str(v) for v in values.to_pylist()),
                None if fill is None else str(fill),
            ],
            pa.string(),
        )
    index = np.full(n, len(values), dtype=np.int64)
    index[live] = np.arange(len(live))
    return combined.take(pa.array(index))


# --- run / preview ----------------------------------------------------------------------------------


def _context(plan: Plan, random_seed: int, num_records: int, batch_size: int, warnings: list[str]) -> RunContext:
    return RunContext(
        plan=plan,
        random_seed=random_seed,
        num_records=num_records,
        batch_size=batch_size,
        settings=plan.run,
        base_dir=plan.base_dir,
        warn=warnings.append,
    )


def _resolve_seed(plan: Plan, seed: int | None) -> tuple[int, str]:
    if seed is not None:
        return seed, "option"
    if plan.random_seed is not None:
        return plan.random_seed, "spec"
    return new_seed(), "generated"


def preview(
    spec: str | Path | LoadedSpec,
    num_records: int = 10,
    *,
    seed: int | None = None,
    batch_size: int | None = None,
) -> RunResult:
    """Generate ``num_records`` rows in memory; nothing is written."""
    return run(spec, num_records=num_records, seed=seed, batch_size=batch_size, return_table=True, write=False)


def run(
    spec: str | Path | LoadedSpec,
    *,
    num_records: int | None = None,
    output_dir: str | Path | None = None,
    fmt: str | None = None,
    seed: int | None = None,
    resume: bool = False,
    partition: tuple[int, int] | None = None,
    batch_size: int | None = None,
    return_table: bool = False,
    write: bool = True,
    progress: Progress | None = None,
    kinds: Mapping[str, ColumnKind] | None = None,
    use_cache: bool = True,
    adaptive_concurrency: bool = False,
) -> RunResult:
    """Run a spec locally. Returns the dataset directory and, with ``return_table``, the rows.

    ``progress(done, total)`` is called when generation starts (``done``: the rows a resumed run had
    already written) and after each batch."""
    from ddc.compile.plan import plan_spec

    loaded = _load(spec)
    probe = plan_spec(loaded)
    n_total = num_records if num_records is not None else probe.num_records
    if n_total < 1:
        raise UsageError("the number of records must be at least 1")
    size = batch_size or probe.run.batch_size or default_batch_size(probe)
    if size < 1:
        raise UsageError("--batch-size must be at least 1")
    fmt = fmt or probe.run.format
    name = probe.spec.name or (loaded.source.path.stem.split(".")[0] if loaded.source.path else "dataset")
    if partition is not None:
        name = f"{name}-part{partition[0]}of{partition[1]}"
    dataset_dir = Path(output_dir or probe.run.output_dir) / name if write else None

    previous: dict[str, Any] | None = None
    if dataset_dir is not None:
        previous = _check_target(dataset_dir, resume)
    random_seed, seed_source = _resolve_seed(probe, seed)
    if previous is not None:
        if seed is not None and seed != previous.get("random_seed"):
            raise RunError(
                f"cannot resume {dataset_dir} with --seed {seed}: "
                f"it was started with seed {previous.get('random_seed')}"
            )
        random_seed, seed_source = int(previous["random_seed"]), previous.get("random_seed_source", "resumed")
    from ddc.compile.canonical import fingerprint

    lo, hi = partition_rows(n_total, partition)
    num_batches = (hi - lo + size - 1) // size
    meta: dict[str, Any] = {
        "dataset_name": name,
        "state": "running",
        "config_hash": fingerprint(loaded.spec),
        "config_hash_algo": "sha256",
        "random_seed": random_seed,
        "random_seed_source": seed_source,
        "original_target_num_records": n_total,
        "target_num_records": hi - lo,
        "row_range": [lo, hi],
        "partition": None if partition is None else {"index": partition[0], "count": partition[1]},
        "buffer_size": size,
        "total_num_batches": num_batches,
        "preserve_dropped_columns": True,
        "format": fmt,
        "ddc_version": _ddc_version(),
    }
    if previous is not None:
        _check_compatible(previous, meta, dataset_dir)

    warnings: list[str] = []
    reader, seed_inputs = _open_seed(loaded, random_seed, warnings.append, stamp=dataset_dir is not None)
    try:
        if seed_inputs is not None:
            meta["seed_inputs"] = seed_inputs
            if previous is not None:
                from ddc.engine.seed_inputs import check_unchanged

                check_unchanged(previous, seed_inputs, cast(Path, dataset_dir))
        plan = plan_spec(loaded, seed_columns=reader.columns if reader else None)
        context = _context(plan, random_seed, n_total, size, warnings)
        chosen = kinds if kinds is not None else column_kinds()
        event_loop = waits_on_io(plan, chosen)
        if event_loop:  # model-backed columns: nothing of the LLM stack is imported for the others
            from ddc.engine.llm.kinds import LLMOptions, configure_llm

            configure_llm(
                context,
                LLMOptions(use_cache=use_cache, artifacts_dir=dataset_dir, adaptive_concurrency=adaptive_concurrency),
            )
        started = time.perf_counter()
        # A small dataset's rows stay in memory for its statistics (cheaper than reading the files back).
        keep_tables = return_table or hi - lo <= ARROW_ROWS
        generated = drive(
            _generate(
                plan,
                context,
                reader,
                dataset_dir,
                meta,
                lo,
                hi,
                size,
                keep_tables,
                progress,
                chosen,
            ),
            event_loop=event_loop,
        )
    finally:
        if reader is not None:
            reader.close()
    tables, engine_timings, dropped_rows, extra_stats = generated
    if event_loop:
        from ddc.engine.llm.kinds import llm_usage

        if usage := llm_usage(context):
            meta["model_usage"] = usage
    elapsed = time.perf_counter() - started
    table = _concat(tables) if tables is not None else None
    run_result = _finish(
        plan,
        loaded,
        dataset_dir,
        meta,
        table,
        fmt,
        elapsed,
        engine_timings,
        dropped_rows,
        extra_stats,
        warnings,
        return_table,
    )
    if event_loop:
        from ddc.engine.llm.failures import EarlyShutdown
        from ddc.engine.llm.kinds import llm_stopped_early

        if reason := llm_stopped_early(context):  # after every artifact is written: the failures are listed
            raise EarlyShutdown(reason)
    return run_result


async def _generate(
    plan: Plan,
    context: RunContext,
    reader: SeedReader | None,
    dataset_dir: Path | None,
    meta: dict[str, Any],
    lo: int,
    hi: int,
    size: int,
    keep_tables: bool,
    progress: Progress | None,
    kinds: Mapping[str, ColumnKind],
) -> tuple[list[pa.Table] | None, dict[str, float], dict[str, int], dict[str, float]]:
    import numpy as np

    from ddc.engine import writer
    from ddc.engine.seeds import SeedStream

    engine = _Engine(plan, context, kinds)
    # start-up checks of shared resources (the LLM health check) run alongside the first batches
    checks = _start_checks(context) if engine.io_bound else []
    try:
        done = set(writer.completed_batches(dataset_dir)) if dataset_dir is not None else set()
        first = 0
        while first in done:
            first += 1
        if dataset_dir is not None and dataset_dir.exists():
            writer.remove_temporaries(dataset_dir)
        started = dataset_dir is None

        def start_dataset() -> None:
            """metadata.json and builder_config.json, once the checks have passed: a run that fails its
            start-up checks leaves its output directory as it was."""
            nonlocal started
            if not started and dataset_dir is not None:
                writer.write_json(dataset_dir / "metadata.json", meta)
                _write_builder_config(dataset_dir, plan)
            started = True

        if not checks:
            start_dataset()
        tables: list[pa.Table] | None = [] if keep_tables else None
        if keep_tables and first and dataset_dir is not None:
            tables = [_read_batch(dataset_dir, i) for i in range(first)]
        start_row = lo + first * size
        if progress is not None:  # generation starts here: rates count from now, and from resumed rows
            progress(start_row - lo, hi - lo)
        stream = SeedStream(reader.stream(start_row, hi), reader.columns) if reader is not None else None
        dropped_rows: dict[str, int] = {}
        window = MAX_BATCHES_IN_FLIGHT if engine.io_bound else 1
        # Tasks under an event loop; plain coroutines, awaited one at a time, without one.
        in_flight: deque[tuple[int, int, Awaitable[_BatchOut]]] = deque()

        async def finish_oldest() -> None:
            index, end, task = in_flight[0]  # stays in flight (cancelled on error) until it is done
            out = await _after_checks(task, checks) if checks else await task
            in_flight.popleft()
            start_dataset()
            for key, amount in out.dropped_rows.items():
                dropped_rows[key] = dropped_rows.get(key, 0) + amount
            if dataset_dir is not None:
                _write_batch(dataset_dir, index, out)  # in index order: complete batches are a prefix
            if tables is not None:
                tables.append(out.output)
            if progress is not None:
                progress(end - lo, hi - lo)

        try:
            for index in range(first, (hi - lo + size - 1) // size):
                begin = lo + index * size
                end = min(begin + size, hi)
                rows = np.arange(begin, end, dtype=np.int64)
                seed_table = stream.take(end - begin) if stream is not None else None
                batch = engine.run_batch(index, rows, seed_table)
                in_flight.append((index, end, _spawn(batch) if engine.io_bound else batch))
                if len(in_flight) >= window:
                    await finish_oldest()
            while in_flight:
                await finish_oldest()
        finally:
            await _abandon([task for _, _, task in in_flight], event_loop=engine.io_bound)
        start_dataset()
        reports = context.reports()
        if reports:
            meta["reports"] = reports
        return tables, dict(engine.timings), dropped_rows, dict(engine.stats)
    finally:
        if checks:
            await _abandon(list(checks), event_loop=True)
        await engine.aclose()


def _start_checks(context: RunContext) -> list[asyncio.Future[None]]:
    """Start ``ready()`` of every shared resource that has one (see ``RunContext``), before any batch."""
    import asyncio

    return [
        asyncio.ensure_future(resource.ready())
        for resource in context.resources()
        if callable(getattr(resource, "ready", None))
    ]


async def _after_checks(batch: Awaitable[_BatchOut], checks: list[asyncio.Future[None]]) -> _BatchOut:
    """The batch, once every start-up check has passed (passed checks leave ``checks``).

    Whichever fails first ends the wait: a failed check raises its error at once, while the batch
    is still generating (the caller then cancels every batch in flight)."""
    import asyncio

    task = cast("asyncio.Future[_BatchOut]", batch)
    while checks:
        waiting: list[asyncio.Future[Any]] = [*checks] if task.done() else [task, *checks]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for check in [c for c in checks if c.done()]:
            check.result()  # raises the check's error
            checks.remove(check)
        if task.done() and task.exception() is not None:
            break
    return await task


def waits_on_io(plan: Plan, kinds: Mapping[str, ColumnKind]) -> bool:
    """True when a column's kind awaits I/O: the run then needs an event loop and batches in flight."""
    return any(kind_for(kinds, planned).io_bound for planned in plan.all_columns)


def drive(coroutine: Coroutine[Any, Any, Any], *, event_loop: bool) -> Any:
    """Run the generation coroutine: under asyncio when a kind waits on I/O, else by hand.

    Without I/O-bound kinds nothing ever suspends, so one ``send`` runs the coroutine to the end, and a
    sampler/expression run neither imports asyncio nor starts an event loop (a fixed ~25 ms of a short
    run's start-up)."""
    if event_loop:
        import asyncio

        return asyncio.run(coroutine)
    undeclared = RunError(
        "a column kind waited on I/O but does not declare io_bound=True",
        hint="set io_bound=True on the ColumnKind of any column whose generator awaits",
    )
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    except RuntimeError as exc:  # an asyncio call found no running loop
        if "event loop" in str(exc):
            raise undeclared from exc
        raise
    coroutine.close()
    raise undeclared


def _spawn(coroutine: Coroutine[Any, Any, _BatchOut]) -> Awaitable[_BatchOut]:
    import asyncio

    return asyncio.ensure_future(coroutine)


async def _abandon(pending: list[Awaitable[Any]], *, event_loop: bool) -> None:
    """Cancel batches still in flight after an error and wait for them to unwind."""
    if not event_loop:
        for coroutine in pending:
            cast("Coroutine[Any, Any, Any]", coroutine).close()
        return
    import asyncio

    for task in pending:
        cast("asyncio.Future[Any]", task).cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _write_batch(dataset_dir: Path, index: int, out: _BatchOut) -> None:
    from ddc.engine import writer

    name = writer.batch_file(index)
    if out.errors:
        writer.write_jsonl(dataset_dir / writer.ERRORS_DIR / name.replace(".parquet", ".jsonl"), out.errors)
    if out.dropped is not None:
        writer.write_parquet(dataset_dir / writer.DROPPED_DIR / name, out.dropped)
    for proc, table in out.processors.items():
        writer.write_parquet(dataset_dir / writer.PROCESSORS_DIR / proc / name, table)
    writer.write_parquet(dataset_dir / writer.PARQUET_DIR / name, out.output)  # last: marks the batch done


def _read_batch(dataset_dir: Path, index: int) -> pa.Table:
    import pyarrow.parquet as pq

    from ddc.engine import writer

    return pq.read_table(dataset_dir / writer.PARQUET_DIR / writer.batch_file(index))


def _write_builder_config(dataset_dir: Path, plan: Plan) -> None:
    from ddc.compile.canonical import dd_config
    from ddc.engine import writer

    path = dataset_dir / "builder_config.json"
    data = {"data_designer": dd_config(plan.spec), "library_version": plan.library_version or "0.9.6"}
    writer.write_json(path, data)


def _concat(tables: list[pa.Table]) -> pa.Table:
    import pyarrow as pa

    non_empty = [t for t in tables if t.num_columns]
    if not non_empty:
        return pa.table({})
    return pa.concat_tables(non_empty, promote_options="permissive")


def _check_target(dataset_dir: Path, resume: bool) -> dict[str, Any] | None:
    import json

    meta_path = dataset_dir / "metadata.json"
    if resume:
        if not meta_path.is_file():
            if _holds_files(dataset_dir):
                raise RunError(f"{dataset_dir} has no metadata.json; it is not a ddc run that can be resumed")
            return None
        try:
            return json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunError(f"cannot read {meta_path}: {exc}") from exc
    if _holds_files(dataset_dir):
        raise RunError(
            f"{dataset_dir} already holds a dataset",
            hint="pass --resume to continue it, remove it, or choose another output directory with -o",
        )
    return None


def _holds_files(directory: Path) -> bool:
    """True when ``directory`` has anything but temporaries left by a killed write."""
    from ddc.engine.writer import TMP_MARK

    return directory.is_dir() and any(TMP_MARK not in p.name for p in directory.iterdir())


def _check_compatible(previous: dict[str, Any], meta: dict[str, Any], dataset_dir: Path | None) -> None:
    for key, label in (
        ("config_hash", "the spec"),
        ("target_num_records", "the number of records"),
        ("buffer_size", "the batch size"),
        ("row_range", "the partition"),
    ):
        if previous.get(key) != meta.get(key):
            raise RunError(
                f"cannot resume {dataset_dir}: {label} changed since it was started "
                f"({previous.get(key)!r} -> {meta.get(key)!r})",
                hint="resume with the same spec and options, or start a new run in another directory",
            )


def _finish(
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
) -> RunResult:
    from ddc.engine import writer
    from ddc.engine.stats import column_statistics, row_count

    if dataset_dir is None:
        stats = column_statistics(plan, table=table) if table is not None else []
        meta.update(state="complete", actual_num_records=table.num_rows if table is not None else 0)
        return RunResult(None, table, meta, stats, warnings)
    files = writer.relative_files(dataset_dir, writer.PARQUET_DIR)
    absolute = [str(dataset_dir / f) for f in files]
    actual = row_count(absolute)
    stats = column_statistics(plan, table=table, files=absolute, num_rows=actual)
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


def _ddc_version() -> str:
    from ddc import __version__

    return __version__
