"""A query seed gives the same dataset whatever DuckDB's thread count: the parallel connection runs only
what the query's thread count cannot change (``ddc.spec.seed_order``), and stays locked down."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ddc.engine import seeds
from ddc.engine.seeds import SeedReader
from ddc.spec.seed_order import Parallelism
from ddc.spec.seeds import SeedConfig

JOIN = "SELECT big.id, big.name, small.label FROM big JOIN small ON big.id % 1000 = small.k"
AGGREGATE = "SELECT id % 5000 AS g, count(*) AS n, max(name) AS top FROM big GROUP BY 1"
FILTER = "SELECT id, name FROM big WHERE id % 3 <> 0"

CASES = [
    (JOIN, "shuffle", Parallelism.UNORDERED),
    (JOIN, "ordered", Parallelism.UNORDERED),  # read on one thread, counted on many when it cycles
    (AGGREGATE, "shuffle", Parallelism.UNORDERED),
    (FILTER, "ordered", Parallelism.ORDERED),
    (FILTER, "shuffle", Parallelism.ORDERED),
]


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """A 30,000-row table in row groups of 2,048 (DuckDB scans row groups in parallel) and a 1,000-row one."""
    ids = list(range(30_000))
    big = pa.table({"id": ids, "name": [f"n{(i * 7919) % 30_011}" for i in ids]})
    pq.write_table(big, tmp_path / "big.parquet", row_group_size=2048)
    pq.write_table(
        pa.table({"k": list(range(1000)), "label": [f"L{k % 37}" for k in range(1000)]}), tmp_path / "small.parquet"
    )
    return tmp_path


def spec(query: str, strategy: str, n: int) -> str:
    return f"""
num_records: {n}
random_seed: 11
seed_config:
  source:
    seed_type: query
    tables: {{big: big.parquet, small: small.parquet}}
    query: "{query}"
  sampling_strategy: {strategy}
columns:
  - {{name: mark, column_type: expression, expr: "x"}}
"""


@pytest.mark.parametrize(("query", "strategy", "parallelism"), CASES, ids=[f"{q[:40]} {s}" for q, s, _ in CASES])
def test_a_large_query_seed_gives_the_same_dataset_on_one_thread_and_on_four(
    generate, tables: Path, monkeypatch: pytest.MonkeyPatch, query: str, strategy: str, parallelism: Parallelism
) -> None:
    """Past the in-memory limit and cycling past the end, so the count, the shuffle and the reads run in DuckDB."""
    monkeypatch.setattr(seeds, "IN_MEMORY_ROWS", 1000)
    config = SeedConfig.model_validate(
        {"source": {"seed_type": "query", "tables": {"big": "big.parquet", "small": "small.parquet"}, "query": query}}
    )
    reader = SeedReader(config, tables, 11)
    reader.close()
    assert reader.parallelism is parallelism
    text = spec(query, strategy, 45_000)
    monkeypatch.setattr(seeds, "QUERY_THREADS", 1)
    one = generate(text, batch_size=7000).table
    monkeypatch.setattr(seeds, "QUERY_THREADS", 4)
    assert generate(text, batch_size=7000).table.equals(one)


def test_the_parallel_connection_is_locked_down_like_the_single_thread_one(tables: Path) -> None:
    (tables / "secret.csv").write_text("TOPSECRET\n")
    config = SeedConfig.model_validate(
        {"source": {"seed_type": "query", "tables": {"big": "big.parquet"}, "query": FILTER}}
    )
    reader = SeedReader(config, tables, 1)
    try:
        wide = reader._reader(in_order=False)
        assert wide is not reader.con
        with pytest.raises(duckdb.PermissionException):
            wide.execute(f"SELECT * FROM read_csv('{tables / 'secret.csv'}')")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            wide.execute("SET threads = 1")
    finally:
        reader.close()
