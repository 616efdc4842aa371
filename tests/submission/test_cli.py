"""`ddc submit`, `ddc jobs`, `ddc preview --remote` against the home-made NeMo Services server: what needs no
service (dry runs, pre-flight) and the faults the real platform cannot be made to produce (401, a job
ending in error, a malicious archive, a broken preview stream). The real-service behaviour is tested in
tests/nemo_platform."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.servers.nemo_services import NemoServices
from tests.submission.conftest import write_spec

FAST = ("--poll-interval", "0")


def test_dry_run_prints_the_exact_body_and_sends_nothing(
    ddc, nemo: NemoServices, simple_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NMP_BASE_URL", nemo.base_url)
    result = ddc("submit", str(simple_spec), "--dry-run", "-n", "7")
    assert result.exit_code == 0
    body = json.loads(result.out)
    assert (body["name"], body["spec"]["num_records"]) == ("reviews", 7)
    assert nemo.requests == []


def test_dry_run_with_upload_seeds_names_the_file_a_real_run_uploads(
    ddc, nemo: NemoServices, join_spec: Path, token_env: str
) -> None:
    dry = json.loads(ddc("submit", str(join_spec), "--dry-run", "--upload-seeds").out)
    ddc("submit", str(join_spec), "--base-url", nemo.base_url, "--upload-seeds")
    [create] = nemo.requests_to("POST", r"/jobs/create$")
    assert create.json() == dry


def test_a_preflight_failure_exits_1_and_sends_nothing(
    ddc, nemo: NemoServices, join_spec: Path, token_env: str
) -> None:
    result = ddc("submit", str(join_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 1
    assert f"{join_spec}:17:" in result.err
    assert nemo.requests == []


def test_a_bad_token_exits_4_and_is_not_printed(
    ddc, nemo: NemoServices, simple_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NMP_ACCESS_TOKEN", "wrong-token-abcdef")
    nemo.fail("POST", r"/jobs/create$", 401, body={"detail": "invalid token wrong-token-abcdef"})
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 4
    assert "HTTP 401" in result.err
    assert "wrong-token-abcdef" not in result.err + result.out


def test_a_job_ending_in_error_exits_3(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    nemo.statuses = ["created", "active", "error"]
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--wait", *FAST)
    assert result.exit_code == 3
    assert "job reviews ended with status error" in result.err


def test_wait_streams_log_lines_to_stderr(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--wait", *FAST)
    assert "log: info: generating 4 records" in result.err


def test_a_malicious_artifacts_archive_exits_3_and_writes_nothing(
    ddc, nemo: NemoServices, simple_spec: Path, tmp_path: Path, token_env: str
) -> None:
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("artifacts/../../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    nemo.artifacts_override = buffer.getvalue()
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--download", str(tmp_path / "o"), *FAST)
    assert result.exit_code == 3
    assert "refusing to extract" in result.err
    assert not (tmp_path / "escaped.txt").exists()


def test_preview_remote_prints_one_panel_per_record(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    result = ddc("preview", "--remote", str(simple_spec), "-n", "2", "--base-url", nemo.base_url)
    assert result.exit_code == 0, result.err
    rows = [line.strip("│ ").split() for line in result.out.splitlines() if line.startswith("│")]
    assert rows == [["topic", "topic-0"], ["review", "review-0"], ["topic", "topic-1"], ["review", "review-1"]]
    assert "2 record(s)" in result.err


def test_preview_remote_above_ten_records_exits_1(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    result = ddc("preview", "--remote", str(simple_spec), "-n", "11", "--base-url", nemo.base_url)
    assert result.exit_code == 1
    assert "at most 10 records" in result.err


def test_preview_remote_error_frame_exits_3(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    nemo.preview_error = "model health check failed"
    result = ddc("preview", "--remote", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 3
    assert "the remote preview failed: model health check failed" in result.err


def test_preview_remote_truncated_stream_exits_4(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    nemo.preview_truncate = True
    result = ddc("preview", "--remote", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 4


def test_preview_without_remote_is_a_usage_error(ddc, simple_spec: Path) -> None:
    result = ddc("preview", str(simple_spec))
    assert result.exit_code == 2
    assert "pass --remote" in result.err


def test_spec_submit_settings_choose_the_workspace(ddc, nemo: NemoServices, tmp_path: Path, token_env: str) -> None:
    spec = write_spec(
        tmp_path,
        """\
        submit: {workspace: team-a}
        columns:
          - {name: a, column_type: expression, expr: "x"}
        """,
    )
    ddc("submit", str(spec), "--base-url", nemo.base_url)
    assert nemo.requests_to("POST", r"^/apis/data-designer/v2/workspaces/team-a/jobs/create$")


def test_jobs_download_of_an_unfinished_job_exits_4_saying_there_are_no_results(
    ddc, nemo: NemoServices, simple_spec: Path, tmp_path: Path, token_env: str
) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "download", "reviews", "-o", str(tmp_path / "dl"), "--base-url", nemo.base_url)
    assert result.exit_code == 4
    assert "job reviews is created: the artifacts may be partial" in result.err
    assert "Result 'artifacts' for job 'reviews' not found" in result.err


def test_a_compiled_module_submits_the_same_body_as_its_spec(ddc, simple_spec: Path, tmp_path: Path) -> None:
    module = tmp_path / "reviews_module.py"
    assert ddc("build", str(simple_spec), "-o", str(module)).exit_code == 0
    from_module = ddc("submit", str(module), "--dry-run")
    assert from_module.exit_code == 0, from_module.err
    assert json.loads(from_module.out) == json.loads(ddc("submit", str(simple_spec), "--dry-run").out)


def test_submit_json_prints_a_summary(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--wait", "--json", "-q", *FAST)
    summary = json.loads(result.out)
    assert (result.exit_code, summary["status"], result.err) == (0, "completed", "")


def test_the_fileset_a_refused_create_left_behind_is_removed(
    ddc, nemo: NemoServices, simple_spec: Path, token_env: str
) -> None:
    nemo.fail("GET", r"/projects/gone$", 200, body={"name": "gone"})  # deleted between the check and the create
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--project", "gone")
    assert result.exit_code == 1
    assert "removed fileset default/job-fileset-reviews, which the refused create had left behind" in result.err
    assert ("default", "job-fileset-reviews") not in nemo.filesets


def test_a_leftover_that_cannot_be_removed_is_explained_with_the_command(
    ddc, nemo: NemoServices, simple_spec: Path, token_env: str
) -> None:
    nemo.fail("GET", r"/projects/gone$", 200, body={"name": "gone"})
    nemo.fail("DELETE", r"/filesets/job-fileset-reviews$", 500)
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--project", "gone")
    assert result.exit_code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "left fileset default/job-fileset-reviews" in result.err
    assert "`nemo files filesets delete job-fileset-reviews --workspace default`" in result.err


def test_submit_wait_past_its_timeout_exits_5_saying_how_to_follow_the_job(
    ddc, nemo: NemoServices, simple_spec: Path, token_env: str
) -> None:
    nemo.statuses = ["active"]  # a job that never ends
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--wait", "--wait-timeout", "0", *FAST)
    assert result.exit_code == 5
    assert "job reviews is still active after 0 s of waiting; it keeps running" in result.err
    assert "ddc jobs wait reviews" in result.err


def test_jobs_wait_follows_a_job_to_its_end(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "wait", "reviews", "--base-url", nemo.base_url, *FAST)
    assert (result.exit_code, result.out) == (0, "reviews\tcompleted\n"), result.err
