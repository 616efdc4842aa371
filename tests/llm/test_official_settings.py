"""The official CLI's settings files ($DATA_DESIGNER_HOME/model_providers.yaml, model_configs.yaml):
read after ddc's own, so official CLI users get the same providers and default aliases."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import ddc
from tests.servers.openai_server import OpenAIServer

KEY = "nvapi-plaintext-9f3e1c"
# columns only, no model_configs: the default alias nvidia-text is used
SPEC = """\
columns:
  - {name: topic, column_type: sampler, sampler_type: category, params: {values: [lamps]}}
  - {name: review, column_type: llm-text, prompt: "Review {{ topic }}", model_alias: nvidia-text}
"""


@pytest.fixture
def official_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_server: OpenAIServer) -> Path:
    """An official CLI settings folder whose nvidia provider points at the test server with a plaintext
    key, and whose nvidia-text alias names a local model."""
    home = tmp_path / "dd-home"
    home.mkdir()
    (home / "model_providers.yaml").write_text(
        textwrap.dedent(f"""\
            providers:
            - name: nvidia
              endpoint: {openai_server.base_url}
              provider_type: openai
              api_key: {KEY}
            default: nvidia
            """),
        encoding="utf-8",
    )
    (home / "model_configs.yaml").write_text(
        "model_configs:\n- {alias: nvidia-text, model: local/tiny, provider: nvidia}\n", encoding="utf-8"
    )
    monkeypatch.setenv("DATA_DESIGNER_HOME", str(home))
    monkeypatch.setenv("DATA_DESIGNER_SKIP_MODEL_HEALTH_CHECKS", "1")
    return home


def test_a_run_uses_the_official_providers_and_default_aliases(
    official_home: Path, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    ddc.run(SPEC, num_records=2, output_dir=tmp_path / "out", seed=1, use_cache=False)
    [request, *_] = openai_server.cell_requests
    assert request.body["model"] == "local/tiny"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_a_plaintext_key_is_warned_about_and_written_to_no_output(
    official_home: Path, openai_server: OpenAIServer, tmp_path: Path
) -> None:
    result = ddc.run(SPEC, num_records=2, output_dir=tmp_path / "out", seed=1, use_cache=False)
    assert any("plaintext api_key" in w and KEY not in w for w in result.warnings)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_models_list_says_where_each_provider_and_alias_comes_from(
    official_home: Path,
    openai_server: OpenAIServer,
    run,  # type: ignore[no-untyped-def]
) -> None:
    code, out, _ = run("models", "list")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    providers_file, models_file = str(official_home / "model_providers.yaml"), str(official_home / "model_configs.yaml")
    assert ["nvidia", openai_server.base_url, "plaintext", "key", providers_file] in lines
    assert ["openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "default"] in lines
    assert ["nvidia-text", "local/tiny", "nvidia", models_file] in lines
    assert ["nvidia-reasoning", "nvidia/nemotron-3-super-120b-a12b", "nvidia", "default"] in lines
    assert KEY not in out


def test_ddc_providers_file_comes_before_the_official_one(
    official_home: Path,
    ddc_home: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    ddc_home.mkdir(parents=True, exist_ok=True)
    (ddc_home / "providers.yaml").write_text(
        "providers:\n- {name: nvidia, endpoint: 'http://127.0.0.1:1/v1', api_key: MY_NVIDIA_KEY}\n", encoding="utf-8"
    )
    _, out, _ = run("models", "list")
    assert ["nvidia", "http://127.0.0.1:1/v1", "MY_NVIDIA_KEY", str(ddc_home / "providers.yaml")] in [
        line.split() for line in out.splitlines()
    ]


def test_a_malformed_official_file_is_one_line_naming_file_line_and_column(official_home: Path, run) -> None:  # type: ignore[no-untyped-def]
    (official_home / "model_providers.yaml").write_text("providers:\n- {name: nvidia}\n", encoding="utf-8")
    code, _, err = run("models", "list")
    assert code == 1
    assert err.splitlines()[0] == (
        f"error: {official_home / 'model_providers.yaml'}:2:3: providers[0]: "
        "missing required key 'endpoint' (add `endpoint:`)"
    )


def test_validate_for_submit_still_refuses_a_plaintext_key_in_a_spec() -> None:
    spec = "providers: [{name: p, endpoint: 'http://127.0.0.1:1/v1', api_key: " + KEY + "}]\n" + SPEC
    report = ddc.validate(spec, modes=("submit",))
    assert not report.ok
    assert KEY not in json.dumps(report.to_json())
