"""`ddc validate`, `ddc build`, `ddc fingerprint` as a user sees them: output streams and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddc.cli import COMMANDS, cli, main
from tests.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = str(ROOT / "examples" / "people.ddc.yaml")
JOIN = str(ROOT / "examples" / "reviews-seed-join.ddc.yaml")
BAD = str(ROOT / "tests" / "spec" / "malformed" / "unknown-key-top-level.yaml")
FILESET = str(ROOT / "tests" / "compile" / "valid" / "fileset-seed.ddc.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `ddc ARGV` through the real entry point; (exit code, stdout, stderr)."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err or "--debug" in argv
    return code, out, err


class TestValidate:
    def test_valid_spec_prints_its_fingerprint_and_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(capsys, "validate", PEOPLE)
        assert (code, err) == (0, "")
        assert out.startswith(f"{PEOPLE}: valid (sha256:")

    def test_invalid_spec_prints_errors_to_stderr_and_exits_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = run(capsys, "validate", BAD)
        assert (code, out) == (1, "")
        assert err.splitlines() == [
            f"{BAD}:2:1: num_record: unknown key 'num_record' (did you mean 'num_records'?)",
            f"{BAD}: 1 error(s), 0 warning(s)",
        ]

    def test_json_format_is_machine_readable(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "validate", PEOPLE, "--format", "json")
        payload = json.loads(out)
        assert (code, payload["ok"], payload["diagnostics"]) == (0, True, [])
        assert payload["fingerprint"].startswith("sha256:")

    def test_json_format_of_an_invalid_spec_exits_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "validate", BAD, "--format", "json")
        assert code == 1
        assert json.loads(out)["diagnostics"][0]["path"] == "num_record"

    def test_quiet_prints_nothing_for_a_valid_spec(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "validate", PEOPLE, "-q") == (0, "", "")

    def test_for_submit_reports_a_local_query_seed(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "validate", JOIN, "--for", "submit")
        assert code == 1
        assert "[submit]" in err
        assert "seed_config.source" in err

    def test_for_run_accepts_the_offline_query_seed(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "validate", JOIN, "--for", "run")[0] == 0

    def test_explain_shows_resolution_per_mode(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "validate", PEOPLE, "--explain", "--for", "run")
        assert code == 0
        assert "resolution for ddc run" in out

    def test_missing_file_exits_1_naming_it(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        missing = str(tmp_path / "nope.yaml")
        code, _, err = run(capsys, "validate", missing)
        assert code == 1
        assert f"{missing}: no such file" in err

    def test_directory_is_a_usage_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "validate", str(tmp_path))[0] == 2

    def test_unknown_option_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "validate", PEOPLE, "--fast")
        assert code == 2
        assert "--fast" in err


class TestBuild:
    def test_prints_the_module_without_output(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "build", PEOPLE)
        assert code == 0
        assert out.startswith('"""Data Designer config compiled by ddc')

    def test_writes_then_reports_unchanged(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "people.py"
        code, _, err = run(capsys, "build", PEOPLE, "-o", str(out))
        assert code == 0
        assert err.startswith(f"{out}: written (sha256:")
        assert run(capsys, "build", PEOPLE, "-o", str(out))[2].startswith(f"{out}: unchanged")

    def test_invalid_spec_exits_1_without_writing(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "bad.py"
        code, _, err = run(capsys, "build", BAD, "-o", str(out))
        assert code == 1
        assert "unknown key 'num_record'" in err
        assert not out.exists()

    def test_unknown_target_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "build", PEOPLE, "--target", "java")[0] == 2

    def test_fileset_seed_cannot_target_data_designer(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "build", FILESET, "--target", "data-designer")
        assert code == 1
        assert "use --target ddc" in err

    def test_debug_shows_the_traceback_of_a_user_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "--debug", "build", BAD)
        assert code == 1
        assert "Traceback" in err


def test_fingerprint_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fingerprint", PEOPLE)
    assert code == 0
    assert out.count("\n") == 1
    assert out.startswith("sha256:")


@pytest.mark.parametrize("command", ["validate", "build", "fingerprint"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"ddc {command} " in result.output
    assert "Example" in result.output


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output


@pytest.mark.parametrize("command", ["validate", "build", "fingerprint"])
def test_a_mistyped_spec_path_is_no_such_file_not_yaml_text(command: str, tmp_path: Path, run: Run) -> None:
    missing = tmp_path / "people.ddc.yam"
    code, _, err = run(command, str(missing))
    assert code == 1 and f"{missing}: no such file" in err and "mapping" not in err
