"""Loading specs: both document forms, JSON, encodings, positions, YAML features."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.errors import SpecError
from ddc.spec.load import load_spec

COLUMN = "  - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
BARE = "num_records: 5\ncolumns:\n" + COLUMN


def _wrapped(extra: str = "") -> str:
    return extra + "data_designer:\n  columns:\n  " + COLUMN + "library_version: 0.9.6\n"


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(text)
    return info.value


def test_wrapped_and_bare_forms_give_the_same_spec() -> None:
    wrapped = load_spec(_wrapped("num_records: 5\n"))
    assert wrapped.spec == load_spec(BARE).spec
    assert wrapped.library_version == "0.9.6"
    assert load_spec(BARE).library_version is None


def test_an_extension_inside_and_beside_data_designer_is_refused() -> None:
    error = _error(_wrapped("name: a\n").replace("  columns:", "  name: b\n  columns:"))
    assert error.diagnostics[0].code == "duplicate-key"
    assert error.diagnostics[0].span.line == 1


def test_an_official_field_beside_data_designer_is_an_unknown_key() -> None:
    error = _error("columns: []\n" + _wrapped())
    assert [(d.code, d.span.line) for d in error.diagnostics] == [("unknown-key", 1)]


def test_positions_inside_the_wrapped_form_point_into_data_designer() -> None:
    text = _wrapped().replace("high: 1}", "high: 1}, bogus: 2")
    assert [(d.span.line, d.path) for d in _error(text).diagnostics] == [(3, "columns[0].bogus")]


def test_json_files_load(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"columns": [{"name": "x", "column_type": "sampler", "sampler_type": "uuid"}]}', encoding="utf-8")
    assert load_spec(path).spec.columns[0].name == "x"


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BARE.encode())
    assert load_spec(path).spec.num_records == 5


def test_invalid_utf8_is_a_positioned_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BARE.replace("columns", "colümns").encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    diag = info.value.diagnostics[0]
    assert (diag.code, diag.span.line, diag.span.column) == ("syntax", 1, 1)
    assert "UTF-8" in diag.message


def test_unquoted_dates_stay_strings() -> None:
    text = (
        "columns:\n  - {name: d, column_type: sampler, sampler_type: datetime,\n"
        "     params: {start: 2020-01-01, end: 2021-01-01}}\n"
    )
    assert load_spec(text).spec.columns[0].params.start == "2020-01-01"


def test_anchors_and_merge_keys_work() -> None:
    text = (
        "columns:\n"
        "  - &base {name: a, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
        "  - {<<: *base, name: b}\n"
    )
    assert [c.name for c in load_spec(text).spec.columns] == ["a", "b"]


def test_sampler_params_type_is_filled_in() -> None:
    column = load_spec(BARE).spec.columns[0]
    assert column.params.sampler_type == "uniform"


def test_deep_errors_name_the_json_path_and_the_value_position() -> None:
    text = (
        BARE
        + "  - name: y\n    column_type: sampler\n    sampler_type: uniform\n"
        + "    params:\n      low: high\n      high: 1\n"
    )
    diag = _error(text).diagnostics[0]
    assert (diag.path, diag.span.line, diag.span.column, diag.code) == ("columns[1].params.low", 8, 12, "type")


def test_unknown_sampler_param_suggests_the_right_one() -> None:
    diag = _error(BARE.replace("high: 1", "hihg: 1")).diagnostics
    assert any(d.hint == "did you mean 'high'?" for d in diag)


def test_duplicate_keys_name_the_first_definition() -> None:
    diag = _error(BARE + "num_records: 6\n").diagnostics[0]
    assert diag.message == "duplicate key 'num_records' (first defined at line 1)"
    assert (diag.span.line, diag.span.column) == (4, 1)


def test_semantic_checks_run_unless_disabled() -> None:
    text = BARE + "  - {name: y, column_type: expression, expr: '{{ nope }}'}\n"
    assert _error(text).diagnostics[0].code == "unknown-reference"
    assert load_spec(text, check=False).spec.columns[1].name == "y"


def test_base_dir_is_the_spec_directory(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "spec.yaml"
    path.parent.mkdir()
    path.write_text(BARE, encoding="utf-8")
    assert load_spec(str(path)).base_dir == path.parent.resolve()


def test_spec_models_are_frozen() -> None:
    spec = load_spec(BARE).spec
    with pytest.raises(Exception, match="frozen"):
        spec.num_records = 7  # type: ignore[misc]
