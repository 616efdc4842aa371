"""Helpers for engine tests: specs are small YAML strings written to a temporary directory."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from ddc.engine.runner import RunResult, run


@pytest.fixture
def write_spec(tmp_path: Path):
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def generate(write_spec):
    """Run a YAML spec in memory and return the RunResult (rows in ``.table``)."""

    def go(text: str, **options: Any) -> RunResult:
        options.setdefault("write", False)
        options.setdefault("return_table", True)
        return run(write_spec(text), **options)

    return go


def column(result: RunResult, name: str) -> list[Any]:
    return result.table.column(name).to_pylist()


class Interrupted(Exception):
    """Raised by ``interrupt_after_first_batch``'s progress callback."""


def interrupt_after_first_batch(spec: Path, out: Path, *, batch_size: int) -> None:
    """Run ``spec`` into ``out`` and stop it once its first batch is written (it stays "running")."""

    def stop(done: int, total: int) -> None:
        if done:  # the first call, at done 0, marks the start of generation
            raise Interrupted

    with pytest.raises(Interrupted):
        run(spec, output_dir=out, batch_size=batch_size, progress=stop)
