"""Structured output at the source against llama-server: what response_format changes, and cut-off replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.realserver.helpers import error_records, rows, run
from tests.realserver.server import LlamaServer
from tests.realserver.specs import JUDGE, STRUCTURED, TEXT, spec_text, write_spec

PROMPT_ONLY = "    structured_output: prompt\n"
NO_STOP = "run: {max_error_rate: 1.0}"


def parsed_share(dataset: Path, columns: tuple[str, ...]) -> tuple[int, int, list[str]]:
    """(cells with a value, cells, causes of the error records, as in ``parse: ...``)."""
    values = rows(dataset)
    filled = sum(1 for r in values for c in columns if r[c] is not None)
    return filled, len(values) * len(columns), [e["message"].split(":")[0] for e in error_records(dataset)]


def test_without_response_format_every_cell_has_a_value_or_a_parse_error(
    chat_server: LlamaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # few and short replies: a random model rarely writes JSON, so most cells use all six attempts
    text = spec_text(chat_server, STRUCTURED + JUDGE, max_tokens=96, records=2, provider=PROMPT_ONLY, run=NO_STOP)
    dataset = run(write_spec(tmp_path, text), tmp_path / "out")
    filled, cells, causes = parsed_share(dataset, ("info", "grade"))
    with capsys.disabled():
        print(f"\nstructured+judge cells parsed without response_format: {filled}/{cells}")
    assert (filled + len(causes), set(causes) <= {"parse"}) == (cells, True)


def test_a_reply_cut_off_by_max_tokens_is_reported_with_the_hint_to_raise_it(
    chat_server: LlamaServer, tmp_path: Path
) -> None:
    text = spec_text(chat_server, STRUCTURED, max_tokens=8, records=2)
    dataset = run(write_spec(tmp_path, text), tmp_path / "out")
    messages = [e["message"] for e in error_records(dataset)]
    assert len(messages) == 2 and all("finish_reason: length" in m and "raise max_tokens" in m for m in messages)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_replies_with_control_characters_and_replacement_characters_are_written(
    chat_server: LlamaServer, tmp_path: Path, fmt: str
) -> None:
    dataset = run(write_spec(tmp_path, spec_text(chat_server, TEXT, max_tokens=64)), tmp_path / "out", fmt=fmt)
    written = (dataset / f"real.{fmt}").read_text(encoding="utf-8")
    if fmt == "jsonl":
        assert [json.loads(line)["essay"] for line in written.splitlines()] == [r["essay"] for r in rows(dataset)]
    else:
        assert len(rows(dataset)) == 4 and written.startswith("topic,essay")


def test_a_server_refusing_every_response_format_is_probed_down_to_prompt_mode(
    llama_binary: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli
    from tests.realserver.conftest import model_file

    # llama-server on its Jinja chat path answers HTTP 400 "Failed to initialize samplers" to grammars
    with LlamaServer(llama_binary, model_file(None), tmp_path / "jinja.log", alias="tiny", jinja=True) as server:
        spec = write_spec(tmp_path, spec_text(server, STRUCTURED, max_tokens=64, records=2))
        result = CliRunner().invoke(cli, ["models", "check", str(spec)])
        dataset = run(spec, tmp_path / "out", batch_size=2)
    assert (result.exit_code, "structured output: prompt" in result.output) == (0, True)
    assert len(rows(dataset)) == 2
