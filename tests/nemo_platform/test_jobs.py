"""`ddc jobs list/status/logs/cancel/download` against the real NeMo Platform services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.nemo.client import NemoClient
from ddc.submission.errors import JobFailedError
from ddc.submission.jobs import format_log_message, wait_for_job
from tests.conftest import Run
from tests.nemo_platform.fixtures import GatewayProvider
from tests.nemo_platform.helpers import SAMPLER_SPEC, dataset_rows, write_spec
from tests.nemo_platform.platform import NemoPlatform

SLOW_LLM_SPEC = """\
num_records: 6
model_configs:
  - alias: text
    model: mock-model
    provider: {provider}
    inference_parameters: {{max_parallel_requests: 1}}
columns:
  - name: n
    column_type: sampler
    sampler_type: uuid
  - name: text
    column_type: llm-text
    prompt: "Say {{{{ n }}}}"
    model_alias: text
"""


@pytest.fixture(scope="module")
def finished_job(nemo_platform: NemoPlatform, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A three-record sampler job that completed."""
    from ddc.api import load
    from ddc.submission.jobs import Connection, SubmitOptions, submit_spec

    name = nemo_platform.unique("finished")
    spec = write_spec(tmp_path_factory.mktemp("finished"), SAMPLER_SPEC)
    outcome = submit_spec(load(spec), SubmitOptions(name=name, wait=True, poll_interval=0.5),
                          Connection(nemo_platform.base_url))  # fmt: skip
    assert outcome.status == "completed"
    return name


@pytest.fixture
def client(nemo_platform: NemoPlatform) -> Iterator[NemoClient]:
    with NemoClient(nemo_platform.base_url, timeout=30.0) as c:
        yield c


def test_jobs_list_shows_a_submitted_job(nemo_platform: NemoPlatform, finished_job: str, run: Run) -> None:
    code, out, err = run("jobs", "list", "--base-url", nemo_platform.base_url)
    assert code == 0, err
    assert any(line.startswith(f"{finished_job}\tcompleted\t") for line in out.splitlines())


def test_jobs_status_prints_the_status(nemo_platform: NemoPlatform, finished_job: str, run: Run) -> None:
    code, out, err = run("jobs", "status", finished_job, "--base-url", nemo_platform.base_url)
    assert (code, out) == (0, f"{finished_job}\tcompleted\n"), err


def test_jobs_status_of_a_missing_job_exits_4_naming_it(nemo_platform: NemoPlatform, run: Run) -> None:
    code, _, err = run("jobs", "status", "no-such-job", "--base-url", nemo_platform.base_url)
    assert code == 4
    assert "HTTP 404" in err and "Job 'no-such-job' not found" in err


def test_jobs_logs_prints_the_engine_log_unwrapped(nemo_platform: NemoPlatform, finished_job: str, run: Run) -> None:
    code, out, err = run("jobs", "logs", finished_job, "--base-url", nemo_platform.base_url)
    assert code == 0, err
    lines = out.splitlines()
    assert "info: Job complete" in lines
    assert not any(line.startswith("[stderr]") for line in lines)  # "[stderr] {json}" entries are unwrapped


def test_each_log_entry_is_a_stderr_prefixed_json_record(client: NemoClient, finished_job: str) -> None:
    entry = client.job_logs(finished_job, limit=1)["data"][0]
    assert entry["message"].startswith("[stderr] {")
    record = json.loads(entry["message"].removeprefix("[stderr] "))
    assert format_log_message(entry) == f"{record['levelname'].lower()}: {record['message']}"


def test_jobs_download_extracts_the_dataset_and_the_analysis(
    nemo_platform: NemoPlatform, finished_job: str, run: Run, tmp_path: Path
) -> None:
    code, out, err = run("jobs", "download", finished_job, "-o", str(tmp_path / "dl"), "--base-url",
                         nemo_platform.base_url)  # fmt: skip
    assert code == 0, err
    assert "(3 records)" in out
    assert dataset_rows(tmp_path / "dl") == 3
    assert (tmp_path / "dl" / "analysis.json").is_file()


def test_jobs_wait_on_a_finished_job_prints_its_status_and_downloads_it(
    nemo_platform: NemoPlatform, finished_job: str, run: Run, tmp_path: Path
) -> None:
    code, out, err = run("jobs", "wait", finished_job, "--download", str(tmp_path / "dl"), "--base-url",
                         nemo_platform.base_url)  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == f"{finished_job}\tcompleted"
    assert dataset_rows(tmp_path / "dl") == 3


def test_result_download_urls_are_absolute(client: NemoClient, nemo_platform: NemoPlatform, finished_job: str) -> None:
    results = {r["name"]: r for r in client.list_results(finished_job)}
    assert set(results) == {"artifacts", "analysis"}
    assert results["artifacts"]["download_url"].startswith(nemo_platform.base_url + "/apis/data-designer/")


def test_waiting_reports_the_status_sequence_up_to_completed(
    nemo_platform: NemoPlatform, client: NemoClient, tmp_path: Path
) -> None:
    from ddc.api import load
    from ddc.submission.jobs import Connection, SubmitOptions, submit_spec

    name = nemo_platform.unique("sequence")
    submit_spec(load(write_spec(tmp_path, SAMPLER_SPEC)), SubmitOptions(name=name), Connection(nemo_platform.base_url))
    lines: list[str] = []
    assert wait_for_job(client, name, poll_interval=0.2, report=lines.append) == "completed"
    seen = [line.split(": ", 1)[1] for line in lines if line.startswith(f"job {name}: ")]
    assert seen[-1] == "completed"
    assert set(seen) <= {"created", "pending", "active", "completed"}


def test_jobs_cancel_cancels_a_running_job(
    nemo_platform: NemoPlatform, gateway_provider: GatewayProvider, client: NemoClient, run: Run, tmp_path: Path
) -> None:
    gateway_provider.llm.latency = 2.0  # each reply takes 2 s: the job is still running when cancelled
    try:
        name = nemo_platform.unique("cancel")
        spec = write_spec(tmp_path, SLOW_LLM_SPEC.format(provider=gateway_provider.reference))
        assert run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name)[0] == 0
        code, out, err = run("jobs", "cancel", name, "--base-url", nemo_platform.base_url)
        assert code == 0, err
        assert out.split("\t")[1].strip() in {"cancelling", "cancelled"}
        with pytest.raises(JobFailedError) as info:
            wait_for_job(client, name, poll_interval=0.5)
        assert (info.value.status, info.value.exit_code) == ("cancelled", 3)
    finally:
        gateway_provider.llm.latency = 0.0
