"""``--resume``: what it refuses, and that a resumed run ends as an uninterrupted one would."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddc.engine.runner import run
from ddc.errors import RunError

SPEC = """
name: people
num_records: 30
random_seed: 11
columns:
  - {name: region, column_type: sampler, sampler_type: category, params: {values: [EU, US]}}
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 18, high: 80}, convert_to: int}
"""


@pytest.mark.parametrize("text", ["{}", "[]", "null", "3", '"text"'])
def test_resume_refuses_metadata_that_is_not_a_run_s_in_one_line(write_spec, tmp_path: Path, text: str) -> None:
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    (dataset / "metadata.json").write_text(text)
    with pytest.raises(RunError, match=r"metadata\.json.*cannot be resumed") as caught:
        run(path, output_dir=tmp_path, batch_size=10, resume=True)
    assert "\n" not in str(caught.value)
    assert (dataset / "metadata.json").read_text() == text, "nothing written"


def _edit_metadata(dataset: Path, **changes: object) -> None:
    """Change keys of ``dataset``'s metadata.json; a value of ``...`` deletes the key."""
    meta = json.loads((dataset / "metadata.json").read_text())
    for key, value in changes.items():
        if value is ...:
            del meta[key]
        else:
            meta[key] = value
    (dataset / "metadata.json").write_text(json.dumps(meta))


