from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import column

from ddc.engine.runner import parse_partition, run
from ddc.errors import RunError, UsageError

SPEC = """
name: people
num_records: 30
random_seed: 11
columns:
  - {name: region, column_type: sampler, sampler_type: category, params: {values: [EU, US]}}
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 18, high: 80}, convert_to: int}
  - {name: label, column_type: expression, expr: "{{ region }}-{{ age }}"}
  - {name: secret, column_type: expression, expr: "{{ age * 3 }}", drop: true}
processors:
  - {name: chat, processor_type: schema_transform, template: {text: "{{ label }}", n: 1}}
"""
REPO = Path(__file__).resolve().parents[2]


def test_output_has_the_official_layout(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path / "out", batch_size=10)
    names = sorted(str(p.relative_to(result.path)) for p in result.path.rglob("*") if p.is_file())
    assert names == [
        "builder_config.json",
        "dropped-columns-parquet-files/batch_00000.parquet",
        "dropped-columns-parquet-files/batch_00001.parquet",
        "dropped-columns-parquet-files/batch_00002.parquet",
        "metadata.json",
        "parquet-files/batch_00000.parquet",
        "parquet-files/batch_00001.parquet",
        "parquet-files/batch_00002.parquet",
        "processors-files/chat/batch_00000.parquet",
        "processors-files/chat/batch_00001.parquet",
        "processors-files/chat/batch_00002.parquet",
    ]


def test_dropped_columns_are_kept_aside(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path, return_table=True)
    dropped = pq.read_table(result.path / "dropped-columns-parquet-files" / "batch_00000.parquet")
    assert "secret" not in result.table.column_names
    assert dropped.column("secret").to_pylist() == [str(a * 3) for a in column(result, "age")]


def test_metadata_records_counts_seed_and_fingerprint(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path)
    meta = json.loads((result.path / "metadata.json").read_text())
    assert (meta["actual_num_records"], meta["random_seed"], meta["state"]) == (30, 11, "complete")
    assert meta["config_hash"].startswith("sha256:")


def test_metadata_has_column_statistics(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path)
    stats = {s["column_name"]: s for s in result.metadata["column_statistics"]}
    assert stats["region"]["num_unique"] == 2 and stats["age"]["distribution_type"] == "numerical"


def test_statistics_kept_in_memory_equal_those_of_the_written_files(write_spec, tmp_path: Path) -> None:
    from ddc.compile.plan import plan_spec
    from ddc.engine.stats import column_statistics
    from ddc.spec.load import load_spec

    path = write_spec(SPEC)
    result = run(path, output_dir=tmp_path, batch_size=7)
    files = sorted(str(p) for p in (result.path / "parquet-files").glob("*.parquet"))
    assert result.metadata["column_statistics"] == column_statistics(plan_spec(load_spec(path)), files=files)


def test_builder_config_wraps_the_official_config(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path)
    config = json.loads((result.path / "builder_config.json").read_text())
    assert set(config) == {"data_designer", "library_version"}
    assert [c["name"] for c in config["data_designer"]["columns"]] == ["region", "age", "label", "secret"]


def test_schema_transform_rows_are_strings_and_literals(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path, return_table=True)
    chat = pq.read_table(result.path / "processors-files" / "chat" / "batch_00000.parquet").to_pylist()
    assert chat[0] == {"text": column(result, "label")[0], "n": 1}


def test_batch_size_does_not_change_the_data(write_spec) -> None:
    path = write_spec(SPEC)
    small = run(path, batch_size=7, write=False, return_table=True).table
    large = run(path, batch_size=1000, write=False, return_table=True).table
    assert small.equals(large)


