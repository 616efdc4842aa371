"""`ddc run` (the engine runner) with LLM columns against the loopback server: failures never vanish."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ddc.engine import runner
from ddc.errors import RunError
from tests.llm.runner import TOPIC_ESSAY, spec_text
from tests.servers.openai_server import Fault, OpenAIServer

COLUMNS = TOPIC_ESSAY


def run_spec(server: OpenAIServer, tmp_path: Path, on_error: str = "keep", records: int = 6) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(server.base_url, COLUMNS) + f"num_records: {records}\nrun: {{on_error: {on_error}}}\n")
    return runner.run(spec, output_dir=tmp_path / "out").path  # type: ignore[return-value]


def every_other_request_is_refused(server: OpenAIServer) -> None:
    server.fault_policy = lambda request, number: Fault.http(400) if "cats" in request.user_text else None


def test_every_row_is_generated(openai_server: OpenAIServer, tmp_path: Path) -> None:
    dataset = run_spec(openai_server, tmp_path)
    essays = pq.read_table(dataset / "parquet-files").column("essay").to_pylist()
    assert len(essays) == 6 and all(e.startswith("reply") for e in essays)


def test_failed_cells_are_kept_empty_and_listed_in_errors_jsonl(openai_server: OpenAIServer, tmp_path: Path) -> None:
    every_other_request_is_refused(openai_server)
    dataset = run_spec(openai_server, tmp_path)
    table = pq.read_table(dataset / "parquet-files").to_pylist()
    listed = {json.loads(line)["row"] for line in (dataset / "errors.jsonl").read_text().splitlines()}
    assert listed == {i for i, row in enumerate(table) if row["essay"] is None} and listed


def test_error_records_name_row_column_kind_and_message(openai_server: OpenAIServer, tmp_path: Path) -> None:
    every_other_request_is_refused(openai_server)
    dataset = run_spec(openai_server, tmp_path)
    record = json.loads((dataset / "errors.jsonl").read_text().splitlines()[0])
    assert (record["column"], record["kind"], record["message"].split(":")[0]) == ("essay", "llm-text", "bad_request")


def test_on_error_drop_removes_failed_rows(openai_server: OpenAIServer, tmp_path: Path) -> None:
    every_other_request_is_refused(openai_server)
    dataset = run_spec(openai_server, tmp_path, on_error="drop")
    essays = pq.read_table(dataset / "parquet-files").column("essay").to_pylist()
    assert essays and None not in essays and len(essays) < 6


def test_on_error_fail_stops_the_run(openai_server: OpenAIServer, tmp_path: Path) -> None:
    every_other_request_is_refused(openai_server)
    with pytest.raises(RunError, match="bad_request"):
        run_spec(openai_server, tmp_path, on_error="fail")


def test_rerun_is_answered_from_the_cache(openai_server: OpenAIServer, tmp_path: Path) -> None:
    run_spec(openai_server, tmp_path / "first")
    run_spec(openai_server, tmp_path / "second")
    assert len(openai_server.cell_requests) == 6


def test_api_key_never_reaches_the_artifacts_or_cache(
    openai_server: OpenAIServer, tmp_path: Path, ddc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_KEY", "sk-never-written")
    spec = tmp_path / "spec.yaml"
    text = spec_text(openai_server.base_url, COLUMNS).replace(
        f"endpoint: {openai_server.base_url}", f"endpoint: {openai_server.base_url}\n    api_key: LOCAL_KEY"
    )
    spec.write_text(text + "num_records: 3\n")
    runner.run(spec, output_dir=tmp_path / "out")
    written = [p.read_bytes() for p in [*(tmp_path / "out").rglob("*"), *ddc_home.rglob("*")] if p.is_file()]
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-never-written"
    assert not any(b"sk-never-written" in data for data in written)


def test_metadata_reports_requests_and_tokens_per_column(openai_server: OpenAIServer, tmp_path: Path) -> None:
    dataset = run_spec(openai_server, tmp_path)
    metrics = json.loads((dataset / "metadata.json").read_text())["column_metrics"]
    assert (metrics["essay.requests"], metrics["essay.failed_cells"]) == (6, 0) and metrics["essay.input_tokens"] > 0


def test_no_cache_sends_every_request_again(openai_server: OpenAIServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, COLUMNS) + "num_records: 3\n")
    for out in ("a", "b"):
        CliRunner().invoke(cli, ["run", str(spec), "-o", str(tmp_path / out), "--no-cache"])
    assert len(openai_server.cell_requests) == 6


def test_dry_run_prints_prompts_and_sends_nothing(openai_server: OpenAIServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, COLUMNS) + "num_records: 30\n")
    result = CliRunner().invoke(cli, ["run", str(spec), "--dry-run", "2"])
    assert "Write about" in result.output and "text: >= 30 requests" in result.output
    assert openai_server.requests == []


def test_usage_per_model_is_written_to_metadata(openai_server: OpenAIServer, tmp_path: Path) -> None:
    dataset = run_spec(openai_server, tmp_path)
    usage = json.loads((dataset / "metadata.json").read_text())["model_usage"]["text"]
    assert (usage["requests"], usage["failures"], usage["model"]) == (6, 0, "mock-model")


def every_cell_is_refused(server: OpenAIServer) -> None:
    """Every request but the health probe fails (so the probe passes and the cells' failures count)."""
    server.fault_policy = lambda request, number: None if request.is_health_probe else Fault.http(400)


def test_run_stops_early_when_most_recent_calls_fail(openai_server: OpenAIServer, tmp_path: Path) -> None:
    from ddc.engine.llm.failures import EarlyShutdown

    every_cell_is_refused(openai_server)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, COLUMNS) + "num_records: 200\nrun: {batch_size: 10}\n")
    with pytest.raises(EarlyShutdown, match="of the last 20 model calls failed"):
        runner.run(spec, output_dir=tmp_path / "out")
    assert len(openai_server.requests) < 200


