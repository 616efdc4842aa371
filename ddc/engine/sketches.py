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
#: From this many rows a run proves text columns distinct by DuckDB's hashes instead of counting them:
#: below it, counting costs less than importing DuckDB and opening a connection (0.05-0.15 s), and the
#: cap (EXACT_DISTINCT) that needs hashes for the distinct estimate cannot be reached.
HASH_TEXT_FROM_ROWS = 50_000
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

    def add(self, values: np.ndarray, low: Any, high: Any, integral: bool | None = None) -> None:
        """``values``: float64 without NaN; ``low``/``high``: their min and max in the column's own type;
        ``integral``: True when known (an integer column), which skips the test."""
        import numpy as np

        n = len(values)
        if not n:
            return
        mean = float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        if self.integral and not integral:
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
    """The values of the rows with the smallest position hashes (all of them while there are few).

    Rows are buffered and cut down to the ``size`` smallest keys only when the buffer holds twice that
    (and when read), so a batch costs a comparison with the last cut's largest key rather than a
    partition: a key above it can never be among the smallest ``size``. The kept rows are the same."""

    def __init__(self, size: int = SAMPLE_SIZE) -> None:
        import numpy as np

        self.size = size
        self._keys = np.empty(0, dtype=np.uint64)
        self._values = np.empty(0, dtype=np.float64)
        self._limit: int | None = None  # the largest kept key at the last cut, once ``size`` rows were seen

    def add(self, positions: np.ndarray, values: np.ndarray, keys: np.ndarray | None = None) -> None:
        """``positions``: the rows' 0-based positions in the dataset; ``values``: float64, no NaN;
        ``keys``: ``mix64(positions)`` if the caller has them already (one hash per batch, not per column)."""
        import numpy as np

        new_keys = mix64(positions) if keys is None else keys
        if self._limit is not None:
            entering = new_keys < np.uint64(self._limit)
            if not entering.any():
                return
            new_keys, values = new_keys[entering], values[entering]
        self._keys = np.concatenate([self._keys, new_keys]) if len(self._keys) else new_keys
        self._values = np.concatenate([self._values, values]) if len(self._values) else values
        if len(self._keys) > (self.size if self._limit is None else 2 * self.size):
            self._cut()

    def _cut(self) -> None:
        import numpy as np

        if len(self._keys) > self.size:
            chosen = np.argpartition(self._keys, self.size - 1)[: self.size]
            self._keys, self._values = self._keys[chosen], self._values[chosen]
        if len(self._keys) >= self.size:
            self._limit = int(np.max(self._keys))

    @property
    def keys(self) -> np.ndarray:
        self._cut()
        return self._keys

    @property
    def values(self) -> np.ndarray:
        self._cut()
        return self._values

    def median(self) -> float | None:
        import numpy as np

        # np.median's NaN check imports numpy.ma (16 ms, once); the middle of the sorted values is the same
        values = np.sort(self.values)
        if not len(values):
            return None
        if values.dtype.kind == "f" and np.isnan(values[-1]):  # NaN sorts last; np.median gives NaN
            return float("nan")
        middle = len(values) // 2
        return float(values[middle]) if len(values) % 2 else float((values[middle - 1] + values[middle]) / 2)


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
    """Bit length of uint64 values below 2**53: the exponent ``frexp`` gives (exact: they are exact in
    float64; 0 for 0)."""
    import numpy as np

    return np.frexp(values.astype(np.float64))[1].astype(np.int64)


