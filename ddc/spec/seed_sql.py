"""The guard around a ``query`` seed: one read-only statement, run where it can read only its tables.

A seed query comes from a spec its user may not have written, and validate, build, fingerprint, run,
``--preview`` and ``submit --dry-run`` all read it. So:

* ``read_only_statement`` accepts exactly one ``SELECT``/``WITH``/``FROM``/``VALUES`` statement, as
  DuckDB's own parser classifies it, and refuses anything else (``COPY``, ``ATTACH``, ``INSTALL``,
  ``PRAGMA``, a second statement ...);
* ``sandboxed_connection`` registers the declared tables as views over their (expanded) files, then
  turns off external access except for exactly those files, never installs or auto-loads an extension
  and locks the configuration. ``read_csv('/etc/passwd')``, ``glob('/*')``, ``read_text``, ``http://``
  tables, ``COPY ... TO`` and ``ATTACH`` then fail with DuckDB's permission error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


class SeedQueryError(ValueError):
    """A seed query that is not one read-only statement; the caller attaches the spec position."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


_READ_ONLY = "a seed query is one SELECT over its tables; it reads them and nothing else"


def read_only_statement(query: str) -> str:
    """The query's one read-only statement, without a trailing ``;`` and ending in a newline (so a
    trailing ``-- comment`` cannot swallow the parenthesis of a wrapping subquery)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        message = _first_line(exc).replace("Parser Error: ", "Parser error: ", 1)
        raise SeedQueryError(f"seed does not compile in DuckDB: {message}") from None
    if not statements:
        raise SeedQueryError("query has no statement", _READ_ONLY)
    if len(statements) > 1:
        kinds = ", ".join(s.type.name for s in statements)
        raise SeedQueryError(f"query must be one SELECT statement, found {len(statements)} ({kinds})", _READ_ONLY)
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SeedQueryError(f"query must be a read-only SELECT statement, not {kind.name}", _READ_ONLY)
    return _without_trailing_semicolons(query) + "\n"


def _without_trailing_semicolons(query: str) -> str:
    import duckdb

    tokens = duckdb.tokenize(query)
    cut = len(query)
    for position, token in reversed(tokens):
        if token == duckdb.token_type.comment:
            continue
        if token == duckdb.token_type.operator and query[position : position + 1] == ";":
            cut = position
            continue
        break
    return query[:cut].rstrip()


def sandboxed_connection(
    views: Mapping[str, str], files: Sequence[str], *, threads: int | None = None, writable: Sequence[str] = ()
) -> duckdb.DuckDBPyConnection:
    """A connection holding ``views`` (name -> SELECT over ``files``) that can read only ``files`` and
    the ``writable`` directories (the caller's own private output directory, for ``COPY``, which writes
    a temporary file beside its target); its configuration is locked."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads is not None:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    try:
        con.execute("SET enable_progress_bar = false")  # DuckDB would print one on stdout past 2 s
        for name, select in views.items():
            con.execute(f"CREATE TEMP VIEW {_ident(name)} AS {select}")
        con.execute("SET allowed_paths = [" + ", ".join(_quote(p) for p in sorted(set(files))) + "]")
        if writable:
            con.execute("SET allowed_directories = [" + ", ".join(_quote(p) for p in sorted(set(writable))) + "]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
