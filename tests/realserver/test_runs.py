"""Whole runs against llama-server: health check, concurrency, reproducibility, a crash and resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddc.cli import cli
from ddc.engine.progress import RunObserver
from ddc.errors import DdcError, ModelEndpointError
from tests.realserver.helpers import error_records, rows, run
from tests.realserver.server import KEY_ENV, LlamaServer
from tests.realserver.specs import EMBEDDING, STRUCTURED, TEXT, spec_text, write_spec


def test_models_check_reports_each_model_and_the_probed_structured_output_mode(
    chat_server: LlamaServer, embed_server: LlamaServer, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, spec_text(chat_server, STRUCTURED + EMBEDDING, embed=embed_server))
    result = CliRunner().invoke(cli, ["models", "check", str(spec)])
    lines = sorted(line.split(" (")[0] for line in result.output.splitlines() if line.startswith("ok"))
    assert (result.exit_code, lines) == (
        0,
        [f"ok   chat: tiny at {chat_server.base_url}", f"ok   embed: tiny-embed at {embed_server.base_url}"],
    )
    assert "structured output: json_schema" in result.output


def test_a_wrong_api_key_fails_the_start_up_health_check_in_one_line(
    chat_server: LlamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    spec = write_spec(tmp_path, spec_text(chat_server, TEXT))
    with pytest.raises(ModelEndpointError, match="failed the start-up health check: auth: HTTP 401") as caught:
        run(spec, tmp_path / "out")
    assert "\n" not in str(caught.value)


def test_busy_slots_reach_the_models_max_parallel_requests(chat_server: LlamaServer, tmp_path: Path) -> None:
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(chat_server.busy_slots())
            done.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        spec = spec_text(chat_server, TEXT, max_tokens=512, max_parallel=4, records=16)
        run(write_spec(tmp_path, spec), tmp_path / "out", batch_size=16)
    finally:
        done.set()
        watcher.join(10)
    assert max(seen) == 4  # the server has 6 slots: ddc's limit is what caps it


def test_two_runs_with_the_same_random_seed_write_byte_identical_parquet(
    chat_server: LlamaServer, tmp_path: Path
) -> None:
    # one request at a time: llama.cpp decodes concurrent requests in one batch, which changes float
    # rounding, so the seed alone makes replies repeatable only for requests decoded alone
    text = spec_text(chat_server, TEXT + STRUCTURED, max_tokens=1024, max_parallel=1, seed=11)
    spec = write_spec(tmp_path, text)
    first, second = run(spec, tmp_path / "a", batch_size=2), run(spec, tmp_path / "b", batch_size=2)

    def files(dataset: Path) -> list[bytes]:
        return [f.read_bytes() for f in sorted((dataset / "parquet-files").glob("*.parquet"))]

    assert (len(files(first)), files(first)) == (2, files(second))


def test_request_seeds_follow_rows_not_batches(chat_server: LlamaServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, spec_text(chat_server, TEXT, max_tokens=64, max_parallel=1, seed=11))
    by_two, by_three = run(spec, tmp_path / "a", batch_size=2), run(spec, tmp_path / "b", batch_size=3)
    assert [r["essay"] for r in rows(by_two)] == [r["essay"] for r in rows(by_three)]


def test_a_server_killed_mid_run_fails_the_run_and_resume_completes_it(
    own_chat_server: LlamaServer, tmp_path: Path
) -> None:
    spec = write_spec(
        tmp_path, spec_text(own_chat_server, TEXT, max_parallel=2, records=6, run="run: {on_error: fail}")
    )

    class KillAfterTwoCells(RunObserver):
        # counted in cells, not written rows: a batch is written only once the start-up health check
        # has answered, and that can come after every cell when the server is busy
        def cells(self, column: str, done: int, failed: int) -> None:
            if done == 2:  # two more may be in flight, two are never sent
                own_chat_server.kill()

    with pytest.raises(DdcError, match="connection"):
        run(spec, tmp_path / "out", batch_size=2, progress=KillAfterTwoCells())
    own_chat_server.start()
    dataset = run(spec, tmp_path / "out", batch_size=2, resume=True)
    assert (len(rows(dataset)), error_records(dataset)) == (6, [])
