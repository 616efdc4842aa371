"""Column statistics of a finished dataset (the official ``column_statistics`` fields, computed in DuckDB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from ddc.compile.plan import Plan

TOP_VALUES = 5
#: Up to this many rows, all columns are summarised in one scan; above it, one column per query.
SINGLE_SCAN_ROWS = 200_000


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


#: Up to this many rows of plain (bool/int/float/str) columns, statistics come from Arrow kernels in memory.
ARROW_ROWS = 200_000


def column_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None, num_rows: int | None = None
) -> list[dict[str, Any]]:
    """One dict per column of an in-memory table or of a list of Parquet files (or both: the runner keeps
    a small dataset's rows in memory, so they are not read back from the files it just wrote).

    Small datasets of plain columns are summarised with Arrow kernels: no DuckDB start-up, which is most
    of a short run's statistics time. Plain types survive Parquet unchanged, so the in-memory figures
    are the files' figures. Larger ones stream through DuckDB, which keeps memory bounded (Arrow
    measured 5x slower at 1M rows). ``num_rows``: the files' row count, when the caller has it."""
    if table is None and files and (num_rows if num_rows is not None else row_count(files)) <= ARROW_ROWS:
        table = _read(files)
    if table is not None and table.num_rows <= ARROW_ROWS and _plain(table.schema) and not _has_nan(table):
        return _arrow_statistics(plan, table)
    return _duckdb_statistics(plan, table=None if files else table, files=files)


def _read(files: list[str]) -> pa.Table | None:
    """The batch files as one table (ParquetFile, not read_table: that imports pyarrow.dataset, ~7 ms);
    None when their schemas cannot be combined, which the DuckDB path handles."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pa.concat_tables([pq.ParquetFile(f).read() for f in files], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def row_count(files: list[str]) -> int:
    """Rows in Parquet files, from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)


def _has_nan(table: pa.Table) -> bool:
    """NaN orders differently in Arrow (skipped by min/max) and DuckDB (largest); DuckDB decides then,
    so a dataset's figures never depend on its size."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return any(pc.any(pc.is_nan(column)).as_py() for column in table.columns if pa.types.is_floating(column.type))


def _plain(schema: pa.Schema) -> bool:
    return all(_simple_dtype(f.type) in ("bool", "int", "float", "str") for f in schema)


def _base_stat(plan_column: Any, field: pa.Field, total: int, non_null: int, unique: int) -> dict[str, Any]:
    stat: dict[str, Any] = {
        "column_name": field.name,
        "column_type": plan_column.column_type if plan_column is not None else "seed-dataset",
        "num_records": total,
        "num_null": total - non_null,
        "num_unique": unique,
        "pyarrow_dtype": str(field.type),
        "simple_dtype": _simple_dtype(field.type),
    }
    if plan_column is not None and plan_column.sampler_type:
        stat["sampler_type"] = plan_column.sampler_type
    return stat


def _arrow_statistics(plan: Plan, table: pa.Table) -> list[dict[str, Any]]:
    """The DuckDB path's figures from Arrow kernels; top values by a k-selection, never a Python sort."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kinds = {c.name: c for c in plan.all_columns}
    total = table.num_rows
    out: list[dict[str, Any]] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        non_null = total - column.null_count
        values = column.drop_null() if column.null_count else column
        numeric = _simple_dtype(field.type) in ("int", "float")
        # Distinct counts from unique / value_counts: count_distinct measured 2-4x slower on 20k rows.
        counts = None if numeric or not non_null else pc.value_counts(values)
        unique = len(counts) if counts is not None else len(pc.unique(values)) if non_null else 0
        stat = _base_stat(kinds.get(field.name), field, total, non_null, unique)
        if not total:
            out.append(stat)
            continue
        if numeric:
            stat["distribution_type"] = "numerical"
            if non_null:
                bounds = pc.min_max(column)
                stat["distribution"] = {
                    "min": bounds["min"].as_py(),
                    "max": bounds["max"].as_py(),
                    "mean": pc.mean(column).as_py(),
                    "median": pc.quantile(column, q=0.5, interpolation="linear")[0].as_py(),
                    "stddev": pc.stddev(column, ddof=1).as_py() if non_null > 1 else None,
                }
            else:
                stat["distribution"] = dict.fromkeys(("min", "max", "mean", "median", "stddev"))
            out.append(stat)
            continue
        top: list[list[Any]] = []
        if counts is not None and len(counts):
            pairs = pa.table({"n": counts.field("counts"), "v": counts.field("values")})
            order = pc.select_k_unstable(
                pairs, k=min(TOP_VALUES, len(pairs)), sort_keys=[("n", "descending"), ("v", "ascending")]
            )
            chosen = pairs.take(order)
            top = [[v, int(n)] for v, n in zip(chosen["v"].to_pylist(), chosen["n"].to_pylist(), strict=True)]
        stat["distribution_type"] = "categorical"
        stat["distribution"] = {"most_common": top}
        out.append(stat)
    return out


def _duckdb_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None
) -> list[dict[str, Any]]:
    """Small datasets: every count and numeric summary in one scan. Large ones: one query per column over
    a view of the files, so DuckDB reads one column at a time and memory stays bounded. Text columns add a
    top-values query each."""
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
        con.execute(f"CREATE TEMP VIEW ddc_stats AS SELECT * FROM {listing}").fetchall()
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
        numeric = {i for i, t in enumerate(simples) if t in ("int", "float")}
        total = int(con.execute(f"SELECT count(*) FROM {source_sql}").fetchall()[0][0])
        groups = [list(range(len(fields)))] if total <= SINGLE_SCAN_ROWS else [[i] for i in range(len(fields))]
        counts: dict[int, tuple[Any, Any]] = {}
        summaries: dict[int, tuple[Any, ...]] = {}
        for group in groups:
            aggregates: list[str] = []
            for i in group:
                aggregates += [f"count({cols[i]})", f"count(DISTINCT {values[i]})"]
                if i in numeric:
                    c = cols[i]
                    aggregates += [f"min({c})", f"max({c})", f"avg({c})", f"median({c})", f"stddev_samp({c})"]
            row = con.execute(f"SELECT {', '.join(aggregates)} FROM {source_sql}").fetchall()[0]
            at = 0
            for i in group:
                counts[i] = (row[at], row[at + 1])
                at += 2
                if i in numeric:
                    summaries[i] = tuple(row[at : at + 5])
                    at += 5
        for i, field in enumerate(fields):
            non_null, unique = counts[i]
            stat = _base_stat(kinds.get(field.name), field, total, int(non_null), int(unique))
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
