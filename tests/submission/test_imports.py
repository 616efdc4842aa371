"""The submit commands stay cheap to load: heavy libraries are imported only when a command runs."""

from __future__ import annotations

import subprocess
import sys


def test_loading_the_submit_commands_imports_no_heavy_library() -> None:
    code = (
        "import sys, ddc.cli.submit_commands, ddc.submission.jobs; "
        "print(sorted(m for m in ('httpx', 'duckdb', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_submit_does_not_import_the_engine() -> None:
    code = "import sys, ddc.submission.jobs; print(any(m.startswith('ddc.engine') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
