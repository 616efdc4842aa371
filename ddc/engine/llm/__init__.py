"""Model-backed columns for ``ddc run``: OpenAI-compatible endpoints, one shared async client.

Layers, each usable alone: ``providers`` (which endpoint and key per alias) -> ``wire`` (request
bodies as the official engine shapes them) -> ``client`` (HTTP, per-model limits, retries, cache,
usage) -> ``generate`` (cells of each column kind) -> ``kinds`` (the engine's column-generator seam).
Nothing here is imported by ``import ddc``; httpx is imported only when a client is created.
"""

from __future__ import annotations

from typing import Any


def llm_column_kinds() -> list[Any]:
    """The engine's column kinds for llm-*, embedding, image and validation columns."""
    from ddc.engine.llm.kinds import llm_column_kinds as kinds

    return kinds()
