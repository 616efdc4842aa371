"""Which parts of a ``query`` seed may run on many threads without changing a dataset.

A query seed's rows must be the same list at any thread count (``ordered`` sampling, cycling and
byte-identical reruns depend on it). DuckDB documents which clauses keep the input's row order at any
thread count ("Order Preservation" in its SQL dialect docs, with ``preserve_insertion_order`` on, the
default, which the locked seed connection cannot change): a ``FROM`` over one table, ``SELECT``,
``WHERE``, ``LIMIT``/``OFFSET``, ``UNION ALL``, window functions over an empty ``OVER ()`` and
subqueries or CTEs made only of these; the CSV, JSON and Parquet readers keep file order. ``JOIN``,
``GROUP BY``, aggregates, ``DISTINCT``, ``ORDER BY`` (not stable), ``UNION``, scalar subqueries and
``USING SAMPLE`` do not.

``query_parallelism`` reads DuckDB's own parse tree of the query (``json_serialize_sql``) and answers:

* ``ORDERED``: only documented order-keeping clauses, so the rows *and their order* are the same on
  any thread count: every read of the seed may be parallel;
* ``UNORDERED``: the rows as a multiset are fixed by SQL's bag semantics (joins, ``GROUP BY`` with exact
  aggregates such as ``count``/``min``/``max``, ``DISTINCT``, set operations, ``ORDER BY`` without a
  limit), but their order is not: the count, and a shuffle whose order is a keyed hash of each row's
  values, may be parallel; reads in the query's own order stay on one thread;
* ``SERIAL``: anything else, or anything not recognised. A ``LIMIT`` under a join, ``first``/
  ``any_value``/``string_agg``/``list``, a window over a join, ``USING SAMPLE``, a ``DISTINCT ON``
  or a ``sum``/``avg`` (floating-point addition depends on the order the threads add in) choose rows
  or values by arrival order, which only one thread fixes.

The check is conservative by construction: an unknown node, expression class or function makes the
answer ``SERIAL``, which is what every query seed did before. One residual case is not caught: values
that compare equal but differ in bits (``-0.0``/``0.0``) as ``GROUP BY``/``DISTINCT``/``min``/``max``
keys may come out as either spelling on many threads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


class Parallelism(Enum):
    ORDERED = "ordered"
    UNORDERED = "unordered"
    SERIAL = "serial"


#: expression classes evaluated row by row from their own arguments (functions are checked by name)
_PER_ROW = frozenset(
    {
        "COLUMN_REF",
        "CONSTANT",
        "OPERATOR",
        "COMPARISON",
        "CONJUNCTION",
        "CASE",
        "CAST",
        "BETWEEN",
        "STAR",
        "LAMBDA",
        "LAMBDA_REF",
        "POSITIONAL_REFERENCE",
        "TYPE",
    }
)
#: aggregates whose result does not depend on the order rows are fed in (exact, no floating point sums)
_EXACT_AGGREGATES = frozenset(
    {"count", "count_star", "count_if", "countif", "min", "max", "bool_and", "bool_or", "bit_and", "bit_or", "bit_xor"}
)
#: built-in macros that are plain row-by-row functions (other macros may aggregate: ``geomean``, ``wavg``)
_SCALAR_MACROS = frozenset(
    {"if", "nullif", "split_part", "date_add", "array_to_string", "array_append", "array_prepend", "list_append"}
)
#: table functions that keep their files' row order (DuckDB's documented readers)
_ORDERED_READERS = frozenset(
    {"read_parquet", "parquet_scan", "read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_ndjson"}
)
#: DuckDB's arithmetic, string and bit operators, which its parse tree names as functions: scalar, so
#: a query using only these needs no look-up in ``duckdb_functions()`` (about 30 ms)
_SCALAR_OPERATORS = frozenset(
    {"+", "-", "*", "/", "//", "%", "**", "^", "||", "&", "|", "<<", ">>", "~", "~~", "!~~", "~~*", "!~~*"}
)
_ORDER_ENTRIES = frozenset({"ORDER_DEFAULT", "ORDER_ASCENDING", "ORDER_DESCENDING"})


def query_parallelism(con: duckdb.DuckDBPyConnection, query: str, tables: Collection[str]) -> Parallelism:
    """How much of ``query`` (one read-only statement over the views ``tables``, each one file reader)
    may run on many threads; see the module doc."""
    raw = con.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        return Parallelism.SERIAL

    def function_kinds() -> dict[str, set[str]]:
        kinds: dict[str, set[str]] = {}
        for name, kind in con.execute("SELECT function_name, function_type FROM duckdb_functions()").fetchall():
            kinds.setdefault(str(name).lower(), set()).add(str(kind))
        return kinds

    walk = _Walk(function_kinds, {name.lower() for name in tables} | _cte_names(tree))
    walk.visit(tree["statements"][0])
    if walk.ordered:
        return Parallelism.ORDERED
    return Parallelism.UNORDERED if walk.rows else Parallelism.SERIAL


def _cte_names(value: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(value, list):
        for item in value:
            names |= _cte_names(item)
    elif isinstance(value, dict):
        for entry in (value.get("cte_map") or {}).get("map", []):
            names.add(str(entry.get("key", "")).lower())
        for item in value.values():
            names |= _cte_names(item)
    return names


class _Walk:
    """Visits every node of the parse tree, clearing ``ordered`` and ``rows`` on what breaks them."""

    def __init__(self, function_kinds: Callable[[], dict[str, set[str]]], tables: set[str]) -> None:
        self._function_kinds = function_kinds
        self._kinds: dict[str, set[str]] | None = None  # looked up on the first function not known here
        self.tables = tables  # the seed's views and the query's CTEs: one ordered reader each
        self.ordered = True  # rows and their order are thread-independent
        self.rows = True  # the multiset of rows is thread-independent

    def serial(self) -> None:
        self.ordered = self.rows = False

    def visit(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self.visit(item)
            return
        if not isinstance(value, dict):
            return
        if value.get("sample") is not None:
            self.serial()
        if isinstance(value.get("class"), str):
            self._expression(value)
        elif isinstance(value.get("type"), str):
            if value["type"] == "TABLE_FUNCTION":
                self._table_function(value)
                return
            self._node(value)
        for item in value.values():
            self.visit(item)

    def _node(self, node: dict[str, Any]) -> None:
        kind = node["type"]
        if kind == "SELECT_NODE":
            if node.get("group_expressions") or node.get("group_sets"):
                self.ordered = False
        elif kind == "SET_OPERATION_NODE":
            if not (node.get("setop_type") == "UNION" and node.get("setop_all")):
                self.ordered = False
        elif kind in ("LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER"):
            self.rows = False  # which rows a limit keeps depends on their order
        elif kind == "ORDER_MODIFIER":
            if node.get("orders"):
                self.ordered = False
        elif kind == "DISTINCT_MODIFIER":
            self.ordered = False
            if node.get("distinct_on_targets"):
                self.rows = False  # DISTINCT ON keeps whichever row of a group comes first
        elif kind == "JOIN":
            self.ordered = False
            if node.get("ref_type") not in ("REGULAR", "NATURAL", "CROSS"):
                self.rows = False  # ASOF and POSITIONAL joins pair rows by position or nearest match
        elif kind == "BASE_TABLE":
            if node.get("schema_name") or str(node.get("table_name", "")).lower() not in self.tables:
                self.ordered = False  # a catalog view (duckdb_tables ...): its order is not documented
        elif kind == "EXPRESSION_LIST":
            self.ordered = False  # VALUES: not in DuckDB's documented list
        elif kind not in ("CTE_NODE", "SUBQUERY", "EMPTY") and kind not in _ORDER_ENTRIES:
            self.serial()  # RECURSIVE_CTE_NODE, PIVOT, anything new: not analysed

    def _table_function(self, ref: dict[str, Any]) -> None:
        function = ref.get("function") or {}
        if str(function.get("function_name", "")).lower() not in _ORDERED_READERS:
            self.ordered = False
        for key, item in ref.items():
            if key != "function":
                self.visit(item)
        self.visit(function.get("arguments", []))

    def _expression(self, expr: dict[str, Any]) -> None:
        cls = expr["class"]
        if cls in _PER_ROW:
            return
        if cls == "SUBQUERY":
            self.ordered = False  # scalar subqueries and IN/EXISTS (joins) are not order-keeping
            return
        if cls == "WINDOW":
            empty = not expr.get("partitions") and not expr.get("orders")
            if not (empty and str(expr.get("function_name", "")).lower() == "row_number"):
                self.ordered = False
            self.rows = False  # a row number over rows in no fixed order
            return
        if cls != "FUNCTION":
            self.serial()
            return
        name = str(expr.get("function_name", "")).lower()
        if name in _SCALAR_OPERATORS or name in _SCALAR_MACROS:
            return
        if self._kinds is None:
            self._kinds = self._function_kinds()
        kinds = self._kinds.get(name, set())
        if "scalar" in kinds:
            return
        if "aggregate" in kinds:
            self.ordered = False
            if name not in _EXACT_AGGREGATES:
                self.rows = False
            return
        if name == "unnest":
            self.ordered = False  # one row per list element: a fixed multiset, not a documented order
            return
        self.serial()
