"""Validate create-job bodies with the official ``data-designer-config`` models of the running interpreter.

Run with an interpreter that has the official package (for example /work/ddvenv/bin/python for 0.9.6,
/work/dd091venv/bin/python for 0.9.1). Reads a JSON list of bodies on stdin; prints one JSON object
``{"version": ..., "results": [[problem, ...], ...]}``; exits 0 when every body is valid.

The NeMo ``nmp`` fileset seed source is a plugin type the plain library lacks: its grammar is checked
here, then it is replaced by a stand-in hf source (which checks no files) so the rest of the config
meets the official models.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

FILESET_REF = re.compile(r"^(?:[^/#]+/)?[^/#]+#.+$")


def problems_of(body: Any) -> list[str]:
    from data_designer.config.data_designer_config import DataDesignerConfig
    from pydantic import ValidationError

    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        return ["body must be an object with a 'spec' object"]
    spec = body["spec"]
    problems = []
    if set(spec) != {"num_records", "config"}:
        problems.append(f"spec keys must be exactly num_records and config, got {sorted(spec)}")
    if not isinstance(spec.get("num_records"), int) or spec["num_records"] < 1:
        problems.append("spec.num_records must be a positive integer")
    config = json.loads(json.dumps(spec.get("config")))
    source = ((config or {}).get("seed_config") or {}).get("source") or {}
    if source.get("seed_type") == "nmp":
        if set(source) != {"seed_type", "path"} or not FILESET_REF.match(str(source.get("path"))):
            problems.append(f"nmp seed source must be {{seed_type, path: [ws/]fileset#path}}, got {source}")
        config["seed_config"]["source"] = {
            "seed_type": "hf",
            "path": "datasets/ddc/fileset-stand-in/data.parquet",
        }
    try:
        DataDesignerConfig.model_validate(config)
    except ValidationError as exc:
        problems += [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
    except Exception as exc:  # the official validators also raise their own error types
        problems.append(f"{type(exc).__name__}: {exc}")
    return problems


def main() -> int:
    from importlib.metadata import version

    bodies = json.load(sys.stdin)
    results = [problems_of(body) for body in bodies]
    json.dump({"version": version("data-designer-config"), "results": results}, sys.stdout)
    return 0 if not any(results) else 1


if __name__ == "__main__":
    sys.exit(main())
