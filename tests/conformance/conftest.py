"""Conformance tests run scripts under a python that has the official data-designer-config installed.

CI sets ``DDC_CONFORMANCE_PYTHON`` (see ``.ci/run``); locally, point it at such an environment, e.g.
``DDC_CONFORMANCE_PYTHON=/work/ddvenv/bin/python``. Without it these tests are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def conformance_python() -> str:
    python = os.environ.get("DDC_CONFORMANCE_PYTHON")
    if not python:
        pytest.skip("DDC_CONFORMANCE_PYTHON is not set (a python with data-designer-config==0.9.6 and ddc)")
    return python


@pytest.fixture(scope="session")
def run_script(conformance_python: str) -> Any:
    """Run a script from scripts/ with the official library; returns its JSON lines."""

    def run(script: str, *args: str) -> list[dict[str, Any]]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        done = subprocess.run(
            [conformance_python, str(SCRIPTS / script), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    return run
