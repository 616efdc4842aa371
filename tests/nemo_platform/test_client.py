"""The HTTP client against the real NeMo Platform services: status codes and the bodies behind them,
filesets, uploads, secrets (the faults the real service cannot produce are in tests/submission)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.nemo.client import NemoClient
from ddc.submission.errors import ConfigRejectedError, ServiceHTTPError
from tests.nemo_platform.platform import NemoPlatform

MINIMAL_JOB = {
    "spec": {
        "num_records": 1,
        "config": {"columns": [{"name": "a", "column_type": "sampler", "sampler_type": "uuid", "params": {}}]},
    }
}


@pytest.fixture
def client(nemo_platform: NemoPlatform) -> Iterator[NemoClient]:
    with NemoClient(nemo_platform.base_url, timeout=30.0) as c:
        yield c


def test_404_names_the_missing_job(client: NemoClient) -> None:
    with pytest.raises(ServiceHTTPError) as info:
        client.get_job("no-such-job")
    assert (info.value.status, info.value.exit_code) == (404, 4)
    assert "Job 'no-such-job' not found in workspace 'default'" in str(info.value)


def test_409_on_a_taken_job_name_names_the_job(client: NemoClient, nemo_platform: NemoPlatform) -> None:
    name = nemo_platform.unique("twice")
    client.create_job({**MINIMAL_JOB, "name": name})
    with pytest.raises(ServiceHTTPError) as info:
        client.create_job({**MINIMAL_JOB, "name": name})
    assert (info.value.status, info.value.exit_code) == (409, 4)
    assert f"Job '{name}' already exists" in str(info.value)


def test_a_custom_column_is_rejected_with_422_and_the_services_reason(client: NemoClient) -> None:
    body = {"spec": {"num_records": 1, "config": {"columns": [{"name": "x", "column_type": "custom"}]}}}
    with pytest.raises(ConfigRejectedError) as info:
        client.create_job(body)
    assert info.value.exit_code == 1
    assert "Custom columns are not supported" in str(info.value)
    assert '"input"' not in str(info.value)  # the echoed request body is not repeated


def test_creating_an_existing_fileset_reports_it_exists(client: NemoClient, nemo_platform: NemoPlatform) -> None:
    name = nemo_platform.unique("seeds")
    assert client.create_fileset(name) is True
    assert client.create_fileset(name) is False


def test_an_uploaded_file_is_listed_and_downloads_unchanged(
    client: NemoClient, nemo_platform: NemoPlatform, tmp_path: Path
) -> None:
    name = nemo_platform.unique("files")
    local = tmp_path / "seed.parquet"
    local.write_bytes(b"PAR1 not really\x00\xff")
    client.create_fileset(name)
    client.upload_file(name, "dir/seed.parquet", local)
    assert [f["path"].lstrip("/") for f in client.list_files(name)] == ["dir/seed.parquet"]
    assert client.download_file(name, "dir/seed.parquet") == local.read_bytes()


def test_a_file_uploaded_with_the_nemo_cli_is_read_by_ddc(
    client: NemoClient, nemo_platform: NemoPlatform, tmp_path: Path
) -> None:
    name = nemo_platform.unique("cli-files")
    local = tmp_path / "rows.csv"
    local.write_text("id\n1\n2\n", encoding="utf-8")
    nemo_platform.upload(local, name)
    assert client.download_file(name, "rows.csv") == local.read_bytes()


def test_secret_existence_is_read_from_metadata_without_the_value(
    client: NemoClient, nemo_platform: NemoPlatform
) -> None:
    name = nemo_platform.unique("hf-token")
    nemo_platform.create_secret(name, "hf_value_1234")
    offset = nemo_platform.log_size()
    assert (client.secret_exists(f"default/{name}"), client.secret_exists("default/missing-secret")) == (True, False)
    requests = nemo_platform.requests_since(offset)
    assert f"GET /apis/secrets/v2/workspaces/default/secrets/{name} 200" in requests
    assert not any("/access" in line for line in requests)


def test_the_platform_reports_its_version(client: NemoClient) -> None:
    assert client.platform_version() == "0.6.0"
