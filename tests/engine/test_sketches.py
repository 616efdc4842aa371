"""The mergeable summaries behind the statistics: exact under their caps, close and reproducible above."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ddc.engine import sketches
from ddc.engine.sketches import HyperLogLog, Moments, RowSample, TopValues, mix64


def test_moments_merged_per_batch_equal_the_whole_columns() -> None:
    values = np.random.default_rng(1).normal(10, 3, size=10_000)
    moments = Moments()
    for part in np.array_split(values, 13):
        moments.add(part, part.min(), part.max())
    assert abs(moments.mean - values.mean()) < 1e-12
    assert abs(moments.stddev() - values.std(ddof=1)) < 1e-9
    assert (moments.low, moments.high, moments.count) == (values.min(), values.max(), 10_000)


def test_a_row_sample_keeps_every_value_until_it_is_full() -> None:
    sample = RowSample(size=100)
    sample.add(np.arange(99), np.arange(99, dtype=np.float64))
    assert sample.median() == 49.0


def test_a_row_sample_keeps_the_same_rows_whatever_the_batches() -> None:
    values = np.random.default_rng(2).random(5_000)
    one, many = RowSample(size=500), RowSample(size=500)
    one.add(np.arange(5_000), values)
    for start in range(0, 5_000, 333):
        many.add(np.arange(start, min(start + 333, 5_000)), values[start : start + 333])
    assert sorted(one.values) == sorted(many.values)


@pytest.mark.parametrize(
    "values",
    [np.array([3.0, 1.0, 2.0]), np.array([4, 1, 3, 2]), np.array([2.5, np.nan, 1.0]), np.array([7], dtype=np.int32)],
    ids=["odd", "even-integers", "nan", "one"],
)
def test_a_row_samples_median_is_numpys(values: np.ndarray) -> None:
    sample = RowSample(size=100)
    sample.add(np.arange(len(values)), values)
    assert np.array_equal(sample.median(), np.median(values), equal_nan=True)


def test_a_sampled_median_is_close_to_the_exact_one() -> None:
    values = np.random.default_rng(3).exponential(size=400_000)
    sample = RowSample()
    sample.add(np.arange(len(values)), values)
    exact_rank = np.searchsorted(np.sort(values), sample.median()) / len(values)
    assert abs(exact_rank - 0.5) < 0.01


def test_hyperloglog_estimates_within_three_percent() -> None:
    hll = HyperLogLog()
    hll.add(mix64(np.arange(1_000_000, dtype=np.uint64)))
    assert abs(hll.estimate() - 1_000_000) / 1_000_000 < 0.03


def test_hyperloglog_counts_small_sets_almost_exactly() -> None:
    hll = HyperLogLog()
    hll.add(mix64(np.arange(500, dtype=np.uint64)))
    assert abs(hll.estimate() - 500) <= 5


def test_top_values_are_exact_under_the_cap() -> None:
    top = TopValues()
    for part in (["a", "b", "a"], ["b", "a", "c"]):
        top.add(pc.value_counts(pa.array(part)))
    assert (top.ranked(), top.num_distinct(), top.exact) == ([("a", 3), ("b", 2), ("c", 1)], 3, True)


def test_past_the_cap_distinct_counts_are_estimated_and_frequent_values_kept(monkeypatch) -> None:
    monkeypatch.setattr(sketches, "EXACT_DISTINCT", 1_000)
    top = TopValues()
    for start in range(0, 20_000, 2_000):
        values = pa.array([f"id{i}" for i in range(start, start + 2_000)] + ["hot"] * 500)
        top.add(pc.value_counts(values))
    assert not top.exact
    assert abs(top.num_distinct() - 20_001) / 20_001 < 0.03
    assert top.ranked(1)[0][0] == "hot"


def test_numbers_hash_alike_whatever_their_integer_width() -> None:
    narrow = sketches.hash_values(pa.array([1, 2, 3], pa.int8()))
    wide = sketches.hash_values(pa.array([1, 2, 3], pa.int64()))
    assert (narrow == wide).all()


def test_distinct_values_skip_the_counting_with_the_same_figures(monkeypatch) -> None:
    monkeypatch.setattr(sketches, "EXACT_DISTINCT", 3_000)
    counted, proven = TopValues(), TopValues()
    for start in range(0, 10_000, 2_000):
        values = pa.array([f"id{i}" for i in range(start, start + 2_000)] + ["hot"] * (start // 1_000))
        counted.add(pc.value_counts(values))
        proven.add_values(values)
    assert (proven.num_distinct(), proven.exact) == (counted.num_distinct(), counted.exact)
    assert proven.ranked() == counted.ranked()


def test_a_value_repeated_in_a_later_batch_is_counted_twice() -> None:
    top = TopValues()
    top.add_values(pa.array([f"id{i}" for i in range(5_000)]))
    top.add_values(pa.array([f"id{i}" for i in range(5_000, 9_000)] + ["id42"]))
    assert top.num_distinct() == 9_000
    assert top.ranked(1) == [("id42", 2)]


def test_text_counted_without_hashes_gives_the_hashed_figures() -> None:
    hashed, counted = TopValues(), TopValues(hash_text=False)
    for start in range(0, 8_000, 2_000):
        values = pa.array([f"id{i}" for i in range(start, start + 2_000)] + ["id7"] * (start // 2_000))
        hashed.add_values(values)
        counted.add_values(values)
    assert (counted.num_distinct(), counted.exact) == (hashed.num_distinct(), hashed.exact) == (8_000, True)
    assert counted.ranked() == hashed.ranked()
