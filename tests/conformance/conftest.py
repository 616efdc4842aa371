"""Conformance tests run scripts under a python that has the official data-designer-config installed.

CI sets ``DDC_CONFORMANCE_PYTHON`` (0.9.6) and ``DDC_DD097_PYTHON`` (0.9.7) (see ``.ci/run``); locally,
point them at such environments, e.g. ``DDC_CONFORMANCE_PYTHON=.venv-dd/bin/python``. Every test runs
once per version; a version whose variable is unset is skipped.
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


#: data-designer-config version -> the variable naming a python that has it (and ddc), set by .ci/run
OFFICIAL_PYTHONS = {"0.9.6": "DDC_CONFORMANCE_PYTHON", "0.9.7": "DDC_DD097_PYTHON"}


@pytest.fixture(scope="session", params=sorted(OFFICIAL_PYTHONS))
def conformance_python(request: pytest.FixtureRequest) -> str:
    variable = OFFICIAL_PYTHONS[request.param]
    python = os.environ.get(variable)
    if not python:
        pytest.skip(f"{variable} is not set (a python with data-designer-config=={request.param} and ddc)")
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
