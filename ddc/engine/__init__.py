"""Local engine: ``run`` a spec into the official artifact layout, or ``preview`` rows in memory.

Column kinds plug in through ``ddc.engine.kinds``; heavy imports (numpy, pyarrow, duckdb) happen
only when a run starts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunResult", "preview", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ddc.engine import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'ddc.engine' has no attribute {name!r}")
