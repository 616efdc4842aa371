"""Mergeable summaries of a column, fed one batch at a time, in memory that does not grow with the rows.

Each summary is exact until a cap and an estimate past it, and deterministic: the same dataset gives the
same figures whatever its batch size, because what is kept is chosen by a keyed hash of the row's
position in the dataset (``RowSample``) or of the value (``DistinctCount``), never by arrival order.

* ``Moments``: count, min, max, mean and variance, merged per batch (Chan et al.); exact up to rounding.
* ``RowSample``: the values of the ``SAMPLE_SIZE`` rows with the smallest position hash: every value
  while the column has no more rows, a uniform sample after (the median's rank error is then about
  ``0.5 / sqrt(SAMPLE_SIZE)``, 0.2 %). Order-free, so the same rows are kept at any batch size.
* ``TopValues``: exact counts of every value (so exact distinct counts) up to ``EXACT_DISTINCT`` values;
  past that, distinct values are counted by a HyperLogLog of 2**14 registers over 64-bit value hashes
  (standard error 0.8 %), and counts by a Misra-Gries summary of ``TOP_CAPACITY`` counters: values more
  frequent than 1/``TOP_CAPACITY`` of the rows are kept, with counts that are lower bounds. The one
  estimate that can depend on batch boundaries.

No sketch library is used: the one maintained for Python (Apache DataSketches) updates its HyperLogLog
one Python call per value and randomises KLL compaction, so neither fits a vectorised, reproducible run.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SAMPLE_SIZE = 65_536
EXACT_DISTINCT = 100_000
TOP_CAPACITY = 1_024
_HLL_BITS = 14
_MASK64 = (1 << 64) - 1


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64 values: a fixed, well-spread 64-bit hash (wraps by design)."""
    import numpy as np

    z = values.astype(np.uint64, copy=True)
    z += np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


class Moments:
    """Count, min, max, mean and sum of squared deviations of the finite values seen."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low: float | int | None = None
        self.high: float | int | None = None
        self.integral = True  # every value within 1e-8 of an integer (the official categorical test)

    def add(self, values: np.ndarray, low: Any, high: Any) -> None:
        """``values``: float64 without NaN; ``low``/``high``: their min and max in the column's own type."""
        import numpy as np

        n = len(values)
        if not n:
            return
        mean = float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        if self.integral:
            self.integral = bool(np.allclose(values, np.round(values), atol=1e-8))
        total = self.count + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.count = total
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def stddev(self) -> float | None:
        """Sample standard deviation (ddof 1), as pandas and DuckDB give it."""
        return (self.m2 / (self.count - 1)) ** 0.5 if self.count > 1 else None


class RowSample:
    """The values of the rows with the smallest position hashes (all of them while there are few)."""

    def __init__(self, size: int = SAMPLE_SIZE) -> None:
        import numpy as np

        self.size = size
        self.keys = np.empty(0, dtype=np.uint64)
        self.values = np.empty(0, dtype=np.float64)

    def add(self, positions: np.ndarray, values: np.ndarray) -> None:
        """``positions``: the rows' 0-based positions in the dataset; ``values``: float64, no NaN."""
        import numpy as np

        new_keys = mix64(positions)
        if len(self.keys) >= self.size:  # full: only rows that hash below the largest kept key can enter
            entering = new_keys < np.max(self.keys)
            new_keys, values = new_keys[entering], values[entering]
        keys = np.concatenate([self.keys, new_keys])
        kept = np.concatenate([self.values, values])
        if len(keys) > self.size:
            chosen = np.argpartition(keys, self.size - 1)[: self.size]
            keys, kept = keys[chosen], kept[chosen]
        self.keys, self.values = keys, kept

    def median(self) -> float | None:
        import numpy as np

        return float(np.median(self.values)) if len(self.values) else None


class HyperLogLog:
    """Distinct 64-bit hashes, estimated from 2**14 registers (standard error 0.8 %)."""

    def __init__(self) -> None:
        import numpy as np

        self.registers = np.zeros(1 << _HLL_BITS, dtype=np.uint8)

    def add(self, hashes: np.ndarray) -> None:
        import numpy as np

        index = (hashes >> np.uint64(64 - _HLL_BITS)).astype(np.int64)
        rest = hashes & np.uint64((1 << (64 - _HLL_BITS)) - 1)
        rank = (64 - _HLL_BITS) - _bit_length(rest) + 1
        np.maximum.at(self.registers, index, rank.astype(np.uint8))

    def estimate(self) -> int:
        import numpy as np

        m = float(len(self.registers))
        raw = 0.7213 / (1 + 1.079 / m) * m * m / float(np.sum(2.0 ** -self.registers.astype(np.float64)))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:  # small range: linear counting
            return round(m * np.log(m / zeros))
        return round(raw)


def _bit_length(values: np.ndarray) -> np.ndarray:
    """Bit length of uint64 values below 2**50, exactly (two halves, each exact in float64)."""
    import numpy as np

    high = (values >> np.uint64(25)).astype(np.float64)
    low = (values & np.uint64((1 << 25) - 1)).astype(np.float64)
    with np.errstate(divide="ignore"):
        high_bits = np.where(high > 0, np.floor(np.log2(np.maximum(high, 1))) + 26, 0)
        low_bits = np.where(low > 0, np.floor(np.log2(np.maximum(low, 1))) + 1, 0)
    return np.where(high > 0, high_bits, low_bits).astype(np.int64)


