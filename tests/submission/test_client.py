"""The HTTP client against the home-made NeMo Services server: the faults the real platform cannot be made
to produce (auth, 5xx, timeouts, cut-off answers) and redaction. Real-service answers: tests/nemo_platform."""

from __future__ import annotations

import io
import logging
import socket
from pathlib import Path

import pytest

from ddc.errors import ServiceError
from ddc.nemo.client import DEFAULT_BASE_URL, NemoClient, Redactor, resolve_base_url
from ddc.submission.errors import ConfigRejectedError, ServiceHTTPError
from tests.servers.nemo_services import NemoServices
from tests.submission.conftest import TOKEN

MINIMAL_JOB = {
    "spec": {
        "num_records": 2,
        "config": {
            "columns": [
                {"name": "a", "column_type": "sampler", "sampler_type": "category", "params": {"values": ["x"]}}
            ]
        },
    }
}


def client_for(server: NemoServices, *, token: str | None = TOKEN, timeout: float = 5.0) -> NemoClient:
    return NemoClient(server.base_url, token=token, timeout=timeout)


def test_the_token_is_sent_as_a_bearer_header(nemo: NemoServices) -> None:
    with client_for(nemo) as client:
        client.list_jobs()
    assert nemo.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_no_token_means_no_authorization_header() -> None:
    with NemoServices() as server, client_for(server, token=None) as client:
        client.list_jobs()
        assert "Authorization" not in server.requests[-1].headers


def test_401_is_a_service_error_with_exit_code_2(nemo: NemoServices) -> None:
    with client_for(nemo, token="wrong") as client, pytest.raises(ServiceHTTPError) as info:
        client.list_jobs()
    assert (info.value.status, info.value.exit_code) == (401, 4)
    assert "NMP_ACCESS_TOKEN" in info.value.hint


def test_500_is_a_service_error_suggesting_a_retry(nemo: NemoServices) -> None:
    nemo.fail("GET", r"/jobs/create$", 500, body={"detail": "database unavailable"})
    with client_for(nemo) as client, pytest.raises(ServiceHTTPError) as info:
        client.list_jobs()
    assert info.value.status == 500
    assert "database unavailable" in str(info.value)
    assert "try again" in info.value.hint


def test_a_slow_answer_times_out_as_a_service_error(nemo: NemoServices) -> None:
    nemo.fail("GET", r"/jobs/create$", delay=1.0)
    with client_for(nemo, timeout=0.2) as client, pytest.raises(ServiceError) as info:
        client.list_jobs()
    assert "did not answer within 0.2s" in str(info.value)
    assert info.value.exit_code == 4


def test_a_truncated_answer_is_a_service_error(nemo: NemoServices) -> None:
    nemo.fail("GET", r"/jobs/create$", truncate=True)
    with client_for(nemo) as client, pytest.raises(ServiceError) as info:
        client.list_jobs()
    assert "broke" in str(info.value)


def test_connection_refused_names_the_base_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with NemoClient(f"http://127.0.0.1:{port}", timeout=2.0) as client, pytest.raises(ServiceError) as info:
        client.list_jobs()
    assert f"cannot connect to NeMo Services at http://127.0.0.1:{port}" in str(info.value)


def test_the_token_is_redacted_from_error_messages(nemo: NemoServices) -> None:
    nemo.fail("GET", r"/jobs/create$", 500, body={"detail": f"upstream refused Authorization: Bearer {TOKEN}"})
    with client_for(nemo) as client, pytest.raises(ServiceError) as info:
        client.list_jobs()
    assert TOKEN not in str(info.value)
    assert "Bearer ***" in str(info.value)


def test_the_token_is_redacted_from_debug_logs(nemo: NemoServices, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="ddc.nemo"), client_for(nemo) as client:
        client.list_jobs(page=1)
    assert caplog.records
    assert TOKEN not in caplog.text


