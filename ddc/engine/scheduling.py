"""Scheduling: batches in flight, start-up checks, and the coroutine driver.

Batches of I/O-bound runs (model columns) are generated up to ``MAX_BATCHES_IN_FLIGHT`` at a time: the
window of rows in flight, which bounds memory. Inside it model cells are scheduled one by one
(``ddc.engine.cellflow``), so the model slots stay full across columns and batches. Batches are written
in index order, so the complete batches on disk are always a prefix (what ``--resume`` relies on). A
shared resource's ``ready()`` (the LLM health check) starts with the first batches; nothing is written
before it passes, and if it fails the batches in flight are cancelled and its error is raised
(see ``RunContext``). Runs without I/O-bound kinds drive the coroutine by hand, with no event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ddc.engine.artifacts import BatchTallies, read_batch, read_batch_tallies, write_batch, write_builder_config
from ddc.engine.batches import BatchEngine, BatchOut
from ddc.engine.kinds import ColumnKind, RunContext
from ddc.engine.progress import RunObserver
from ddc.engine.registry import kind_for
from ddc.errors import RunError

if TYPE_CHECKING:
    import asyncio

    import pyarrow as pa

    from ddc.compile.plan import Plan
    from ddc.engine.seeds import SeedReader
    from ddc.engine.stats import StatisticsAccumulator

#: Batches generated concurrently when a column kind waits on I/O (LLM calls); written in order.
MAX_BATCHES_IN_FLIGHT = 3


async def generate(
    plan: Plan,
    context: RunContext,
    reader: SeedReader | None,
    dataset_dir: Path | None,
    meta: dict[str, Any],
    lo: int,
    hi: int,
    size: int,
    keep_tables: bool,
    statistics: StatisticsAccumulator,
    observer: RunObserver,
    kinds: Mapping[str, ColumnKind],
) -> tuple[list[pa.Table] | None, dict[str, float], dict[str, int], dict[str, float]]:
    import numpy as np

    from ddc.engine import writer
    from ddc.engine.seeds import SeedStream

    engine = BatchEngine(plan, context, kinds, observer)
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
                write_builder_config(dataset_dir, plan)
            started = True

        if not checks:
            start_dataset()
        tables: list[pa.Table] | None = [] if keep_tables else None
        dropped_rows: dict[str, int] = {}
        column_metrics: dict[str, float] = {}

        def count(tallies: BatchTallies) -> None:
            for key, rows in tallies.dropped_rows.items():
                dropped_rows[key] = dropped_rows.get(key, 0) + rows
            for key, amount in tallies.column_metrics.items():
                column_metrics[key] = column_metrics.get(key, 0.0) + amount
            for message in tallies.warnings:
                context.warn(message)

        if first and dataset_dir is not None:  # a resumed run: the batches written before count too
            for i in range(first):
                earlier, tallies = read_batch(dataset_dir, i), read_batch_tallies(dataset_dir, i)
                count(tallies)
                statistics.add(earlier, tallies.tokens)
                if tables is not None:
                    tables.append(earlier)
        start_row = lo + first * size
        observer.phase("generation")  # rates count from now, and from the rows of a resumed run
        observer.start(start_row - lo, hi - lo, {name: hi - start_row for name in engine.cell_columns})
        stream = SeedStream(reader.stream(start_row, hi), reader.columns) if reader is not None else None
        window = MAX_BATCHES_IN_FLIGHT if engine.io_bound else 1
        # Tasks under an event loop; plain coroutines, awaited one at a time, without one.
        in_flight: deque[tuple[int, int, Awaitable[BatchOut]]] = deque()

        async def finish_oldest() -> None:
            index, end, task = in_flight[0]  # stays in flight (cancelled on error) until it is done
            out = await _after_checks(task, checks) if checks else await task
            in_flight.popleft()
            start_dataset()
            count(BatchTallies(out.dropped_rows, out.stats, warnings=out.warnings))
            if dataset_dir is not None:
                write_batch(dataset_dir, index, out)  # in index order: complete batches are a prefix
            statistics.add(out.output, out.tokens)
            if tables is not None:
                tables.append(out.output)
            observer.rows(end - lo, hi - lo)

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
        return tables, dict(engine.timings), dropped_rows, column_metrics
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


async def _after_checks(batch: Awaitable[BatchOut], checks: list[asyncio.Future[None]]) -> BatchOut:
    """The batch, once every start-up check has passed (passed checks leave ``checks``).

    Whichever fails first ends the wait: a failed check raises its error at once, while the batch
    is still generating (the caller then cancels every batch in flight)."""
    import asyncio

    task = cast("asyncio.Future[BatchOut]", batch)
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

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coroutine)
        # This thread already runs an event loop (a notebook, an async application): ours gets a thread.
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ddc-run") as pool:
            return pool.submit(asyncio.run, coroutine).result()
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


def _spawn(coroutine: Coroutine[Any, Any, BatchOut]) -> Awaitable[BatchOut]:
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
