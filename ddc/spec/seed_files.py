"""Local seed data: resolving paths and globs, and exposing seeds to DuckDB.

Shared by validation (do the files exist, does the query compile, which columns), the engine
(streaming the seed) and submit (materialising it to Parquet for upload). Relative paths resolve
against the spec file's directory first, then the current directory (the official library uses the
current directory only; ddc accepts both so published configs keep working).
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError
from ddc.spec.seeds import LocalFileSeedSource, QuerySeedSource

if TYPE_CHECKING:
    import duckdb


class SeedFileError(ValueError):
    """A seed path that does not resolve; the caller attaches the spec position."""


class SeedQueryRefused(SeedFileError):
    """A seed query that is not one read-only statement (see ``ddc.spec.seed_sql``)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_paths(path: str | Sequence[str]) -> str:
    """A DuckDB file argument: one quoted path or glob, or a list literal of paths."""
    if isinstance(path, str):
        return _quote(path)
    return "[" + ", ".join(_quote(p) for p in path) + "]"


def resolve_seed_path(pattern: str, base_dir: Path) -> str:
    """An absolute path or glob for ``pattern``; raises SeedFileError naming what was tried."""
    candidates = [Path(pattern)] if Path(pattern).is_absolute() else [base_dir / pattern, Path.cwd() / pattern]
    for candidate in candidates:
        text = str(candidate)
        if glob.has_magic(text):
            if glob.glob(text, recursive=True):
                return text
        elif candidate.is_file():
            return text
    tried = " or ".join(dict.fromkeys(str(c) for c in candidates))
    kind = "no file matches" if glob.has_magic(pattern) else "no such file"
    raise SeedFileError(f"{kind} {pattern!r} (looked for {tried})")


def expand_seed_path(path: str) -> list[str]:
    """The files a resolved path or glob (from ``resolve_seed_path``) names, sorted."""
    if glob.has_magic(path):
        return sorted(p for p in glob.glob(path, recursive=True) if Path(p).is_file())
    return [path]


def seed_file_reader(path: str) -> str:
    """The DuckDB reader of a seed file or glob, by suffix: read_parquet, read_csv or read_json_auto."""
    lower = path.lower()
    if lower.endswith(".parquet"):
        return "read_parquet"
    if lower.endswith(".csv"):
        return "read_csv"
    if lower.endswith((".json", ".jsonl")):
        return "read_json_auto"
    raise SeedFileError(f"unsupported seed file type: {path!r} (use .parquet, .csv, .json or .jsonl)")


def reader_sql(path: str | Sequence[str]) -> str:
    """DuckDB table function reading ``path`` (a file or glob, or a list of files of one type), by suffix."""
    paths = [path] if isinstance(path, str) else list(path)
    readers = {seed_file_reader(p) for p in paths}
    if not readers:
        raise SeedFileError("no seed files")
    if len(readers) != 1:
        raise SeedFileError(f"the seed files are of different types ({', '.join(sorted(readers))}); use one type")
    return f"{readers.pop()}({sql_paths(path)}, union_by_name = true)"


@dataclass(frozen=True)
class SeedRelation:
    """How to select the seed rows: SQL over views registered in a connection."""

    sql: str
    tables: dict[str, str]  # view name -> resolved path (for the query source; one entry "seed" otherwise)


def seed_relation(source: Any, base_dir: Path) -> SeedRelation:
    """Resolve a local or query seed source. Raises SeedFileError for missing files."""
    if isinstance(source, LocalFileSeedSource):
        path = resolve_seed_path(source.path, base_dir)
        return SeedRelation(sql="SELECT * FROM ddc_seed", tables={"ddc_seed": path})
    if isinstance(source, QuerySeedSource):
        from ddc.spec.seed_sql import SeedQueryError, read_only_statement

        try:
            sql = read_only_statement(source.query)
        except SeedQueryError as exc:
            raise SeedQueryRefused(str(exc), exc.hint) from None
        tables = {name: resolve_seed_path(path, base_dir) for name, path in source.tables.items()}
        return SeedRelation(sql=sql, tables=tables)
    raise SeedFileError(f"seed_type {source.seed_type!r} is not a local seed")


def open_seed(
    relation: SeedRelation, *, threads: int | None = None, writable: Sequence[str] = ()
) -> duckdb.DuckDBPyConnection:
    """A locked-down connection holding the seed's views (see ``ddc.spec.seed_sql``): the seed's SQL
    can read the declared files and nothing else. Raises SeedFileError for a bad path."""
    from ddc.spec.seed_sql import sandboxed_connection

    views: dict[str, str] = {}
    files: list[str] = []
    for name, path in relation.tables.items():
        expanded = expand_seed_path(path)
        views[name] = f"SELECT * FROM {reader_sql(expanded)}"
        files.extend(expanded)
    return sandboxed_connection(views, files, threads=threads, writable=writable)


def describe_seed(relation: SeedRelation) -> list[tuple[str, str]]:
    """(column, DuckDB type) of the seed, without reading its rows (DESCRIBE only binds the query).
    Raises RunError on bad SQL or on a file the query may not read."""
    import duckdb

    try:
        con = open_seed(relation)
    except duckdb.Error as exc:
        raise RunError(_duckdb_message(exc)) from exc
    try:
        rows = con.execute(f"DESCRIBE {relation.sql}").fetchall()
    except duckdb.Error as exc:
        raise RunError(_duckdb_message(exc)) from exc
    finally:
        con.close()
    return [(str(r[0]), str(r[1])) for r in rows]


def _duckdb_message(exc: Exception) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return (
        first.replace(" Error: ", " error: ", 1)
        if first.startswith(("Parser Error", "Binder Error", "Catalog Error"))
        else first
    )
