"""`ddc run` (local execution) with resources that live on the real NeMo Platform: Inference Gateway
providers, Secrets API keys, and fileset seeds (files, directories, file contents)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import Run
from tests.nemo_platform.fixtures import GatewayProvider
from tests.nemo_platform.helpers import write_spec
from tests.nemo_platform.platform import NemoPlatform
from tests.servers.openai_server import OpenAIServer

GATEWAY_SPEC = """\
num_records: 3
model_configs:
  - alias: text
    model: mock-model
    provider: {provider}
columns:
  - {{name: topic, column_type: sampler, sampler_type: category, params: {{values: [lamps, chairs]}}}}
  - {{name: review, column_type: llm-text, model_alias: text, prompt: "Review {{{{ topic }}}} locally"}}
"""

SECRET_KEY_SPEC = """\
num_records: 2
providers:
  - {{name: local, endpoint: "{endpoint}", api_key: "default/{secret}"}}
model_configs:
  - {{alias: text, model: mock-model, provider: local}}
columns:
  - {{name: review, column_type: llm-text, model_alias: text, prompt: "Say hello"}}
"""

FILESET_SEED_SPEC = """\
num_records: 4
seed_config:
  source: {{seed_type: nmp, path: "default/{fileset}#products.csv"}}
columns:
  - {{name: label, column_type: expression, expr: "{{{{ product }}}}-{{{{ price }}}}"}}
"""

DIRECTORY_SPEC = """\
num_records: 2
seed_config:
  source: {{seed_type: {kind}, path: "default/{fileset}#notes", file_pattern: "*.txt"}}
  sampling_strategy: ordered
columns:
  - {{name: tag, column_type: expression, expr: "seen"}}
"""


@pytest.fixture
def nemo_env(nemo_platform: NemoPlatform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> NemoPlatform:
    """NMP_BASE_URL pointing at the platform (as a user of local runs with NeMo resources sets it), and a
    private cache so every test downloads its filesets itself."""
    monkeypatch.setenv("NMP_BASE_URL", nemo_platform.base_url)
    monkeypatch.setenv("DDC_HOME", str(tmp_path / "ddc-home"))
    return nemo_platform


def _rows(out: Path) -> list[dict]:
    return pq.read_table(next(out.iterdir()) / "parquet-files").to_pylist()


def test_a_local_run_calls_the_model_through_a_gateway_provider(
    nemo_env: NemoPlatform, gateway_provider: GatewayProvider, run: Run, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, GATEWAY_SPEC.format(provider=gateway_provider.reference))
    before = len(gateway_provider.llm.requests_to("/chat/completions"))
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert [r["review"].startswith("reply ") for r in _rows(tmp_path / "out")] == [True] * 3
    prompts = [r.user_text for r in gateway_provider.llm.requests_to("/chat/completions")[before:]]
    assert sum("locally" in p for p in prompts) == 3


def test_the_gateway_sends_the_key_of_its_secret_to_the_model(
    nemo_env: NemoPlatform, gateway_provider: GatewayProvider, run: Run, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, GATEWAY_SPEC.format(provider=gateway_provider.reference))
    before = len(gateway_provider.llm.requests)
    assert run("run", str(spec), "-o", str(tmp_path / "out"))[0] == 0
    seen = {r.headers.get("authorization") for r in gateway_provider.llm.requests[before:]}
    assert seen == {"Bearer sk-loopback-test-key"}


def test_a_local_provider_key_is_read_from_the_secrets_api(nemo_env: NemoPlatform, run: Run, tmp_path: Path) -> None:
    secret = nemo_env.unique("local-key")
    nemo_env.create_secret(secret, "sk-from-the-secrets-api")
    with OpenAIServer() as llm:
        spec = write_spec(tmp_path, SECRET_KEY_SPEC.format(endpoint=llm.base_url, secret=secret))
        code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
        assert code == 0, err
        assert {r.headers.get("authorization") for r in llm.requests} == {"Bearer sk-from-the-secrets-api"}


def test_a_local_run_reads_a_fileset_seed(nemo_env: NemoPlatform, run: Run, tmp_path: Path) -> None:
    fileset = nemo_env.unique("catalog")
    csv = tmp_path / "products.csv"
    csv.write_text("product,price\nlamp,10\nchair,25\n", encoding="utf-8")
    nemo_env.upload(csv, fileset)
    spec = write_spec(tmp_path, FILESET_SEED_SPEC.format(fileset=fileset))
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert {r["label"] for r in _rows(tmp_path / "out")} == {"lamp-10", "chair-25"}


@pytest.fixture
def notes_fileset(nemo_env: NemoPlatform, tmp_path: Path) -> str:
    """A fileset with notes/a.txt, notes/b.txt and notes/skip.md."""
    fileset = nemo_env.unique("notes")
    for name, text in (("a.txt", "first note"), ("b.txt", "second note"), ("skip.md", "# not a note")):
        local = tmp_path / "upload" / name
        local.parent.mkdir(exist_ok=True)
        local.write_text(text, encoding="utf-8")
        nemo_env.upload(local, fileset, remote=f"notes/{name}")
    return fileset


def test_a_directory_seed_over_a_fileset_lists_its_files(notes_fileset: str, run: Run, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, DIRECTORY_SPEC.format(kind="directory", fileset=notes_fileset))
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert sorted(r["file_name"] for r in _rows(tmp_path / "out")) == ["a.txt", "b.txt"]


def test_a_file_contents_seed_over_a_fileset_reads_each_file(notes_fileset: str, run: Run, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, DIRECTORY_SPEC.format(kind="file_contents", fileset=notes_fileset))
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert sorted(r["content"] for r in _rows(tmp_path / "out")) == ["first note", "second note"]