class TopValues:
    """Counts per value: exact up to ``EXACT_DISTINCT`` values, then a Misra-Gries summary.

    ``add_values`` spares the counting where it cannot matter: while every value seen is distinct (ids,
    labels, measurements) the counts are all 1, and past the cap a batch of distinct values leaves the
    Misra-Gries summary as it is. Distinctness is proven by the values' 64-bit hashes all differing
    (equal values hash alike, so different hashes are different values): a collision only sends the
    batch to ``value_counts``, so the figures are those of counting every batch.

    Text and nested values are hashed by DuckDB; ``hash_text=False`` counts them instead while under the
    cap (the same figures), for a run too short to repay DuckDB's import (``HASH_TEXT_FROM_ROWS``)."""

    def __init__(self, *, hash_text: bool = True) -> None:
        self.hash_text = hash_text
        self.table: pa.Table | None = None  # columns "v" (the value) and "n" (int64 count)
        self.distinct: HyperLogLog | None = None  # once there are more than EXACT_DISTINCT values
        self._hashes: np.ndarray | None = None  # the table's values' hashes, sorted, while all its counts are 1

    @property
    def exact(self) -> bool:
        return self.distinct is None

    def num_distinct(self) -> int:
        if self.distinct is not None:
            return self.distinct.estimate()
        return len(self.table) if self.table is not None else 0

    def add_values(self, values: pa.Array) -> None:
        """A batch's non-null values (of a type ``value_counts`` takes)."""
        if self.distinct is not None:
            self._add_past_cap(values)
        elif not (self._all_ones() and self._add_distinct(values)):
            self._count(values)

    def add(self, counts: pa.StructArray, *, hashed: bool = False) -> None:
        """``counts``: the batch's ``pyarrow.compute.value_counts`` (fields ``values`` and ``counts``);
        ``hashed``: the distinct count has their hashes already."""
        import pyarrow as pa

        self._hashes = None
        batch = pa.table({"v": counts.field("values"), "n": counts.field("counts").cast(pa.int64())})
        if self.distinct is not None:
            if not hashed:
                self.distinct.add(hash_values(batch["v"].combine_chunks()))
            batch = _misra_gries(batch)  # merging two summaries of k counters is a summary (Agarwal et al.)
            if not len(batch):
                return  # every count of the batch was cut: the summary stays
        self._settle(batch if self.table is None else _merge(self.table, batch))

    def _all_ones(self) -> bool:
        return self.table is None or self._hashes is not None

    def _add_distinct(self, values: pa.Array) -> bool:
        """Under the cap, with every value so far distinct: the batch as counts of 1 if its values are
        distinct from each other and from the earlier ones (False, and nothing done, if not proven)."""
        import numpy as np
        import pyarrow as pa

        text_skipped = not (self.hash_text or _hashed_by_bits(values.type))
        if not _hashable(values.type) or text_skipped or not _distinct_prefix(values):
            return False
        if self.table is not None:
            values = values.cast(self.table.schema.field("v").type)
        seen = _distinct_union(self._hashes, hash_values(values))
        if seen is None:
            return False
        batch = pa.table({"v": values, "n": _int64s(np.ones(len(values), dtype=np.int64))})
        self._settle(batch if self.table is None else pa.concat_tables([self.table, batch]), seen)
        self._hashes = seen if self.distinct is None else None
        return True

    def _count(self, values: pa.Array) -> None:
        """Under the cap: the batch's values counted into the table, in one hash pass over the table's
        values and the batch's (Arrow's dictionary encoding, the same equality as ``value_counts``:
        floats by their bits), the counts added by numpy: cheaper than counting the batch and then
        merging the counts with a ``group_by``."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self._hashes = None
        known = 0 if self.table is None else len(self.table)
        if self.table is not None:
            values = pa.concat_arrays(
                [self.table["v"].combine_chunks(), values.cast(self.table.schema.field("v").type)]
            )
        encoded = pc.dictionary_encode(values)
        indices = encoded.indices.to_numpy()
        counts = np.bincount(indices[known:], minlength=len(encoded.dictionary))
        if self.table is not None:
            counts[indices[:known]] += self.table["n"].to_numpy()  # the table's values are distinct
        self._settle(pa.table({"v": encoded.dictionary, "n": _int64s(counts)}))

    def _add_past_cap(self, values: pa.Array) -> None:
        """Past the cap: the distinct count takes the batch's hashes; a batch of distinct values leaves
        the Misra-Gries summary as it is (all its counts are cut), so only other batches are counted."""
        import pyarrow.compute as pc

        assert self.distinct is not None
        if not _hashable(values.type) or not _distinct_prefix(values):
            self.add(pc.value_counts(values))  # repeats: hash the distinct values only
            return
        hashes = hash_values(values)  # the rows' hashes: the same registers as the distinct values'
        self.distinct.add(hashes)
        if len(values) <= TOP_CAPACITY or not _all_distinct(hashes):
            self.add(pc.value_counts(values), hashed=True)

    def _settle(self, merged: pa.Table, hashes: np.ndarray | None = None) -> None:
        """The new table: past the cap (or on crossing it: the distinct count starts from every value
        seen, ``hashes`` if known) cut to a Misra-Gries summary."""
        if self.distinct is None and len(merged) > EXACT_DISTINCT:
            self.distinct = HyperLogLog()
            self.distinct.add(hashes if hashes is not None else hash_values(merged["v"].combine_chunks()))
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


def _merge(table: pa.Table, batch: pa.Table) -> pa.Table:
    """Counts per value of two count tables, the batch's values cast to the table's type. Arrow's hash
    kernel numbers the values (dictionary encoding: the same equality as ``value_counts``, floats by
    their bits) and numpy adds the counts: a fraction of an Acero ``group_by``'s cost on small tables."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.concat_arrays(
        [table["v"].combine_chunks(), batch["v"].combine_chunks().cast(table.schema.field("v").type)]
    )
    counts = np.concatenate([table["n"].to_numpy(), batch["n"].to_numpy()])
    encoded = pc.dictionary_encode(values)
    indices = encoded.indices.to_numpy()
    sums = np.bincount(indices, weights=counts, minlength=len(encoded.dictionary))  # float64: exact < 2**53
    return pa.table({"v": encoded.dictionary, "n": _int64s(sums)})


