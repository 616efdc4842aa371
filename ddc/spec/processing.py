"""Constraints, processors, profilers and tool configs."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from ddc.spec.base import SpecModel

Operator = Literal["lt", "le", "gt", "ge"]


class ScalarInequalityConstraint(SpecModel):
    """Keep only rows where a sampler column compares to a number."""

    target_column: str = Field(description="Sampler column the constraint applies to.")
    constraint_type: Literal["scalar_inequality"] = Field(
        default="scalar_inequality", description="`scalar_inequality`; inferred from a numeric rhs when absent."
    )
    operator: Operator = Field(description="lt (<), le (<=), gt (>) or ge (>=).")
    rhs: float = Field(description="The number compared with.")


class ColumnInequalityConstraint(SpecModel):
    """Keep only rows where a sampler column compares to another sampler column."""

    target_column: str = Field(description="Sampler column the constraint applies to.")
    constraint_type: Literal["column_inequality"] = Field(
        default="column_inequality", description="`column_inequality`; inferred from a column-name rhs when absent."
    )
    operator: Operator = Field(description="lt (<), le (<=), gt (>) or ge (>=).")
    rhs: str = Field(description="Name of the other sampler column.")


def _constraint_kind(value: Any) -> str:
    """The official legacy inference: no type and a non-numeric string rhs means a column inequality."""
    if not isinstance(value, dict):
        return str(getattr(value, "constraint_type", "scalar_inequality"))
    if "constraint_type" in value:
        return str(value["constraint_type"])
    rhs = value.get("rhs")
    if isinstance(rhs, str):
        try:
            return "scalar_inequality" if math.isfinite(float(rhs)) else "column_inequality"
        except ValueError:
            return "column_inequality"
    return "scalar_inequality"


Constraint = Annotated[
    Annotated[ScalarInequalityConstraint, Tag("scalar_inequality")]
    | Annotated[ColumnInequalityConstraint, Tag("column_inequality")],
    Discriminator(_constraint_kind),
]


class DropColumnsProcessor(SpecModel):
    """Remove columns from the output (kept in dropped-columns files)."""

    name: str = Field(description="Processor name.")
    processor_type: Literal["drop_columns"] = Field(description="Always `drop_columns`.")
    column_names: list[str] = Field(description="Columns to drop; `*` globs allowed.")


class SchemaTransformProcessor(SpecModel):
    """Write an extra dataset whose rows are rendered from a JSON template."""

    name: str = Field(description="Processor name; also the output folder name.")
    processor_type: Literal["schema_transform"] = Field(description="Always `schema_transform`.")
    template: dict[str, Any] = Field(description="Output row template; string leaves are Jinja over the row.")


Processor = Annotated[DropColumnsProcessor | SchemaTransformProcessor, Field(discriminator="processor_type")]


class JudgeScoreProfiler(SpecModel):
    """Summarise judge scores with a model after generation."""

    model_alias: str = Field(description="Model that writes the summaries.")
    summary_score_sample_size: int | None = Field(
        default=20, ge=1, description="Score samples per summary; null skips the LLM summaries."
    )


class ToolConfig(SpecModel):
    """MCP tools an LLM column may call; `providers` name `mcp_providers` entries for `ddc run`."""

    tool_alias: str = Field(description="Name LLM columns use in `tool_alias`.")
    providers: list[str] = Field(description="MCP provider names.")
    allow_tools: list[str] | None = Field(default=None, description="Allowed tool names; null allows all.")
    max_tool_call_turns: int = Field(default=5, ge=1, description="Tool-call rounds before the model must answer.")
    timeout_sec: float | None = Field(default=None, gt=0, description="Timeout of one tool call.")
