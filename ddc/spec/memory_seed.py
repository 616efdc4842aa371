"""In-memory seed rows from Python: a pandas or polars DataFrame, or a pyarrow Table / RecordBatch.

The rows are never written to a file for a local run: DuckDB scans pandas and Arrow memory in place
(polars through its Arrow view). The spec records them as the official ``seed_type: df`` source.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ddc.errors import SpecError
from ddc.spec.load import LoadedSpec

_LIBRARIES = ("pandas", "pyarrow", "polars")


def is_seed_data(value: Any) -> bool:
    """A DataFrame or Arrow table DuckDB can scan in place."""
    library = type(value).__module__.split(".")[0]
    return library in _LIBRARIES and hasattr(value, "columns" if library != "pyarrow" else "column_names")


def seed_data_columns(value: Any) -> list[str]:
    if type(value).__module__.split(".")[0] == "pyarrow":
        return [str(name) for name in value.column_names]
    return [str(name) for name in value.columns]


def scannable(value: Any) -> Any:
    """What DuckDB registers: pandas and Arrow as they are, polars as its (zero-copy) Arrow table."""
    if type(value).__module__.split(".")[0] == "polars":
        return value.to_arrow()
    return value


def with_seed_data(loaded: LoadedSpec, data: Any) -> LoadedSpec:
    """``loaded`` reading its seed rows from ``data``: a spec without ``seed_config`` gets an ordered
    seed; one with ``seed_type: df`` keeps its sampling and selection; any other seed is refused."""
    from ddc.spec.seeds import DataFrameSeedSource, SeedConfig

    if not is_seed_data(data):
        raise SpecError(
            f"seed_data must be a pandas DataFrame, a pyarrow Table or a polars DataFrame, got {type(data).__name__}"
        )
    seed = loaded.spec.seed_config
    if seed is None:
        seed = SeedConfig(source=DataFrameSeedSource(seed_type="df"))
    elif seed.source.seed_type != "df":
        raise SpecError(
            f"{loaded.name}: the spec already reads its seed from seed_type {seed.source.seed_type!r}",
            hint="pass seed_data only for a spec without seed_config, or with seed_type: df",
        )
    spec = loaded.spec.model_copy(update={"seed_config": seed})
    return dataclasses.replace(loaded, spec=spec, seed_data=data)
