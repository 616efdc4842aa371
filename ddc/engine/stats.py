"""Column statistics of a finished dataset (the official ``column_statistics`` fields, computed in DuckDB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from ddc.compile.plan import Plan

TOP_VALUES = 5


def _simple_dtype(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "str"
    if pa.types.is_struct(arrow_type) or pa.types.is_map(arrow_type):
        return "dict"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return "list"
    return str(arrow_type)


def column_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None
) -> list[dict[str, Any]]:
    """One dict per column of an in-memory table or of a list of Parquet files."""
    import duckdb
    import pyarrow.parquet as pq

    kinds = {c.name: c for c in plan.all_columns}
    con = duckdb.connect()
    out: list[dict[str, Any]] = []
    if table is not None:
        con.register("ddc_stats", table)
        source_sql, schema = "ddc_stats", table.schema
    elif files:
        listing = "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"
        con.execute(f"CREATE TEMP TABLE ddc_stats AS SELECT * FROM {listing}").fetchall()
        source_sql, schema = "ddc_stats", pq.read_schema(files[0])
    else:
        con.close()
        return out
    try:
        for field in schema:
            col = '"' + field.name.replace('"', '""') + '"'
            simple = _simple_dtype(field.type)
            value = col if simple in ("bool", "int", "float", "str") else f"CAST({col} AS VARCHAR)"
            total, nulls, unique = con.execute(
                f"SELECT count(*), count(*) - count({col}), count(DISTINCT {value}) FROM {source_sql}"
            ).fetchall()[0]
            planned = kinds.get(field.name)
            stat: dict[str, Any] = {
                "column_name": field.name,
                "column_type": planned.column_type if planned is not None else "seed-dataset",
                "num_records": int(total),
                "num_null": int(nulls),
                "num_unique": int(unique),
                "pyarrow_dtype": str(field.type),
                "simple_dtype": simple,
            }
            if planned is not None and planned.sampler_type:
                stat["sampler_type"] = planned.sampler_type
            if simple in ("int", "float") and total:
                low, high, mean, median, std = con.execute(
                    f"SELECT min({col}), max({col}), avg({col}), median({col}), stddev_samp({col}) FROM {source_sql}"
                ).fetchall()[0]
                stat["distribution_type"] = "numerical"
                stat["distribution"] = {
                    "min": low,
                    "max": high,
                    "mean": mean,
                    "median": median,
                    "stddev": std,
                }
            elif total:
                rows = con.execute(
                    f"SELECT {value} AS v, count(*) AS n FROM {source_sql} WHERE {col} IS NOT NULL "
                    f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_VALUES}"
                ).fetchall()
                stat["distribution_type"] = "categorical" if simple in ("str", "bool") else "other"
                stat["distribution"] = {"most_common": [[v, int(n)] for v, n in rows]}
            out.append(stat)
    finally:
        con.close()
    return out
