"""The hostile-spec corpus (tests/spec/hostile.py): every spec ends in exit 1 with one error at its
line, quickly, in bounded memory, without a traceback.

The corpus runs in one worker process (through the real CLI entry point, one command per spec in
turn: validate, fingerprint, build, run --preview) under an address-space limit, so an alias bomb that
got through would fail the worker rather than the machine.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.spec.hostile import corpus

HERE = Path(__file__).parent
MEMORY_LIMIT = 3 << 30  # address space of the worker: numpy, pyarrow and DuckDB reserve more than they use
MAX_RSS = 1 << 30  # what the whole corpus may actually take
MAX_SECONDS = 5.0  # per spec, on a loaded 2-core machine


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture
def results(tmp_path_factory: pytest.TempPathFactory, subprocess_env: dict[str, str]) -> list[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("hostile")
    done = subprocess.run(
        [sys.executable, str(HERE / "hostile.py"), str(directory)],
        capture_output=True,
        text=True,
        env=subprocess_env,
        preexec_fn=_limit_memory,
        timeout=600,
        check=False,
        cwd=directory,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def subprocess_env() -> dict[str, str]:
    import os

    root = HERE.parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


def test_the_corpus_has_at_least_400_specs_of_every_family() -> None:
    specs = corpus()
    assert len(specs) >= 400
    families = {s.family.split("-")[0] for s in specs}
    assert {"alias", "recursive", "deep", "name", "params", "non", "seed", "condition", "template"} <= families


def _error_lines(result: dict[str, Any]) -> list[int]:
    pattern = rf"^(?:error: )?{re.escape(result['path'])}:(\d+):\d+: "
    return [int(m) for m in re.findall(pattern, result["stderr"], flags=re.MULTILINE)]


def test_every_hostile_spec_is_refused_at_its_line_quickly_in_bounded_memory(
    results: list[dict[str, Any]],
) -> None:
    """One test over the one worker run (so parallel test workers do not run the corpus twice)."""
    crashed = [
        (r["index"], r["family"], r["command"], r["code"], r["stderr"][-300:])
        for r in results
        if r["code"] != 1 or "Traceback" in r["stderr"] or "internal error" in r["stderr"]
    ]
    misplaced = [
        (r["index"], r["family"], r["line"], _error_lines(r), r["stderr"][:300])
        for r in results
        if _error_lines(r) != [r["line"]]
    ]
    slow = [(r["index"], r["family"], round(r["seconds"], 2)) for r in results if r["seconds"] > MAX_SECONDS]
    assert (crashed, misplaced, slow) == ([], [], [])
    assert len(results) == len(corpus())
    assert results[0]["maxrss"] < MAX_RSS
