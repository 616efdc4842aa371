"""`ddc.api`: one entry point per task, accepting every spec form; validate never raises for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

import ddc
from ddc.api import build, load, validate
from ddc.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ROOT / "examples" / "people.ddc.yaml"
TEXT = "columns:\n  - {name: x, column_type: sampler, sampler_type: uuid}\n"


def test_validate_takes_yaml_text() -> None:
    report = validate(TEXT)
    assert (report.ok, report.source) == (True, "<string>")


def test_validate_reports_a_syntax_error_instead_of_raising() -> None:
    report = validate("columns: [\n")
    assert not report.ok
    assert report.diagnostics[0].code == "syntax"


def test_validate_reports_a_missing_file() -> None:
    report = validate("does/not/exist.yaml")
    assert not report.ok
    assert "no such file" in report.diagnostics[0].message


def test_validate_lists_every_problem_in_source_order() -> None:
    text = TEXT + (
        "  - {name: a, column_type: expression, expr: '{{ nope }}'}\n"
        "  - {name: b, column_type: llm-text, model_alias: missing, prompt: '{{ x }}'}\n"
    )
    report = validate(text)
    assert [(d.span.line, d.code) for d in report.diagnostics] == [(3, "unknown-reference"), (4, "unknown-model")]
    assert report.fingerprint is None


def test_report_json_shape() -> None:
    payload = validate(str(PEOPLE)).to_json()
    assert {"source", "ok", "fingerprint", "diagnostics"} <= set(payload)


def test_load_takes_a_loaded_spec_unchanged() -> None:
    loaded = load(PEOPLE)
    assert load(loaded) is loaded


def test_load_takes_a_compiled_module(tmp_path: Path) -> None:
    module = tmp_path / "people.py"
    build(PEOPLE, out=module)
    assert load(module).spec == load(PEOPLE).spec


def test_load_refuses_a_module_without_load_config_builder(tmp_path: Path) -> None:
    module = tmp_path / "plain.py"
    module.write_text("X = 1\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"does not define load_config_builder\(\)"):
        load(module)


def test_load_reports_a_module_syntax_error_with_its_line(tmp_path: Path) -> None:
    module = tmp_path / "broken.py"
    module.write_text("X = 1\ndef load_config_builder(:\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"broken\.py:2:\d+: Python syntax error"):
        load(module)


def test_load_of_a_missing_module_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load(tmp_path / "missing.py")


def test_build_with_check_never_writes(tmp_path: Path) -> None:
    out = tmp_path / "people.py"
    result = build(PEOPLE, out=out, check=True)
    assert result.changed
    assert not out.exists()


def test_build_reports_no_change_for_a_current_module(tmp_path: Path) -> None:
    out = tmp_path / "people.py"
    first = build(PEOPLE, out=out)
    second = build(PEOPLE, out=out, check=True)
    assert (first.changed, second.changed) == (True, False)
    assert first.fingerprint == second.fingerprint


def test_build_of_an_invalid_spec_raises_spec_error() -> None:
    with pytest.raises(SpecError):
        build(TEXT + "  - {name: y, column_type: expression, expr: '{{ z }}'}\n")


def test_package_exports_the_api_lazily() -> None:
    assert ddc.build is build
    assert ddc.validate is validate
    assert ddc.ConfigBuilder.__name__ == "ConfigBuilder"
    with pytest.raises(AttributeError):
        _ = ddc.no_such_name


def test_a_module_whose_imports_fail_is_a_spec_error_with_a_hint(tmp_path: Path) -> None:
    module = tmp_path / "broken.py"
    module.write_text("import no_such_package_for_ddc\n\ndef load_config_builder():\n    return None\n")
    with pytest.raises(SpecError, match="cannot import") as info:
        load(module)
    assert str(info.value) == (
        f"{module}:1: cannot import: No module named 'no_such_package_for_ddc' (pip install no_such_package_for_ddc)"
    )


SMALL = """\
num_records: 5
random_seed: 2
columns:
  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}, convert_to: int}
  - {name: doubled, column_type: expression, expr: "{{ n * 2 }}", dtype: int}
"""


def test_run_takes_yaml_text() -> None:
    table = ddc.preview(SMALL, 5).table
    assert table.column("doubled").to_pylist() == [2 * v for v in table.column("n").to_pylist()]


def test_run_takes_a_config_builder_and_gives_the_same_rows_as_the_spec() -> None:
    builder = ddc.ConfigBuilder(num_records=5, random_seed=2)
    builder.add_column(name="n", column_type="sampler", sampler_type="uniform", params={"low": 0, "high": 10},
                       convert_to="int")  # fmt: skip
    builder.add_column(name="doubled", column_type="expression", expr="{{ n * 2 }}", dtype="int")
    assert ddc.preview(builder, 5).table.equals(ddc.preview(SMALL, 5).table)


def test_submit_dry_run_takes_a_config_builder() -> None:
    body = ddc.submit(ddc.ConfigBuilder.from_config(SMALL), dry_run=True).body
    assert body["spec"]["num_records"] == 5
    assert [c["name"] for c in body["spec"]["config"]["columns"]] == ["n", "doubled"]
