"""Column kinds: the one seam between a column type and the code that generates its values.

A *kind* connects a ``column_type`` (``sampler``, ``expression``, ``llm-text`` ...) to a factory. The
runner builds one generator per planned column when the run starts (compile templates, open HTTP
clients), then calls it once per batch, in the plan's topological order, with the batch so far:

    kind = column_kinds()[planned.column_type]       # ddc.engine.registry
    generator = kind.prepare(planned, context)          # once per run
    output = await generator.generate(batch)            # once per batch (and per skip-filtered rows)
    ...
    await generator.aclose()                            # once, at the end (even after errors)

Everything is columnar: ``batch.data`` holds one ``pyarrow.Array`` per column produced so far (seed
columns, samplers, earlier columns), all of ``batch.num_rows`` rows. A generator returns one value per
row (a pyarrow array, a numpy array or a Python list), plus per-cell errors for kinds that can fail
per row (an LLM call, a template render). ``generate`` is a coroutine so that LLM kinds can await HTTP
calls, running many cells concurrently under their own per-model limits; vectorised kinds subclass
``SyncColumnGenerator`` and implement ``generate_sync``.

Randomness: ``batch.rng`` is the column's stream. ``batch.rng.draw(fn)`` gives a value per row that
depends only on (run seed, column name, tags, global row index), never on batch size, batch index,
thread count or which other rows are in the batch; that is what makes runs reproducible across batch
sizes, ``--resume`` and ``--partition``. Use it for anything random (sampled inference parameters too).

The registry (``ddc.engine.registry``) is a plain table built by a function; it lives apart from these
base types so that kinds (samplers, expressions, ``llm``) import this module and never the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ddc.errors import RunError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import Plan, PlannedColumn
    from ddc.engine.rng import ColumnRng
    from ddc.spec.document import RunSettings


#: Side columns named ``TOKENS_PREFIX + column`` carry each cell's [input, output] tokens as the server
#: reported them; the runner hands them to the statistics and never writes them.
TOKENS_PREFIX = "__ddc_tokens__"


@dataclass(frozen=True)
class RunContext:
    """What every generator may read about the run. One per run; shared by all columns.

    ``shared(key, factory)`` gives run-wide resources (an HTTP client pool, per-model semaphores, a
    persona table) created on first use. When the run ends the runner calls each resource's
    ``report()`` (if it has one; a JSON-ready dict, e.g. per-model usage) and stores the result under
    ``metadata.json["reports"][key]``, then closes it with ``aclose()`` or ``close()``. A resource
    created while the generators are prepared may have a ``ready()`` coroutine (a start-up check,
    such as the LLM health probes): in runs with I/O-bound kinds the runner starts it alongside the
    first batches, writes nothing before it succeeds, and ends the run with its error if it fails.
    """

    plan: Plan
    random_seed: int
    num_records: int  # rows of the whole dataset (not of this shard)
    batch_size: int
    settings: RunSettings  # on_error, max_error_rate ...
    base_dir: Path  # relative paths in the spec resolve against this
    warn: Callable[[str], None] = print  # collects warnings for metadata.json and the console
    _resources: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self._resources:
            self._resources[key] = factory()
        return self._resources[key]

    def resources(self) -> list[Any]:
        return list(self._resources.values())

    def reports(self) -> dict[str, Any]:
        """``report()`` of every shared resource that has one, by key."""
        return {key: r.report() for key, r in self._resources.items() if callable(getattr(r, "report", None))}


@dataclass(frozen=True)
class BatchInput:
    """The rows a generator fills in: global row indices, the columns produced so far, its RNG stream."""

    index: int  # batch number (for messages only; never feed it to randomness)
    rows: np.ndarray  # int64 global row indices, increasing (may have gaps after dropped rows)
    data: Mapping[str, pa.Array]  # column name -> values for exactly these rows
    rng: ColumnRng  # this column's random streams, keyed by global row index

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> pa.Array:
        try:
            return self.data[name]
        except KeyError:
            raise RunError(f"column {name!r} is not available yet in batch {self.index}") from None

    def records(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Rows as Python dicts (for per-row work such as rendering a prompt)."""
        import pyarrow as pa

        selected = list(self.data) if names is None else [n for n in names if n in self.data]
        table = pa.table({n: self.data[n] for n in selected}) if selected else None
        return table.to_pylist() if table is not None else [{} for _ in range(self.num_rows)]


@dataclass(frozen=True)
class ColumnOutput:
    """A generator's answer for one batch.

    ``values`` has one entry per input row (use None where ``errors`` has the row). ``errors`` maps a
    row position in the batch (0-based, not the global index) to a one-line cause. ``side_columns``
    carries extra columns the kind produces (``<name>__trace``, ``<name>__reasoning_content``), each
    with one value per row. ``stats`` are numbers summed over batches into the run metadata
    (e.g. ``{"input_tokens": 1200}``).
    """

    values: pa.Array | np.ndarray | Sequence[Any]
    errors: Mapping[int, str] = field(default_factory=dict)
    side_columns: Mapping[str, pa.Array | np.ndarray | Sequence[Any]] = field(default_factory=dict)
    stats: Mapping[str, float] = field(default_factory=dict)


@runtime_checkable
class ColumnGenerator(Protocol):
    async def generate(self, batch: BatchInput) -> ColumnOutput: ...

    async def aclose(self) -> None: ...


class SyncColumnGenerator:
    """Base for vectorised generators that never wait on I/O."""

    def generate_sync(self, batch: BatchInput) -> ColumnOutput:
        raise NotImplementedError

    async def generate(self, batch: BatchInput) -> ColumnOutput:
        return self.generate_sync(batch)

    async def aclose(self) -> None:
        return None


#: What the runner does with rows whose cell failed: "drop" removes the row from the batch (the
#: official rule for expression columns); "on_error" follows ``run.on_error`` (keep with null, drop,
#: or fail the run), the rule for model-backed columns.
FailedCellPolicy = Literal["drop", "on_error"]


@dataclass(frozen=True)
class ColumnKind:
    """How one ``column_type`` is generated."""

    column_type: str
    prepare: Callable[[PlannedColumn, RunContext], ColumnGenerator]
    failed_cells: FailedCellPolicy = "drop"
    #: True when the runner should evaluate ``skip.when`` and call the generator only for the other
    #: rows (filling ``skip.value`` in skipped cells). Samplers and seed columns cannot be skipped.
    skippable: bool = True
    #: True for kinds that wait on I/O (model calls): the runner then keeps several batches in flight
    #: (``runner.MAX_BATCHES_IN_FLIGHT``), so one slow cell does not stall the whole run.
    io_bound: bool = False


class SeedColumnGenerator(SyncColumnGenerator):
    """A declared ``seed-dataset`` column: its values are already in the batch (read from the seed)."""

    def __init__(self, planned: PlannedColumn, context: RunContext) -> None:
        self.name = planned.name

    def generate_sync(self, batch: BatchInput) -> ColumnOutput:
        if self.name not in batch.data:
            raise RunError(f"column {self.name!r} is declared as seed-dataset but the seed has no such column")
        return ColumnOutput(values=batch.data[self.name])