def test_same_seed_same_bytes(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    first = run(path, output_dir=tmp_path / "a").path / "parquet-files" / "batch_00000.parquet"
    second = run(path, output_dir=tmp_path / "b").path / "parquet-files" / "batch_00000.parquet"
    assert first.read_bytes() == second.read_bytes()


def test_another_seed_gives_other_data(write_spec) -> None:
    path = write_spec(SPEC)
    assert not run(path, seed=1, write=False, return_table=True).table.equals(
        run(path, seed=2, write=False, return_table=True).table
    )


def test_without_a_seed_the_generated_seed_is_recorded_and_replays(write_spec) -> None:
    path = write_spec(SPEC.replace("random_seed: 11\n", ""))
    first = run(path, write=False, return_table=True)
    replay = run(path, seed=first.metadata["random_seed"], write=False, return_table=True)
    assert first.metadata["random_seed_source"] == "generated"
    assert replay.table.equals(first.table)


def test_partitions_concatenate_to_the_whole_run(write_spec) -> None:
    path = write_spec(SPEC)
    whole = run(path, write=False, return_table=True).table
    shards = [run(path, partition=(i, 3), write=False, return_table=True).table for i in range(3)]
    assert [row for shard in shards for row in shard.to_pylist()] == whole.to_pylist()


def test_partition_text_is_parsed() -> None:
    assert parse_partition("2/5") == (2, 5)


def test_bad_partition_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="need 0 <= I < N"):
        parse_partition("5/5")


