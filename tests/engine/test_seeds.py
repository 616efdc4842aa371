from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import column

from ddc.engine.seeds import SeedReader
from ddc.errors import DdcError, RunError
from ddc.spec.seeds import SeedConfig


@pytest.fixture
def letters(tmp_path: Path) -> Path:
    pq.write_table(pa.table({"letter": ["a", "b", "c"], "rank": [1, 2, 3]}), tmp_path / "letters.parquet")
    return tmp_path / "letters.parquet"


def seed_spec(source: str, n: int, extra: str = "") -> str:
    return f"""
num_records: {n}
random_seed: 5
seed_config:
  source: {source}
{extra}
columns:
  - {{name: upper, column_type: expression, expr: "{{{{ letter|upper }}}}{{{{ rank }}}}"}}
"""


def test_ordered_seed_cycles_in_file_order(generate, letters: Path) -> None:
    result = generate(seed_spec("{seed_type: local, path: letters.parquet}", 7))
    assert column(result, "letter") == ["a", "b", "c", "a", "b", "c", "a"]


def test_seed_columns_come_first_and_are_usable_in_templates(generate, letters: Path) -> None:
    result = generate(seed_spec("{seed_type: local, path: letters.parquet}", 2))
    assert result.table.column_names == ["letter", "rank", "upper"]
    assert column(result, "upper") == ["A1", "B2"]


def test_shuffle_is_a_permutation_within_each_pass(generate, letters: Path) -> None:
    result = generate(seed_spec("{seed_type: local, path: letters.parquet}", 6, "  sampling_strategy: shuffle"))
    values = column(result, "letter")
    assert sorted(values[:3]) == ["a", "b", "c"] and sorted(values[3:]) == ["a", "b", "c"]


def test_shuffle_is_reproducible_with_the_same_seed(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 30, "  sampling_strategy: shuffle")
    assert column(generate(text), "letter") == column(generate(text), "letter")


def test_shuffle_depends_on_the_seed(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 30, "  sampling_strategy: shuffle")
    assert column(generate(text, seed=1), "letter") != column(generate(text, seed=2), "letter")


def test_index_range_selects_inclusive_rows(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 4, "  selection_strategy: {start: 1, end: 2}")
    assert column(generate(text), "letter") == ["b", "c", "b", "c"]


def test_partition_block_selects_one_block(generate, letters: Path) -> None:
    text = seed_spec(
        "{seed_type: local, path: letters.parquet}", 3, "  selection_strategy: {index: 1, num_partitions: 3}"
    )
    assert column(generate(text), "letter") == ["b", "b", "b"]


def test_index_range_past_the_end_is_an_error(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 2, "  selection_strategy: {start: 0, end: 9}")
    with pytest.raises(RunError, match="past the last row"):
        generate(text)


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_text_formats_are_read(generate, tmp_path: Path, suffix: str) -> None:
    rows = [{"letter": "x", "rank": 1}, {"letter": "y", "rank": 2}]
    path = tmp_path / f"data.{suffix}"
    if suffix == "csv":
        path.write_text("letter,rank\nx,1\ny,2\n")
    elif suffix == "json":
        path.write_text(json.dumps(rows))
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = generate(seed_spec(f"{{seed_type: local, path: data.{suffix}}}", 2))
    assert column(result, "upper") == ["X1", "Y2"]


def test_a_glob_reads_every_matching_file(generate, tmp_path: Path) -> None:
    for i in range(3):
        pq.write_table(pa.table({"letter": [f"f{i}"], "rank": [i]}), tmp_path / f"part-{i}.parquet")
    result = generate(seed_spec("{seed_type: local, path: 'part-*.parquet'}", 3))
    assert sorted(column(result, "letter")) == ["f0", "f1", "f2"]


def test_query_seed_joins_named_tables(generate, tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1, 2], "letter": ["p", "q"]}), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("id,rank\n1,10\n2,20\n")
    source = (
        "{seed_type: query, tables: {a: a.parquet, b: b.csv},"
        " query: 'SELECT a.letter, b.rank FROM a JOIN b USING (id) ORDER BY a.id'}"
    )
    result = generate(seed_spec(source, 2))
    assert column(result, "upper") == ["P10", "Q20"]


