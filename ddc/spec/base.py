"""Shared base for spec models: strict (unknown keys are errors), immutable, enums as plain strings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Every spec model forbids unknown keys (as Data Designer's ConfigBase does) and is frozen,
    so compilation can never mutate what the user wrote."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
