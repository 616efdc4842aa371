"""An API key the endpoint echoes back appears in no output, log, message or file of ddc.

The loopback server in echo mode quotes the key a request carried, in a 401's message (a wrong key)
or in its replies; real `ddc` processes run against it, and every byte they print or write is searched.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from ddc import redaction
from tests.llm.runner import TOPIC_ESSAY, spec_text
from tests.servers.openai_server import OpenAIServer

REPO = Path(__file__).resolve().parents[2]
MARKER = "sk-marker-" + secrets.token_hex(8)


@pytest.fixture
def server() -> OpenAIServer:
    with OpenAIServer() as running:
        yield running  # type: ignore[misc]


def _spec(server: OpenAIServer, tmp_path: Path, model: str = "") -> Path:
    text = spec_text(server.base_url, TOPIC_ESSAY).replace("    endpoint:", "    api_key: LOCAL_LLM_KEY\n    endpoint:")
    text = text.replace("    model: mock-model\n", f"    model: mock-model\n{model}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text + "name: essays\nnum_records: 6\n", encoding="utf-8")
    return spec


def _ddc(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "LOCAL_LLM_KEY": MARKER, "DDC_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-c", "from ddc.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


def _files_holding_the_marker(tmp_path: Path) -> list[str]:
    return [str(p) for p in tmp_path.rglob("*") if p.is_file() and MARKER.encode() in p.read_bytes()]


def _assert_marker_was_sent(server: OpenAIServer) -> None:
    assert any(r.headers.get("authorization") == f"Bearer {MARKER}" for r in server.requests)


def test_a_wrong_key_echoed_by_the_health_check_is_redacted_from_the_error(server: OpenAIServer, tmp_path) -> None:
    server.api_key = "the-right-key-0123"
    result = _ddc(tmp_path, "run", str(_spec(server, tmp_path)), "-o", str(tmp_path / "out"))
    _assert_marker_was_sent(server)
    assert result.returncode == 1
    assert "Incorrect API key provided: ***" in result.stderr
    assert MARKER not in result.stdout + result.stderr
    assert _files_holding_the_marker(tmp_path) == []


def test_a_wrong_key_echoed_into_every_cell_error_reaches_no_file(server: OpenAIServer, tmp_path: Path) -> None:
    server.api_key = "the-right-key-0123"
    spec = _spec(server, tmp_path, model="    skip_health_check: true\n")
    result = _ddc(tmp_path, "run", str(spec), "-o", str(tmp_path / "out"))
    _assert_marker_was_sent(server)
    errors = (tmp_path / "out" / "essays" / "errors.jsonl").read_text()
    assert "Incorrect API key provided: ***" in errors
    assert "Incorrect API key provided: ***" in (tmp_path / "out" / "essays" / "metadata.json").read_text()
    assert MARKER not in result.stdout + result.stderr
    assert _files_holding_the_marker(tmp_path) == []


def test_a_key_echoed_in_replies_reaches_neither_the_dataset_nor_the_cache(server: OpenAIServer, tmp_path) -> None:
    server.echo_key = True
    result = _ddc(tmp_path, "run", str(_spec(server, tmp_path)), "-o", str(tmp_path / "out"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    _assert_marker_was_sent(server)
    assert "(sent with key ***)" in (tmp_path / "out" / "essays" / "essays.jsonl").read_text()
    assert (tmp_path / "home" / "cache").is_dir()
    assert MARKER not in result.stdout + result.stderr
    assert _files_holding_the_marker(tmp_path) == []


def test_models_check_prints_no_echoed_key(server: OpenAIServer, tmp_path: Path) -> None:
    server.api_key = "the-right-key-0123"
    result = _ddc(tmp_path, "models", "check", str(_spec(server, tmp_path)))
    _assert_marker_was_sent(server)
    assert result.returncode != 0 and "***" in result.stdout + result.stderr
    assert MARKER not in result.stdout + result.stderr


def test_a_registered_secret_is_masked_in_messages_and_streams(capsys: pytest.CaptureFixture[str]) -> None:
    from ddc.errors import RunError

    secret = "tok-" + secrets.token_hex(8)
    redaction.register(secret)
    assert str(RunError(f"the server said {secret} is wrong", hint=f"not {secret}")) == (
        "the server said *** is wrong (not ***)"
    )
    redaction.RedactingStream(sys.stdout).write(f"echo {secret}\n")
    assert capsys.readouterr().out == "echo ***\n"


def test_placeholder_keys_of_local_servers_are_not_treated_as_secrets() -> None:
    redaction.register("EMPTY")
    assert redaction.redact("EMPTY response") == "EMPTY response"
