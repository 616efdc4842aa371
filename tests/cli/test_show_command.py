"""`ddc show`: records of a dataset (or a spec's preview) in full, filtered, or as JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from ddc.cli import cli
from ddc.engine import writer
from ddc.errors import DdcError
from tests.conftest import Run

ESSAY = " ".join(f"word{i:04d}" for i in range(223))[:2000]  # 2,000 characters, no natural line breaks


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A dataset directory as `ddc run` leaves it: two batch files, a struct column, a long text."""
    root = tmp_path / "reviews"
    batches = [
        pa.table(
            {
                "id": [0, 1],
                "review": [{"summary": "great", "scores": [4, 5], "meta": {"lang": "en"}}, None],
                "essay": [ESSAY, "short"],
                "price": [231.65630000000002, 1.5],
            }
        ),
        pa.table(
            {
                "id": [2],
                "review": [{"summary": "bad", "scores": [1], "meta": {"lang": "fr"}}],
                "essay": ["x"],
                "price": [3.0],
            }
        ),
    ]
    for index, table in enumerate(batches):
        writer.write_parquet(root / writer.PARQUET_DIR / writer.batch_file(index), table)
    (root / "metadata.json").write_text("{}")
    return root


def show(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and the error message (as ``ddc.cli.main`` would print it)."""
    result = CliRunner().invoke(cli, ["show", *args], terminal_width=80)
    error = result.exception
    if isinstance(error, DdcError):
        return error.exit_code, result.stdout, str(error)
    assert error is None or isinstance(error, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def unframed(text: str) -> str:
    """The panel's text without borders and line breaks (what was wrapped reads as it was)."""
    return re.sub(r"[\s│╭╮╰╯─]+", "", text)


def test_a_long_text_cell_is_printed_in_full(dataset: Path) -> None:
    code, out, _ = show(str(dataset), "--record", "0", "--columns", "essay")
    assert code == 0 and unframed(ESSAY) in unframed(out)


def test_a_nested_column_is_printed_as_indented_json(dataset: Path) -> None:
    code, out, _ = show(str(dataset), "--record", "0", "--columns", "review")
    assert code == 0
    assert len(out.splitlines()) > 8  # indented over many lines, not one long line
    body = "".join(line.strip("│ ").rstrip() for line in out.splitlines()[1:-1])
    assert json.loads(body.removeprefix("review")) == {"summary": "great", "scores": [4, 5], "meta": {"lang": "en"}}


def test_floats_are_shown_without_binary_noise(dataset: Path) -> None:
    _, out, _ = show(str(dataset), "--record", "0", "--columns", "price")
    assert "231.6563 " in out and "231.65630000000002" not in out


def test_records_are_numbered_across_batch_files(dataset: Path) -> None:
    _, out, _ = show(str(dataset), "--where", "id >= 1", "--columns", "id")
    assert [line.split()[2] for line in out.splitlines() if line.startswith("╭")] == ["1", "2"]


def test_where_filters_with_duckdb(dataset: Path) -> None:
    code, out, _ = show(str(dataset), "--where", "review.meta.lang = 'fr'", "--jsonl", "--columns", "id")
    assert (code, out) == (0, '{"id": 2}\n')


def test_json_prints_one_array(dataset: Path) -> None:
    _, out, _ = show(str(dataset), "--json", "--columns", "id,price", "-n", "2")
    assert json.loads(out) == [{"id": 0, "price": 231.65630000000002}, {"id": 1, "price": 1.5}]


def test_where_cannot_read_other_files(dataset: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n")
    code, out, err = show(str(dataset), "--where", f"id IN (SELECT 1 FROM read_csv('{secret}'))")
    assert code == 2 and "hunter2" not in out + err and "Permission" in err


def test_where_must_be_one_expression(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "copied.csv"
    code, _, err = show(str(dataset), "--where", f"true); COPY (SELECT 1) TO '{target}'; SELECT (1")
    assert code == 2 and not target.exists() and "--where" in err


def test_an_unknown_column_names_the_columns_there_are(dataset: Path) -> None:
    code, _, err = show(str(dataset), "--columns", "nope")
    assert code == 2 and "columns: id, review, essay, price" in err


def test_a_spec_is_previewed_in_memory(tmp_path: Path) -> None:
    spec = tmp_path / "demo.yaml"
    spec.write_text(
        "name: demo\nrandom_seed: 3\ncolumns:\n"
        "  - {name: colour, column_type: sampler, sampler_type: category, params: {values: [red, blue]}}\n"
    )
    code, out, _ = show(str(spec), "-n", "2", "--jsonl")
    assert code == 0 and [sorted(json.loads(line)) for line in out.splitlines()] == [["colour"], ["colour"]]
    assert not (tmp_path / "artifacts").exists()


def overwrite_pages(path: Path) -> None:
    """Damage the first column's pages of a Parquet file but keep its footer (the file still opens)."""
    import pyarrow.parquet as pq

    chunk = pq.read_metadata(path).row_group(0).column(0)
    data = bytearray(path.read_bytes())
    data[chunk.data_page_offset : chunk.data_page_offset + chunk.total_compressed_size] = b"\xab" * (
        chunk.total_compressed_size
    )
    path.write_bytes(bytes(data))


def test_a_batch_file_that_is_not_parquet_is_a_one_line_error_naming_it(dataset: Path) -> None:
    damaged = dataset / writer.PARQUET_DIR / writer.batch_file(1)
    damaged.write_bytes(b"not parquet")
    code, _, error = show(str(dataset))
    assert code == 1 and error.startswith(f"{damaged}: not a readable Parquet file: ") and "\n" not in error
    assert "magic bytes not found" in error


def test_a_batch_file_with_damaged_pages_is_named_in_the_error(dataset: Path) -> None:
    damaged = dataset / writer.PARQUET_DIR / writer.batch_file(1)
    overwrite_pages(damaged)
    code, _, error = show(str(dataset), "--where", "price > 2")
    assert code == 1 and error.startswith(f"{damaged}: not a readable Parquet file: ")


def test_urls_in_the_data_are_printed_as_generated(tmp_path: Path, run: Run) -> None:
    """Only registered secrets are masked on stdout: ``user@host`` in a value is data, not a credential."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: urls\nnum_records: 2\ncolumns:\n"
        '  - {name: repo, column_type: expression, expr: "ssh://git@github.com/org/repo"}\n'
        '  - {name: db, column_type: expression, expr: "postgres://admin:hunter2@db.example.com/app"}\n'
    )
    assert run("run", str(spec), "-o", str(tmp_path / "out"), "-q")[0] == 0
    code, out, _ = run("show", str(tmp_path / "out" / "urls"), "--jsonl", "-n", "0")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows[0] == {
        "repo": "ssh://git@github.com/org/repo",
        "db": "postgres://admin:hunter2@db.example.com/app",
    }
