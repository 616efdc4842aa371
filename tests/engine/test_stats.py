"""Column statistics: the official profiler's fields, accumulated batch by batch."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ddc.compile.plan import plan_spec
from ddc.engine.stats import StatisticsAccumulator, column_statistics, items_named_item
from ddc.spec.load import load_spec

SPEC = """
columns:
  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}
  - {name: c, column_type: sampler, sampler_type: category, params: {values: [a, b]}}
  - {name: u, column_type: sampler, sampler_type: uuid, params: {}}
  - {name: s, column_type: expression, expr: "x"}
"""


def stats_of(table: pa.Table, spec: str = SPEC) -> dict[str, dict]:
    plan = plan_spec(load_spec(spec))
    return {s["column_name"]: s for s in column_statistics(plan, table=table)}


def in_batches(table: pa.Table, size: int, spec: str = SPEC) -> dict[str, dict]:
    accumulator = StatisticsAccumulator()
    for start in range(0, table.num_rows, size):
        accumulator.add(table.slice(start, size))
    return {s["column_name"]: s for s in accumulator.result(plan_spec(load_spec(spec)))}


def test_numerical_samplers_get_min_max_mean_stddev_and_median() -> None:
    stats = stats_of(pa.table({"n": [1.0, 3.0, 2.0, None]}))
    assert stats["n"]["distribution_type"] == "numerical"
    assert stats["n"]["distribution"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "stddev": 1.0, "median": 2.0}
    assert (stats["n"]["num_records"], stats["n"]["num_null"], stats["n"]["num_unique"]) == (4, 1, 3)


def test_category_samplers_get_a_histogram_with_most_and_least_common_values() -> None:
    stats = stats_of(pa.table({"c": ["a", "a", "b", "a", "c", "c"]}))
    assert stats["c"]["distribution"] == {
        "most_common_value": "a",
        "least_common_value": "b",
        "histogram": {"categories": ["a", "c", "b"], "counts": [3, 2, 1]},
    }


def test_other_samplers_name_their_sampler_type_and_have_no_distribution() -> None:
    stats = stats_of(pa.table({"u": ["x1", "x2"]}))
    assert (stats["u"]["sampler_type"], stats["u"]["distribution_type"], stats["u"]["distribution"]) == (
        "uuid",
        "other",
        None,
    )


def test_ties_in_a_histogram_are_broken_by_value() -> None:
    stats = stats_of(pa.table({"c": ["g", "f", "e", "d", "c", "b", "a"]}))
    assert stats["c"]["distribution"]["histogram"]["categories"] == ["a", "b", "c", "d", "e", "f", "g"]


def test_simple_dtypes_are_the_official_names() -> None:
    table = pa.table(
        {
            "s": ["x"],
            "i": pa.array([1], pa.int32()),
            "f": [1.5],
            "d": [{"k": 1}],
            "l": [[1, 2]],
        }
    )
    stats = stats_of(table)
    assert [stats[k]["simple_dtype"] for k in "sifdl"] == ["string", "int", "float", "dict", "list[int]"]


def test_columns_not_in_the_spec_are_seed_columns_with_the_official_distribution_rule() -> None:
    stats = stats_of(pa.table({"city": ["Paris"] * 19 + ["Rome"], "id": list(range(20))}))
    assert (stats["city"]["column_type"], stats["city"]["distribution_type"]) == ("seed-dataset", "categorical")
    assert stats["id"]["distribution_type"] == "other"  # every integer distinct: an identifier


def test_strings_with_spaces_are_text_and_iso_dates_are_other() -> None:
    stats = stats_of(
        pa.table({"t": [f"word {i} more" for i in range(30)], "d": [f"2024-01-{i:02d}" for i in range(1, 31)]})
    )
    assert (stats["t"]["distribution_type"], stats["d"]["distribution_type"]) == ("text", "other")


def test_side_effect_columns_are_left_out_as_the_official_profiler_does() -> None:
    spec = SPEC + "  - {name: j, column_type: expression, expr: 'y'}\n"
    plan = plan_spec(load_spec(spec))
    side = next(iter(plan.all_columns)).side_effects
    assert not side or all(s not in stats_of(pa.table({"n": [1.0]}), spec) for s in side)


def test_an_empty_table_has_counts_and_a_missing_distribution() -> None:
    stats = stats_of(pa.table({"n": pa.array([], pa.float64()), "s": pa.array([], pa.string())}))
    assert (stats["n"]["num_records"], stats["n"]["distribution"]) == (0, "--")


def test_nan_counts_as_a_value_but_not_in_the_numeric_summary() -> None:
    stats = stats_of(pa.table({"n": [1.5, float("nan"), 3.0]}))
    assert (stats["n"]["num_null"], stats["n"]["distribution"]["max"]) == (0, 3.0)


@pytest.mark.parametrize("size", [1, 7, 50])
def test_figures_do_not_depend_on_the_batch_size(size: int) -> None:
    rng = np.random.default_rng(5)
    table = pa.table(
        {
            "n": rng.normal(size=300),
            "c": rng.choice(["a", "b", "c"], size=300),
            "s": [f"v{i % 17}" for i in range(300)],
        }
    )
    whole, parts = stats_of(table), in_batches(table, size)
    assert whole.keys() == parts.keys()
    for name in whole:
        got, want = parts[name], whole[name]
        if name == "n":
            assert got["distribution"]["mean"] == pytest.approx(want["distribution"]["mean"], rel=1e-12)
            assert got["distribution"]["stddev"] == pytest.approx(want["distribution"]["stddev"], rel=1e-12)
            got = {**got, "distribution": {**got["distribution"], "mean": 0, "stddev": 0}}
            want = {**want, "distribution": {**want["distribution"], "mean": 0, "stddev": 0}}
        assert got == want


def test_validation_columns_count_their_valid_records() -> None:
    spec = """
columns:
  - {name: code, column_type: expression, expr: "x = 1"}
  - {name: check, column_type: validation, target_columns: [code], validator_type: code,
     validator_params: {code_lang: python}}
"""
    table = pa.table({"code": ["x = 1"] * 3, "check": [{"is_valid": True}, {"is_valid": False}, {"is_valid": True}]})
    assert stats_of(table, spec)["check"]["num_valid_records"] == 2


def test_integers_beyond_float_precision_get_exact_bounds() -> None:
    big = 2**62 + 1
    stats = stats_of(pa.table({"big": pa.array([big, big + 2, -5, -5], pa.int64())}))
    assert (stats["big"]["distribution"]["min"], stats["big"]["distribution"]["max"]) == (-5, big + 2)


def test_list_items_are_named_item_at_any_depth() -> None:
    read_back = pa.struct([("tags", pa.list_(pa.field("element", pa.large_list(pa.field("l", pa.int64())))))])
    assert str(items_named_item(read_back)) == "struct<tags: list<item: large_list<item: int64>>>"