def test_a_missing_seed_file_names_what_was_looked_for(generate, tmp_path: Path) -> None:
    with pytest.raises(DdcError, match=r"no such file 'nope.parquet' \(looked for .*nope.parquet"):
        generate(seed_spec("{seed_type: local, path: nope.parquet}", 2))


def test_a_declared_column_named_like_a_seed_column_is_an_error(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 2) + (
        "  - {name: rank, column_type: expression, expr: x}\n"
    )
    with pytest.raises(DdcError, match="'rank' collides with a seed dataset column"):
        generate(text)


def test_stream_yields_exactly_the_rows_of_a_range(letters: Path) -> None:
    config = SeedConfig.model_validate({"source": {"seed_type": "local", "path": str(letters)}})
    reader = SeedReader(config, letters.parent, 0, chunk_rows=2)
    try:
        rows = pa.Table.from_batches(list(reader.stream(2, 8))).column("letter").to_pylist()
    finally:
        reader.close()
    assert rows == ["c", "a", "b", "c", "a", "b"]


@pytest.mark.parametrize("size", [1, 2, 3, 17, 1000])
def test_the_shuffle_permutation_is_a_bijection(size: int) -> None:
    import numpy as np

    from ddc.engine.rng import permute
    from ddc.engine.seeds import _permutation_keys

    order = permute(np.arange(size, dtype=np.uint64), size, _permutation_keys(9, 0))
    assert sorted(order.tolist()) == list(range(size))


def test_shuffle_of_a_csv_seed_is_a_permutation_within_each_pass(generate, tmp_path: Path) -> None:
    (tmp_path / "letters.csv").write_text("letter,rank\na,1\nb,2\nc,3\n")
    result = generate(seed_spec("{seed_type: local, path: letters.csv}", 6, "  sampling_strategy: shuffle"))
    values = column(result, "letter")
    assert sorted(values[:3]) == ["a", "b", "c"] and sorted(values[3:]) == ["a", "b", "c"]


def test_shuffle_with_an_index_range_stays_inside_it(generate, letters: Path) -> None:
    text = seed_spec(
        "{seed_type: local, path: letters.parquet}",
        6,
        "  sampling_strategy: shuffle\n  selection_strategy: {start: 1, end: 2}",
    )
    assert set(column(generate(text), "letter")) == {"b", "c"}


def test_partitions_of_a_shuffled_seed_concatenate_to_the_whole_run(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 10, "  sampling_strategy: shuffle")
    whole = column(generate(text), "letter")
    shards = [column(generate(text, partition=(i, 3)), "letter") for i in range(3)]
    assert [v for shard in shards for v in shard] == whole


def test_batch_size_does_not_change_a_shuffled_seed(generate, letters: Path) -> None:
    text = seed_spec("{seed_type: local, path: letters.parquet}", 10, "  sampling_strategy: shuffle")
    assert column(generate(text, batch_size=3), "letter") == column(generate(text, batch_size=10), "letter")


def test_the_engine_lets_sampler_conditions_read_seed_columns(write_spec, tmp_path: Path) -> None:
    """The spec checks refuse this (as the official engine does); the engine itself supports it."""
    from ddc.engine.runner import run
    from ddc.spec.load import load_spec

    (tmp_path / "countries.csv").write_text("country\nFR\nUS\n")
    path = write_spec(
        """
num_records: 4
random_seed: 1
seed_config: {source: {seed_type: local, path: countries.csv}}
columns:
  - name: price
    column_type: sampler
    sampler_type: uniform
    params: {low: 0, high: 1}
    conditional_params: {"country == 'FR'": {low: 100, high: 101}}
"""
    )
    rows = run(load_spec(path, check=False), write=False, return_table=True).table.to_pylist()
    assert all((r["price"] >= 100) == (r["country"] == "FR") for r in rows)


def _notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    (root / "skip.md").write_text("no")
    return root


def test_directory_seed_gives_one_row_per_matching_file(generate, tmp_path: Path) -> None:
    _notes(tmp_path)
    text = """
num_records: 2
seed_config: {source: {seed_type: directory, path: notes, file_pattern: '*.txt'}}
columns:
  - {name: e, column_type: expression, expr: "{{ relative_path }}"}
"""
    assert column(generate(text), "e") == ["a.txt", "sub/b.txt"]


