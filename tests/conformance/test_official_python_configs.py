"""Official Python configs through ddc, in environments with data-designer-config 0.9.6 and 0.9.7: a
``load_config_builder()`` module, the official builder object, the ``--target data-designer`` module
built from it, and a builder with a ``DataFrameSeedSource`` -- validate, build, run and submit each."""

from __future__ import annotations

from typing import Any

import pytest

CASES = ["module", "object", "data-designer-target", "dataframe-seed"]
STEPS = ["validate", "build", "run", "submit"]


@pytest.fixture(scope="module")
def outcomes(run_script: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    scratch = tmp_path_factory.mktemp("official-python")
    return {(r["case"], r["step"]): r for r in run_script("official_python_configs.py", str(scratch))}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("case", CASES)
def test_an_official_python_config_goes_through_every_command(
    case: str, step: str, outcomes: dict[tuple[str, str], dict[str, Any]]
) -> None:
    if case == "dataframe-seed" and step == "build":
        pytest.skip("a DataFrame lives in memory: there is no module to build (tested to refuse elsewhere)")
    result = outcomes[(case, step)]
    assert result["status"] == "ok", result["detail"]
