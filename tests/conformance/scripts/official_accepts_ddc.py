"""Run with the conformance python: every spec's ddc dd_config validates in the official models.

argv: spec paths. Prints one JSON line per spec: {"spec", "status": ok|skip|fail, "detail"}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import data_designer.config as dd
from data_designer.config.config_builder import BuilderConfig

from ddc.api import load
from ddc.compile.canonical import dd_config
from ddc.spec.seed_files import open_seed, seed_relation


def materialise_query_seed(loaded, out_dir: str) -> dict:
    relation = seed_relation(loaded.spec.seed_config.source, loaded.base_dir)
    con = open_seed(relation, writable=[out_dir])  # the locked-down connection ddc itself uses
    out = os.path.join(out_dir, "seed.parquet")
    con.execute(f"COPY ({relation.sql}) TO '{out}' (FORMAT parquet)")
    con.close()
    return {"seed_type": "local", "path": out}


def check(path: Path, tmp: str) -> dict:
    loaded = load(path)
    seed = loaded.spec.seed_config
    seed_source = None
    if seed is not None and seed.source.seed_type == "nmp":
        return {"status": "skip", "detail": "nmp fileset seeds need the NeMo plugin, not in data-designer-config"}
    if seed is not None and seed.source.seed_type == "query":
        seed_source = materialise_query_seed(loaded, tmp)
    config = dd_config(loaded.spec, seed_source=seed_source)
    os.chdir(loaded.base_dir)  # the official library resolves relative seed paths against the cwd
    official = dd.DataDesignerConfig.model_validate(config)
    dumped = official.model_dump(mode="json")
    if dumped != config:
        return {"status": "fail", "detail": "official dump differs: " + json.dumps([dumped, config])[:2000]}
    wrapped = BuilderConfig.model_validate({"data_designer": config, "library_version": "0.9.6"})
    if wrapped.data_designer.model_dump(mode="json") != config:
        return {"status": "fail", "detail": "BuilderConfig dump differs"}
    return {"status": "ok", "detail": ""}


def main() -> None:
    cwd = os.getcwd()
    for arg in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                result = check(Path(arg).resolve(), tmp)
            except Exception as exc:  # report, do not stop: one line per spec
                result = {"status": "fail", "detail": f"{type(exc).__name__}: {exc}"[:2000]}
            finally:
                os.chdir(cwd)
        print(json.dumps({"spec": arg, **result}), flush=True)


if __name__ == "__main__":
    main()
