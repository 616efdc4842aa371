"""Cells of model columns as a dataflow: a cell starts as soon as the cells it reads in its row are done.

``stages`` groups a plan's non-sampler columns into stages. Each stage has batch columns (vectorised
kinds, and I/O-bound kinds that work on whole batches, such as embeddings) and a *segment*: the largest
set of cell columns (generators with ``generate_cell``, ``ddc.engine.kinds.CellColumnGenerator``) whose
inputs are all either done or in the segment. ``run_segment`` runs a segment's cells row by row, so the
second column of row 1 is requested while the first column of row 400 is still waiting for a model
slot; the per-model limiters keep every model's ``max_parallel_requests`` busy across columns and
batches. Expression columns between model columns end a segment: they stay vectorised per batch.

A cell whose upstream cell in the same row failed (or was itself skipped for that reason) is not
generated: it is recorded as skipped because of its upstream (kept empty under ``on_error: keep``; the
row is dropped anyway under ``drop``). Cells skipped by ``skip.when`` get the skip value, as before.
A column with a ``skip.when`` (or ``propagate_skip: false``) starts a segment: its mask is evaluated on
the batch, vectorised, before any of its cells start.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddc.engine.kinds import BatchInput, ColumnKind, is_cell_generator

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import Plan, PlannedColumn
    from ddc.engine.batches import BatchEngine

#: Rows started per turn of the event loop. Each row prepares its first cell (prompt, cache look-up, about
#: 0.2 ms) before it waits for a model slot; started all at once, 400 rows would hold up the first requests'
#: connections for 80 ms. A turn between every few rows lets the first requests go out at once.
_ROWS_PER_TURN = 8

#: A column's result for a batch: values, side columns, rows to drop, error records.
Result = tuple["pa.Array", dict[str, "pa.Array"], "np.ndarray | None", list[dict[str, Any]]]


@dataclass(frozen=True)
class Stage:
    """Columns that start together: ``batch`` columns run once per batch, ``cells`` (topological order)
    cell by cell."""

    batch: tuple[str, ...]
    cells: tuple[str, ...] = ()


def stages(plan: Plan, prepared: Mapping[str, tuple[PlannedColumn, ColumnKind, Any]]) -> list[Stage]:
    """Samplers one by one, then stages of the other columns (without cell columns: the DAG levels)."""
    out = [Stage((c.name,)) for c in plan.samplers]
    others = [c for c in plan.columns]  # topological order
    names = {c.name for c in others}
    done: set[str] = set()
    remaining = list(others)
    while remaining:
        ready = [c for c in remaining if all(d in done or d not in names for d in c.depends_on)]
        batch = tuple(c.name for c in ready if not _cellwise(prepared[c.name]))
        segment: list[str] = []
        for col in remaining:
            if not _cellwise(prepared[col.name]):
                continue
            inside = [d for d in col.depends_on if d in names and d not in done]
            if inside and (not all(d in segment for d in inside) or not _may_follow(col, segment, prepared)):
                continue
            segment.append(col.name)
        if not batch and not segment:  # pragma: no cover - the plan is a DAG
            raise AssertionError("no column is ready")
        out.append(Stage(batch, tuple(segment)))
        done.update(batch)
        done.update(segment)
        remaining = [c for c in remaining if c.name not in done]
    return out


def _cellwise(entry: tuple[PlannedColumn, ColumnKind, Any]) -> bool:
    _, kind, generator = entry
    return kind.io_bound and is_cell_generator(generator)


def _may_follow(col: PlannedColumn, segment: Sequence[str], prepared: Mapping[str, Any]) -> bool:
    """A cell column can wait on cells of its segment unless its skip rule needs the upstream column whole
    (``skip.when`` is evaluated on the batch; ``propagate_skip: false`` reads an upstream skip value)."""
    config = col.config
    if getattr(config, "skip", None) is not None:
        return False
    if not getattr(config, "propagate_skip", True):
        return not any(getattr(prepared[d][0].config, "skip", None) is not None for d in col.depends_on if d in segment)
    return True


async def run_segment(
    engine: BatchEngine,
    names: Sequence[str],
    index: int,
    rows: np.ndarray,
    data: Mapping[str, pa.Array],
    skipped: dict[str, np.ndarray],
    failed_cells: Mapping[str, np.ndarray],
) -> dict[str, Result]:
    """Every cell of ``names`` for these rows; a row's cells wait only for the cells they read.

    ``failed_cells`` (column -> rows whose cell failed, or was skipped for its upstream) covers the
    columns of earlier stages; failures inside the segment are followed cell by cell."""
    import asyncio

    import numpy as np
    import pyarrow as pa

    n = len(rows)
    started = time.perf_counter()
    in_segment = set(names)
    masks: dict[str, np.ndarray] = {}
    for name in names:
        planned, kind, _ = engine.prepared[name]
        mask = engine._skip_mask(planned, kind, rows, data, skipped)
        if mask is not None and mask.any():
            masks[name] = mask
            skipped[name] = mask
    for name in names:
        check = getattr(engine.prepared[name][2], "check_running", None)
        if check is not None:
            check()
    needed = sorted({i for name in names for i in engine.prepared[name][2].inputs if i in data})
    records: list[dict[str, Any]] = (
        pa.table({k: data[k] for k in needed}).to_pylist() if needed else [{} for _ in range(n)]
    )
    cells: dict[str, list[Any]] = {name: [None] * n for name in names}
    upstream: dict[str, dict[int, str]] = {name: {} for name in names}  # position -> upstream column
    no_value: dict[int, set[str]] = {}  # position -> columns whose cell in that row failed or was skipped for it
    for column, failed in failed_cells.items():
        for position in np.flatnonzero(failed).tolist():
            no_value.setdefault(position, set()).add(column)
    tallies: dict[str, dict[str, float]] = {name: {} for name in names}
    remaining = {name: n - int(masks[name].sum()) if name in masks else n for name in names}
    counts = {name: engine.cells_done.setdefault(name, [0, 0]) for name in names}
    deps = {name: [d for d in engine.prepared[name][0].depends_on if d in in_segment] for name in names}

    def finish(name: str, failed: bool) -> None:
        counter = counts[name]
        counter[0] += 1
        counter[1] += failed
        engine.observer.cells(name, counter[0], counter[1])
        remaining[name] -= 1
        if not remaining[name]:
            engine.timings[name] += time.perf_counter() - started

    async def cell(p: int, name: str, record: dict[str, Any]) -> None:
        if name in masks and masks[name][p]:
            # skipped (its own skip.when or an upstream skip): a column reading it without propagate_skip
            # sees null, as it would read the batch's filled-in column (no skip.value: _may_follow)
            record[name] = None
            record.update(dict.fromkeys(engine.prepared[name][0].side_effects))
            return
        missing = no_value.get(p)
        cause = next((d for d in engine.prepared[name][0].depends_on if d in missing), None) if missing else None
        if cause is not None:
            upstream[name][p] = cause
            missing.add(name)  # type: ignore[union-attr]
            finish(name, False)
            return
        generator = engine.prepared[name][2]
        result = await generator.generate_cell({k: record[k] for k in generator.inputs if k in record}, int(rows[p]),
                                               tallies[name])  # fmt: skip
        cells[name][p] = result
        if result.error is not None:
            no_value.setdefault(p, set()).add(name)
        else:
            record[name] = result.value
            record.update(result.side)
        finish(name, result.error is not None)

    async def row_flow(p: int) -> None:
        """One row's cells; a cell waits for the cells of the segment it reads, no longer."""
        record = records[p]
        if chain:
            for name in names:
                await cell(p, name, record)
            return
        futures: dict[str, asyncio.Future[None]] = {}

        async def after(name: str) -> None:
            for dep in deps[name]:
                await futures[dep]
            await cell(p, name, record)

        for name in names:
            futures[name] = asyncio.ensure_future(after(name))
        try:
            await asyncio.gather(*futures.values())
        finally:
            for future in futures.values():
                future.cancel()

    # a chain (each column reads the one before it, or a single column): one coroutine per row suffices
    chain = all(deps[name] == ([names[i - 1]] if i else []) for i, name in enumerate(names))
    tasks: list[asyncio.Future[None]] = []
    try:
        for p in range(n):
            tasks.append(asyncio.ensure_future(row_flow(p)))
            if p % _ROWS_PER_TURN == _ROWS_PER_TURN - 1:
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        if any(not t.done() for t in tasks):
            await asyncio.gather(*tasks, return_exceptions=True)
    return {name: _result(engine, name, index, rows, masks.get(name), cells[name], upstream[name], tallies[name])
            for name in names}  # fmt: skip


