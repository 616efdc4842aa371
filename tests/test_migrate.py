"""`ddc migrate` and `ddc validate --for submit --online` against the NeMo Services test server."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.api import load, validate
from tests.servers.nemo_services import NemoServices

TOKEN = "nmp-migrate-token-77aa"

LOCAL_SPEC = """\
# Reviews generated from a local CSV with a local model.
name: reviews
num_records: 4
providers:
  - name: local-vllm
    endpoint: http://127.0.0.1:8000/v1
    api_key: VLLM_API_KEY   # read at run time
model_configs:
  - alias: text
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: local-vllm
seed_config:
  source:
    seed_type: local
    path: data/products.csv   # shipped beside the spec
columns:
  - name: review
    column_type: llm-text
    model_alias: text
    prompt: "Review {{ product }}"
"""

NEMO_SPEC = """\
# Reviews on NeMo resources.
name: reviews
num_records: 4
model_configs:
  - alias: text
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: default/nvidia-build
seed_config:
  source:
    seed_type: nmp
    path: default/catalog#products.csv
columns:
  - name: review
    column_type: llm-text
    model_alias: text
    prompt: "Review {{ product }}"
"""


@pytest.fixture
def nemo(monkeypatch: pytest.MonkeyPatch) -> Iterator[NemoServices]:
    with NemoServices(token=TOKEN) as server:
        monkeypatch.setenv("NMP_BASE_URL", server.base_url)
        monkeypatch.setenv("NMP_ACCESS_TOKEN", TOKEN)
        yield server


def _write(directory: Path, text: str, name: str = "spec.yaml") -> Path:
    (directory / "data").mkdir(exist_ok=True)
    (directory / "data" / "products.csv").write_text("product\nlamp\nchair\n", encoding="utf-8")
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _migrate(*args: str) -> int:
    from ddc.cli import main

    try:
        main(["migrate", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_validate_for_submit_reports_seed_secret_and_provider_each_at_its_line(tmp_path: Path) -> None:
    report = validate(_write(tmp_path, LOCAL_SPEC), modes=("submit",))
    found = {(d.span.line, d.path) for d in report.diagnostics if d.severity == "error" and d.span}
    assert found == {
        (7, "providers[0].api_key"),
        (11, "model_configs[0].provider"),
        (15, "seed_config.source.path"),
    }
    assert all(d.hint for d in report.diagnostics)


def test_migrate_to_submit_output_passes_the_online_check(nemo: NemoServices, tmp_path: Path) -> None:
    spec = _write(tmp_path, LOCAL_SPEC)
    out = tmp_path / "spec.submit.yaml"
    assert _migrate("--to", "submit", str(spec), "-o", str(out), "--provider", "local-vllm=default/nvidia-build") == 0
    report = validate(out, modes=("submit",), online=True)
    assert report.ok, [d.format() for d in report.diagnostics]


def test_migrate_to_submit_uploads_the_seed_that_run_would_read(nemo: NemoServices, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    spec = _write(tmp_path, LOCAL_SPEC)
    out = tmp_path / "spec.submit.yaml"
    _migrate("--to", "submit", str(spec), "-o", str(out), "--provider", "local-vllm=default/nvidia-build")
    path = load(out, check=False).spec.seed_config.source.path  # type: ignore[union-attr]
    workspace_fileset, _, name = path.partition("#")
    data = nemo.filesets[tuple(workspace_fileset.split("/"))][name]  # type: ignore[index]
    (tmp_path / "uploaded.parquet").write_bytes(data)
    assert pq.read_table(tmp_path / "uploaded.parquet").column("product").to_pylist() == ["lamp", "chair"]


def test_migrate_keeps_comments_and_untouched_lines(nemo: NemoServices, tmp_path: Path) -> None:
    spec = _write(tmp_path, LOCAL_SPEC)
    out = tmp_path / "spec.submit.yaml"
    _migrate("--to", "submit", str(spec), "-o", str(out), "--provider", "local-vllm=default/nvidia-build")
    text = out.read_text()
    assert text.startswith("# Reviews generated from a local CSV with a local model.\n")
    assert "    api_key: VLLM_API_KEY   # read at run time\n" in text
    assert "    provider: default/nvidia-build\n" in text


def test_migrate_to_submit_without_a_provider_mapping_names_the_option(nemo: NemoServices, tmp_path: Path) -> None:
    from ddc.errors import SpecError
    from ddc.migrate import MigrationOptions, migrate_spec

    loaded = load(_write(tmp_path, LOCAL_SPEC), check=False)
    with pytest.raises(SpecError, match="--provider local-vllm=WORKSPACE/NAME"):
        migrate_spec(loaded, MigrationOptions(to="submit", out=tmp_path / "x.yaml"))


def test_migrate_to_local_downloads_the_fileset_and_adds_a_local_provider(nemo: NemoServices, tmp_path: Path) -> None:
    nemo.add_fileset("default", "catalog", {"products.csv": b"product\nlamp\n"})
    spec = _write(tmp_path, NEMO_SPEC)
    out = tmp_path / "local" / "spec.local.yaml"
    out.parent.mkdir()
    assert _migrate("--to", "local", str(spec), "-o", str(out)) == 0
    migrated = load(out)
    assert migrated.spec.seed_config.source.seed_type == "local"  # type: ignore[union-attr]
    assert (out.parent / migrated.spec.seed_config.source.path).read_text() == "product\nlamp\n"  # type: ignore[union-attr]
    assert migrated.spec.model_configs[0].provider == "nvidia-build"  # type: ignore[index]
    assert migrated.spec.providers[0].api_key == "NMP_ACCESS_TOKEN"  # type: ignore[index]


def test_migrate_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    spec = _write(tmp_path, LOCAL_SPEC)
    out = tmp_path / "exists.yaml"
    out.write_text("keep me")
    assert _migrate("--to", "submit", str(spec), "-o", str(out)) == 2
    assert out.read_text() == "keep me"


def test_online_check_reports_a_missing_provider_and_fileset(nemo: NemoServices, tmp_path: Path) -> None:
    spec = _write(tmp_path, NEMO_SPEC.replace("default/nvidia-build", "default/no-such-provider"))
    report = validate(spec, modes=("submit",), online=True)
    messages = [d.message for d in report.diagnostics if d.code.startswith("online")]
    assert messages == [
        "[online] provider 'default/no-such-provider' does not exist",
        "[online] fileset default/catalog does not exist",
    ]


def test_online_check_without_a_base_url_says_how_to_configure_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    report = validate(_write(tmp_path, NEMO_SPEC), modes=("submit",), online=True)
    assert [d.code for d in report.diagnostics] == ["online-unconfigured"]