def test_resume_refuses_metadata_missing_a_key_it_needs(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    _edit_metadata(dataset, buffer_size=...)
    with pytest.raises(RunError, match="has no 'buffer_size'"):
        run(path, output_dir=tmp_path, batch_size=10, resume=True)


def test_resume_refuses_metadata_with_a_seed_that_is_not_a_number(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    _edit_metadata(dataset, random_seed="abc")
    with pytest.raises(RunError, match="invalid 'random_seed'"):
        run(path, output_dir=tmp_path, batch_size=10, resume=True)


def test_a_partition_resume_refuses_another_number_of_records(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    run(path, output_dir=tmp_path, num_records=1000, partition=(0, 2), batch_size=100)
    with pytest.raises(RunError, match=r"the number of records changed since it was started \(1000 -> 1001\)"):
        run(path, output_dir=tmp_path, num_records=1001, partition=(0, 2), batch_size=100, resume=True)


def test_resume_refuses_another_partition_with_the_same_rows(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    first = run(path, output_dir=tmp_path, num_records=3, partition=(0, 2)).path  # rows [0, 1), as 0/3
    first.rename(tmp_path / "people-part0of3")
    with pytest.raises(RunError, match="the partition changed since it was started"):
        run(path, output_dir=tmp_path, num_records=3, partition=(0, 3), resume=True)


def test_resume_removes_the_errors_file_of_a_batch_that_now_has_no_errors(write_spec, tmp_path: Path) -> None:
    """A kill between a batch's errors file and its batch file leaves the errors file; the batch
    generated again without errors must not keep it."""
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    for index in (1, 2):  # as if killed while writing batch 1
        (dataset / "parquet-files" / f"batch_0000{index}.parquet").unlink()
    stale = dataset / "errors-files" / "batch_00001.jsonl"
    stale.parent.mkdir()
    stale.write_text('{"row": 12, "column": "age", "message": "stale"}\n')
    result = run(path, output_dir=tmp_path, batch_size=10, resume=True)
    assert not stale.exists()
    assert result.metadata["num_failed_cells"] == 0 and not (dataset / "errors.jsonl").exists()


DROPPING = SPEC + "  - {name: twice, column_type: expression, expr: '{{ age * 2 }}', drop: true}\n"
KEPT_HINT = r"the complete batches are kept; once the problem is fixed, run the same command with --resume"


def test_a_batch_file_that_cannot_be_written_is_a_one_line_error(write_spec, tmp_path: Path) -> None:
    path = write_spec(DROPPING)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    (dataset / "parquet-files" / "batch_00002.parquet").unlink()
    blocked = dataset / "dropped-columns-parquet-files" / "batch_00002.parquet"
    blocked.unlink()
    (blocked / "in-the-way").mkdir(parents=True)  # a directory where the file goes: fails even for root
    with pytest.raises(RunError, match=rf"cannot write {re.escape(str(blocked))}: .*\({KEPT_HINT}\)"):
        run(path, output_dir=tmp_path, batch_size=10, resume=True)
    assert sorted(p.name for p in (dataset / "parquet-files").iterdir()) == [
        "batch_00000.parquet",
        "batch_00001.parquet",
    ]


def test_a_combined_file_that_cannot_be_written_is_a_one_line_error(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    (dataset / "people.csv" / "in-the-way").mkdir(parents=True)
    with pytest.raises(RunError, match=rf"cannot write {re.escape(str(dataset / 'people.csv'))}: .*{KEPT_HINT}"):
        run(path, output_dir=tmp_path, batch_size=10, fmt="csv", resume=True)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_dataset_directory_is_a_one_line_error(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC)
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    (dataset / "parquet-files" / "batch_00002.parquet").unlink()
    (dataset / "parquet-files").chmod(0o555)
    try:
        with pytest.raises(RunError, match=r"parquet-files/batch_00002\.parquet: Permission denied"):
            run(path, output_dir=tmp_path, batch_size=10, resume=True)
    finally:
        (dataset / "parquet-files").chmod(0o755)


def test_resumed_statistics_of_a_list_column_equal_uninterrupted_ones(write_spec, tmp_path: Path) -> None:
    """DuckDB names a seed's list items ``l``, Parquet reads them back as ``element``: the statistics of
    batches read back on resume must not tell the difference."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"tags": [["a", "b"], ["c"], []] * 10}), tmp_path / "seed.parquet")
    path = write_spec(
        SPEC + "seed_config: {source: {seed_type: local, path: seed.parquet}, sampling_strategy: ordered}\n"
    )
    reference = run(path, output_dir=tmp_path / "ref", batch_size=10).metadata["column_statistics"]
    dataset = run(path, output_dir=tmp_path / "resumed", batch_size=10).path
    (dataset / "parquet-files" / "batch_00002.parquet").unlink()
    assert (
        run(path, output_dir=tmp_path / "resumed", batch_size=10, resume=True).metadata["column_statistics"]
        == reference
    )


def _resume_after_losing_the_last_batch(path: Path, out: Path, **options: Any) -> dict[str, Any]:
    """Run ``path`` into ``out``, delete its last batch file (as a kill while it was written would leave
    it) and resume: the resumed run's metadata."""
    dataset = run(path, output_dir=out, batch_size=10, **options).path
    (dataset / "parquet-files" / "batch_00002.parquet").unlink()
    return run(path, output_dir=out, batch_size=10, resume=True, **options).metadata


def test_resumed_metadata_counts_the_rows_dropped_before(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC + '  - {name: ratio, column_type: expression, expr: "{{ 100 // (age % 7) }}"}\n')
    reference = run(path, output_dir=tmp_path / "ref", batch_size=10).metadata
    assert reference["dropped_rows"] == {"ratio": 5}
    assert _resume_after_losing_the_last_batch(path, tmp_path / "resumed")["dropped_rows"] == {"ratio": 5}


@pytest.fixture
def essays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A spec with a model column, served by a local fake OpenAI server."""
    from tests.llm.runner import TOPIC_ESSAY, spec_text
    from tests.servers.openai_server import OpenAIServer

    monkeypatch.setenv("DDC_HOME", str(tmp_path / "ddc-home"))
    with OpenAIServer() as server:
        path = tmp_path / "essays.yaml"
        path.write_text(spec_text(server.base_url, TOPIC_ESSAY) + "name: essays\nnum_records: 30\n", encoding="utf-8")
        yield path


def test_resumed_metadata_counts_the_model_calls_before(essays: Path, tmp_path: Path) -> None:
    reference = run(essays, output_dir=tmp_path / "ref", batch_size=10, use_cache=False).metadata
    resumed = _resume_after_losing_the_last_batch(essays, tmp_path / "resumed", use_cache=False)
    assert resumed["column_metrics"] == reference["column_metrics"]


def test_resumed_token_statistics_count_the_batches_before(essays: Path, tmp_path: Path) -> None:
    reference = run(essays, output_dir=tmp_path / "ref", batch_size=10, use_cache=False).metadata
    resumed = _resume_after_losing_the_last_batch(essays, tmp_path / "resumed", use_cache=False)
    assert resumed["column_statistics"] == reference["column_statistics"]


def test_a_damaged_batch_stats_file_is_a_one_line_error(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC + '  - {name: ratio, column_type: expression, expr: "{{ 100 // (age % 7) }}"}\n')
    dataset = run(path, output_dir=tmp_path, batch_size=10).path
    (dataset / "parquet-files" / "batch_00002.parquet").unlink()
    damaged = dataset / "batch-stats-files" / "batch_00000.json"
    damaged.write_text('{"dropped_rows": []}')
    with pytest.raises(RunError, match=rf"cannot resume: {re.escape(str(damaged))} is damaged"):
        run(path, output_dir=tmp_path, batch_size=10, resume=True)


def _images_of_a_run_stopped_before_its_metadata(dataset: Path) -> None:
    """What an image column leaves when the run is stopped before metadata.json is written."""
    (dataset / "images" / "picture").mkdir(parents=True)
    (dataset / "images" / "picture" / f"{'ab' * 16}.png").write_bytes(b"\x89PNG")
    (dataset / "images" / "picture" / "tmpx1.ddc-tmp").write_bytes(b"\x89P")


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_images_of_a_run_stopped_before_its_metadata_do_not_block_the_next(
    write_spec, tmp_path: Path, resume: bool
) -> None:
    _images_of_a_run_stopped_before_its_metadata(tmp_path / "people")
    dataset = run(write_spec(SPEC), output_dir=tmp_path, batch_size=10, resume=resume).path
    assert not (dataset / "images").exists() and (dataset / "metadata.json").is_file()


def test_an_images_folder_ddc_did_not_write_is_left_alone(write_spec, tmp_path: Path) -> None:
    (tmp_path / "people" / "images" / "holiday").mkdir(parents=True)
    (tmp_path / "people" / "images" / "holiday" / "beach.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(RunError, match="already holds a dataset"):
        run(write_spec(SPEC), output_dir=tmp_path, batch_size=10)
    assert (tmp_path / "people" / "images" / "holiday" / "beach.jpg").exists()


def test_resumed_metadata_lists_the_warnings_of_the_batches_before(write_spec, tmp_path: Path) -> None:
    path = write_spec(SPEC + '  - {name: ratio, column_type: expression, expr: "{{ 100 // (age % 7) }}"}\n')
    reference = run(path, output_dir=tmp_path / "ref", batch_size=10).metadata
    assert [w.split(":")[0] for w in reference["warnings"]][:3] == [
        "dropped 1 rows of batch 0",
        "dropped 2 rows of batch 1",
        "dropped 2 rows of batch 2",
    ]
    assert _resume_after_losing_the_last_batch(path, tmp_path / "resumed")["warnings"] == reference["warnings"]
