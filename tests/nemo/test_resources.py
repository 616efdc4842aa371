"""NeMo resources for local runs, against the NeMo Services test server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.errors import RunError
from ddc.nemo.resources import NemoAccess, fetch_fileset_seed, resolve_secret
from tests.servers.nemo_services import NemoServices

TOKEN = "nmp-resources-token-91f3"


@pytest.fixture
def nemo() -> Iterator[NemoServices]:
    with NemoServices(token=TOKEN) as server:
        yield server


@pytest.fixture
def access(nemo: NemoServices) -> NemoAccess:
    return NemoAccess(nemo.base_url, TOKEN)


def test_gateway_endpoint_names_the_workspace_and_provider(access: NemoAccess) -> None:
    assert access.gateway_endpoint("team/nvidia-build") == (
        f"{access.base_url}/apis/inference-gateway/v2/workspaces/team/provider/nvidia-build/-/v1"
    )


def test_a_bare_provider_name_resolves_in_the_default_workspace(access: NemoAccess) -> None:
    assert "/workspaces/default/provider/nvidia-build/" in access.gateway_endpoint("nvidia-build")


def test_access_comes_from_nmp_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMP_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("NMP_ACCESS_TOKEN", "t")
    access = NemoAccess.from_settings()
    assert access is not None and access.base_url == "http://127.0.0.1:9" and access.token == "t"


def test_no_base_url_means_no_access(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    assert NemoAccess.from_settings() is None


def test_a_fileset_seed_is_downloaded_into_the_cache(nemo: NemoServices, access: NemoAccess, tmp_path: Path) -> None:
    nemo.add_fileset("default", "reviews", {"data/a.csv": b"id\n1\n", "data/b.csv": b"id\n2\n", "other.txt": b"x"})
    local, downloaded = fetch_fileset_seed(access, "default/reviews#data/*.csv", root=tmp_path)
    assert downloaded == 2
    assert sorted(p.name for p in Path(local).parent.glob("*.csv")) == ["a.csv", "b.csv"]
    assert local.endswith("filesets/default/reviews/data/*.csv")


def test_a_second_fetch_reuses_the_cache(nemo: NemoServices, access: NemoAccess, tmp_path: Path) -> None:
    nemo.add_fileset("default", "reviews", {"seed.csv": b"id\n1\n"})
    fetch_fileset_seed(access, "default/reviews#seed.csv", root=tmp_path)
    _, downloaded = fetch_fileset_seed(access, "default/reviews#seed.csv", root=tmp_path)
    assert downloaded == 0
    assert len(nemo.requests_to("GET", r"/filesets/reviews/-/seed.csv")) == 1


def test_a_fileset_without_matching_files_is_a_clear_error(
    nemo: NemoServices, access: NemoAccess, tmp_path: Path
) -> None:
    nemo.add_fileset("default", "reviews", {"seed.csv": b"id\n1\n"})
    with pytest.raises(RunError, match=r"no file matching '\*.parquet'"):
        fetch_fileset_seed(access, "default/reviews#*.parquet", root=tmp_path)


def test_a_secrets_api_reference_resolves_to_its_value(nemo: NemoServices, access: NemoAccess) -> None:
    nemo.secrets[("default", "hf-token")] = "hf_secret_value"
    assert resolve_secret("default/hf-token", access) == "hf_secret_value"


def test_an_environment_variable_wins_over_the_secrets_api(
    nemo: NemoServices, access: NemoAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "from-env")
    assert resolve_secret("HF_TOKEN", access) == "from-env"
    assert not nemo.requests_to("GET", r"/secrets/")


def test_an_unknown_secret_name_is_used_as_written(nemo: NemoServices, access: NemoAccess) -> None:
    assert resolve_secret("plain-token-value", access) == "plain-token-value"


def test_without_access_a_reference_is_used_as_written() -> None:
    assert resolve_secret("default/hf-token", None) == "default/hf-token"


@pytest.mark.parametrize(
    ("host_url", "suffix"),
    [("http://127.0.0.1:8000/v1", "/-"), ("http://127.0.0.1:8000/v1/", "/-"), ("http://127.0.0.1:8000", "/-/v1")],
    ids=["host-url-ends-in-v1", "trailing-slash", "no-v1"],
)
def test_the_gateway_route_adds_v1_only_when_the_host_url_lacks_it(
    access: NemoAccess, host_url: str, suffix: str
) -> None:
    assert access.gateway_endpoint("default/p", host_url).endswith("/provider/p" + suffix)


def test_the_host_url_comes_from_the_models_api(nemo: NemoServices, access: NemoAccess) -> None:
    nemo.providers[("default", "team")] = {"name": "team", "host_url": "http://127.0.0.1:9/v1"}
    assert access.provider_host_url("default/team") == "http://127.0.0.1:9/v1"
    assert access.provider_host_url("default/missing") is None


SHARED_KEY_SPEC = """\
model_configs:
  - {alias: a, model: m, provider: one}
  - {alias: b, model: m, provider: two}
providers:
  - {name: one, endpoint: "http://127.0.0.1:9/v1", api_key: default/team-key}
  - {name: two, endpoint: "http://127.0.0.1:8/v1", api_key: default/team-key}
columns:
  - {name: x, column_type: llm-text, prompt: hi, model_alias: a}
  - {name: y, column_type: llm-text, prompt: hi, model_alias: b}
"""


def test_online_checks_read_a_shared_secret_s_metadata_once(
    nemo: NemoServices, access: NemoAccess, tmp_path: Path
) -> None:
    from ddc.nemo.online import online_diagnostics
    from ddc.spec.load import load_spec

    nemo.secrets[("default", "team-key")] = "sk-team"
    spec = tmp_path / "spec.yaml"
    spec.write_text(SHARED_KEY_SPEC, encoding="utf-8")
    assert online_diagnostics(load_spec(spec), "run", access) == []
    assert [r.path for r in nemo.requests if "/secrets/" in r.path] == [
        "/apis/secrets/v2/workspaces/default/secrets/team-key"
    ]


def test_online_checks_warn_when_a_provider_serves_no_models(
    nemo: NemoServices, access: NemoAccess, tmp_path: Path
) -> None:
    from ddc.nemo.online import online_diagnostics
    from ddc.spec.load import load_spec

    nemo.providers[("default", "idle")] = {"name": "idle", "served_models": [], "status": "CREATED"}
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "model_configs:\n  - {alias: a, model: m, provider: default/idle}\n"
        "columns:\n  - {name: x, column_type: llm-text, prompt: hi, model_alias: a}\n",
        encoding="utf-8",
    )
    [finding] = online_diagnostics(load_spec(spec), "submit", access)
    assert finding.severity == "warning"
    assert "provider 'default/idle' serves no models" in finding.message and "status CREATED" in finding.message