def _misra_gries(table: pa.Table) -> pa.Table:
    """The ``TOP_CAPACITY`` largest counts, less the next largest (values at or below it are dropped)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(table) <= TOP_CAPACITY:
        return table
    if pc.max(table["n"]).as_py() == 1:
        return table.slice(0, 0)  # all counts 1: the threshold is 1 and cuts them all
    order = pc.select_k_unstable(table, k=TOP_CAPACITY + 1, sort_keys=[("n", "descending")])
    threshold = table["n"].take(order[TOP_CAPACITY : TOP_CAPACITY + 1])[0].as_py()
    top = table.take(order[:TOP_CAPACITY])
    top = pa.table({"v": top["v"], "n": pc.subtract(top["n"], threshold)})
    return top.filter(pc.greater(top["n"], 0))


def _hashable(arrow_type: pa.DataType) -> bool:
    """Types ``hash_values`` takes without fail: numbers, strings, times."""
    import pyarrow as pa

    t = pa.types
    return bool(
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_string(arrow_type)
        or t.is_large_string(arrow_type)
        or t.is_timestamp(arrow_type)
        or t.is_date(arrow_type)
    )


def _distinct_prefix(values: pa.Array, size: int = 1_024) -> bool:
    """The first ``size`` values are distinct: a cheap test before hashing a whole batch, which spares
    columns that repeat (categories, flags) the hashing."""
    import pyarrow.compute as pc

    head = values.slice(0, size)
    return len(pc.unique(head)) == len(head)


def _distinct_union(seen: np.ndarray | None, hashes: np.ndarray) -> np.ndarray | None:
    """``seen`` (sorted, distinct) and ``hashes`` as one sorted array, or None if a hash repeats.

    Only the batch is sorted; it is checked against ``seen`` by binary search and inserted in one
    pass, so a column of distinct values costs O(batch log batch + seen) per batch rather than a
    check of every hash seen so far (which made many small batches quadratic)."""
    import numpy as np

    batch = np.sort(hashes)
    if bool((batch[1:] == batch[:-1]).any()):
        return None
    if seen is None or not len(seen):
        return batch
    places = np.searchsorted(seen, batch)
    inside = places < len(seen)
    if bool((seen[places[inside]] == batch[inside]).any()):
        return None
    return np.insert(seen, places, batch)


def _all_distinct(hashes: np.ndarray) -> bool:
    """No two hashes are equal. Equal hashes share a bucket of their top bits, then of their next bits:
    two rounds of bucket counts leave a few hundred candidates per 100,000 to sort (numpy's sort of the
    whole costs several times more)."""
    import numpy as np

    bits = min(max(len(hashes).bit_length() + 2, 8), 28)
    for shift in (64 - bits, 64 - 2 * bits):
        if len(hashes) < 2:
            return True
        buckets = ((hashes >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.intp)
        hashes = hashes[np.bincount(buckets, minlength=1 << bits)[buckets] > 1]
    shared = np.sort(hashes)
    return not bool((shared[1:] == shared[:-1]).any())


def _hashed_by_bits(arrow_type: pa.DataType) -> bool:
    """Values ``hash_values`` hashes by their bits, without DuckDB."""
    import pyarrow as pa

    return bool(pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type) or pa.types.is_floating(arrow_type))


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

    relation = open_connection().from_arrow(pa.table({"v": values}))
    return relation.select(expression).to_arrow_table().column(0).combine_chunks()


@functools.cache
def open_connection() -> Any:
    """The DuckDB connection the statistics hash and serialise values in (opened once, ~40 ms)."""
    import duckdb

    return duckdb.connect(config={"enable_external_access": False})


def _int64s(values: np.ndarray) -> pa.Array:
    """Counts as an Arrow int64 array built from their buffer: ``pa.array`` of a numpy array would import
    numpy.ma (16 ms, once) to ask whether it is a masked array."""
    import numpy as np

    from ddc.engine.arrow_direct import from_numpy

    array = from_numpy(np.asarray(values, dtype=np.int64))
    assert array is not None  # 1-D native int64 always converts
    return array
