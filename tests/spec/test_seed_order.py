"""Which query seeds may run on many threads: DuckDB's documented order-keeping clauses keep the rows
and their order; bag semantics keep the rows; anything choosing rows or values by arrival order is serial."""

from __future__ import annotations

import pytest

from ddc.spec.seed_order import Parallelism, query_parallelism
from ddc.spec.seed_sql import sandboxed_connection

ORDERED, UNORDERED, SERIAL = Parallelism.ORDERED, Parallelism.UNORDERED, Parallelism.SERIAL

CASES = [
    ("SELECT * FROM big", ORDERED),
    ("SELECT id, id * 2 AS d FROM big WHERE id % 3 = 0 LIMIT 5 OFFSET 2", ORDERED),
    ("SELECT * FROM big UNION ALL SELECT * FROM small", ORDERED),
    ("SELECT row_number() OVER () AS n, * FROM big", ORDERED),
    ("WITH c AS (SELECT * FROM big WHERE id > 2) SELECT id::VARCHAR || 'x' AS s FROM c", ORDERED),
    ("SELECT big.id, small.k FROM big JOIN small ON big.id = small.k", UNORDERED),
    ("SELECT id % 3 AS g, count(*) AS n, max(id) AS m FROM big GROUP BY 1", UNORDERED),
    ("SELECT DISTINCT id % 2 AS parity FROM big", UNORDERED),
    ("SELECT * FROM big ORDER BY id", UNORDERED),
    ("SELECT * FROM big WHERE id IN (SELECT k FROM small)", UNORDERED),
    ("SELECT * FROM duckdb_settings()", UNORDERED),
    ("SELECT * FROM information_schema.tables", UNORDERED),
    ("SELECT id % 3 AS g, sum(id) AS s FROM big GROUP BY 1", SERIAL),
    ("SELECT * FROM big JOIN small ON id = k LIMIT 3", SERIAL),
    ("SELECT * FROM (SELECT * FROM big LIMIT 3) JOIN small ON id = k", SERIAL),
    ("SELECT * FROM big USING SAMPLE 3", SERIAL),
    ("SELECT first(id) AS f FROM big", SERIAL),
    ("SELECT string_agg(id::VARCHAR, ',') AS s FROM big", SERIAL),
    ("SELECT geomean(id) AS g FROM big", SERIAL),
    ("SELECT DISTINCT ON (id % 2) * FROM big", SERIAL),
    ("SELECT * FROM big ASOF JOIN small ON id >= k", SERIAL),
    ("SELECT * FROM big POSITIONAL JOIN small", SERIAL),
    ("SELECT row_number() OVER (ORDER BY id) AS n FROM big", SERIAL),
    ("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t", SERIAL),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_a_query_is_classified_by_what_its_clauses_keep(query: str, expected: Parallelism) -> None:
    con = sandboxed_connection({"big": "SELECT * FROM range(10) r(id)", "small": "SELECT * FROM range(5) r(k)"}, [])
    try:
        assert query_parallelism(con, query, ["big", "small"]) is expected
    finally:
        con.close()


def test_the_operators_taken_as_scalar_without_a_look_up_are_duckdbs_scalar_functions() -> None:
    import duckdb

    from ddc.spec.seed_order import _SCALAR_OPERATORS

    kinds: dict[str, set[str]] = {}
    for name, kind in (
        duckdb.connect().execute("SELECT function_name, function_type FROM duckdb_functions()").fetchall()
    ):
        kinds.setdefault(name, set()).add(kind)
    assert {op: kinds.get(op) for op in _SCALAR_OPERATORS} == {op: {"scalar"} for op in _SCALAR_OPERATORS}
