"""Run with the conformance python: the data-designer target module's build() equals ddc's dd_config.

argv: scratch directory, then spec paths. Prints one JSON line per spec: {"spec", "status", "detail"}.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from ddc.api import build, load
from ddc.compile.canonical import dd_config

#: The official builder always passes a tool_configs list and turns empty constraints, profilers and
#: processors into None; an empty list and None mean the same config, so compare them as equal.
_EMPTY_AS_NONE = ("tool_configs", "constraints", "profilers", "processors")


def builder_normal(config: dict) -> dict:
    return {k: (None if k in _EMPTY_AS_NONE and v == [] else v) for k, v in config.items()}


def check(spec_path: Path, out_dir: Path) -> dict:
    loaded = load(spec_path)
    if loaded.spec.seed_config is not None and loaded.spec.seed_config.source.seed_type == "nmp":
        return {"status": "skip", "detail": "nmp fileset seeds cannot be built by the data-designer target"}
    out = out_dir / (spec_path.name.split(".")[0].replace("-", "_") + "_dd.py")
    build(spec_path, target="data-designer", out=out)
    module_spec = importlib.util.spec_from_file_location(out.stem, out)
    module = importlib.util.module_from_spec(module_spec)
    os.chdir(out_dir)  # not the spec's folder: the module resolves seed paths against the spec itself
    module_spec.loader.exec_module(module)
    official = module.load_config_builder().build().model_dump(mode="json")
    if not loaded.spec.model_configs:  # the official default aliases, supplied by the module
        if not official.get("model_configs"):
            return {"status": "fail", "detail": "a spec without model_configs built with no default models"}
        official["model_configs"] = None
    seed_source = None
    if loaded.spec.seed_config is not None and loaded.spec.seed_config.source.seed_type == "query":
        seed_source = official["seed_config"]["source"]  # the materialised Parquet file
        if seed_source["seed_type"] != "local" or not Path(seed_source["path"]).is_file():
            return {"status": "fail", "detail": f"query seed not materialised: {seed_source}"}
    relative_seed = ("local", "directory", "file_contents", "agent_rollout")
    if (
        seed_source is None
        and loaded.spec.seed_config is not None
        and official["seed_config"]["source"]["seed_type"] in relative_seed
    ):
        seed_source = dict(official["seed_config"]["source"])
        written = loaded.spec.seed_config.source.path
        if seed_source["path"] != str((loaded.base_dir / written).resolve()):
            return {
                "status": "fail",
                "detail": f"seed path {seed_source['path']} is not {written} in the spec's folder",
            }
    expected = builder_normal(dd_config(loaded.spec, seed_source=seed_source))
    official = builder_normal(official)
    if official != expected:
        diffs = [k for k in expected if official.get(k) != expected.get(k)]
        return {"status": "fail", "detail": f"differs in {diffs}: " + json.dumps([official, expected])[:3000]}
    return {"status": "ok", "detail": ""}


def main() -> None:
    out_dir = Path(sys.argv[1]).resolve()
    cwd = os.getcwd()
    for arg in sys.argv[2:]:
        try:
            result = check(Path(arg).resolve(), out_dir)
        except Exception as exc:
            result = {"status": "fail", "detail": f"{type(exc).__name__}: {exc}"[:3000]}
        finally:
            os.chdir(cwd)
        print(json.dumps({"spec": arg, **result}), flush=True)


if __name__ == "__main__":
    main()
