"""Editor checks in the real yaml-language-server: ddc's schema vs. the official models' schema.

The official baseline is what pydantic generates from data-designer-config's DataDesignerConfig
(tests/editor/fixtures/official.schema.json). Needs `npm ci --prefix tests/editor`.

    python benchmarks/editor_baseline.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "editor"))

from editor_checks import SERVER_SETTINGS, run_checks  # noqa: E402
from lsp_client import LspClient, server_command  # noqa: E402

SCHEMAS = {
    "ddc": ROOT / "schemas" / "ddc.schema.json",
    "official": ROOT / "tests" / "editor" / "fixtures" / "official.schema.json",
}


def main() -> int:
    command = server_command()
    if command is None:
        print("node or yaml-language-server missing: run `npm ci --prefix tests/editor`", file=sys.stderr)
        return 2
    results = {}
    with tempfile.TemporaryDirectory() as tmp, LspClient(command, SERVER_SETTINGS, Path(tmp)) as client:
        for name, schema in SCHEMAS.items():
            started = time.perf_counter()
            results[name] = run_checks(client, schema, Path(tmp))
            print(f"{name}: checks ran in {time.perf_counter() - started:.2f} s")
    checks = list(results["ddc"])
    width = max(len(c) for c in checks)
    print(f"\n{'check':<{width}}  ddc   official")
    for check in checks:
        marks = ["pass" if results[s][check][0] else "FAIL" for s in SCHEMAS]
        print(f"{check:<{width}}  {marks[0]:<5} {marks[1]}")
    totals = {s: sum(ok for ok, _ in results[s].values()) for s in SCHEMAS}
    print(f"\n{'passed':<{width}}  {totals['ddc']}/{len(checks)}  {totals['official']}/{len(checks)}")
    print("\nofficial failures:")
    for check, (ok, detail) in results["official"].items():
        if not ok:
            print(f"- {check}: {detail[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
