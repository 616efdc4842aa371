"""Shared base for spec models: strict (unknown keys are errors), immutable, enums as plain strings."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Every spec model forbids unknown keys (as Data Designer's ConfigBase does) and is frozen,
    so compilation can never mutate what the user wrote."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class FieldProblem(ValueError):
    """A model validator's finding about one of its fields: reported at that field's position, not at the
    model's (a check that needs other fields cannot be a field validator of a field declared before them)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AsWritten(tuple):  # type: ignore[type-arg]
    """Weights as the user wrote them, kept beside the normalised ones for emission only: never part of
    a model's equality (specs with the same normalised weights are equal)."""

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, AsWritten)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__


def normalised_weights(values: Sequence[object], weights: Sequence[float]) -> list[float]:
    """Weights checked against their values and scaled to sum to 1, as the official library stores them."""
    if len(weights) != len(values):
        raise ValueError(f"weights has {len(weights)} entries but values has {len(values)}; give one per value")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = sum(weights)
    if not math.isfinite(total):
        raise ValueError("weights must be finite numbers whose sum is finite")
    if total == 0:
        raise ValueError("weights must sum to a non-zero value")
    return [w / total for w in weights]