def test_file_contents_seed_reads_each_file(generate, tmp_path: Path) -> None:
    _notes(tmp_path)
    text = """
num_records: 2
seed_config: {source: {seed_type: file_contents, path: notes, file_pattern: '*.txt', recursive: false}}
columns:
  - {name: e, column_type: expression, expr: "{{ file_name }}={{ content }}"}
"""
    assert column(generate(text), "e") == ["a.txt=alpha", "a.txt=alpha"]


def test_an_ordered_query_seed_repeats_the_same_order_each_pass(generate, tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": list(range(50)), "letter": [f"l{i}" for i in range(50)]}), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("id,rank\n" + "".join(f"{i},{i * 10}\n" for i in range(50)))
    source = (
        "{seed_type: query, tables: {a: a.parquet, b: b.csv},"
        " query: 'SELECT a.letter, b.rank FROM a JOIN b USING (id)'}"
    )
    values = column(generate(seed_spec(source, 150)), "upper")
    assert values[:50] == values[50:100] == values[100:]


@pytest.mark.parametrize("strategy", ["ordered", "shuffle"])
def test_a_small_parquet_seed_gives_the_same_rows_from_memory_as_streamed(
    generate, tmp_path: Path, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small selections are served from memory; a Parquet seed's rows do not depend on that choice."""
    from ddc.engine import seeds

    for part in range(3):
        rows = range(part * 40, part * 40 + 40)
        table = pa.table({"letter": [f"l{i}" for i in rows], "rank": list(rows)})
        pq.write_table(table, tmp_path / f"part-{part}.parquet")
    text = seed_spec("{seed_type: local, path: 'part-*.parquet'}", 300, f"  sampling_strategy: {strategy}")
    from_memory = column(generate(text, batch_size=70), "letter")
    monkeypatch.setattr(seeds, "IN_MEMORY_ROWS", 0)
    assert column(generate(text, batch_size=70), "letter") == from_memory


def test_a_tiny_seed_cycled_over_many_records_is_read_once(generate, tmp_path: Path) -> None:
    (tmp_path / "three.csv").write_text("letter,rank\na,1\nb,2\nc,3\n")
    text = seed_spec("{seed_type: local, path: three.csv}", 30_000, "  sampling_strategy: shuffle")
    letters = column(generate(text), "letter")
    assert all(sorted(letters[i : i + 3]) == ["a", "b", "c"] for i in range(0, 30_000, 3))


@pytest.mark.parametrize("strategy", ["ordered", "shuffle"])
def test_a_large_query_seed_gives_the_rows_of_a_small_one_without_being_counted_first(
    generate, tmp_path: Path, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query seed larger than the in-memory limit streams (ordered: head, then LIMIT/OFFSET, counted only
    when it cycles); its rows are those of the same seed served whole from memory."""
    from ddc.engine import seeds

    pq.write_table(pa.table({"id": list(range(50)), "letter": [f"l{i}" for i in range(50)]}), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("id,rank\n" + "".join(f"{i},{i * 10}\n" for i in range(50)))
    source = (
        "{seed_type: query, tables: {a: a.parquet, b: b.csv},"
        " query: 'SELECT a.letter, b.rank FROM a JOIN b USING (id)'}"
    )
    text = seed_spec(source, 130, f"  sampling_strategy: {strategy}")
    small = column(generate(text, batch_size=40), "upper")
    monkeypatch.setattr(seeds, "IN_MEMORY_ROWS", 7)
    streamed = column(generate(text, batch_size=40), "upper")
    assert streamed == small if strategy == "ordered" else sorted(streamed[:50]) == sorted(small[:50])


def test_an_ordered_query_seed_is_not_counted_when_its_first_rows_suffice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ddc.engine import seeds

    pq.write_table(pa.table({"id": list(range(500))}), tmp_path / "a.parquet")
    source = {"seed_type": "query", "tables": {"a": "a.parquet"}, "query": "SELECT id FROM a"}
    monkeypatch.setattr(seeds, "IN_MEMORY_ROWS", 10)
    reader = SeedReader(SeedConfig.model_validate({"source": source}), tmp_path, 1)
    rows = pa.Table.from_batches(list(reader.stream(0, 30))).column("id").to_pylist()
    reader.close()
    assert rows == list(range(30)) and reader._total is None