def _result(
    engine: BatchEngine,
    name: str,
    index: int,
    rows: np.ndarray,
    mask: np.ndarray | None,
    cells: list[Any],
    upstream: Mapping[int, str],
    tally: dict[str, float],
) -> Result:
    """The column's result as ``BatchEngine._run_column`` gives it: generated cells through the kind's
    failure policy, skipped cells filled in, upstream-skipped cells recorded."""
    import numpy as np

    from ddc.engine.batches import _null_rows, _scatter, _upstream_records

    planned, kind, generator = engine.prepared[name]
    n = len(rows)
    excluded = np.zeros(n, dtype=bool)
    if mask is not None:
        excluded |= mask
    if upstream:
        excluded[list(upstream)] = True
    live = np.flatnonzero(~excluded)
    batch = BatchInput(index, rows[live], {}, engine.rngs[name])
    output = generator.collect([cells[p] for p in live], tally)
    values, sides, drop, failed = engine._apply(planned, kind, batch, output)
    if len(live) != n:
        values = _scatter(values, live, n, getattr(planned.config.skip, "value", None), planned)
        sides = {k: _scatter(v, live, n, None, planned) for k, v in sides.items()}
        if upstream:
            nulls = np.zeros(n, dtype=bool)
            nulls[list(upstream)] = True
            values = _null_rows(values, nulls)
            sides = {k: _null_rows(v, nulls) for k, v in sides.items()}
        if drop is not None:
            full = np.zeros(n, dtype=bool)
            full[live] = drop
            drop = full
    if upstream and engine.failure_action(kind) == "keep":
        failed = sorted([*failed, *_upstream_records(planned, rows, upstream)], key=lambda e: e["row"])
    engine.add_stats(index, name, output.stats)
    return values, sides, drop, failed
