"""The start-up model health check of `ddc run`: one probe per alias, alongside the first cells."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from pathlib import Path

import pytest

from ddc.engine import runner
from ddc.engine.llm.client import ModelClient
from ddc.engine.llm.early_check import EarlyHealthCheck, early_health_check
from ddc.engine.llm.health import SKIP_ENV, ModelCheck
from ddc.engine.lock import DatasetLocked, dataset_lock
from ddc.errors import ModelEndpointError, RunError
from ddc.spec.load import load_spec
from tests.conftest import Run
from tests.llm.runner import TOPIC_ESSAY, spec_text
from tests.servers.openai_server import Fault, OpenAIServer, RecordedRequest

COLUMNS = TOPIC_ESSAY

TWO_ALIASES = (
    COLUMNS
    + """
  - name: title
    column_type: llm-text
    model_alias: text
    prompt: "A title for {{ essay }}"
  - name: vec
    column_type: embedding
    model_alias: embed
    target_column: essay
"""
)


def write_spec(server: OpenAIServer, tmp_path: Path, records: int, columns: str = COLUMNS, model: str = "") -> Path:
    """A spec against ``server``; ``model`` adds lines to the `text` model's config."""
    text = spec_text(server.base_url, columns).replace("    model: mock-model\n", f"    model: mock-model\n{model}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text + f"num_records: {records}\n")
    return spec


def probes_fail(server: OpenAIServer) -> None:
    """The probe gets HTTP 500 every time; every other request is answered."""
    server.fault_policy = lambda request, number: Fault.http(500) if request.is_health_probe else None


def probes(server: OpenAIServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.is_health_probe]


def test_a_failing_probe_stops_the_run_before_most_cells_are_sent(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.latency = 0.05
    probes_fail(openai_server)
    with pytest.raises(ModelEndpointError):
        runner.run(write_spec(openai_server, tmp_path, records=400), output_dir=tmp_path / "out")
    assert len(openai_server.cell_requests) < 400


def test_the_error_is_one_line_naming_alias_model_endpoint_cause_and_fixes(
    openai_server: OpenAIServer, tmp_path: Path, run: Run
) -> None:
    probes_fail(openai_server)
    spec = write_spec(openai_server, tmp_path, records=6)
    code, _, err = run("run", str(spec), "-o", str(tmp_path / "out"), "--quiet")  # no progress lines
    assert (code, err) == (
        1,
        f"error: model 'text' (mock-model at {openai_server.base_url}) failed the start-up health check: "
        "server_error: HTTP 500 injected 500 (after 2 attempts) (fix the provider, model name or API key, "
        f"or set `skip_health_check: true` on model 'text', or {SKIP_ENV}=1 to skip the check)\n",
    )


def test_the_error_names_an_unset_api_key_variable(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.fault_policy = lambda request, number: None if "authorization" in request.headers else Fault.http(401)
    spec = write_spec(openai_server, tmp_path, records=6)
    spec.write_text(spec.read_text().replace("    endpoint:", "    api_key: LOCAL_LLM_KEY\n    endpoint:"))
    with pytest.raises(ModelEndpointError, match=r"auth: HTTP 401 .*reads its API key from \$LOCAL_LLM_KEY"):
        runner.run(spec, output_dir=tmp_path / "out")


def test_a_run_that_fails_its_check_writes_nothing(openai_server: OpenAIServer, tmp_path: Path) -> None:
    probes_fail(openai_server)
    with pytest.raises(ModelEndpointError):
        runner.run(write_spec(openai_server, tmp_path, records=6), output_dir=tmp_path / "out")
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_a_run_that_fails_its_check_caches_no_reply(openai_server: OpenAIServer, tmp_path: Path) -> None:
    spec = write_spec(openai_server, tmp_path, records=20)
    probes_fail(openai_server)
    with pytest.raises(ModelEndpointError):
        runner.run(spec, output_dir=tmp_path / "failed")
    answered_before = len(openai_server.cell_requests)
    openai_server.fault_policy = None
    runner.run(spec, output_dir=tmp_path / "healthy")
    assert len(openai_server.cell_requests) - answered_before == 20


def test_skip_health_check_on_the_model_sends_no_probe(openai_server: OpenAIServer, tmp_path: Path) -> None:
    probes_fail(openai_server)
    spec = write_spec(openai_server, tmp_path, records=6, model="    skip_health_check: true\n")
    runner.run(spec, output_dir=tmp_path / "out")
    assert (probes(openai_server), len(openai_server.cell_requests)) == ([], 6)


def test_the_environment_switch_skips_every_probe(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SKIP_ENV, "1")
    probes_fail(openai_server)
    runner.run(write_spec(openai_server, tmp_path, records=6, columns=TWO_ALIASES), output_dir=tmp_path / "out")
    assert probes(openai_server) == []


def test_a_healthy_run_sends_one_probe_per_alias_and_one_request_per_cell(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    runner.run(write_spec(openai_server, tmp_path, records=6, columns=TWO_ALIASES), output_dir=tmp_path / "out")
    chats = openai_server.requests_to("/chat/completions")
    assert sorted(r.path for r in probes(openai_server)) == ["/v1/chat/completions", "/v1/embeddings"]
    assert len(chats) == 1 + 2 * 6


def test_probes_are_not_counted_in_model_usage(openai_server: OpenAIServer, tmp_path: Path) -> None:
    result = runner.run(write_spec(openai_server, tmp_path, records=6), output_dir=tmp_path / "out")
    assert result.path is not None
    usage = json.loads((result.path / "metadata.json").read_text())["model_usage"]["text"]
    assert (usage["requests"], len(openai_server.requests)) == (6, 7)


def test_the_probe_takes_a_model_slot_like_any_request(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.latency = 0.05
    runner.run(write_spec(openai_server, tmp_path, records=40), output_dir=tmp_path / "out")
    assert openai_server.max_in_flight == 8


def test_a_probe_retry_does_not_queue_behind_the_cells(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.latency = 0.05
    probes_fail(openai_server)
    spec = write_spec(openai_server, tmp_path, records=60)
    spec.write_text(spec.read_text().replace("max_parallel_requests: 8", "max_parallel_requests: 1"))
    with pytest.raises(ModelEndpointError):
        runner.run(spec, output_dir=tmp_path / "out")
    assert len(openai_server.cell_requests) < 30


# --- probes sent while the run starts up (ddc.engine.llm.early_check) --------------------------------


def test_the_probes_go_out_as_soon_as_the_spec_is_loaded(openai_server: OpenAIServer, tmp_path: Path) -> None:
    loaded = load_spec(write_spec(openai_server, tmp_path, records=6, columns=TWO_ALIASES))
    with early_health_check(loaded.spec) as early:
        assert early is not None
        checks = asyncio.run(_outcome(early))
    assert [(c.alias, c.ok) for c in checks] == [("text", True), ("embed", True)]
    assert sorted(r.path for r in probes(openai_server)) == ["/v1/chat/completions", "/v1/embeddings"]
    assert openai_server.cell_requests == []


async def _outcome(early: EarlyHealthCheck) -> list[ModelCheck]:
    client = ModelClient(early.models)  # as the run's own client: the outcome holds its slots while waiting
    try:
        return await early.outcome(client)
    finally:
        await client.aclose()


def test_a_probe_still_out_when_the_run_fails_is_cancelled_at_once(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.fault_policy = lambda request, number: Fault.timeout(30) if request.is_health_probe else None
    spec = write_spec(openai_server, tmp_path, records=6)
    started = time.monotonic()
    with dataset_lock(tmp_path / "out" / "spec"), pytest.raises(DatasetLocked):  # as if another run had it
        runner.run(spec, output_dir=tmp_path / "out")
    assert time.monotonic() - started < 5
    assert [t.name for t in threading.enumerate() if t.name == "ddc-health-check"] == []


def test_the_probe_thread_leaves_stop_signals_to_the_main_thread(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.fault_policy = lambda request, number: Fault.delay(0.5) if request.is_health_probe else None
    loaded = load_spec(write_spec(openai_server, tmp_path, records=6))
    with early_health_check(loaded.spec):
        (thread,) = [t for t in threading.enumerate() if t.name == "ddc-health-check"]
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    blocked = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
    assert blocked >> (signal.SIGINT - 1) & 1 and blocked >> (signal.SIGTERM - 1) & 1


def test_a_slow_probe_holds_a_model_slot_until_it_answers(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.latency = 0.02
    openai_server.fault_policy = lambda request, number: Fault.delay(0.5) if request.is_health_probe else None
    spec = write_spec(openai_server, tmp_path, records=30)
    spec.write_text(spec.read_text().replace("max_parallel_requests: 8", "max_parallel_requests: 2"))
    runner.run(spec, output_dir=tmp_path / "out")
    assert openai_server.max_in_flight == 2


def test_a_run_that_fails_its_check_creates_no_cache_file(
    openai_server: OpenAIServer, tmp_path: Path, ddc_home: Path
) -> None:
    probes_fail(openai_server)
    with pytest.raises(ModelEndpointError):
        runner.run(write_spec(openai_server, tmp_path, records=6), output_dir=tmp_path / "out")
    assert not (ddc_home / "cache").exists()


def test_a_damaged_response_cache_is_a_one_line_error_before_any_request(
    openai_server: OpenAIServer, tmp_path: Path, ddc_home: Path
) -> None:
    (ddc_home / "cache").mkdir(parents=True)
    (ddc_home / "cache" / "responses.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(RunError, match=r"cannot use the response cache .*ddc cache clear"):
        runner.run(write_spec(openai_server, tmp_path, records=6), output_dir=tmp_path / "out")
    assert openai_server.cell_requests == []
