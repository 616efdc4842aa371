"""Submitted payloads validate in the official ``data-designer-config`` models of each target version.

The official package lives in its own environments (its pins must not shape ddc's): the interpreter is
taken from ``DDC_CONFORMANCE_PYTHON`` (0.9.6) / ``DDC_DD097_PYTHON`` (0.9.7) / ``DDC_DD091_PYTHON`` (0.9.1),
else the development venvs,
and ``validate_with_official.py`` runs there on every payload. Where the official package is importable
in the test interpreter itself, payloads are validated in process too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ddc.api import load
from ddc.submission.jobs import SubmitOptions, submit_spec
from tests.submission.conftest import JOIN_SPEC, SIMPLE_SPEC, write_join_seed_files, write_spec

pytestmark = pytest.mark.conformance

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("validate_with_official.py")
INTERPRETERS = {
    "0.9.6": ("DDC_CONFORMANCE_PYTHON", "/work/ddvenv/bin/python"),
    "0.9.7": ("DDC_DD097_PYTHON", "/work/dd097venv/bin/python"),
    "0.9.1": ("DDC_DD091_PYTHON", "/work/dd091venv/bin/python"),
}

EXTRA_SPECS = {
    "simple": SIMPLE_SPEC,
    "join-seed": JOIN_SPEC,
    "hf-seed": """\
        seed_config:
          source: {seed_type: hf, path: datasets/u/d/data/*.parquet, token: default/hf-token}
          sampling_strategy: shuffle
          selection_strategy: {start: 0, end: 9}
        model_configs:
          - alias: judge
            model: nvidia/nemotron-3-nano-30b-a3b
            provider: default/nvidia-build
            inference_parameters:
              temperature: {distribution_type: uniform, params: {low: 0.2, high: 0.9}}
              max_tokens: 256
        columns:
          - {name: person, column_type: sampler, sampler_type: person, params: {locale: en_US}}
          - name: verdict
            column_type: llm-judge
            prompt: "Judge {{ text }}"
            model_alias: judge
            scores:
              - {name: quality, description: how good, options: {1: bad, 5: good}}
        profilers:
          - {model_alias: judge}
        """,
    "fileset-directory": """\
        seed_config:
          source: {seed_type: file_contents, path: default/docs#corpus, file_pattern: "*.md"}
        columns:
          - {name: length, column_type: expression, expr: "{{ content | length }}"}
        """,
}


def official_python(version: str) -> str | None:
    env_name, fallback = INTERPRETERS[version]
    candidate = os.environ.get(env_name) or fallback
    return candidate if Path(candidate).is_file() else None


def spec_paths(tmp_path: Path) -> dict[str, Path]:
    # MCP tool use is local-only (submit refuses tool_configs), so examples using it are not payloads
    paths = {
        p.stem: p
        for p in sorted((REPO / "examples").rglob("*.yaml"))
        if "tool_configs:" not in p.read_text(encoding="utf-8")
    }
    for name, text in EXTRA_SPECS.items():
        folder = tmp_path / name
        folder.mkdir()
        if text is JOIN_SPEC:
            write_join_seed_files(folder)
        paths[name] = write_spec(folder, text)
    return paths


def payloads(tmp_path: Path, version: str) -> dict[str, dict[str, Any]]:
    """What ``ddc submit SPEC --dry-run --upload-seeds --dd-version V`` prints, for every example and fixture."""
    options = SubmitOptions(dd_version=version, dry_run=True, upload_seeds=True)
    return {name: submit_spec(load(path), options).body for name, path in spec_paths(tmp_path).items()}


def validate_with(python: str, bodies: list[dict[str, Any]], version: str) -> list[list[str]]:
    """Problems per body, from ``validate_with_official.py`` run by ``python`` (which must hold ``version``)."""
    proc = subprocess.run([python, str(SCRIPT)], input=json.dumps(bodies), capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert proc.stdout, proc.stderr
    report = json.loads(proc.stdout)
    assert report["version"] == version
    return report["results"]


@pytest.mark.parametrize("version", sorted(INTERPRETERS))
def test_payloads_validate_with_the_official_models(tmp_path: Path, version: str) -> None:
    python = official_python(version)
    if python is None:
        pytest.skip(f"no interpreter with data-designer-config {version} (set {INTERPRETERS[version][0]})")
    bodies = payloads(tmp_path, version)
    results = validate_with(python, list(bodies.values()), version)
    failures = {name: problems for name, problems in zip(bodies, results, strict=True) if problems}
    assert failures == {}


def test_payloads_validate_in_process(tmp_path: Path) -> None:
    pytest.importorskip("data_designer.config", reason="data-designer-config is not installed in this interpreter")
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from validate_with_official import problems_of  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(SCRIPT.parent))
    failures = {name: problems_of(body) for name, body in payloads(tmp_path, "0.9.6").items()}
    assert {k: v for k, v in failures.items() if v} == {}


NEWER_LOCALE_SPEC = """\
    columns:
      - {name: person, column_type: sampler, sampler_type: person, params: {locale: en_GB}}
    """


def test_the_version_table_matches_the_official_models(tmp_path: Path) -> None:
    """A value the table says 0.9.6 added validates in 0.9.6 and is refused by 0.9.1 itself."""
    new, old = official_python("0.9.6"), official_python("0.9.1")
    if new is None or old is None:
        pytest.skip("needs interpreters with data-designer-config 0.9.6 and 0.9.1")
    spec = write_spec(tmp_path, NEWER_LOCALE_SPEC)
    body = submit_spec(load(spec), SubmitOptions(dd_version="0.9.6", dry_run=True)).body
    assert validate_with(new, [body], "0.9.6") == [[]]
    [problems] = validate_with(old, [body], "0.9.1")
    assert any("locale" in p or "Person sampling" in p for p in problems)
