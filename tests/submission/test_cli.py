"""`ddc submit`, `ddc jobs`, `ddc preview --remote` end to end against the NeMo Services test server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.servers.nemo_services import NemoServices
from tests.submission.conftest import TOKEN, CliResult, write_spec

FAST = ("--poll-interval", "0")


def test_the_bar_join_seed_uploaded_job_waited_dataset_downloaded(
    ddc, nemo: NemoServices, join_spec: Path, tmp_path: Path, token_env: str
) -> None:
    import duckdb
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    result: CliResult = ddc(
        "submit", str(join_spec), "--base-url", nemo.base_url, "--upload-seeds", "--wait", "--download", str(out), *FAST
    )
    assert result.exit_code == 0, result.err
    files = sorted((out / "artifacts" / "dataset" / "parquet-files").glob("*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) == 6
    assert f"dataset: {out / 'artifacts' / 'dataset'} (6 records)" in result.out

    [upload] = nemo.requests_to("PUT", r"/filesets/ddc-seeds/-/")
    uploaded = pq.read_table(io.BytesIO(upload.body)).to_pylist()
    local = duckdb.sql(
        f"SELECT p.product_id, p.product, r.rating FROM read_csv('{join_spec.parent}/data/products.csv') p "
        f"JOIN read_parquet('{join_spec.parent}/data/reviews.parquet') r USING (product_id)"
    )
    columns = [c for c in local.columns]
    expected = [dict(zip(columns, row, strict=True)) for row in local.fetchall()]
    key = lambda r: (r["product_id"], r["rating"])  # noqa: E731
    assert sorted(uploaded, key=key) == sorted(expected, key=key)


def test_the_submitted_config_reads_the_uploaded_fileset(
    ddc, nemo: NemoServices, join_spec: Path, token_env: str
) -> None:
    ddc("submit", str(join_spec), "--base-url", nemo.base_url, "--upload-seeds")
    [upload] = nemo.requests_to("PUT", r"/filesets/ddc-seeds/-/")
    [create] = nemo.requests_to("POST", r"/jobs/create$")
    remote_file = upload.path.rsplit("/-/", 1)[1]
    assert create.json()["spec"]["config"]["seed_config"]["source"] == {
        "seed_type": "nmp", "path": f"default/ddc-seeds#{remote_file}",
    }  # fmt: skip


def test_upload_seeds_leaves_the_spec_untouched(ddc, nemo: NemoServices, join_spec: Path, token_env: str) -> None:
    before = join_spec.read_bytes()
    ddc("submit", str(join_spec), "--base-url", nemo.base_url, "--upload-seeds")
    assert join_spec.read_bytes() == before


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


def test_submit_without_wait_prints_the_job_name(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    assert (result.exit_code, result.out) == (0, "job: reviews\nstatus: created\n")


def test_a_preflight_failure_exits_1_and_sends_nothing(
    ddc, nemo: NemoServices, join_spec: Path, token_env: str
) -> None:
    result = ddc("submit", str(join_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 1
    assert f"{join_spec}:17:" in result.err
    assert nemo.requests == []


def test_a_rejected_config_exits_1_with_the_detail(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    del nemo.providers[("default", "nvidia-build")]
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 1
    assert "Cannot access provider 'default/nvidia-build'" in result.err


def test_a_bad_token_exits_2_and_is_not_printed(
    ddc, nemo: NemoServices, simple_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NMP_ACCESS_TOKEN", "wrong-token-abcdef")
    nemo.fail("POST", r"/jobs/create$", 401, body={"detail": "invalid token wrong-token-abcdef"})
    result = ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 2
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


def test_jobs_list_shows_submitted_jobs(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "list", "--base-url", nemo.base_url)
    assert result.out.startswith("reviews\tcreated\t")


def test_jobs_status_of_a_missing_job_exits_2(ddc, nemo: NemoServices, token_env: str) -> None:
    result = ddc("jobs", "status", "nope", "--base-url", nemo.base_url)
    assert result.exit_code == 2
    assert "HTTP 404" in result.err


def test_jobs_logs_prints_every_line(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url, "--wait", *FAST)
    result = ddc("jobs", "logs", "reviews", "--base-url", nemo.base_url)
    assert result.out.splitlines() == [
        "info: job created", "info: job status is now pending", "info: job status is now active",
        "info: generating 4 records", "info: job status is now completed", "info: dataset written",
    ]  # fmt: skip


def test_jobs_cancel_cancels(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "cancel", "reviews", "--base-url", nemo.base_url)
    assert (result.exit_code, result.out) == (0, "reviews\tcancelled\n")


def test_jobs_download_extracts_and_checks_the_dataset(
    ddc, nemo: NemoServices, simple_spec: Path, tmp_path: Path, token_env: str
) -> None:
    nemo.statuses = ["completed"]
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "download", "reviews", "-o", str(tmp_path / "dl"), "--base-url", nemo.base_url)
    assert result.exit_code == 0, result.err
    assert "(4 records)" in result.out
    assert (tmp_path / "dl" / "analysis.json").is_file()


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


def test_the_service_refuses_more_than_ten_preview_records_with_422(nemo: NemoServices) -> None:
    from ddc.nemo.client import NemoClient
    from ddc.submission.errors import ConfigRejectedError

    body = {"config": {"columns": [{"name": "a", "column_type": "expression", "expr": "x"}]}, "num_records": 11}
    with NemoClient(nemo.base_url, token=TOKEN) as client, pytest.raises(ConfigRejectedError, match="Max num"):
        list(client.preview(body))


def test_preview_remote_error_frame_exits_3(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    nemo.preview_error = "model health check failed"
    result = ddc("preview", "--remote", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 3
    assert "the remote preview failed: model health check failed" in result.err


def test_preview_remote_truncated_stream_exits_2(ddc, nemo: NemoServices, simple_spec: Path, token_env: str) -> None:
    nemo.preview_truncate = True
    result = ddc("preview", "--remote", str(simple_spec), "--base-url", nemo.base_url)
    assert result.exit_code == 2


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


def test_jobs_download_of_an_unfinished_job_exits_2_saying_there_are_no_results(
    ddc, nemo: NemoServices, simple_spec: Path, tmp_path: Path, token_env: str
) -> None:
    ddc("submit", str(simple_spec), "--base-url", nemo.base_url)
    result = ddc("jobs", "download", "reviews", "-o", str(tmp_path / "dl"), "--base-url", nemo.base_url)
    assert result.exit_code == 2
    assert "job reviews is created: the artifacts may be partial" in result.err
    assert "Result 'artifacts' not found" in result.err


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
