from __future__ import annotations

import pyarrow as pa

from ddc.compile.plan import plan_spec
from ddc.engine.stats import column_statistics
from ddc.spec.load import load_spec

SPEC = """
columns:
  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}
  - {name: s, column_type: expression, expr: "x"}
"""


def stats_of(table: pa.Table) -> dict[str, dict]:
    plan = plan_spec(load_spec(SPEC))
    return {s["column_name"]: s for s in column_statistics(plan, table=table)}


def test_numeric_columns_get_min_max_mean() -> None:
    stats = stats_of(pa.table({"n": [1.0, 3.0, None], "s": ["a", "a", "b"]}))
    assert (stats["n"]["num_null"], stats["n"]["distribution"]["min"], stats["n"]["distribution"]["max"]) == (1, 1, 3)


def test_text_columns_get_their_most_common_values() -> None:
    stats = stats_of(pa.table({"n": [1.0, 3.0, 2.0], "s": ["a", "a", "b"]}))
    assert stats["s"]["distribution"]["most_common"] == [["a", 2], ["b", 1]]
    assert (stats["s"]["num_unique"], stats["s"]["column_type"]) == (2, "expression")


def test_sampler_columns_name_their_sampler_type() -> None:
    assert stats_of(pa.table({"n": [1.0], "s": ["a"]}))["n"]["sampler_type"] == "uniform"


def test_arrow_and_duckdb_paths_give_the_same_figures() -> None:
    from ddc.engine.stats import _arrow_statistics, _duckdb_statistics

    plan = plan_spec(load_spec(SPEC))
    table = pa.table(
        {
            "n": [1.5, None, 3.0, 3.0, -2.25],
            "s": ["b", "a", None, "a", "b"],
            "i": [4, 4, 1, None, 9],
            "flag": [True, False, True, None, True],
            "empty": pa.array([None] * 5, pa.float64()),
        }
    )
    assert _arrow_statistics(plan, table) == _duckdb_statistics(plan, table=table)


def test_ties_among_top_values_are_broken_by_value() -> None:
    stats = stats_of(pa.table({"n": [1.0] * 7, "s": ["g", "f", "e", "d", "c", "b", "a"]}))
    assert [v for v, _ in stats["s"]["distribution"]["most_common"]] == ["a", "b", "c", "d", "e"]


def test_an_empty_table_has_counts_and_no_distribution() -> None:
    stats = stats_of(pa.table({"n": pa.array([], pa.float64()), "s": pa.array([], pa.string())}))
    assert (stats["s"]["num_records"], "distribution" in stats["s"]) == (0, False)


def test_nan_is_ordered_as_duckdb_orders_it_whatever_the_size() -> None:
    stats = stats_of(pa.table({"n": [1.5, float("nan"), 3.0], "s": ["a", "b", "c"]}))
    assert stats["n"]["distribution"]["max"] != stats["n"]["distribution"]["max"]  # NaN, the largest