class TopValues:
    """Counts per value: exact up to ``EXACT_DISTINCT`` values, then a Misra-Gries summary."""

    def __init__(self) -> None:
        self.table: pa.Table | None = None  # columns "v" (the value) and "n" (int64 count)
        self.distinct: HyperLogLog | None = None  # once there are more than EXACT_DISTINCT values

    @property
    def exact(self) -> bool:
        return self.distinct is None

    def num_distinct(self) -> int:
        if self.distinct is not None:
            return self.distinct.estimate()
        return len(self.table) if self.table is not None else 0

    def add(self, counts: pa.StructArray) -> None:
        """``counts``: the batch's ``pyarrow.compute.value_counts`` (fields ``values`` and ``counts``)."""
        import pyarrow as pa

        batch = pa.table({"v": counts.field("values"), "n": counts.field("counts").cast(pa.int64())})
        if self.distinct is not None:
            self.distinct.add(hash_values(batch["v"].combine_chunks()))
            batch = _misra_gries(batch)  # merging two summaries of k counters is a summary (Agarwal et al.)
        if self.table is None:
            merged = batch
        else:
            both = pa.concat_tables([self.table, batch.cast(self.table.schema)], promote_options="permissive")
            merged = both.group_by("v").aggregate([("n", "sum")]).rename_columns(["v", "n"])
        if self.distinct is None and len(merged) > EXACT_DISTINCT:
            self.distinct = HyperLogLog()
            self.distinct.add(hash_values(merged["v"].combine_chunks()))
        if self.distinct is not None:
            merged = _misra_gries(merged)
        self.table = merged

    def add_distinct_only(self, values: pa.Array) -> None:
        """Past the cap, a column whose values are never categorical (numbers with over 10 distinct
        values) only needs its distinct count: hash the values, skip the counting."""
        assert self.distinct is not None
        self.distinct.add(hash_values(values))

    def ranked(self, limit: int | None = None) -> list[tuple[Any, int]]:
        """(value, count) by count descending, ties by value ascending."""
        import pyarrow.compute as pc

        if self.table is None or not len(self.table):
            return []
        k = len(self.table) if limit is None else min(limit, len(self.table))
        order = pc.select_k_unstable(self.table, k=k, sort_keys=[("n", "descending"), ("v", "ascending")])
        chosen = self.table.take(order)
        return list(zip(chosen["v"].to_pylist(), chosen["n"].to_pylist(), strict=True))

    def least_common(self) -> Any:
        """The least frequent value (ties: the largest value, the end of ``ranked``'s order)."""
        import pyarrow.compute as pc

        if self.table is None or not len(self.table):
            return None
        order = pc.select_k_unstable(self.table, k=1, sort_keys=[("n", "ascending"), ("v", "descending")])
        return self.table["v"].take(order)[0].as_py()


def _misra_gries(table: pa.Table) -> pa.Table:
    """The ``TOP_CAPACITY`` largest counts, less the next largest (values at or below it are dropped)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(table) <= TOP_CAPACITY:
        return table
    order = pc.select_k_unstable(table, k=TOP_CAPACITY + 1, sort_keys=[("n", "descending")])
    threshold = table["n"].take(order[TOP_CAPACITY : TOP_CAPACITY + 1])[0].as_py()
    top = table.take(order[:TOP_CAPACITY])
    top = pa.table({"v": top["v"], "n": pc.subtract(top["n"], threshold)})
    return top.filter(pc.greater(top["n"], 0))


def hash_values(values: pa.Array) -> np.ndarray:
    """64-bit hashes of non-null values: numbers by their bits (no DuckDB), anything else by DuckDB."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_integer(values.type) or pa.types.is_boolean(values.type):
        return mix64(values.cast(pa.int64()).to_numpy(zero_copy_only=False).view(np.uint64))
    if pa.types.is_floating(values.type):
        floats = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return mix64((floats + 0.0).view(np.uint64))  # -0.0 + 0.0 is 0.0: one value, as ==
    hashed = _on_values(values, "hash(v)")
    return np.asarray(hashed.to_numpy(zero_copy_only=False), dtype=np.uint64)


def json_text(values: pa.Array) -> pa.Array:
    """Nested values (structs, lists) as their JSON text, which Arrow can count."""
    return _on_values(values, "CAST(to_json(v) AS VARCHAR)")


def _on_values(values: pa.Array, expression: str) -> pa.Array:
    """``expression`` of ``v`` over each value, in DuckDB (one connection per process, no file access)."""
    import pyarrow as pa

    con = _connection()
    con.register("ddc_values", pa.table({"v": values}))
    try:
        return con.sql(f"SELECT {expression} FROM ddc_values").to_arrow_table().column(0).combine_chunks()
    finally:
        con.unregister("ddc_values")


@functools.cache
def _connection() -> Any:
    import duckdb

    return duckdb.connect(config={"enable_external_access": False})
