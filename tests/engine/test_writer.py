from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from ddc.engine import writer
from ddc.errors import RunError


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "metadata.json"
    writer.write_json(target, {"a": 1})
    writer.write_json(target, {"a": 2})
    assert target.read_text() == '{\n  "a": 2\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["metadata.json"]


def test_a_failing_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    writer.write_json(target, {"a": 1})

    def explode(handle) -> None:
        handle.write(b"{half")
        raise OSError("disk full")

    with pytest.raises(RunError, match=r"cannot write .*data\.json: disk full \(the complete batches are kept"):
        writer.atomic_write(target, explode)
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_duckdb_write_error_is_told_by_its_errno(tmp_path: Path) -> None:
    import duckdb

    failure = duckdb.IOException(
        'IO Error: Async write failed for range [offset=118, size=136888]: {"exception_type":"IO",'
        '"exception_message":"Could not write file \\"x.csv\\": No space left on device","errno":"28"}'
    )
    assert (
        writer.write_failed(tmp_path / "x.csv", failure).message
        == f"cannot write {tmp_path / 'x.csv'}: {os.strerror(28)}"
    )


def test_completed_batches_lists_batch_files_only(tmp_path: Path) -> None:
    for name in ("batch_00000.parquet", "batch_00002.parquet", f".batch_00003.parquet.9{writer.TMP_MARK}"):
        writer.write_parquet(tmp_path / writer.PARQUET_DIR / name, pa.table({"x": [1]}))
    assert writer.completed_batches(tmp_path) == [0, 2]


def test_remove_temporaries_deletes_only_temporaries(tmp_path: Path) -> None:
    keep = tmp_path / "parquet-files" / "batch_00000.parquet"
    stale = tmp_path / "parquet-files" / f".batch_00001.parquet.77{writer.TMP_MARK}"
    keep.parent.mkdir()
    keep.write_bytes(b"x")
    stale.write_bytes(b"y")
    writer.remove_temporaries(tmp_path)
    assert sorted(p.name for p in keep.parent.iterdir()) == ["batch_00000.parquet"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_nested_values_are_written_as_json_in_csv_and_jsonl(tmp_path: Path, fmt: str) -> None:
    import csv
    import json

    table = pa.table({"review": [{"summary": "item 4c85700f", "score": 2}], "tags": [["a", "b"]], "n": [1]})
    writer.write_parquet(tmp_path / writer.PARQUET_DIR / writer.batch_file(0), table)
    path = writer.write_combined(tmp_path, fmt, "d")
    if fmt == "csv":
        with path.open(newline="") as handle:
            row = next(csv.DictReader(handle))
        review, tags = json.loads(row["review"]), json.loads(row["tags"])
    else:
        row = json.loads(path.read_text())
        review, tags = row["review"], row["tags"]
    assert (review, tags) == ({"summary": "item 4c85700f", "score": 2}, ["a", "b"])


def test_a_batch_costs_one_fsync_and_the_run_syncs_its_folder_before_it_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resume guarantee with one fsync per batch file: each file is durable before its rename (never
    torn); the renames into parquet-files/ become durable once, before metadata.json says complete."""
    import os

    from ddc.engine.runner import run

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: d\nrandom_seed: 1\ncolumns:\n  - {name: x, column_type: sampler, sampler_type: uniform, "
                    "params: {low: 0, high: 1}}\n")  # fmt: skip
    monkeypatch.setattr(os, "fsync", fsync)
    run(spec, num_records=50, batch_size=10, output_dir=tmp_path / "out")
    folder = str(tmp_path / "out" / "d" / writer.PARQUET_DIR)
    batches = [p for p in synced if p.startswith(folder + "/")]
    assert len(batches) == 5 and all(writer.TMP_MARK in p for p in batches)
    assert synced.count(folder) == 1
    final_metadata = max(i for i, p in enumerate(synced) if "metadata.json" in p)
    assert synced.index(folder) < final_metadata
