from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ddc.cli import cli
from ddc.errors import UsageError

SPEC = """
name: demo
num_records: 12
random_seed: 4
columns:
  - {name: colour, column_type: sampler, sampler_type: category, params: {values: [red, blue]}}
  - {name: shout, column_type: expression, expr: "{{ colour|upper }}!"}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    return path


def test_preview_prints_rows_and_writes_nothing(spec: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(spec), "--preview", "3", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    panels = [line for line in result.output.splitlines() if line.startswith("╭─ record ")]
    assert [p.split()[2] for p in panels] == ["0", "1", "2"] and "│ shout " in result.output
    assert not (tmp_path / "out").exists()


def test_run_writes_the_dataset_and_prints_a_summary(spec: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(tmp_path), "-n", "20"])
    assert result.exit_code == 0, result.output
    assert f"wrote 20 records to {tmp_path / 'demo'}" in result.output
    assert any(line.startswith("shout ") and "expression" in line for line in result.output.splitlines())


def test_progress_lines_when_not_a_terminal(spec: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(tmp_path)])
    assert "records: 12/12" in result.stderr


def test_partition_writes_a_shard_directory(spec: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(tmp_path), "--partition", "1/2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo-part1of2" / "parquet-files" / "batch_00000.parquet").is_file()


def test_a_malformed_partition_is_a_usage_error(spec: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(tmp_path), "--partition", "half"])
    assert isinstance(result.exception, UsageError)


def test_a_module_built_by_ddc_build_runs_like_its_spec(spec: Path, tmp_path: Path) -> None:
    module = tmp_path / "demo_module.py"
    assert CliRunner().invoke(cli, ["build", str(spec), "-o", str(module)]).exit_code == 0
    from_spec = CliRunner().invoke(cli, ["run", str(spec), "--preview", "4"])
    from_module = CliRunner().invoke(cli, ["run", str(module), "--preview", "4"])
    assert from_module.exit_code == 0, from_module.output
    assert from_module.output == from_spec.output


def test_the_ddc_process_writes_the_dataset_and_exits_0(spec: Path, tmp_path: Path, subprocess_env) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "ddc", "run", str(spec), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=subprocess_env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 12 records" in done.stdout
    assert (tmp_path / "out" / "demo" / "parquet-files" / "batch_00000.parquet").is_file()


def test_the_ddc_process_exits_quietly_after_a_seeded_run(tmp_path: Path, subprocess_env) -> None:
    """DuckDB (seeds) must not print nanobind leak reports at exit."""
    import subprocess
    import sys

    (tmp_path / "seed.csv").write_text("name\na\nb\n")
    spec = tmp_path / "seeded.yaml"
    spec.write_text(
        "seed_config: {source: {seed_type: local, path: seed.csv}}\n"
        "columns:\n  - {name: x, column_type: expression, expr: '{{ name }}!'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "ddc", "run", str(spec), "-n", "4", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=subprocess_env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr


def test_the_rate_counts_from_the_start_of_generation_and_skips_resumed_rows() -> None:
    import io

    from ddc.cli.progress_view import PlainProgress

    clock = iter([10.0, 12.0]).__next__  # generation starts (after 600 resumed rows); 400 rows 2 s later
    out = io.StringIO()
    progress = PlainProgress(out, interval=0.0, clock=clock)
    progress.start(600, 1000, {})
    progress.rows(1000, 1000)
    assert out.getvalue() == "records: 1,000/1,000, 200.0 records/s\n"
