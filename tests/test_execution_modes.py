"""One spec, both modes: NeMo resources in `ddc run`, and the same file submitted unchanged.

The spec uses an Inference Gateway provider, a fileset seed and a Secrets API reference (the API key of a
team endpoint); `ddc run` resolves all three through the NeMo Services test server, and `ddc submit`
sends the same file. Both datasets have the same columns and record count.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import ddc
from tests.servers.nemo_services import NemoServices
from tests.servers.openai_server import OpenAIServer

NMP_TOKEN = "nmp-modes-token-a1b2"
TEAM_KEY = "team-key-from-the-secrets-api"

SPEC = """\
name: catalog-reviews
num_records: 6
random_seed: 3
providers:
  - name: team-llm
    endpoint: {endpoint}
    api_key: default/llm-key          # a Secrets API reference, read at run time
submit:
  providers: {{team-llm: default/nvidia-build}}
model_configs:
  - {{alias: gateway, model: nvidia/nemotron-3-nano-30b-a3b, provider: default/nvidia-build}}
  - {{alias: team, model: team-model, provider: team-llm}}
seed_config:
  source: {{seed_type: nmp, path: "default/catalog#products.parquet"}}
columns:
  - {{name: pitch, column_type: llm-text, model_alias: gateway, prompt: "Pitch {{{{ product }}}}"}}
  - {{name: review, column_type: llm-text, model_alias: team, prompt: "Review {{{{ product }}}}: {{{{ pitch }}}}"}}
"""


def _products() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"product": ["lamp", "chair", "desk"], "price": [30, 80, 250]}), buffer)
    return buffer.getvalue()


@pytest.fixture
def nemo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NemoServices]:
    with NemoServices(token=NMP_TOKEN) as server:
        server.add_fileset("default", "catalog", {"products.parquet": _products()})
        server.secrets[("default", "llm-key")] = TEAM_KEY
        monkeypatch.setenv("NMP_BASE_URL", server.base_url)
        monkeypatch.setenv("NMP_ACCESS_TOKEN", NMP_TOKEN)
        monkeypatch.setenv("DDC_HOME", str(tmp_path / "ddc-home"))
        monkeypatch.setenv("DDC_CACHE_DIR", str(tmp_path / "cache"))
        yield server


@pytest.fixture
def team_endpoint() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def spec(tmp_path: Path, team_endpoint: OpenAIServer) -> Path:
    path = tmp_path / "catalog.ddc.yaml"
    path.write_text(textwrap.dedent(SPEC.format(endpoint=team_endpoint.base_url)), encoding="utf-8")
    return path


def test_the_spec_is_valid_for_both_modes_online(nemo: NemoServices, spec: Path) -> None:
    report = ddc.validate(spec, modes=("run", "submit"), online=True)
    assert report.ok, [d.format() for d in report.diagnostics]


def test_run_calls_the_gateway_route_with_the_nemo_token(nemo: NemoServices, spec: Path, tmp_path: Path) -> None:
    ddc.run(spec, output_dir=tmp_path / "out")
    calls = nemo.requests_to("POST", r"/apis/inference-gateway/v2/workspaces/default/provider/nvidia-build/-/v1/chat")
    cells = [c for c in calls if c.json()["messages"][-1]["content"] != "Hello!"]  # not the probe
    assert (len(calls), len(cells)) == (7, 6)


def test_run_sends_the_secrets_api_key_to_the_team_endpoint(
    nemo: NemoServices, spec: Path, team_endpoint: OpenAIServer, tmp_path: Path
) -> None:
    ddc.run(spec, output_dir=tmp_path / "out")
    chats = team_endpoint.requests_to("/chat/completions")
    assert len(chats) == 7  # the start-up health probe and 6 cells
    assert {r.headers.get("authorization") for r in chats} == {f"Bearer {TEAM_KEY}"}


def test_the_key_from_the_secrets_api_is_not_written_anywhere(nemo: NemoServices, spec: Path, tmp_path: Path) -> None:
    result = ddc.run(spec, output_dir=tmp_path / "out")
    for path in result.path.rglob("*"):
        if path.is_file():
            assert TEAM_KEY.encode() not in path.read_bytes(), path


def test_run_and_submit_give_the_same_columns_and_record_count(nemo: NemoServices, spec: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    local = ddc.run(spec, output_dir=tmp_path / "out", return_table=True).table
    outcome = ddc.submit(spec, wait=True, download=tmp_path / "job")
    remote = pq.read_table(outcome.artifacts / "dataset" / "parquet-files")
    assert sorted(local.column_names) == sorted(remote.column_names) == ["pitch", "price", "product", "review"]
    assert local.num_rows == remote.num_rows == 6


def test_the_submitted_config_names_only_gateway_providers(nemo: NemoServices, spec: Path) -> None:
    outcome = ddc.submit(spec, dry_run=True)
    providers = {m["provider"] for m in outcome.body["spec"]["config"]["model_configs"]}
    assert providers == {"default/nvidia-build"}
    assert "llm-key" not in str(outcome.body) and "team-llm" not in str(outcome.body)
