"""One batch of rows through every column: seed rows, samplers, then the other columns level by level.

Columns of a level do not depend on each other and are awaited together, so the LLM columns of a level
share their wait. Failed cells are dropped or kept according to the column kind (``ColumnKind
.failed_cells`` and ``run.on_error``); dropped columns, processors and internal side columns are split
off into a ``BatchOut`` for ``ddc.engine.artifacts`` to write. Row r's values depend only on (spec,
seed, r), so batch sizes, ``--resume`` and shards never change the data.

Failure policy (``upstream_failures``): a cell is never generated from an upstream cell that failed.
When a kept row (``run.on_error: keep``) has a failed cell in column A, every cell of that row in a
column that reads A -- directly, or through a column that was itself skipped this way -- is not
generated: it stays empty and is listed in errors.jsonl with ``message`` ``"upstream: column 'A'
failed"`` and ``action`` ``"row kept, cell empty (upstream failed)"``. So an LLM column never gets a
null prompt input and an expression over a failed cell is settled per cell, not per batch. The rule
is a pure function of a column's ``depends_on`` and the failed-cell masks of the batch, so any
scheduler (batch or cell level) can apply it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddc.engine.cellflow import Result, Stage
from ddc.engine.kinds import TOKENS_PREFIX, BatchInput, ColumnKind, ColumnOutput, RunContext
from ddc.engine.progress import RunObserver
from ddc.engine.registry import kind_for
from ddc.engine.rng import ColumnRng
from ddc.errors import RunError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import Plan, PlannedColumn

INTERNAL_PREFIX = "__ddc_"  # columns the engine uses and never writes (``TOKENS_PREFIX`` ...)


@dataclass
class BatchOut:
    """A generated batch: the output rows, the dropped columns, each processor's table, failed cells."""

    output: pa.Table
    dropped: pa.Table | None
    processors: dict[str, pa.Table]
    dropped_rows: dict[str, int]
    errors: list[dict[str, Any]] = field(default_factory=list)  # one entry per failed cell
    #: per model column, each row's [input, output] tokens (``TOKENS_PREFIX`` side columns)
    tokens: dict[str, pa.Array] = field(default_factory=dict)
    #: the columns' figures (``ColumnOutput.stats``) as ``column.key``, summed into column_metrics
    stats: dict[str, float] = field(default_factory=dict)
    #: what the batch reports (rows dropped, cells left empty): said when it is written, and again by a
    #: resumed run from its tallies, so metadata.json lists every batch's
    warnings: list[str] = field(default_factory=list)


