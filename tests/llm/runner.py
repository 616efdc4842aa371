"""Drive LLM column generators through the engine's public seam (RunContext, BatchInput, ColumnKind)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ddc.compile.plan import plan_spec
from ddc.engine.kinds import BatchInput, ColumnOutput, RunContext
from ddc.engine.llm import llm_column_kinds
from ddc.engine.llm.client import RetryPolicy
from ddc.engine.llm.kinds import LLMOptions, configure_llm, llm_usage
from ddc.engine.rng import ColumnRng
from ddc.spec.load import load_spec

FAST_RETRY = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)


#: A sampler and an llm-text column that uses it: the smallest spec with model calls.
TOPIC_ESSAY = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats, dogs, birds]}
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "Write about {{ topic }}"
"""


def spec_text(base_url: str, columns: str, *, params: str = "", extra: str = "", provider: str = "") -> str:
    """``provider``: more lines of the provider ``local`` (e.g. ``"    structured_output: prompt"``)."""
    return f"""
random_seed: 7
providers:
  - name: local
    endpoint: {base_url}
{provider}
model_configs:
  - alias: text
    model: mock-model
    provider: local
    inference_parameters:
      max_parallel_requests: 8
      timeout: 2
{params}
  - alias: embed
    model: mock-embed
    provider: local
    inference_parameters: {{generation_type: embedding, timeout: 2}}
  - alias: image
    model: dall-e-mock
    provider: local
    inference_parameters: {{generation_type: image, timeout: 2}}
{extra}
columns:
{columns}
"""


def run_column(
    text: str,
    column: str,
    inputs: dict[str, list[Any]],
    *,
    options: LLMOptions | None = None,
    tmp_path: Path | None = None,
) -> tuple[ColumnOutput, dict[str, Any]]:
    """Generate ``column`` for rows whose earlier columns hold ``inputs``; returns output and usage."""
    import numpy as np
    import pyarrow as pa

    loaded = load_spec(text)
    plan = plan_spec(loaded)
    planned = next(c for c in plan.all_columns if c.name == column)
    num_rows = len(next(iter(inputs.values()))) if inputs else 1
    context = RunContext(plan=plan, random_seed=7, num_records=num_rows, batch_size=num_rows,
                         settings=plan.run, base_dir=tmp_path or Path.cwd())  # fmt: skip
    configure_llm(context, options or LLMOptions(use_cache=False, retry=FAST_RETRY))
    kinds = {k.column_type: k for k in llm_column_kinds()}
    generator = kinds[planned.column_type].prepare(planned, context)
    batch = BatchInput(0, np.arange(num_rows, dtype=np.int64), {k: pa.array(v) for k, v in inputs.items()},
                       ColumnRng(7, column))  # fmt: skip

    async def main() -> ColumnOutput:
        try:
            return await generator.generate(batch)
        finally:
            await generator.aclose()
            for resource in context.resources():
                if hasattr(resource, "aclose"):
                    await resource.aclose()

    output = asyncio.run(main())
    return output, llm_usage(context)
