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
