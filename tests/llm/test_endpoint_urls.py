"""Endpoints ddc did not read from a spec (``OPENAI_BASE_URL``, a gateway route) are checked where they
are used, and no endpoint's password reaches the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.redaction import redact, redact_message
from tests.conftest import Run
from tests.servers.openai_server import OpenAIServer

OPENAI_SPEC = """
model_configs:
  - {alias: text, model: gpt-mock, provider: openai}
columns:
  - {name: essay, column_type: llm-text, model_alias: text, prompt: Write}
"""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("at http://user:hunter2@127.0.0.1:9/v1: refused", "at http://user:***@127.0.0.1:9/v1: refused"),
        ("'https://u:p@ss@host/x'", "'https://u:***@host/x'"),
        ("http://127.0.0.1:8080/a@b and mail me@example.com", "http://127.0.0.1:8080/a@b and mail me@example.com"),
        ("https://ghp_token123@github.com/x", "https://***@github.com/x"),
    ],
    ids=["password", "password-with-at", "no-userinfo", "token-as-userinfo"],
)
def test_a_password_in_a_url_is_masked_in_any_message(text: str, shown: str) -> None:
    assert redact_message(text) == shown


def test_a_run_error_shows_the_endpoint_without_its_password(
    openai_server: OpenAIServer, tmp_path: Path, run: Run
) -> None:
    openai_server.routes["/chat/completions"] = lambda request: (404, {"error": {"message": "no such model"}})
    endpoint = openai_server.base_url.replace("http://", "http://user:hunter2@")
    spec = tmp_path / "spec.yaml"
    providers = f"providers:\n  - {{name: local, endpoint: '{endpoint}'}}\n"
    spec.write_text(OPENAI_SPEC.replace("provider: openai", "provider: local") + providers, encoding="utf-8")
    code, out, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1 and "http://user:***@127.0.0.1:" in err
    assert "hunter2" not in out + err


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:99999/v1", "http://[::1", "http://127.0.0.1:-1/v1"])
def test_an_invalid_openai_base_url_fails_the_model_check_in_one_line(
    endpoint: str, tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint)
    spec = tmp_path / "spec.yaml"
    spec.write_text(OPENAI_SPEC, encoding="utf-8")
    code, out, err = run("models", "check", str(spec))
    assert code == 1 and "FAIL text" in out + err and "invalid_url: the endpoint is not a valid URL" in out + err
    assert "Traceback" not in out + err


def test_an_invalid_openai_base_url_stops_a_run_with_a_one_line_error(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:99999/v1")
    spec = tmp_path / "spec.yaml"
    spec.write_text(OPENAI_SPEC, encoding="utf-8")
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: model 'text' (gpt-mock at http://127.0.0.1:99999/v1)")
    assert "invalid_url: the endpoint is not a valid URL: Port out of range 0-65535" in err


def test_urls_in_data_keep_their_userinfo() -> None:
    """``ssh://git@host`` in a generated value or a spec string is data: only registered secrets are
    masked there (files, ``show --jsonl``, ``build`` to stdout)."""
    assert redact("ssh://git@github.com/org/repo and postgres://admin:pw@db/app") == (
        "ssh://git@github.com/org/repo and postgres://admin:pw@db/app"
    )
