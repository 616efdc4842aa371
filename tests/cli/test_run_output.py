"""What `ddc run` says and how it exits: --quiet, --json, a resumed run with nothing left, exit codes;
and the modes of the files other commands write."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SPEC = """
name: demo
num_records: 12
random_seed: 4
columns:
  - {name: colour, column_type: sampler, sampler_type: category, params: {values: [red, blue]}}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    return path


def ddc(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ddc", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_quiet_prints_nothing_on_success(spec: Path, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    done = ddc("run", str(spec), "-o", "out", "--quiet", cwd=tmp_path, env=subprocess_env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_json_prints_a_summary_on_stdout(spec: Path, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    done = ddc("run", str(spec), "-o", "out", "--json", "-q", cwd=tmp_path, env=subprocess_env)
    summary = json.loads(done.stdout)
    assert (summary["records"], summary["path"], summary["random_seed"], summary["nothing_left_to_do"]) == (
        12,
        str(Path("out") / "demo"),
        4,
        False,
    )


def test_resuming_a_finished_run_says_there_was_nothing_left(
    spec: Path, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    assert ddc("run", str(spec), "-o", "out", "-q", cwd=tmp_path, env=subprocess_env).returncode == 0
    again = ddc("run", str(spec), "-o", "out", "--resume", cwd=tmp_path, env=subprocess_env)
    expected = f"nothing left to do: {Path('out') / 'demo'} already holds all 12 records (seed 4)"
    assert again.stdout.splitlines()[0] == expected


def test_a_usage_error_exits_2(spec: Path, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    assert ddc("run", str(spec), "--no-such-option", cwd=tmp_path, env=subprocess_env).returncode == 2


def test_an_internal_error_exits_70_with_a_traceback(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    """A bug is not a usage error: its own code, and the traceback to report."""
    crash = "import sys; from ddc.cli import main; import ddc.cli.show_commands as m; "
    crash += "m.show.callback = lambda **kw: 1 / 0; main(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", crash, "show", str(tmp_path)],
        cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 70 and "ZeroDivisionError" in done.stderr and "please report" in done.stderr


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_and_build_create_files_with_the_umask(
    tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "demo"]).exit_code == 0
    spec = next(tmp_path.glob("demo*.yaml"))
    assert runner.invoke(cli, ["build", str(spec), "-o", "demo.py"]).exit_code == 0
    assert (mode(spec), mode(tmp_path / "demo.py")) == (0o644, 0o644)


def test_schema_vscode_keeps_the_mode_of_existing_settings(
    tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ddc.cli import cli

    monkeypatch.chdir(tmp_path)
    settings = tmp_path / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{}\n")
    settings.chmod(0o664)
    assert CliRunner().invoke(cli, ["schema", "--vscode"]).exit_code == 0
    assert mode(settings) == 0o664 and "yaml.schemas" in settings.read_text()
