"""Reading records back: a dataset directory a run wrote (or any Parquet files), or rows in memory,
filtered by a DuckDB expression (``ddc show --where``).

The filter is user text put into SQL, so it runs on a connection that can read only the dataset's own
files (external access off, configuration locked) and must be one SELECT: ``x > 1; COPY ...`` is
refused, and so is a subquery reading any other file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError, UsageError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

#: The column carrying each record's row number (0-based, in file order) through the query.
ROW = "__ddc_row"


@dataclass
class Records:
    """Records read back, with their row numbers and the language of each code column."""

    rows: list[dict[str, Any]]
    indices: list[int]
    code_langs: dict[str, str] = field(default_factory=dict)


def dataset_files(path: Path) -> tuple[list[Path], Path | None]:
    """The Parquet files of a dataset (a run's directory, a ``parquet-files`` folder or one file) and the
    dataset directory when there is one."""
    from ddc.engine.writer import PARQUET_DIR

    if path.is_file():
        if path.suffix != ".parquet":
            raise UsageError(f"{path}: not a dataset", hint="give a dataset directory, a .parquet file or a spec")
        return [path], None
    for folder, root in ((path / PARQUET_DIR, path), (path, path.parent)):
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if files:
            return files, root if (root / "metadata.json").is_file() or folder != path else None
    raise UsageError(f"{path}: no Parquet files", hint="give the directory a `ddc run` wrote (OUTPUT_DIR/NAME)")


def parquet_footer(file: Path) -> pq.FileMetaData:
    """The footer (row count, schema) of a Parquet file; a ``RunError`` naming the file when it is not one
    (a batch cut short or overwritten), not pyarrow's traceback."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(file)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(file, exc) from None


def damaged_parquet(files: list[Path]) -> RunError | None:
    """The error naming the first of ``files`` whose data cannot be read back, or None. A damaged page
    passes the footer check, and DuckDB's error does not say which file it was reading; so after a query
    over the files failed, each is read through once (one record batch at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in files:
        try:
            for _ in pq.ParquetFile(file).iter_batches():
                pass
        except (pa.ArrowException, OSError) as exc:
            return _unreadable(file, exc)
    return None


def _unreadable(file: Path, exc: Exception) -> RunError:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return RunError(f"{file}: not a readable Parquet file: {reason}")


def code_langs_of(columns: list[dict[str, Any]]) -> dict[str, str]:
    return {c["name"]: c["code_lang"] for c in columns if c.get("column_type") == "llm-code" and c.get("code_lang")}


def _dataset_code_langs(dataset_dir: Path | None) -> dict[str, str]:
    if dataset_dir is None:
        return {}
    try:
        config = json.loads((dataset_dir / "builder_config.json").read_text(encoding="utf-8"))
        return code_langs_of(config["data_designer"].get("columns") or [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _locked_connection(allowed: list[str]) -> duckdb.DuckDBPyConnection:
    """A connection that can read ``allowed`` and nothing else (the seed queries' lockdown)."""
    from ddc.spec.seed_sql import sandboxed_connection

    return sandboxed_connection({}, allowed)


def _query(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    where: str | None,
    record: int | None,
    columns: list[str] | None,
    available: list[str],
    limit: int | None,
) -> tuple[list[dict[str, Any]], list[int]]:
    import duckdb

    if columns:
        unknown = [c for c in columns if c not in available]
        if unknown:
            raise UsageError(f"--columns: no column {unknown[0]!r}", hint=f"columns: {', '.join(available)}")
    chosen = columns or available
    conditions = []
    if where:
        conditions.append(f"({where}\n)")
    if record is not None:
        conditions.append(f"{ROW} = {int(record)}")
    sql = f"SELECT {ROW}, {', '.join(_quote(c) for c in chosen)} FROM ({source})"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += f" ORDER BY {ROW}" + (f" LIMIT {int(limit)}" if limit is not None else "")
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise UsageError(f"--where must be one filter expression (got {where!r})")
        result = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        unreadable = type(exc) in (duckdb.Error, duckdb.IOException)  # the Parquet reader's, not --where's
        raise UsageError(f"--where {where!r}: {message}") if where and not unreadable else RunError(message) from exc
    rows = result.to_pylist()
    return [{k: v for k, v in r.items() if k != ROW} for r in rows], [r[ROW] for r in rows]


def read_dataset(
    path: Path,
    *,
    where: str | None = None,
    record: int | None = None,
    columns: list[str] | None = None,
    limit: int | None = None,
) -> Records:
    """Records of a dataset on disk, numbered in file order (the numbers ``errors.jsonl`` uses)."""
    files, dataset_dir = dataset_files(path)
    footers = [parquet_footer(file) for file in files]
    offsets, start = [], 0
    for footer in footers:
        offsets.append(start)
        start += footer.num_rows
    available = list(footers[0].schema.to_arrow_schema().names)
    resolved = [str(f.resolve()) for f in files]
    con = _locked_connection(resolved)
    try:
        parts = [
            f"SELECT {offset} + file_row_number AS {ROW}, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({_literal(file)}, file_row_number=true)"
            for file, offset in zip(resolved, offsets, strict=True)
        ]
        source = " UNION ALL BY NAME ".join(parts)
        rows, indices = _query(
            con, source, where=where, record=record, columns=columns, available=available, limit=limit
        )
    except RunError as exc:  # DuckDB could not read a file: say which
        raise damaged_parquet(files) or exc from None
    finally:
        con.close()
    return Records(rows, indices, _dataset_code_langs(dataset_dir))


def filter_table(
    table: pa.Table,
    *,
    where: str | None = None,
    record: int | None = None,
    columns: list[str] | None = None,
    limit: int | None = None,
    code_langs: dict[str, str] | None = None,
) -> Records:
    """Records of rows in memory (a preview), through the same filter as ``read_dataset``."""
    import pyarrow as pa

    numbered = table.append_column(ROW, pa.array(range(table.num_rows), type=pa.int64()))
    con = _locked_connection([])
    try:
        con.register("preview_rows", numbered)
        rows, indices = _query(
            con,
            "SELECT * FROM preview_rows",
            where=where,
            record=record,
            columns=columns,
            available=list(table.column_names),
            limit=limit,
        )
    finally:
        con.close()
    return Records(rows, indices, dict(code_langs or {}))
