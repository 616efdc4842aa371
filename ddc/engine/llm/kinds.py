"""The LLM column kinds for the engine's column-generator seam (``ddc.engine.kinds``).

One ``LLMRuntime`` per run (``context.shared``) holds the resolved models, the shared ``ModelClient``
(a keep-alive pool per provider, per-model limits across every column and row), the response cache and the
early-shutdown monitor. Each kind's generator renders and sends every cell of a batch at once; cells
of independent columns overlap whenever the runner awaits their batches concurrently. Failed cells
come back in ``ColumnOutput.errors`` as ``"<kind>: <message>"`` (``failures.error_records`` turns
them into errors.jsonl records); the kinds use ``failed_cells="on_error"`` so ``run.on_error``
decides whether such rows are kept with null, dropped, or fail the run.

The runner starts ``LLMRuntime.ready()`` (the start-up health check, ``ddc.engine.llm.health``; its probes
were sent while the run started up, ``ddc.engine.llm.early_check``) together with the first batches and
writes no batch before it passes.

A runner or CLI sets run options (no cache, adaptive concurrency, artifacts dir for images) with
``configure_llm(context, LLMOptions(...))`` before the first batch; ``llm_usage(context)`` gives the
per-model usage report for metadata.json.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.engine.kinds import TOKENS_PREFIX, ColumnOutput
from ddc.engine.llm.failures import EarlyShutdown, ErrorRateMonitor

if TYPE_CHECKING:
    from ddc.compile.plan import PlannedColumn
    from ddc.engine.kinds import BatchInput, RunContext
    from ddc.engine.llm.client import ModelClient, RetryPolicy
    from ddc.engine.llm.early_check import EarlyHealthCheck
    from ddc.engine.llm.generate import Cell, GenerationContext
    from ddc.engine.llm.structured import StructuredSupport
    from ddc.engine.llm.tools import ToolRuntime

_RUNTIME_KEY = "ddc.engine.llm.runtime"
_OPTIONS_KEY = "ddc.engine.llm.options"


@dataclass(frozen=True)
class LLMOptions:
    """Run options of model-backed columns."""

    use_cache: bool = True
    cache_path: Path | None = None  # default: ddc.engine.llm.cache.default_cache_path()
    adaptive_concurrency: bool = False
    artifacts_dir: Path | None = None  # images are saved under it; None keeps them as base64
    retry: RetryPolicy | None = None
    max_restarts: int = 5  # official RunConfig.max_conversation_restarts
    max_corrections: int = 0  # official RunConfig.max_conversation_correction_steps
    error_window: int = 20
    send_seed: bool = False  # requests carry a per-cell ``seed`` (the run's seed was chosen, not generated)
    #: imports for a background thread once the first answer is back (``ddc.engine.warm_up``): started
    #: earlier, they would hold up the first requests' connections; the batch needs them only later
    warm_up: Callable[[], object] | None = None
    #: the models resolved and probed while the run started up (``ddc.engine.llm.early_check``)
    early_check: EarlyHealthCheck | None = None


def configure_llm(context: RunContext, options: LLMOptions) -> None:
    """Set the options before any LLM column is prepared (later calls have no effect)."""
    context.shared(_OPTIONS_KEY, lambda: options)


def import_llm_stack(*, use_cache: bool) -> None:
    """Import now what the first model request needs; the runner calls it before its event loop starts.

    Inside the loop a signal cancels the generation task (``ddc.engine.interrupts``), and a cancellation
    lands only at the task's next ``await``: an import running there (0.1-0.3 s on a slow machine) would
    hold up Ctrl-C. Before the loop a signal raises at once. The imports are the same either way."""
    from ddc.engine.llm import client, generate, health, media, pool, structured  # noqa: F401

    if use_cache:
        from ddc.engine.llm import cache  # noqa: F401  (sqlite3)


@dataclass
class LLMRuntime:
    """Run-wide state of the LLM kinds; closed by the runner at the end of the run."""

    context: RunContext
    options: LLMOptions
    _client: ModelClient | None = None
    _generation: GenerationContext | None = None
    monitor: ErrorRateMonitor = field(init=False)

    def __post_init__(self) -> None:
        self.monitor = ErrorRateMonitor(self.context.settings.max_error_rate, self.options.error_window)

    def generation(self) -> GenerationContext:
        """Created on first use, inside the running event loop."""
        if self._generation is None:
            from ddc.engine.llm.cache import ResponseCache, default_cache_path
            from ddc.engine.llm.client import ModelClient
            from ddc.engine.llm.generate import GenerationContext
            from ddc.engine.llm.providers import plaintext_key_warnings, resolve_models

            early = self.options.early_check
            models = early.models if early is not None else resolve_models(self.context.plan.spec)
            for message in plaintext_key_warnings(models.values()):
                self.context.warn(message)
            cache = ResponseCache(self.options.cache_path or default_cache_path()) if self.options.use_cache else None
            self._client = ModelClient(
                models,
                cache=cache,
                retry=self.options.retry,
                adaptive=self.options.adaptive_concurrency,
                on_first_answer=self._warm_up,
            )
            self._generation = GenerationContext(
                client=self._client,
                seed=self.context.random_seed,
                max_restarts=self.options.max_restarts,
                max_corrections=self.options.max_corrections,
                artifacts_dir=self.options.artifacts_dir,
                base_dir=self.context.base_dir,
                send_seed=self.options.send_seed,
                structured=self._structured_support(self._client),
            )
        return self._generation

    def _warm_up(self) -> None:
        """The first answer is back: the run's own imports, and pandas for a library caller's pyarrow
        (``ddc.engine.arrow_direct.warm_pandas``), go to background threads now."""
        from ddc.engine.arrow_direct import warm_pandas
        from ddc.engine.warm_up import in_background

        if self.options.warm_up is not None:
            in_background("ddc-warm-up", self.options.warm_up)
        warm_pandas()

    def _structured_support(self, client: ModelClient) -> StructuredSupport:
        """Response-format modes; the health check probes those of the models it checks."""
        from ddc.engine.llm.health import models_to_probe
        from ddc.engine.llm.structured import StructuredSupport, structured_aliases

        wanted = structured_aliases(self.context.plan.spec.columns)
        probed = {m.alias for m in models_to_probe(client.models.values())} & wanted
        return StructuredSupport(client, probed)

    async def ready(self) -> None:
        """The start-up health check (``ddc.engine.llm.health``), started by the runner together with the
        first batches; no batch is written before it passes, and its ModelEndpointError ends the run.

        Until it passes the response cache is held: replies serve this run but reach the cache file
        only once every probe has answered, so a run that fails its check caches nothing."""
        from ddc.engine.llm.health import finish_early_check, models_to_probe, run_health_check

        generation = self.generation()
        client = self._client
        assert client is not None
        models = models_to_probe(client.models.values())
        if not models:
            return
        if client.cache is not None:
            client.cache.hold()
        early = self.options.early_check
        if early is not None and early.covers(models):
            await finish_early_check(early, client, models, generation.structured)
        else:
            await run_health_check(client, models, generation.structured)
        if client.cache is not None:
            client.cache.release()

    def observe(self, cell: Cell) -> None:
        """Feed the early-shutdown window; once tripped, no further request is sent."""
        kind = cell.error.kind if cell.error is not None else None
        was_tripped = self.monitor.tripped
        self.monitor.record(cell.error is not None, kind, cell.error.message if cell.error is not None else "")
        if self.monitor.tripped and not was_tripped:
            self.context.warn(self.monitor.reason or "stopped early")
            if self._client is not None:
                self._client.stop_reason = self.monitor.reason

    def check_running(self) -> None:
        """Refuse a new batch once the run has been stopped early.

        The batch during which the window tripped is still returned: its unsent cells carry
        ``early_shutdown`` errors, so they are listed in errors.jsonl like every other failure."""
        if self.monitor.tripped:
            raise EarlyShutdown(self.monitor.reason or "stopped early")

    def usage_report(self) -> dict[str, dict[str, Any]]:
        return self._client.usage_report() if self._client is not None else {}

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            if self._client.cache is not None:
                self._client.cache.close()


def llm_runtime(context: RunContext) -> LLMRuntime:
    options = context.shared(_OPTIONS_KEY, LLMOptions)
    return context.shared(_RUNTIME_KEY, lambda: LLMRuntime(context, options))


def llm_stopped_early(context: RunContext) -> str | None:
    """Why the run was stopped early (for the runner to raise once every artifact is written), or None."""
    runtime = next((r for r in context.resources() if isinstance(r, LLMRuntime)), None)
    return runtime.monitor.reason if runtime is not None else None


def llm_usage(context: RunContext) -> dict[str, dict[str, Any]]:
    """Per-model usage of the run so far (requests, failures, retries, tokens, latency, concurrency)."""
    runtime = next((r for r in context.resources() if isinstance(r, LLMRuntime)), None)
    return runtime.usage_report() if runtime is not None else {}


def _output(
    cells: list[Cell],
    side_names: tuple[str, ...],
    runtime: LLMRuntime,
    tally: dict[str, float],
    tokens_of: str | None = None,
) -> ColumnOutput:
    """Values, errors, side columns; ``stats`` (summed by the runner into metadata.json's column_metrics)
    holds the batch's requests, retries, cache hits, tokens in/out and failed cells."""
    errors = {i: str(c.error) for i, c in enumerate(cells) if c.error is not None}
    side = {name: [c.side.get(name) for c in cells] for name in side_names}
    if tokens_of is not None:  # per-cell tokens for the statistics (``TOKENS_PREFIX``)
        side[TOKENS_PREFIX + tokens_of] = [list(c.usage) if c.usage else None for c in cells]
    stats = {"requests": 0.0, "retries": 0.0, "cache_hits": 0.0, "input_tokens": 0.0, "output_tokens": 0.0}
    stats.update(tally)
    stats["failed_cells"] = float(len(errors))
    return ColumnOutput(values=[c.value for c in cells], errors=errors, side_columns=side, stats=stats)


class PromptColumnGenerator:
    """llm-text, llm-code, llm-structured and llm-judge."""

    def __init__(self, planned: PlannedColumn, context: RunContext) -> None:
        from ddc.compile.plan import column_references
        from ddc.engine.llm.parsing import recipe_for

        self.planned = planned
        self.column = planned.config
        self.tools: ToolRuntime | None = None
        if getattr(self.column, "tool_alias", None):
            from ddc.engine.llm.tools import tool_runtime

            self.tools = tool_runtime(context)
        self.runtime = llm_runtime(context)
        self.recipe = recipe_for(self.column)
        self.inputs = sorted(column_references(self.column))

    async def generate(self, batch: BatchInput) -> ColumnOutput:
        from ddc.engine.llm.generate import generate_prompt_cell

        self.runtime.check_running()
        ctx = self.runtime.generation()
        records = batch.records(self.inputs)
        tally: dict[str, float] = {}
        tools = await self.tools.toolset(self.column.tool_alias) if self.tools is not None else None

        async def one(record: dict[str, Any], row: int) -> Cell:
            cell = await generate_prompt_cell(self.column, record, row, ctx, self.recipe, tally, tools)
            self.runtime.observe(cell)
            return cell

        cells = await asyncio.gather(*(one(r, int(row)) for r, row in zip(records, batch.rows, strict=True)))
        return _output(list(cells), self.planned.side_effects, self.runtime, tally, tokens_of=self.planned.name)

    def check_running(self) -> None:
        self.runtime.check_running()

    async def generate_cell(self, record: dict[str, Any], row: int, tally: dict[str, float]) -> Cell:
        """One cell, scheduled by the runner's cell dataflow (``ddc.engine.cellflow``)."""
        from ddc.engine.llm.generate import generate_prompt_cell

        tools = await self.tools.toolset(self.column.tool_alias) if self.tools is not None else None
        ctx = self.runtime.generation()
        cell = await generate_prompt_cell(self.column, record, row, ctx, self.recipe, tally, tools)
        self.runtime.observe(cell)
        return cell

    def collect(self, cells: Sequence[Cell], tally: dict[str, float]) -> ColumnOutput:
        return _output(list(cells), self.planned.side_effects, self.runtime, tally, tokens_of=self.planned.name)

    async def aclose(self) -> None:
        return None


class EmbeddingColumnGenerator(PromptColumnGenerator):
    """Several cells per /embeddings request: generated a batch at a time, not cell by cell."""

    generate_cell = None  # type: ignore[assignment]

    async def generate(self, batch: BatchInput) -> ColumnOutput:
        from ddc.engine.llm.generate import generate_embedding_column

        self.runtime.check_running()
        ctx = self.runtime.generation()
        tally: dict[str, float] = {}
        cells = await generate_embedding_column(self.column, batch.records([self.column.target_column]), ctx, tally)
        for cell in cells:
            self.runtime.observe(cell)
        return _output(cells, (), self.runtime, tally)


class ImageColumnGenerator(PromptColumnGenerator):
    async def generate(self, batch: BatchInput) -> ColumnOutput:
        from ddc.engine.llm.media import generate_image_cell

        self.runtime.check_running()
        ctx = self.runtime.generation()
        records = batch.records(self.inputs)
        tally: dict[str, float] = {}

        async def one(record: dict[str, Any], row: int) -> Cell:
            cell = await generate_image_cell(self.column, record, row, ctx, tally)
            self.runtime.observe(cell)
            return cell

        cells = await asyncio.gather(*(one(r, int(row)) for r, row in zip(records, batch.rows, strict=True)))
        return _output(list(cells), (), self.runtime, tally)

    async def generate_cell(self, record: dict[str, Any], row: int, tally: dict[str, float]) -> Cell:
        from ddc.engine.llm.media import generate_image_cell

        cell = await generate_image_cell(self.column, record, row, self.runtime.generation(), tally)
        self.runtime.observe(cell)
        return cell

    def collect(self, cells: Sequence[Cell], tally: dict[str, float]) -> ColumnOutput:
        return _output(list(cells), (), self.runtime, tally)


class ValidationColumnGenerator:
    """Code validators run in a worker thread (ruff is a subprocess); remote validators over HTTP."""

    def __init__(self, planned: PlannedColumn, context: RunContext) -> None:
        self.planned = planned
        self.column = planned.config

    async def generate(self, batch: BatchInput) -> ColumnOutput:
        from ddc.engine.llm.validators import generate_code_validation, generate_remote_validation

        records = batch.records(self.column.target_columns)
        if self.column.validator_type == "remote":
            cells = await generate_remote_validation(self.column, records)
        else:
            cells = await asyncio.to_thread(generate_code_validation, self.column, records)
        errors = {i: str(c.error) for i, c in enumerate(cells) if c.error is not None}
        return ColumnOutput(values=[c.value for c in cells], errors=errors)

    async def aclose(self) -> None:
        return None


def prepare_column(planned: PlannedColumn, context: RunContext) -> Any:
    """The generator for one model-backed or validation column (``ddc.engine.llm.llm_column_kinds``)."""
    if planned.column_type == "embedding":
        return EmbeddingColumnGenerator(planned, context)
    if planned.column_type == "image":
        return ImageColumnGenerator(planned, context)
    if planned.column_type == "validation":
        return ValidationColumnGenerator(planned, context)
    return PromptColumnGenerator(planned, context)
