"""One run per dataset directory: a second `run` or `--resume` there exits 1 naming the run that holds it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddc.engine.lock import LOCK_NAME, DatasetLocked, dataset_lock
from ddc.engine.runner import run

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from ddc.cli import main; main()"]

#: 60 batches of 500 rows: long enough to still be running when the second command starts.
SLOW = """
name: people
num_records: 30000
random_seed: 5
columns:
  - {name: region, column_type: sampler, sampler_type: category, params: {values: [EU, US]}}
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 18, high: 80}, convert_to: int}
  - {name: label, column_type: expression, expr: "{% for i in range(3) %}{{ i }}{% endfor %}{{ region }}-{{ age }}"}
"""


def _files(dataset: Path) -> dict[str, bytes]:
    """Every file of a dataset but metadata.json (which holds timings)."""
    return {str(p.relative_to(dataset)): p.read_bytes() for p in dataset.rglob("*") if p.is_file()} | {
        "metadata.json": b""
    }


def _start(spec: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [*CLI, "run", str(spec), "-o", str(out), "--batch-size", "500", *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Exit code and stderr."""
    _, err = proc.communicate(timeout=90)
    return proc.returncode, err


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the run ended before it wrote " + path.name
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.005)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SLOW, encoding="utf-8")
    return path


def test_of_two_runs_started_together_exactly_one_proceeds(spec: Path, tmp_path: Path) -> None:
    reference = run(spec, output_dir=tmp_path / "ref", batch_size=500).path
    first, second = _start(spec, tmp_path / "out"), _start(spec, tmp_path / "out")
    (ok, _), (refused, message) = sorted([_finish(first), _finish(second)])
    assert (ok, refused) == (0, 1)
    assert message.startswith("error: ") and "is in use by another ddc run (pid " in message
    assert message.count("\n") == 1
    assert _files(tmp_path / "out" / "people") == _files(reference)


def test_the_refusal_names_the_holder_pid_host_start_and_command(spec: Path, tmp_path: Path) -> None:
    first = _start(spec, tmp_path / "out")
    try:
        _wait_for(tmp_path / "out" / "people" / "parquet-files" / "batch_00000.parquet", first)
        refused, message = _finish(_start(spec, tmp_path / "out"))
    finally:
        assert _finish(first)[0] == 0
    assert refused == 1
    assert f"pid {first.pid} on {socket.gethostname()}, started 20" in message
    assert f"run {spec} -o {tmp_path / 'out'} --batch-size 500" in message


def test_a_resume_while_the_run_goes_on_is_refused_and_harms_nothing(spec: Path, tmp_path: Path) -> None:
    reference = run(spec, output_dir=tmp_path / "ref", batch_size=500).path
    first = _start(spec, tmp_path / "out")
    try:
        _wait_for(tmp_path / "out" / "people" / "parquet-files" / "batch_00001.parquet", first)
        refused, message = _finish(_start(spec, tmp_path / "out", "--resume"))
    finally:
        assert _finish(first)[0] == 0, "the running run was not disturbed"
    assert refused == 1 and "is in use by another ddc run" in message
    assert _files(tmp_path / "out" / "people") == _files(reference)


def test_the_library_refuses_a_directory_locked_by_another_holder(spec: Path, tmp_path: Path) -> None:
    with dataset_lock(tmp_path / "people", command="ddc run elsewhere"), pytest.raises(DatasetLocked) as info:
        run(spec, output_dir=tmp_path)
    assert f"pid {os.getpid()} on {socket.gethostname()}" in str(info.value)
    assert "ddc run elsewhere" in str(info.value)


def test_a_finished_run_leaves_no_lock_file(spec: Path, tmp_path: Path) -> None:
    result = run(spec, output_dir=tmp_path, num_records=10)
    assert not (result.path / LOCK_NAME).exists()


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(spec: Path, tmp_path: Path) -> None:
    holder = tmp_path / "people"
    holder.mkdir()
    (holder / LOCK_NAME).write_text('{"pid": 1, "host": "gone", "started": "then", "command": "ddc run"}\n')
    result = run(spec, output_dir=tmp_path, num_records=10, resume=True)
    assert result.metadata["actual_num_records"] == 10


def test_a_run_refused_by_the_lock_leaves_the_directory_as_it_was(spec: Path, tmp_path: Path) -> None:
    target = tmp_path / "people"
    with dataset_lock(target), pytest.raises(DatasetLocked):
        run(spec, output_dir=tmp_path)
    assert not target.exists()


def test_a_lock_released_with_nothing_written_removes_the_directories_it_created(tmp_path: Path) -> None:
    with dataset_lock(tmp_path / "a" / "b" / "c"):
        assert (tmp_path / "a" / "b" / "c" / LOCK_NAME).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_lock_released_keeps_the_directories_that_hold_something(tmp_path: Path) -> None:
    with dataset_lock(tmp_path / "a" / "b" / "c"):
        (tmp_path / "a" / "kept.txt").write_text("x")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "kept.txt"]
