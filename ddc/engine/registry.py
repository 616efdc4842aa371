"""The kind registry: ``column_type`` -> ``ColumnKind``, built fresh by a function on every call.

No import-time side effects and no class-level mutable dict; the base types are in ``ddc.engine.kinds``.
LLM kinds come from ``ddc.engine.llm.llm_column_kinds()`` when that package is present.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ddc.engine.kinds import ColumnKind, SeedColumnGenerator
from ddc.errors import RunError

if TYPE_CHECKING:
    from ddc.compile.plan import PlannedColumn


def builtin_column_kinds() -> list[ColumnKind]:
    """The kinds implemented in this package (samplers, expressions, declared seed columns)."""
    from ddc.engine.expressions import expression_kind
    from ddc.engine.samplers import sampler_kind

    return [sampler_kind(), expression_kind(), ColumnKind("seed-dataset", SeedColumnGenerator, skippable=False)]


def column_kinds(extra: Iterable[ColumnKind] = ()) -> dict[str, ColumnKind]:
    """The registry: column_type -> ColumnKind. Built fresh on every call; later entries win."""
    kinds: list[ColumnKind] = [*builtin_column_kinds(), *_llm_kinds(), *extra]
    return {kind.column_type: kind for kind in kinds}


def _llm_kinds() -> list[ColumnKind]:
    """LLM-backed kinds from ``ddc.engine.llm`` (absent until that package lands)."""
    try:
        module = importlib.import_module("ddc.engine.llm")
    except ModuleNotFoundError as exc:
        if exc.name in {"ddc.engine.llm"}:
            return []
        raise
    factory = getattr(module, "llm_column_kinds", None)
    return list(factory()) if factory is not None else []


def kind_for(kinds: Mapping[str, ColumnKind], column: PlannedColumn) -> ColumnKind:
    try:
        return kinds[column.column_type]
    except KeyError:
        raise RunError(
            f"column {column.name!r}: ddc run cannot generate {column.column_type!r} columns yet",
            hint="use `ddc submit` for this spec, or remove the column",
        ) from None
