"""Every ```bash block in docs/ runs (offline, in a scratch copy of the examples), so the docs cannot rot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((doc.name, line, match.group(1)))
    return found


@pytest.mark.parametrize(("doc", "line", "script"), _blocks(), ids=lambda v: str(v)[:30])
def test_shell_example_runs(doc: str, line: int, script: str, tmp_path: Path) -> None:
    for name in ("examples", "schemas"):
        shutil.copytree(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ddc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ddc "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    env.pop("NMP_BASE_URL", None)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"{doc}:{line}: example failed\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
