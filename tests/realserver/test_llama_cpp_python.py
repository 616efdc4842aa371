"""ddc's requests against llama-cpp-python's server (skipped unless ``$DDC_LLAMA_CPP_PYTHON`` is set).

That server rejects a list-valued system message (HTTP 500) and takes only
``{"type": "json_object", "schema": ...}``: ddc's plain-string content and the probed structured-output
mode are what make it work."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ddc.cli import cli
from tests.realserver.helpers import decoded, error_records, rows, run
from tests.realserver.server import LlamaServer
from tests.realserver.specs import STRUCTURED, TEXT, spec_text, write_spec

SYSTEM_TEXT = TEXT + '    system_prompt: "You are terse."\n'


def test_models_check_passes(python_server: LlamaServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "check", str(write_spec(tmp_path, spec_text(python_server, TEXT)))])
    assert (result.exit_code, result.output.startswith("ok   chat: tiny")) == (0, True)


def test_a_text_column_with_a_system_prompt_fills_every_row(python_server: LlamaServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, spec_text(python_server, SYSTEM_TEXT, max_parallel=1, records=2))
    dataset = run(spec, tmp_path / "out")
    assert ([isinstance(r["essay"], str) for r in rows(dataset)], error_records(dataset)) == ([True, True], [])


def test_structured_output_is_probed_and_every_cell_parses(python_server: LlamaServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, spec_text(python_server, STRUCTURED, max_tokens=1024, max_parallel=1, records=2))
    result = CliRunner().invoke(cli, ["models", "check", str(spec)])
    dataset = run(spec, tmp_path / "out")
    values = [decoded(r["info"]) for r in rows(dataset)]
    assert "structured output: json_object" in result.output
    assert (all(isinstance(v, dict) for v in values), error_records(dataset)) == (True, [])
