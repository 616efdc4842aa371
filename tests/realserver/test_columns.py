"""Every LLM column kind against llama.cpp's llama-server serving a tiny random model.

Nothing here asserts on generated text: only counts, schema validity, error records and types."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from tests.realserver.helpers import decoded, error_records, rows, run
from tests.realserver.server import LlamaServer
from tests.realserver.specs import CODE, EMBEDDING, JUDGE, STRUCTURED, TEXT, spec_text, write_spec

INFO_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "legs": {"type": "integer"}, "wild": {"type": "boolean"}},
    "required": ["name", "legs", "wild"],
}


def test_text_column_fills_every_row(chat_server: LlamaServer, tmp_path: Path) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, TEXT)), tmp_path / "out")
    values = [r["essay"] for r in rows(dataset)]
    assert (len(values), all(isinstance(v, str) for v in values), error_records(dataset)) == (4, True, [])


def test_code_column_with_response_format_parses_every_cell(chat_server: LlamaServer, tmp_path: Path) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, CODE, max_tokens=1024)), tmp_path / "out")
    values = [r["query"] for r in rows(dataset)]
    assert (len(values), all(isinstance(v, str) for v in values), error_records(dataset)) == (4, True, [])


def test_structured_cells_all_match_the_schema_with_response_format(chat_server: LlamaServer, tmp_path: Path) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, STRUCTURED, max_tokens=1024, records=6)), tmp_path / "o")
    values = [decoded(r["info"]) for r in rows(dataset)]
    validator = Draft202012Validator(INFO_SCHEMA)
    assert (len(values), [v for v in values if not validator.is_valid(v)], error_records(dataset)) == (6, [], [])


def test_judge_cells_all_carry_a_valid_score_with_response_format(chat_server: LlamaServer, tmp_path: Path) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, JUDGE, max_tokens=1024, records=6)), tmp_path / "o")
    scores = [decoded(r["grade"])["quality"]["score"] for r in rows(dataset)]
    assert (len(scores), set(scores) <= {"1", "2", "3"}, error_records(dataset)) == (6, True, [])


def test_embedding_column_has_one_vector_per_input(
    chat_server: LlamaServer, embed_server: LlamaServer, tmp_path: Path
) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, EMBEDDING, embed=embed_server)), tmp_path / "out")
    cells = [decoded(r["vec"]) for r in rows(dataset)]
    shapes = {(c["num_embeddings"], c["dimension"], len(c["embeddings"][0])) for c in cells}
    assert (len(cells), shapes, error_records(dataset)) == (4, {(1, 64, 64)}, [])