def test_redactor_removes_known_secrets_and_bearer_values() -> None:
    redact = Redactor("s3cr3t")
    assert redact("key=s3cr3t; Authorization: Bearer abc.def") == "key=***; Authorization: Bearer ***"


def test_artifact_download_streams_into_a_file(nemo: NemoServices) -> None:
    nemo.statuses = ["completed"]
    with client_for(nemo) as client:
        name = client.create_job(MINIMAL_JOB)["name"]
        buffer = io.BytesIO()
        size = client.download_result(name, "artifacts", buffer)
    assert size == len(buffer.getvalue()) > 0


@pytest.mark.parametrize(
    ("option", "spec_value", "env", "expected"),
    [
        ("http://cli:1", "http://spec:2", {"NMP_BASE_URL": "http://env:3"}, "http://cli:1"),
        (None, "http://spec:2", {"NMP_BASE_URL": "http://env:3"}, "http://spec:2"),
        (None, None, {"NMP_BASE_URL": "http://env:3/"}, "http://env:3"),
        (None, None, {}, DEFAULT_BASE_URL),
    ],
    ids=["option", "spec", "environment", "default"],
)
def test_base_url_precedence(option: str | None, spec_value: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_base_url(option, spec_value, env) == expected


def test_the_test_server_validates_configs_with_a_pluggable_validator() -> None:
    reject = NemoServices(config_validator=lambda config: ["columns.0: not allowed here"])
    with reject as server, NemoClient(server.base_url) as client, pytest.raises(ConfigRejectedError) as info:
        client.create_job(MINIMAL_JOB)
    assert "columns.0: not allowed here" in str(info.value)


def test_the_test_server_uses_the_official_models_when_importable() -> None:
    pytest.importorskip("data_designer.config", reason="data-designer-config is not installed in this interpreter")
    bad = {"spec": {"num_records": 1, "config": {"columns": MINIMAL_JOB["spec"]["config"]["columns"], "bogus": 1}}}
    with NemoServices() as server, NemoClient(server.base_url) as client, pytest.raises(ConfigRejectedError):
        client.create_job(bad)


def test_deleting_a_running_job_is_refused_with_409(nemo: NemoServices) -> None:
    with client_for(nemo) as client:
        name = client.create_job(MINIMAL_JOB)["name"]
        with pytest.raises(ServiceHTTPError) as info:
            client.delete_job(name)
    assert info.value.status == 409


def test_uploads_are_sent_as_octet_stream(nemo: NemoServices, tmp_path: Path) -> None:
    local = tmp_path / "seed.parquet"
    local.write_bytes(b"PAR1")
    with client_for(nemo) as client:
        client.create_fileset("seeds")
        client.upload_file("seeds", "seed.parquet", local)
    [upload] = nemo.requests_to("PUT", r"/filesets/seeds/-/seed.parquet$")
    assert upload.headers["Content-Type"] == "application/octet-stream"


def test_the_409_for_an_over_long_job_name_explains_the_51_character_limit(nemo: NemoServices) -> None:
    with client_for(nemo) as client, pytest.raises(ServiceHTTPError) as info:
        client.create_job({**MINIMAL_JOB, "name": "a" * 52})
    assert info.value.status == 409
    assert "job name over 51 characters" in info.value.hint


def test_the_422_for_a_missing_output_fileset_says_what_to_do(nemo: NemoServices) -> None:
    with client_for(nemo) as client, pytest.raises(ConfigRejectedError) as info:
        client.create_job({**MINIMAL_JOB, "output_location": "results"})
    assert "fileset 'results' not found" in info.value.message
    assert info.value.hint == "create the output fileset results first, or pass --create-output-location"


def test_a_leftover_results_fileset_is_named_with_the_command_that_removes_it(nemo: NemoServices) -> None:
    nemo.add_fileset("default", "job-fileset-nightly")
    with client_for(nemo) as client, pytest.raises(ServiceHTTPError) as info:
        client.create_job({**MINIMAL_JOB, "name": "nightly"})
    assert "nemo files filesets delete job-fileset-nightly --workspace default" in info.value.hint