def test_unreachable_endpoint_stops_the_run_quickly_naming_the_cause(tmp_path: Path) -> None:
    import socket
    import time

    from ddc.errors import ModelEndpointError

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(f"http://127.0.0.1:{port}/v1", COLUMNS) + "num_records: 100\n")
    started = time.monotonic()
    with pytest.raises(ModelEndpointError, match=r"model 'text' .* failed the start-up health check: connection"):
        runner.run(spec, output_dir=tmp_path / "out")
    assert time.monotonic() - started < 10


def test_rows_of_a_run_stopped_early_are_all_listed(openai_server: OpenAIServer, tmp_path: Path) -> None:
    from ddc.engine.llm.failures import EarlyShutdown

    every_cell_is_refused(openai_server)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, COLUMNS) + "num_records: 50\n")
    with pytest.raises(EarlyShutdown):
        runner.run(spec, output_dir=tmp_path / "out")
    (dataset,) = (tmp_path / "out").iterdir()
    listed = {json.loads(line)["row"] for line in (dataset / "errors.jsonl").read_text().splitlines()}
    assert listed == set(range(50))


def test_rows_of_several_batches_share_the_model_slots(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.latency = 0.05
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(openai_server.base_url, COLUMNS) + "num_records: 40\nrun: {batch_size: 4}\n")
    runner.run(spec, output_dir=tmp_path / "out")
    assert openai_server.max_in_flight == 8


def test_tools_of_an_undeclared_mcp_provider_are_refused_before_any_cell(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    columns = COLUMNS + "    tool_alias: search\n"
    spec = tmp_path / "spec.yaml"
    tools = "tool_configs: [{tool_alias: search, providers: [web]}]\n"
    spec.write_text(spec_text(openai_server.base_url, columns) + tools + "num_records: 2\n")
    with pytest.raises(RunError, match=r"tool config 'search': MCP provider 'web' is not declared"):
        runner.run(spec, output_dir=tmp_path / "out")
    assert openai_server.cell_requests == []


def test_token_statistics_come_from_the_servers_usage_per_cell(openai_server: OpenAIServer, tmp_path: Path) -> None:
    dataset = run_spec(openai_server, tmp_path)
    stats = json.loads((dataset / "metadata.json").read_text())["column_statistics"]
    essay = next(s for s in stats if s["column_name"] == "essay")
    assert essay["ddc_token_counts"] == "server"
    assert essay["output_tokens_mean"] > 0 and essay["input_tokens_median"] > 0


def test_token_side_columns_are_never_written(openai_server: OpenAIServer, tmp_path: Path) -> None:
    dataset = run_spec(openai_server, tmp_path)
    assert not [c for c in pq.read_table(dataset / "parquet-files").column_names if c.startswith("__ddc")]
