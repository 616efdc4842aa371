"""The import the ``ddc`` executable skips (pandas through pyarrow), and that a library caller's process
keeps pyarrow's usual behaviour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pandas")  # the probe only matters where pandas is installed

SPEC = """
columns:
  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}}
  - {name: s, column_type: expression, expr: "{{ n }}"}
"""

_AFTER = """
import json, sys
import pyarrow as pa
seen = {"pandas_after_run": "pandas" in sys.modules}
seen["to_pandas_works"] = int(pa.array([1, 2]).to_pandas().sum()) == 3
print(json.dumps(seen))
"""


def _python(code: str, tmp_path: Path) -> dict[str, bool]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    env = {**os.environ, "DDC_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code, str(spec), str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_ddc_executable_runs_without_importing_pandas_and_pandas_still_works_after(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom ddc.cli import entry\nsys.argv = ['ddc', 'run', sys.argv[1], '-o', sys.argv[2], '-q']\n"
        "try:\n    entry()\nexcept SystemExit:\n    pass\n" + _AFTER
    )
    seen = _python(code, tmp_path)
    assert seen == {"pandas_after_run": False, "to_pandas_works": True}


def test_a_library_run_leaves_pyarrow_to_import_pandas_as_usual(tmp_path: Path) -> None:
    code = "import sys\nfrom ddc.engine import run\nrun(sys.argv[1], num_records=5, output_dir=sys.argv[2])\n" + _AFTER
    seen = _python(code, tmp_path)
    assert seen["pandas_after_run"] is True and seen["to_pandas_works"] is True
