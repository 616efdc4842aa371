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
    """One dict per column of an in-memory table or of a list of Parquet files (streamed by DuckDB).

    Every count and numeric summary comes from one scan; text columns add one top-values query each.
    (An Arrow-kernel version was measured: no faster at 20,000 rows, 5x slower at 1,000,000.)"""
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
        fields = list(schema)
        cols = ['"' + f.name.replace('"', '""') + '"' for f in fields]
        simples = [_simple_dtype(f.type) for f in fields]
        values = [
            c if t in ("bool", "int", "float", "str") else f"CAST({c} AS VARCHAR)"
            for c, t in zip(cols, simples, strict=True)
        ]
        numeric = [i for i, t in enumerate(simples) if t in ("int", "float")]
        # One scan for every count and every numeric summary, instead of two queries per column.
        aggregates = ["count(*)"]
        for col, value in zip(cols, values, strict=True):
            aggregates += [f"count({col})", f"count(DISTINCT {value})"]
        for i in numeric:
            c = cols[i]
            aggregates += [f"min({c})", f"max({c})", f"avg({c})", f"median({c})", f"stddev_samp({c})"]
        row = con.execute(f"SELECT {', '.join(aggregates)} FROM {source_sql}").fetchall()[0]
        total = int(row[0])
        summaries = {
            i: row[1 + 2 * len(fields) + 5 * k : 1 + 2 * len(fields) + 5 * (k + 1)] for k, i in enumerate(numeric)
        }
        for i, field in enumerate(fields):
            non_null, unique = row[1 + 2 * i], row[2 + 2 * i]
            planned = kinds.get(field.name)
            stat: dict[str, Any] = {
                "column_name": field.name,
                "column_type": planned.column_type if planned is not None else "seed-dataset",
                "num_records": total,
                "num_null": total - int(non_null),
                "num_unique": int(unique),
                "pyarrow_dtype": str(field.type),
                "simple_dtype": simples[i],
            }
            if planned is not None and planned.sampler_type:
                stat["sampler_type"] = planned.sampler_type
            if i in summaries and total:
                low, high, mean, median, std = summaries[i]
                stat["distribution_type"] = "numerical"
                stat["distribution"] = {"min": low, "max": high, "mean": mean, "median": median, "stddev": std}
            elif total:
                top = con.execute(
                    f"SELECT {values[i]} AS v, count(*) AS n FROM {source_sql} WHERE {cols[i]} IS NOT NULL "
                    f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_VALUES}"
                ).fetchall()
                stat["distribution_type"] = "categorical" if simples[i] in ("str", "bool") else "other"
                stat["distribution"] = {"most_common": [[v, int(n)] for v, n in top]}
            out.append(stat)
    finally:
        con.close()
    return out
