"""The malformed-spec corpus: every file yields an error at the right place, and never a traceback.

Each file in ``tests/spec/malformed/`` starts with ``# expect: LINE[:COL] CODE``: the position and the
diagnostic code of an error ``ddc validate`` must report.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ddc.api import validate
from ddc.cli import main

CORPUS = Path(__file__).parent / "malformed"
FILES = sorted(CORPUS.glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\d+)(?::(\d+))? (\S+)$")


def _expectation(path: Path) -> tuple[int, int | None, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = _EXPECT.match(first)
    assert match, f"{path.name}: first line must be '# expect: LINE[:COL] CODE'"
    return int(match[1]), int(match[2]) if match[2] else None, match[3]


def test_corpus_has_at_least_45_specs() -> None:
    assert len(FILES) >= 45


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_validate_reports_the_expected_error_at_its_position(path: Path) -> None:
    line, column, code = _expectation(path)
    report = validate(str(path))
    errors = [d for d in report.diagnostics if d.severity == "error"]
    found = [(d.span.line, d.span.column, d.code) for d in errors if d.span is not None]
    assert not report.ok
    assert any((ln, code_) == (line, code) and (column is None or col == column) for ln, col, code_ in found), (
        f"expected {line}:{column} {code}, got {found}"
    )


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_cli_exits_1_without_traceback(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 1
    assert "Traceback" not in out + err
    assert f"{path}:" in err


@pytest.mark.parametrize(
    "name", ["syntax-tab-indentation.yaml", "cycle-three-columns.yaml", "bad-seed-sql.yaml", "custom-column.yaml"]
)
def test_python_m_ddc_exits_1_without_traceback(name: str, subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ddc", "validate", str(CORPUS / name)],
        capture_output=True,
        text=True,
        env=subprocess_env,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip()


def test_json_format_names_file_line_column_and_code(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    with pytest.raises(SystemExit):
        main(["validate", str(CORPUS / "unknown-key-top-level.yaml"), "--format", "json"])
    payload = json.loads(capsys.readouterr().out)
    first = payload["diagnostics"][0]
    assert (payload["ok"], first["line"], first["column"], first["code"]) == (False, 2, 1, "unknown-key")
    assert first["hint"] == "did you mean 'num_records'?"


def test_error_messages_of_the_whole_corpus(
    snapshot: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Golden text of `ddc validate` for every malformed spec (paths relative to the corpus)."""
    monkeypatch.chdir(CORPUS)
    chunks = []
    for path in FILES:
        with pytest.raises(SystemExit) as exit_info:
            main(["validate", path.name])
        out, err = capsys.readouterr()
        text = (out + err).replace(str(CORPUS), "<corpus>")
        chunks.append(f"=== {path.name} (exit {exit_info.value.code})\n{text}")
    assert "\n".join(chunks) == snapshot
