"""Model-backed columns for ``ddc run``: OpenAI-compatible endpoints, one shared async client.

Layers, each usable alone: ``providers`` (which endpoint and key per alias) -> ``wire`` (request
bodies as the official engine shapes them) -> ``client`` (HTTP, per-model limits, retries, cache,
usage) -> ``generate`` (cells of each column kind) -> ``kinds`` (the engine's column-generator seam);
``tools`` + ``mcp_sessions``: MCP tool use of columns with ``tool_alias`` (the optional ``mcp`` SDK).
Nothing here is imported by ``import ddc``; the HTTP stack (h11) only when a client is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddc.compile.plan import PlannedColumn
    from ddc.engine.kinds import ColumnKind, RunContext

PROMPT_TYPES = ("llm-text", "llm-code", "llm-structured", "llm-judge")


def llm_column_kinds() -> list[ColumnKind]:
    """Kinds for every model-backed column type and validation columns.

    Declared here, and prepared through a lazy import, so that listing the kinds (every run does) does
    not import the LLM stack or asyncio for specs that have no such column."""
    from ddc.engine.kinds import ColumnKind

    return [
        ColumnKind(column_type, _prepare, failed_cells="on_error", io_bound=True)
        for column_type in (*PROMPT_TYPES, "embedding", "image", "validation")
    ]


def _prepare(planned: PlannedColumn, context: RunContext) -> Any:
    from ddc.engine.llm.kinds import prepare_column

    return prepare_column(planned, context)
