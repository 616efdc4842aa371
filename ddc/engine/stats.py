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


#: Datasets up to this many bytes of Parquet are summarised in Arrow; larger ones stream through DuckDB.
IN_MEMORY_BYTES = 64 << 20


def column_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None
) -> list[dict[str, Any]]:
    """One dict per column of an in-memory table or of a list of Parquet files."""
    import os

    if table is None and files and sum(os.path.getsize(f) for f in files) <= IN_MEMORY_BYTES:
        import pyarrow.parquet as pq

        table = pq.ParquetDataset(files).read() if len(files) > 1 else pq.read_table(files[0])
    if table is not None and all(_simple_dtype(f.type) in ("bool", "int", "float", "str") for f in table.schema):
        return _arrow_statistics(plan, table)
    return _duckdb_statistics(plan, table=table, files=files)


def _base_stat(plan: Plan, name: str, arrow_type: Any, total: int, nulls: int, unique: int) -> dict[str, Any]:
    planned = next((c for c in plan.all_columns if c.name == name), None)
    stat: dict[str, Any] = {
        "column_name": name,
        "column_type": planned.column_type if planned is not None else "seed-dataset",
        "num_records": total,
        "num_null": nulls,
        "num_unique": unique,
        "pyarrow_dtype": str(arrow_type),
        "simple_dtype": _simple_dtype(arrow_type),
    }
    if planned is not None and planned.sampler_type:
        stat["sampler_type"] = planned.sampler_type
    return stat


def _arrow_statistics(plan: Plan, table: pa.Table) -> list[dict[str, Any]]:
    """The same figures as the DuckDB path, computed with Arrow kernels (no DuckDB start-up)."""
    import pyarrow.compute as pc

    out: list[dict[str, Any]] = []
    total = table.num_rows
    for field, column in zip(table.schema, table.columns, strict=True):
        nulls = column.null_count
        unique = pc.count_distinct(column, mode="only_valid").as_py()
        stat = _base_stat(plan, field.name, field.type, total, nulls, unique)
        simple = stat["simple_dtype"]
        if not total:
            out.append(stat)
            continue
        if simple in ("int", "float") and total > nulls:
            bounds = pc.min_max(column)
            median = pc.quantile(column, q=0.5, interpolation="linear").to_pylist()[0]
            std = pc.stddev(column, ddof=1).as_py() if total - nulls > 1 else None
            stat["distribution_type"] = "numerical"
            stat["distribution"] = {
                "min": bounds["min"].as_py(),
                "max": bounds["max"].as_py(),
                "mean": pc.mean(column).as_py(),
                "median": median,
                "stddev": std,
            }
        elif simple in ("int", "float"):
            stat["distribution_type"] = "numerical"
            stat["distribution"] = {"min": None, "max": None, "mean": None, "median": None, "stddev": None}
        else:
            counts = pc.value_counts(column.drop_null()) if total > nulls else None
            pairs = (
                []
                if counts is None
                else list(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
            )
            pairs.sort(key=lambda p: (-p[1], p[0]))
            stat["distribution_type"] = "categorical"
            stat["distribution"] = {"most_common": [[v, int(n)] for v, n in pairs[:TOP_VALUES]]}
        out.append(stat)
    return out


def _duckdb_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None
) -> list[dict[str, Any]]:
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
