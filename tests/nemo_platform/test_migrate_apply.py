"""`ddc migrate --to submit --apply` against the real NeMo Platform: the execution-modes checklist's
service-side steps done by ddc (secrets from environment variables, a gateway provider for a local
provider, the seed upload, persona filesets), then the migrated spec submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run
from tests.nemo_platform.helpers import FAST, dataset_rows, write_spec
from tests.nemo_platform.platform import NemoPlatform
from tests.servers.openai_server import OpenAIServer

# The local counterpart of examples/submit-ready.ddc.yaml: a local OpenAI-compatible provider whose key is
# in an environment variable, and a local seed file instead of the Hugging Face dataset.
LOCAL_SPEC = """\
name: support-replies
num_records: 3
random_seed: 3
providers:
  - {{name: {provider}, endpoint: "{endpoint}", api_key: {env}}}
model_configs:
  - alias: nemotron
    model: mock-model
    provider: {provider}
seed_config:
  source: {{seed_type: local, path: data/questions.csv}}
  sampling_strategy: shuffle
columns:
  - {{name: tone, column_type: sampler, sampler_type: category, params: {{values: [formal, friendly, concise]}}}}
  - name: reply
    column_type: llm-text
    model_alias: nemotron
    prompt: "Answer this customer question in a {{{{ tone }}}} tone: {{{{ question }}}}"
  - {{name: reply_words, column_type: expression, expr: "{{{{ reply.split() | length }}}}", dtype: int}}
submit:
  workspace: default
"""

PERSONA_SPEC = """\
num_records: 2
columns:
  - {name: customer, column_type: sampler, sampler_type: person, params: {locale: en_US}}
submit: {workspace: default}
"""


@pytest.fixture
def llm() -> OpenAIServer:
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def local_spec(nemo_platform: NemoPlatform, llm: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    provider, env = nemo_platform.unique("support-llm"), "SUPPORT_LLM_KEY"
    monkeypatch.setenv(env, "sk-support-key")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "questions.csv").write_text(
        "question\nWhere is my order?\nHow do I reset my password?\nCan I get a refund?\n", encoding="utf-8"
    )
    spec = write_spec(tmp_path, LOCAL_SPEC.format(provider=provider, endpoint=llm.base_url, env=env))
    return spec, provider


def test_apply_creates_the_secret_provider_and_seed_then_the_spec_submits(
    nemo_platform: NemoPlatform, llm: OpenAIServer, local_spec: tuple[Path, str], run: Run, tmp_path: Path
) -> None:
    spec, provider = local_spec
    seeds, migrated = nemo_platform.unique("seeds"), tmp_path / "support.submit.yaml"
    code, out, err = run("migrate", "--to", "submit", str(spec), "-o", str(migrated), "--apply", "--yes",
                         "--base-url", nemo_platform.base_url, "--seed-fileset", seeds)  # fmt: skip
    assert code == 0, err
    assert f"register gateway provider default/{provider}" in out
    assert nemo_platform.get(f"/apis/secrets/v2/workspaces/default/secrets/{provider}-api-key").status_code == 200
    assert nemo_platform.get(f"/apis/models/v2/workspaces/default/providers/{provider}").status_code == 200
    assert nemo_platform.fileset_exists(seeds)
    code, _, err = run("validate", str(migrated), "--for", "submit")
    assert code == 0, err
    code, _, err = run("submit", str(migrated), "--base-url", nemo_platform.base_url, "--name",
                       nemo_platform.unique("migrated"), "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert dataset_rows(tmp_path / "out") == 3
    assert {r.headers.get("authorization") for r in llm.requests_to("/chat/completions")} == {"Bearer sk-support-key"}


def test_each_step_is_shown_and_a_declined_one_stops_before_anything_is_created(
    nemo_platform: NemoPlatform, local_spec: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli

    spec, provider = local_spec
    migrated = tmp_path / "declined.yaml"
    args = [
        "migrate",
        "--to",
        "submit",
        str(spec),
        "-o",
        str(migrated),
        "--apply",
        "--base-url",
        nemo_platform.base_url,
    ]
    result = CliRunner().invoke(cli, args, input="n\n")
    assert "[1/3] create secret" in result.output and result.exit_code != 0
    assert not migrated.exists()
    assert nemo_platform.get(f"/apis/secrets/v2/workspaces/default/secrets/{provider}-api-key").status_code == 404


def test_a_missing_environment_variable_is_a_one_line_error_before_any_step(
    nemo_platform: NemoPlatform, local_spec: tuple[Path, str], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, provider = local_spec
    monkeypatch.delenv("SUPPORT_LLM_KEY")
    code, _, err = run("migrate", "--to", "submit", str(spec), "-o", str(tmp_path / "x.yaml"), "--apply", "--yes",
                       "--base-url", nemo_platform.base_url)  # fmt: skip
    assert code == 1 and "SUPPORT_LLM_KEY" in err
    assert nemo_platform.get(f"/apis/models/v2/workspaces/default/providers/{provider}").status_code == 404


def test_a_local_persona_dataset_is_published_as_its_system_fileset(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    assets = tmp_path / "assets"
    (assets / "datasets").mkdir(parents=True)
    pq.write_table(pa.table({"first_name": ["Ada"], "last_name": ["Lovelace"]}), assets / "datasets" / "en_US.parquet")
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(assets))
    spec = write_spec(tmp_path, PERSONA_SPEC)
    code, out, err = run("migrate", "--to", "submit", str(spec), "-o", str(tmp_path / "p.yaml"), "--apply", "--yes",
                         "--base-url", nemo_platform.base_url)  # fmt: skip
    assert code == 0, err
    assert "persona fileset system/nemotron-personas-dataset-en_us" in out
    listing = nemo_platform.nemo("files", "list", "nemotron-personas-dataset-en_us", "--workspace", "system").stdout
    assert "en_US.parquet" in listing