class BatchEngine:
    """Generators prepared once per run; ``run_batch`` fills one batch of rows."""

    def __init__(
        self, plan: Plan, context: RunContext, kinds: Mapping[str, ColumnKind], observer: RunObserver | None = None
    ) -> None:
        self.plan = plan
        self.context = context
        self.seed = context.random_seed
        self.prepared: dict[str, tuple[PlannedColumn, ColumnKind, Any]] = {}
        for planned in plan.all_columns:
            kind = kind_for(kinds, planned)
            self.prepared[planned.name] = (planned, kind, kind.prepare(planned, context))
        self.rngs = {name: ColumnRng(self.seed, name) for name in self.prepared}
        #: columns generated cell by cell (I/O-bound kinds): the observer hears of their cells
        self.cell_columns = [name for name, (_, kind, _) in self.prepared.items() if kind.io_bound]
        self.io_bound = bool(self.cell_columns)
        self.observer = observer or RunObserver()
        self.cells_done: dict[str, list[int]] = {name: [0, 0] for name in self.cell_columns}
        if self.io_bound:
            from ddc.engine.cellflow import stages

            self.stages = stages(plan, self.prepared)
        else:
            self.stages = [Stage(tuple(level)) for level in _levels(plan)]
        self.dropped_names = _dropped(plan)
        self.timings: dict[str, float] = {name: 0.0 for name in self.prepared}
        self.batch_stats: dict[int, dict[str, float]] = {}  # per batch being generated (``add_stats``)
        self.batch_warnings: dict[int, list[str]] = {}  # per batch being generated (``BatchOut.warnings``)
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

    async def run_batch(self, index: int, rows: np.ndarray, seed_table: pa.Table | None) -> BatchOut:
        import numpy as np

        data: dict[str, pa.Array] = {}
        if seed_table is not None:
            data.update({name: seed_table.column(name).combine_chunks() for name in seed_table.column_names})
        skipped: dict[str, np.ndarray] = {}
        failed_cells: dict[str, np.ndarray] = {}  # column -> rows (of this batch) whose cell failed
        dropped_rows: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        for stage in self.stages:
            if not len(rows):
                break
            level = [*stage.batch, *stage.cells]
            if self.io_bound:
                import asyncio

                from ddc.engine.cellflow import run_segment

                segment = (
                    run_segment(self, stage.cells, index, rows, data, skipped, failed_cells) if stage.cells else None
                )
                gathered = await asyncio.gather(
                    asyncio.gather(
                        *(self._run_column(n, index, rows, data, skipped, failed_cells) for n in stage.batch)
                    ),
                    *([segment] if segment is not None else []),
                )
                results: list[Result] = list(gathered[0])
                if segment is not None:
                    results.extend(gathered[1][n] for n in stage.cells)
            else:
                results = [await self._run_column(n, index, rows, data, skipped, failed_cells) for n in level]
            drop = np.zeros(len(rows), dtype=bool)
            for name, (values, sides, drop_mask, failed) in zip(level, results, strict=True):
                data[name] = values
                data.update(sides)
                errors.extend(failed)
                if failed:
                    failed_cells[name] = np.isin(rows, [e["row"] for e in failed])
                if drop_mask is not None and drop_mask.any():
                    drop |= drop_mask
                    dropped_rows[name] = dropped_rows.get(name, 0) + int(drop_mask.sum())
            if drop.any():
                keep = ~drop
                rows = rows[keep]
                mask = _arrow_mask(keep)
                data = {k: v.filter(mask) for k, v in data.items()}
                skipped = {k: v[keep] for k, v in skipped.items()}
                failed_cells = {k: v[keep] for k, v in failed_cells.items()}
        out = self._assemble(data, len(rows), dropped_rows)
        out.errors = sorted(errors, key=lambda e: (e["row"], e["column"]))
        out.stats = self.batch_stats.pop(index, {})
        out.warnings = self.batch_warnings.pop(index, [])
        return out

    async def _run_column(
        self,
        name: str,
        index: int,
        rows: np.ndarray,
        data: dict[str, pa.Array],
        skipped: dict[str, np.ndarray],
        failed_cells: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[pa.Array, dict[str, pa.Array], np.ndarray | None, list[dict[str, Any]]]:
        import numpy as np

        planned, kind, generator = self.prepared[name]
        started = time.perf_counter()
        skip_mask = self._skip_mask(planned, kind, rows, data, skipped)
        if skip_mask is not None and skip_mask.any():
            skipped[name] = skip_mask
        upstream, causes = upstream_failures(planned.depends_on, failed_cells or {}, len(rows))
        if upstream is not None:
            skip_mask = upstream if skip_mask is None else skip_mask | upstream
        if skip_mask is not None and skip_mask.any():
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
        if upstream is not None:
            values = _null_rows(values, upstream)
            sides = {k: _null_rows(v, upstream) for k, v in sides.items()}
            failed = sorted([*failed, *_upstream_records(planned, rows, causes)], key=lambda e: e["row"])
        self.timings[name] += time.perf_counter() - started
        if name in self.cells_done:
            counts = self.cells_done[name]
            counts[0] += batch.num_rows + len(causes)
            counts[1] += len(failed)
            self.observer.cells(name, counts[0], counts[1])
        self.add_stats(index, name, output.stats)
        return values, sides, drop, failed

    def add_stats(self, index: int, name: str, stats: Mapping[str, float]) -> None:
        """Sum column ``name``'s figures into batch ``index``'s: per batch, so that they are written with it
        and a resumed run counts the batches written before it."""
        figures = self.batch_stats.setdefault(index, {})
        for key, amount in stats.items():
            figures[f"{name}.{key}"] = figures.get(f"{name}.{key}", 0.0) + float(amount)

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

    def failure_action(self, kind: ColumnKind) -> str:
        """What a failed cell of this kind does to its row: "drop", "keep" (empty cell) or "fail"."""
        return "drop" if kind.failed_cells == "drop" else self.context.settings.on_error

    def _apply(
        self, planned: PlannedColumn, kind: ColumnKind, batch: BatchInput, output: ColumnOutput
    ) -> tuple[pa.Array, dict[str, pa.Array], np.ndarray | None, list[dict[str, Any]]]:
        import numpy as np

        n = batch.num_rows
        values = _to_arrow(output.values, n, planned.name)
        sides = {k: _to_arrow(v, n, k) for k, v in output.side_columns.items()}
        if not output.errors:
            return values, sides, None, []
        policy = self.failure_action(kind)
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
        said = self.batch_warnings.setdefault(batch.index, [])
        if policy == "keep":
            said.append(
                f"{len(positions)} cells of column {planned.name!r} failed and were left empty; first: {detail}"
            )
            return values, sides, None, failed
        if len(positions) == n:
            raise RunError(f"every row of batch {batch.index} failed; first: {detail}")
        said.append(f"dropped {len(positions)} rows of batch {batch.index}: first: {detail}")
        drop = np.zeros(n, dtype=bool)
        drop[positions] = True
        return values, sides, drop, failed

    def _assemble(self, data: dict[str, pa.Array], n: int, dropped_rows: dict[str, int]) -> BatchOut:
        import pyarrow as pa

        names = [k for k in data if not k.startswith(INTERNAL_PREFIX)]
        order = _output_order(self.plan, names)
        kept = [k for k in order if k not in self.dropped_names]
        gone = [k for k in order if k in self.dropped_names]
        output = pa.table({k: data[k] for k in kept}) if kept else pa.table({})
        dropped = pa.table({k: data[k] for k in gone}) if gone else None
        full = pa.table({k: data[k] for k in order}) if order else pa.table({})
        processors = {t.name: t.apply(full) for t in self.transforms}
        tokens = {k.removeprefix(TOKENS_PREFIX): v for k, v in data.items() if k.startswith(TOKENS_PREFIX)}
        return BatchOut(output, dropped, processors, dropped_rows, tokens=tokens)


def upstream_failures(
    depends_on: tuple[str, ...], failed_cells: Mapping[str, np.ndarray], n: int
) -> tuple[np.ndarray | None, dict[int, str]]:
    """The failure policy: rows (mask over the batch) whose cell of some column in ``depends_on`` failed
    or was itself skipped for a failed upstream, and for each such row the first such column; (None, {})
    when there is none."""
    import numpy as np

    mask: np.ndarray | None = None
    causes: dict[int, str] = {}
    for dep in depends_on:
        failed = failed_cells.get(dep)
        if failed is None or not failed.any():
            continue
        for position in np.flatnonzero(failed):
            causes.setdefault(int(position), dep)
        mask = failed.copy() if mask is None else mask | failed
    if mask is not None and len(mask) != n:
        from ddc.errors import InternalError

        raise InternalError(f"failed-cell mask of {len(mask)} rows for a batch of {n}")
    return mask, causes


def _upstream_records(planned: PlannedColumn, rows: np.ndarray, causes: Mapping[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "row": int(rows[position]),
            "column": planned.name,
            "kind": planned.column_type,
            "action": "row kept, cell empty (upstream failed)",
            "message": f"upstream: column {dep!r} failed",
        }
        for position, dep in sorted(causes.items())
    ]


def _null_rows(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` with the rows of ``mask`` set to null (any Arrow type)."""
    import numpy as np
    import pyarrow as pa

    index = pa.array(np.arange(len(values), dtype=np.int64), mask=mask)
    return values.take(index)


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
