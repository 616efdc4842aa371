"""Conformance with the official data-designer-config 0.9.6 (run in its own interpreter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "examples").glob("*.ddc.yaml")) + sorted((ROOT / "tests" / "compile" / "valid").glob("*.yaml"))
IDS = [p.name for p in SPECS]


@pytest.fixture(scope="module")
def accepted(run_script: Any) -> dict[str, dict[str, Any]]:
    return {r["spec"]: r for r in run_script("official_accepts_ddc.py", *map(str, SPECS))}


@pytest.fixture(scope="module")
def target_builds(run_script: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("dd-target")
    return {r["spec"]: r for r in run_script("dd_target_builds.py", str(out), *map(str, SPECS))}


@pytest.fixture(scope="module")
def official_files(run_script: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return {r["file"]: r for r in run_script("ddc_accepts_official.py", str(tmp_path_factory.mktemp("official")))}


def _outcome(result: dict[str, Any]) -> None:
    if result["status"] == "skip":
        pytest.skip(result["detail"])
    assert result["status"] == "ok", result["detail"]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_canonical_config_validates_in_the_official_models(spec: Path, accepted: dict[str, Any]) -> None:
    """(a) dd_config validates in DataDesignerConfig and BuilderConfig and dumps back unchanged."""
    _outcome(accepted[str(spec)])


@pytest.mark.parametrize("name", ["official.yaml", "official.json", "legacy.json", "bare.json"])
def test_configs_written_by_the_official_builder_load_unchanged(name: str, official_files: dict[str, Any]) -> None:
    """(b) write_config output (and its legacy and bare variants) loads in ddc to the same config."""
    _outcome(official_files[name])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_data_designer_target_builds_the_canonical_config(spec: Path, target_builds: dict[str, Any]) -> None:
    """(c) the data-designer target module's build() equals ddc's dd_config."""
    _outcome(target_builds[str(spec)])
