"""Every example spec is valid, portable to the modes it claims, and builds for both targets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ddc.api import build, load, validate
from ddc.cli import main

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.ddc.yaml"))
IDS = [p.name for p in EXAMPLES]
#: Modes each example is written for (`ddc validate --for`); a query seed needs --upload-seeds to submit.
MODES = {
    "people.ddc.yaml": ("run", "submit"),
    "reviews-seed-join.ddc.yaml": ("run",),
    "llm-reviews.ddc.yaml": ("run", "submit"),
    "submit-ready.ddc.yaml": ("submit",),
    "mcp-tools.ddc.yaml": ("run",),
}


def test_the_four_kinds_of_example_exist() -> None:
    assert set(MODES) <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/ddc.schema.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_is_valid_for_its_modes(path: Path) -> None:
    report = validate(str(path), modes=MODES.get(path.name, ()))  # type: ignore[arg-type]
    assert report.ok, [d.format() for d in report.diagnostics]


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_cli_validate_exits_0(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(path)])
    assert exit_info.value.code == 0
    assert f"{path}: valid" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["ddc", "data-designer"])
@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_builds_to_a_python_module(path: Path, target: str, tmp_path: Path) -> None:
    out = tmp_path / "module.py"
    main(["build", str(path), "--target", target, "-o", str(out)])
    tree = ast.parse(out.read_text(encoding="utf-8"))
    assert any(isinstance(n, ast.FunctionDef) and n.name == "load_config_builder" for n in tree.body)


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_ddc_module_of_example_reloads_with_the_same_fingerprint(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "module.py"
    result = build(path, out=out)
    assert validate(str(out)).fingerprint == result.fingerprint == validate(str(path)).fingerprint
    assert load(out).spec.num_records == load(path).spec.num_records


def test_query_seed_example_sees_columns_of_both_files() -> None:
    from ddc.spec.seed_files import describe_seed, seed_relation

    loaded = load(Path(EXAMPLES[0]).parent / "reviews-seed-join.ddc.yaml")
    columns = [name for name, _ in describe_seed(seed_relation(loaded.spec.seed_config.source, loaded.base_dir))]
    assert columns == ["review_id", "rating", "review", "product_id", "product_name", "category", "price"]


def test_llm_example_keeps_the_api_key_as_an_environment_variable_name(tmp_path: Path) -> None:
    path = Path(EXAMPLES[0]).parent / "llm-reviews.ddc.yaml"
    text = build(path, out=tmp_path / "m.py").text
    assert "'api_key': 'LOCAL_LLM_API_KEY'" in text or '"api_key": "LOCAL_LLM_API_KEY"' in text
