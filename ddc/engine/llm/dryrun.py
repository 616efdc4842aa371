"""Dry run: every prompt of the first rows rendered, and the requests and tokens a full run would need.

No model is called. Model-backed columns referenced by later prompts are shown as ``<name>``
placeholders. Token estimates use 4 characters per token on the rendered text (prompt, system prompt
and the kind's instructions); output tokens are bounded by ``max_tokens`` when set, else unknown.
Requests are one per cell (more when replies fail to parse or calls are retried), and one per
``embedding_batch`` cells for embedding columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddc.spec.columns import MODEL_COLUMN_TYPES

CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class PromptPreview:
    row: int
    column: str
    model_alias: str
    prompt: str | None
    system_prompt: str | None = None
    error: str | None = None
    #: request fields besides the messages: response_format (with how its mode was chosen), seed
    request: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelEstimate:
    alias: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int | None = 0


@dataclass
class DryRunReport:
    num_records: int
    previews: list[PromptPreview] = field(default_factory=list)
    estimates: dict[str, ModelEstimate] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out: list[str] = []
        for p in self.previews:
            out.append(f"--- row {p.row} · {p.column} ({p.model_alias})")
            if p.error:
                out.append(f"error: {p.error}")
                continue
            if p.system_prompt:
                out.append(f"[system] {p.system_prompt}")
            out.append(p.prompt or "")
            for name, value in p.request.items():
                out.append(f"[{name}] {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}")
        out.append(f"estimate for {self.num_records} records (about {CHARS_PER_TOKEN} characters per token):")
        for e in self.estimates.values():
            tokens_out = "unknown (no max_tokens)" if e.output_tokens is None else f"<= {e.output_tokens}"
            out.append(f"  {e.alias}: >= {e.requests} requests, ~{e.input_tokens} input tokens, output {tokens_out}")
        return out


def dry_run(
    plan: Any,
    records: Sequence[Mapping[str, Any]],
    *,
    num_records: int | None = None,
    embedding_batch: int = 32,
    seed: int | None = None,
) -> DryRunReport:
    """Render the model-backed columns' prompts for ``records`` (the first rows, with every non-model
    column filled) and extrapolate requests and tokens to ``num_records`` (default: the plan's). With
    ``seed`` (a chosen run seed) the previews show each request's ``seed``; structured, judge and code
    columns show their ``response_format``."""
    from ddc.engine.llm.generate import TemplateFailure, embedding_inputs, render_prompt, template_context
    from ddc.engine.llm.parsing import recipe_for
    from ddc.engine.llm.structured import recipe_for_mode, response_format, schema_of
    from ddc.engine.llm.wire import request_seed

    total = num_records if num_records is not None else plan.num_records
    report = DryRunReport(total)
    models = {m.alias: m for m in plan.spec.model_configs or ()}
    sample = max(1, len(records))
    for planned in plan.columns:
        column = planned.config
        if planned.column_type not in MODEL_COLUMN_TYPES:
            continue
        alias = column.model_alias
        estimate = report.estimates.setdefault(alias, ModelEstimate(alias))
        if planned.column_type == "embedding":
            chars = sum(len(t) for r in records for t in embedding_inputs(r.get(column.target_column)))
            estimate.requests += math.ceil(total / max(1, embedding_batch))
            estimate.input_tokens += round(chars / sample * total / CHARS_PER_TOKEN)
            continue
        request: dict[str, Any] = {}
        suffix = ""
        if planned.column_type != "image":
            recipe = recipe_for(column)
            mode, how = _structured_mode(plan.spec, alias)
            schema = schema_of(column, recipe)
            suffix = recipe_for_mode(column, recipe, mode if schema is not None else "prompt").suffix
            fmt = response_format(mode, schema, planned.name)
            if schema is not None:
                request["response_format"] = f"none ({how})" if fmt is None else fmt
                request["structured_output"] = f"{mode} ({how})"
        chars = 0
        for row, record in enumerate(records):
            context = template_context(_with_placeholders(record, plan))
            try:
                prompt = render_prompt(column.prompt, context)
                system = getattr(column, "system_prompt", None)
                system = render_prompt(system, context, "system_prompt") if system else None
            except TemplateFailure as exc:
                report.previews.append(PromptPreview(row, planned.name, alias, None, None, str(exc)))
                continue
            full = f"{prompt}\n\n{suffix}" if suffix else prompt
            chars += len(full) + len(system or "")
            shown = dict(request)
            if seed is not None:
                shown["seed"] = request_seed(seed, planned.name, row, 0, 0)
            report.previews.append(PromptPreview(row, planned.name, alias, full, system, request=shown))
        estimate.requests += total
        estimate.input_tokens += round(chars / sample * total / CHARS_PER_TOKEN)
        max_tokens = getattr(models[alias].inference_parameters, "max_tokens", None) if alias in models else None
        if estimate.output_tokens is not None:
            estimate.output_tokens = None if max_tokens is None else estimate.output_tokens + max_tokens * total
    return report


def _structured_mode(spec: Any, alias: str) -> tuple[str, str]:
    """The response_format mode a run starts with for ``alias``, and where it comes from."""
    from ddc.engine.llm.providers import model_configs, provider_registry
    from ddc.engine.llm.structured import DEFAULT_MODE

    config = next((m for m in model_configs(spec) if m.alias == alias), None)
    provider = provider_registry(spec).get(config.provider) if config is not None else None
    if provider is not None and provider.structured_output:
        return provider.structured_output, f"set by provider {provider.name!r}"
    return DEFAULT_MODE, "unless the start-up health check finds the endpoint refuses it"


def _with_placeholders(record: Mapping[str, Any], plan: Any) -> dict[str, Any]:
    out = dict(record)
    for planned in plan.columns:
        if planned.column_type in MODEL_COLUMN_TYPES or planned.name not in out:
            out.setdefault(planned.name, f"<{planned.name}>")
            for side in planned.side_effects:
                out.setdefault(side, f"<{side}>")
    return out


class _Placeholder:
    """Stands in for a model-backed column: ``<name>`` in every row, no request."""

    def __init__(self, planned: Any, context: Any) -> None:
        self.name = planned.name
        self.side_effects = planned.side_effects

    async def generate(self, batch: Any) -> Any:
        from ddc.engine.kinds import ColumnOutput

        n = batch.num_rows
        sides = {side: [f"<{side}>"] * n for side in self.side_effects}
        return ColumnOutput(values=[f"<{self.name}>"] * n, side_columns=sides)

    async def aclose(self) -> None:
        return None


def dry_run_spec(spec: Any, rows: int = 3, *, num_records: int | None = None, seed: int | None = None) -> DryRunReport:
    """``ddc run --dry-run``: generate the first ``rows`` rows without any model (samplers, seeds and
    expressions run as usual; model-backed columns are placeholders), then render every prompt of
    those rows and estimate the full run."""
    from ddc.compile.plan import plan_spec
    from ddc.engine import runner
    from ddc.engine.kinds import ColumnKind
    from ddc.engine.llm import PROMPT_TYPES
    from ddc.engine.registry import column_kinds
    from ddc.spec.load import LoadedSpec, load_spec

    loaded = spec if isinstance(spec, LoadedSpec) else load_spec(spec)
    kinds = dict(column_kinds())
    for column_type in (*PROMPT_TYPES, "embedding", "image", "validation"):
        kinds[column_type] = ColumnKind(column_type, _Placeholder, failed_cells="on_error")
    plan = plan_spec(loaded)
    total = num_records if num_records is not None else plan.num_records
    result = runner.run(loaded, num_records=min(rows, total), seed=seed, write=False, return_table=True, kinds=kinds)
    records = result.table.to_pylist() if result.table is not None else []
    chosen = seed if seed is not None else plan.random_seed  # requests carry seeds only with a chosen seed
    return dry_run(plan, [_real_values(r) for r in records], num_records=total, seed=chosen)


def _real_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the placeholders, so dry_run shows them for model-backed columns only."""
    return {k: v for k, v in record.items() if not (isinstance(v, str) and v == f"<{k}>")}
