"""What the report shows of each column: its figures, one chart chosen by its type, its model usage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddc.report import plots
from ddc.report.dataset import Dataset, batch_read_error, histogram, quoted, top_values

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ColumnSection:
    name: str
    column_type: str
    figures: list[tuple[str, str]]  # (label, value) rows of the column's table
    chart: str  # inline SVG
    chart_title: str
    usage: list[tuple[str, str]] = field(default_factory=list)


def column_sections(ds: Dataset) -> list[ColumnSection]:
    stats = {s["column_name"]: s for s in ds.metadata.get("column_statistics") or []}
    if not stats and ds.plan is not None:
        import pyarrow as pa

        from ddc.engine.stats import column_statistics

        try:
            computed = column_statistics(ds.plan, files=[str(f) for f in ds.files])
        except (pa.ArrowException, OSError) as exc:
            raise batch_read_error(ds.files, exc) from None
        stats = {s["column_name"]: s for s in computed}
    types = {c.name: c.column_type for c in ds.plan.all_columns} if ds.plan is not None else {}
    failures = Counter(e.get("column") for e in ds.errors)
    metrics = ds.metadata.get("column_metrics") or {}
    sections = []
    for arrow_field in ds.schema:
        name = arrow_field.name
        stat = stats.get(name, {})
        column_type = stat.get("ddc_column_type") or types.get(name) or stat.get("column_type") or "seed-dataset"
        title, chart = _chart(ds, arrow_field, column_type, stat)
        sections.append(ColumnSection(name, column_type, _figures(stat), chart, title, _usage(name, metrics, failures)))
    return sections


def _figures(stat: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("data type", str(stat.get("simple_dtype", "—"))),
        ("records", number_text(stat.get("num_records"))),
        ("null", number_text(stat.get("num_null"))),
        ("unique", number_text(stat.get("num_unique"))),
    ]
    if stat.get("sampler_type"):
        rows.append(("sampler", str(stat["sampler_type"])))
    dist = stat.get("distribution")
    if isinstance(dist, dict) and "mean" in dist:
        rows += [(k, number_text(dist.get(k))) for k in ("min", "max", "mean", "median", "stddev")]
    if isinstance(dist, dict) and "most_common_value" in dist:
        rows.append(("most common", str(dist["most_common_value"])))
    if "num_valid_records" in stat:
        rows.append(("valid", number_text(stat["num_valid_records"])))
    if stat.get("ddc_token_counts") == "server":
        rows.append(("tokens in (median)", number_text(stat.get("input_tokens_median"))))
        rows.append(("tokens out (median)", number_text(stat.get("output_tokens_median"))))
    if stat.get("approximate"):
        rows.append(("estimated", ", ".join(stat["approximate"])))
    return rows


def _usage(name: str, metrics: dict[str, Any], failures: Counter[Any]) -> list[tuple[str, str]]:
    rows = [
        (label, number_text(metrics[f"{name}.{key}"]))
        for key, label in (
            ("requests", "requests"),
            ("retries", "retries"),
            ("cache_hits", "cache hits"),
            ("input_tokens", "input tokens"),
            ("output_tokens", "output tokens"),
        )
        if f"{name}.{key}" in metrics
    ]
    if rows or failures.get(name):
        rows.append(("failed cells", number_text(failures.get(name, 0))))
    return rows


def number_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _chart(ds: Dataset, arrow_field: pa.Field, column_type: str, stat: dict[str, Any]) -> tuple[str, str]:
    """(title, SVG) of the chart that suits the column."""
    import pyarrow as pa

    col, t = quoted(arrow_field.name), arrow_field.type
    if column_type == "llm-judge" and pa.types.is_struct(t):
        criteria = {
            f.name: top_values(ds, f"{col}.{quoted(f.name)}.score")
            for f in t
            if pa.types.is_struct(f.type) and f.type.get_field_index("score") >= 0
        }
        if criteria:
            return "scores by criterion", plots.score_panels(criteria)
    if pa.types.is_boolean(t) or stat.get("distribution_type") == "categorical":
        return _top(ds, col, "most common values")
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "distribution", _histogram(ds, col, arrow_field.name)
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "dates", _histogram(ds, f"(epoch({col}) / 86400)", "date", dates=True)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if _all_dates(ds, col):
            return "dates", _histogram(
                ds, f"(epoch(CAST(try_cast({col} AS DATE) AS TIMESTAMP)) / 86400)", "date", dates=True
            )
        return "text length (characters)", _histogram(ds, f"length({col})", "characters")
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
        pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)
    ):
        return "vector norm", _histogram(ds, f"sqrt(list_sum(list_transform({col}, x -> x * x)))", "L2 norm")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "list length", _histogram(ds, f"len({col})", "items")
    if pa.types.is_struct(t):
        total = ds.sql("SELECT count(*) FROM data")[0][0] or 1
        fields = [f.name for f in t]
        counts = ds.sql("SELECT " + ", ".join(f"count({col}.{quoted(f)})" for f in fields) + " FROM data")[0]
        return "fields filled (% of rows)", plots.bars(fields, [round(100 * n / total) for n in counts], "% of rows")
    return _top(ds, col, "most common values")


def _top(ds: Dataset, col: str, title: str) -> tuple[str, str]:
    pairs = top_values(ds, col)
    return title, plots.bars([v for v, _ in pairs], [n for _, n in pairs]) if pairs else _empty()


def _histogram(ds: Dataset, expression: str, xlabel: str, *, dates: bool = False) -> str:
    edges, counts = histogram(ds, expression)
    return plots.histogram(edges, counts, xlabel, dates=dates) if counts else _empty()


def _all_dates(ds: Dataset, col: str) -> bool:
    present, dated = ds.sql(f"SELECT count({col}), count(try_cast({col} AS DATE)) FROM data")[0]
    return bool(present) and present == dated


def _empty() -> str:
    return plots.bars(["(no values)"], [0])
