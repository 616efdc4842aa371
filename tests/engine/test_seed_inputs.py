"""`--resume` refuses when the seed data changed since the run started (``seed_inputs`` in metadata.json).

A run is interrupted after its first batch (its progress callback raises, as a Ctrl-C would), the
seed data is changed (or not), and the run is resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import interrupt_after_first_batch

from ddc.engine import seed_inputs
from ddc.engine.runner import run
from ddc.errors import RunError

REPO = Path(__file__).resolve().parents[2]

CSV = "name,city\nada,Paris\nbob,Rome\ncyd,Oslo\n"
SPEC = """
name: guests
num_records: 40
random_seed: 5
seed_config:
  source: {seed_type: local, path: SEED}
  sampling_strategy: shuffle
columns:
  - {name: tag, column_type: sampler, sampler_type: category, params: {values: [a, b, c]}}
  - {name: line, column_type: expression, expr: "{{ name }}@{{ city }}/{{ tag }}"}
"""


def _interrupted_run(spec: Path, out: Path) -> Path:
    interrupt_after_first_batch(spec, out, batch_size=10)
    dataset = out / "guests"
    assert json.loads((dataset / "metadata.json").read_text())["state"] == "running"
    return dataset


def _resume(spec: Path, out: Path) -> Path:
    result = run(spec, output_dir=out, batch_size=10, resume=True)
    assert result.path is not None
    return result.path


def _files(dataset: Path) -> dict[str, bytes]:
    """Every file of a dataset but metadata.json (which holds timings)."""
    return {str(p.relative_to(dataset)): p.read_bytes() for p in dataset.rglob("*") if p.is_file()} | {
        "metadata.json": b""
    }


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "guests.csv").write_text(CSV, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("SEED", "data/guests.csv"), encoding="utf-8")
    return spec


def test_metadata_records_each_seed_file_and_the_row_count(seeded: Path, tmp_path: Path) -> None:
    result = run(seeded, output_dir=tmp_path / "out")
    assert result.metadata["seed_inputs"] == {
        "num_rows": 3,
        "files": [
            {"path": "data/guests.csv", "size": len(CSV), "sha256": seed_inputs._sha256(tmp_path / "data/guests.csv")}
        ],
    }


def test_a_run_without_seed_records_no_seed_inputs(tmp_path: Path) -> None:
    spec = tmp_path / "plain.yaml"
    spec.write_text("num_records: 3\ncolumns:\n  - {name: n, column_type: sampler, sampler_type: uniform, "
                    "params: {low: 0, high: 1}}\n", encoding="utf-8")  # fmt: skip
    assert "seed_inputs" not in run(spec, output_dir=tmp_path / "out").metadata


def test_resume_after_editing_the_seed_csv_is_refused_naming_the_file(seeded: Path, tmp_path: Path) -> None:
    _interrupted_run(seeded, tmp_path / "out")
    (tmp_path / "data" / "guests.csv").write_text(CSV.replace("Rome", "Roma"), encoding="utf-8")
    with pytest.raises(RunError, match=r"the seed data changed since it was started: data/guests.csv: content changed"):
        _resume(seeded, tmp_path / "out")


def test_resume_after_the_seed_file_grew_names_its_sizes(seeded: Path, tmp_path: Path) -> None:
    _interrupted_run(seeded, tmp_path / "out")
    (tmp_path / "data" / "guests.csv").write_text(CSV + "dan,Lima\n", encoding="utf-8")
    with pytest.raises(RunError, match=rf"data/guests.csv: size {len(CSV)} -> {len(CSV) + 9} bytes"):
        _resume(seeded, tmp_path / "out")


def test_the_refusal_is_one_line_naming_three_changes_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / "parts" / name).write_text(CSV, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("SEED", "parts/*.csv"), encoding="utf-8")
    _interrupted_run(spec, tmp_path / "out")
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / "parts" / name).write_text(CSV.replace("Rome", "Roma"), encoding="utf-8")
    with pytest.raises(RunError) as caught:
        _resume(spec, tmp_path / "out")
    assert caught.value.message.endswith(
        "parts/a.csv: content changed; parts/b.csv: content changed; parts/c.csv: content changed (and 1 more)"
    )
    assert caught.value.hint == "restore the seed data the run started with, or start a new run in another directory"


def test_resume_after_a_glob_gains_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.csv").write_text(CSV, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("SEED", "parts/*.csv"), encoding="utf-8")
    _interrupted_run(spec, tmp_path / "out")
    (tmp_path / "parts" / "b.csv").write_text("name,city\neve,Kyiv\n", encoding="utf-8")
    with pytest.raises(RunError, match=r"parts/b.csv: new match"):
        _resume(spec, tmp_path / "out")


def test_resume_after_a_seed_file_is_removed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "parts" / name).write_text(CSV, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("SEED", "parts/*.csv"), encoding="utf-8")
    _interrupted_run(spec, tmp_path / "out")
    (tmp_path / "parts" / "b.csv").unlink()
    with pytest.raises(RunError, match=r"parts/b.csv: missing"):
        _resume(spec, tmp_path / "out")


def test_resume_after_a_touch_of_a_small_seed_gives_the_same_bytes(seeded: Path, tmp_path: Path) -> None:
    reference = run(seeded, output_dir=tmp_path / "ref", batch_size=10).path
    _interrupted_run(seeded, tmp_path / "out")
    seed = tmp_path / "data" / "guests.csv"
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 5_000_000_000))
    resumed = _resume(seeded, tmp_path / "out")
    assert reference is not None and _files(resumed) == _files(reference)


def test_resume_after_kill_9_and_a_touch_of_the_seed_gives_the_same_bytes(seeded: Path, tmp_path: Path) -> None:
    slow = "  - {name: slow, column_type: expression, expr: '{% for i in range(4) %}{{ i }}{% endfor %}{{ line }}'}\n"
    seeded.write_text(SPEC.replace("SEED", "data/guests.csv").replace("40", "60000") + slow, encoding="utf-8")
    rows = "".join(f"guest{i},city{i % 7}\n" for i in range(2000))  # each pass of the seed is one query
    (tmp_path / "data" / "guests.csv").write_text("name,city\n" + rows, encoding="utf-8")
    reference = run(seeded, output_dir=tmp_path / "ref", batch_size=1000).path
    target = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from ddc.cli import main; main()", "run", str(seeded), "-o", str(target),
               "--batch-size", "1000"]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (target / "guests" / "parquet-files" / "batch_00003.parquet").exists():
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list((target / "guests" / "parquet-files").glob("batch_*"))) < 60, "interrupted part-way"
    seed = tmp_path / "data" / "guests.csv"
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 5_000_000_000))
    subprocess.run([*command, "--resume"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert reference is not None and _files(target / "guests") == _files(reference)


def test_a_touched_seed_past_the_hash_budget_is_refused(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seed_inputs, "HASH_BUDGET", 16)  # the 50-byte csv now counts as large
    _interrupted_run(seeded, tmp_path / "out")
    seed = tmp_path / "data" / "guests.csv"
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 5_000_000_000))
    with pytest.raises(RunError, match=r"data/guests.csv: modified \(large seed files are compared by size and mtime"):
        _resume(seeded, tmp_path / "out")


def test_a_run_started_before_seed_inputs_were_recorded_resumes_as_before(seeded: Path, tmp_path: Path) -> None:
    dataset = _interrupted_run(seeded, tmp_path / "out")
    meta = json.loads((dataset / "metadata.json").read_text())
    del meta["seed_inputs"]
    (dataset / "metadata.json").write_text(json.dumps(meta))
    assert run(seeded, output_dir=tmp_path / "out", batch_size=10, resume=True).metadata["actual_num_records"] == 40


QUERY_SPEC = """
name: guests
num_records: 40
random_seed: 5
seed_config:
  source:
    seed_type: query
    tables: {people: people.csv, cities: cities.csv}
    query: "SELECT p.name, c.city FROM people p JOIN cities c ON p.city_id = c.id ORDER BY p.name"
columns:
  - {name: line, column_type: expression, expr: "{{ name }}@{{ city }}"}
"""


def test_resume_after_a_query_seed_table_changed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("name,city_id\nada,1\nbob,2\n", encoding="utf-8")
    (tmp_path / "cities.csv").write_text("id,city\n1,Paris\n2,Rome\n", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(QUERY_SPEC, encoding="utf-8")
    _interrupted_run(spec, tmp_path / "out")
    (tmp_path / "cities.csv").write_text("id,city\n1,Paris\n2,Oslo\n", encoding="utf-8")
    with pytest.raises(RunError, match=r"cities.csv: content changed"):
        _resume(spec, tmp_path / "out")


def test_a_seed_outside_the_spec_directory_is_recorded_by_its_absolute_path(tmp_path: Path) -> None:
    outside = tmp_path / "shared" / "guests.csv"
    outside.parent.mkdir()
    outside.write_text(CSV, encoding="utf-8")
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "spec.yaml"
    spec.write_text(SPEC.replace("SEED", str(outside)), encoding="utf-8")
    files = run(spec, output_dir=tmp_path / "out").metadata["seed_inputs"]["files"]
    assert [f["path"] for f in files] == [outside.as_posix()]