def test_an_existing_dataset_is_not_overwritten(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    run(path, output_dir=tmp_path)
    with pytest.raises(RunError, match=r"already holds a dataset.*--resume"):
        run(path, output_dir=tmp_path)


def test_resume_refuses_a_changed_spec(write_spec, tmp_path: Path) -> None:
    run(write_spec(SPEC), output_dir=tmp_path)
    with pytest.raises(RunError, match="the spec changed"):
        run(write_spec(SPEC.replace("high: 80", "high: 81")), output_dir=tmp_path, resume=True)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_jsonl_and_csv_also_write_one_combined_file(write_spec, tmp_path: Path, fmt: str) -> None:
    result = run(write_spec(SPEC), output_dir=tmp_path, fmt=fmt)
    lines = (result.path / f"people.{fmt}").read_text().splitlines()
    assert len(lines) == 30 + (1 if fmt == "csv" else 0)


def _slow_spec() -> str:
    slow = "  - {name: slow, column_type: expression, expr: '{% for i in range(4) %}{{ i }}{% endfor %}{{ label }}'}\n"
    return SPEC.replace("num_records: 30", "num_records: 60000").replace("processors:", slow + "processors:")


def _files(dataset: Path) -> dict[str, bytes]:
    """Every file of a dataset but metadata.json (which holds timings)."""
    return {str(p.relative_to(dataset)): p.read_bytes() for p in dataset.rglob("*") if p.is_file()} | {
        "metadata.json": b""
    }


@pytest.mark.parametrize("kill_after", ["metadata.json", "parquet-files/batch_00000.parquet",
                                        "parquet-files/batch_00006.parquet"])  # fmt: skip
def test_resume_after_kill_9_gives_the_same_bytes(write_spec, tmp_path: Path, kill_after: str) -> None:
    path = write_spec(_slow_spec())
    reference = run(path, output_dir=tmp_path / "ref", batch_size=1000).path
    target = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from ddc.cli import main; main()", "run", str(path), "-o", str(target),
               "--batch-size", "1000"]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (target / "people" / kill_after).exists():
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list((target / "people" / "parquet-files").glob("batch_*"))) < 60, "interrupted part-way"
    subprocess.run([*command, "--resume"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _files(target / "people") == _files(reference)


def test_resume_refuses_another_seed(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    run(path, output_dir=tmp_path)
    with pytest.raises(RunError, match="started with seed 11"):
        run(path, output_dir=tmp_path, resume=True, seed=12)


def test_resume_of_a_complete_run_changes_nothing(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    first = run(path, output_dir=tmp_path, batch_size=10)
    before = (first.path / "parquet-files" / "batch_00002.parquet").read_bytes()
    again = run(path, output_dir=tmp_path, batch_size=10, resume=True)
    assert again.metadata["actual_num_records"] == 30
    assert (again.path / "parquet-files" / "batch_00002.parquet").read_bytes() == before


def test_resume_after_a_kill_during_the_first_write_starts_afresh(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    leftover = tmp_path / "people" / ".metadata.json.123.ddc-tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("{")
    result = run(path, output_dir=tmp_path, resume=True)
    assert result.metadata["actual_num_records"] == 30 and not leftover.exists()


def test_the_combined_jsonl_follows_the_row_order(write_spec, tmp_path: Path) -> None:
    result = run(write_spec(SPEC.replace("num_records: 30", "num_records: 3000")), output_dir=tmp_path, fmt="jsonl")
    lines = (result.path / "people.jsonl").read_text().splitlines()
    rows = pq.read_table(result.path / "parquet-files").column("label").to_pylist()
    assert [json.loads(line)["label"] for line in lines] == rows


@pytest.mark.parametrize("records", [10**12 + 1, 18_446_744_073_709_551_620])
def test_a_record_count_past_a_trillion_is_refused_before_anything_is_written(records: int, tmp_path: Path) -> None:
    spec = Path(__file__).parents[2] / "examples" / "people.ddc.yaml"
    with pytest.raises(UsageError, match=r"at most 1,000,000,000,000 \(got"):
        run(spec, num_records=records, output_dir=tmp_path / "out", partition=(3, 4))
    assert not (tmp_path / "out").exists()


FAILS_IN_BATCH_0 = """
name: t
num_records: 20
columns:
  - {name: a, column_type: sampler, sampler_type: uniform, params: {low: 1, high: 2}}
  - {name: b, column_type: expression, expr: "{{ a | truncate(-1) }}"}
"""


def test_a_fresh_run_that_fails_before_any_batch_leaves_no_directory_behind(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(FAILS_IN_BATCH_0)
    with pytest.raises(RunError, match="every row of batch 0 failed"):
        run(spec, output_dir=tmp_path / "out" / "sub")
    assert not (tmp_path / "out").exists()


def test_the_same_command_with_the_spec_fixed_then_starts_afresh(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(FAILS_IN_BATCH_0)
    with pytest.raises(RunError):
        run(spec, output_dir=tmp_path / "out")
    spec.write_text(FAILS_IN_BATCH_0.replace("truncate(-1)", "round(1)"))
    assert run(spec, output_dir=tmp_path / "out").path == tmp_path / "out" / "t"


def test_a_failed_run_into_an_existing_empty_directory_leaves_it_empty(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(FAILS_IN_BATCH_0)
    (tmp_path / "out" / "t").mkdir(parents=True)
    with pytest.raises(RunError):
        run(spec, output_dir=tmp_path / "out")
    assert list((tmp_path / "out" / "t").iterdir()) == []


def test_a_failed_run_keeps_its_directory_once_a_batch_is_complete(tmp_path: Path) -> None:
    from ddc.engine.runner import _discard_unfinished

    dataset = tmp_path / "t"
    (dataset / "parquet-files").mkdir(parents=True)
    (dataset / "parquet-files" / "batch_00000.parquet").write_bytes(b"PAR1")
    (dataset / "metadata.json").write_text('{"state": "running"}')
    _discard_unfinished(dataset)
    assert sorted(p.name for p in dataset.rglob("*")) == ["batch_00000.parquet", "metadata.json", "parquet-files"]


def test_a_failed_run_discards_the_tallies_of_a_batch_whose_file_was_never_written(tmp_path: Path) -> None:
    from ddc.engine.runner import _discard_unfinished

    dataset = tmp_path / "t"
    (dataset / "batch-stats-files").mkdir(parents=True)
    (dataset / "batch-stats-files" / "batch_00000.json").write_text("{}")
    (dataset / "metadata.json").write_text('{"state": "running"}')
    _discard_unfinished(dataset)
    assert list(dataset.iterdir()) == []
