"""Every page of docs/ can be followed as written: its ```bash blocks run top to bottom, in one shell
session, in a scratch copy of the repository's examples — so a later command sees what an earlier one
wrote, as a reader's would. ```console blocks are for what needs a service or network (installing,
NeMo Services) and are not run.

A page that activates the virtual environment (``source .venv/bin/activate``) gets ``ddc`` on its PATH
only that way; other pages assume it is there (the quickstart says how)."""

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
ACTIVATE = "source .venv/bin/activate"


def _pages() -> list[tuple[str, list[tuple[int, str]]]]:
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        blocks = [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]
        if blocks:
            found.append((doc.name, blocks))
    return found


def _script(blocks: list[tuple[int, str]]) -> str:
    """The page's blocks in order; each announces its line on stderr so a failure names it."""
    return "".join(f"echo '--- block at line {line}' >&2\n{body}" for line, body in blocks)


def _virtualenv(scratch: Path) -> Path:
    """``.venv/bin`` with ``ddc`` and ``python`` of this test run, and an ``activate`` that puts them first."""
    bin_dir = scratch / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "ddc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ddc "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n', encoding="utf-8")
    return bin_dir


@pytest.mark.parametrize(("doc", "blocks"), _pages(), ids=[name for name, _ in _pages()])
def test_the_page_can_be_followed_top_to_bottom(doc: str, blocks: list[tuple[int, str]], tmp_path: Path) -> None:
    for name in ("examples", "schemas"):
        shutil.copytree(ROOT / name, tmp_path / name)
    bin_dir = _virtualenv(tmp_path)
    script = _script(blocks)
    path = os.environ["PATH"] if ACTIVATE in script else f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT)}
    env.pop("NMP_BASE_URL", None)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"{doc}: a command failed\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


def test_the_readme_lists_every_command() -> None:
    from ddc.cli import COMMANDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.splitlines() if line.startswith("| `ddc ")]
    listed = {m.group(1) for line in table for m in re.finditer(r"`ddc (\w+)", line)}
    assert sorted(set(COMMANDS) - listed) == []
