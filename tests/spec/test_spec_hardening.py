"""Issue 12 at load time: hostile YAML, names, parameter domains, spec paths and combined reports."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ddc.api import validate
from ddc.errors import SpecError
from ddc.spec.load import MAX_SPEC_BYTES, load_spec
from ddc.templating import RenderError, condition_problem, render_template

SAMPLER = "{name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}"
BOMB = "\n".join(
    [f"columns: [{SAMPLER}]", 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9) + "]" for p, k in zip("abcdefgh", "bcdefghi", strict=True)]
)


def error_of(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(text)
    return str(info.value)


def test_a_billion_laughs_is_refused_at_the_alias_that_crosses_the_limit_in_milliseconds() -> None:
    start = time.perf_counter()
    message = error_of(BOMB)
    assert message.startswith("<string>:7:") and "alias bomb" in message
    assert time.perf_counter() - start < 1


def test_an_alias_inside_its_own_anchor_is_refused_at_its_line() -> None:
    assert error_of("columns: []\na: &a [*a]\n").startswith("<string>:2:8: YAML alias *a refers to its own anchor")


@pytest.mark.parametrize(
    "text", ["columns: " + "[" * 1000 + "]" * 1000, "columns: " + "{a: " * 1000 + "1" + "}" * 1000]
)
def test_deep_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    assert "nested more than 100 levels deep" in error_of(text)


def test_ordinary_anchors_and_aliases_still_load() -> None:
    loaded = load_spec(
        "columns:\n"
        "  - {name: x, column_type: sampler, sampler_type: uniform, params: &p {low: 0, high: 1}}\n"
        "  - {name: y, column_type: sampler, sampler_type: uniform, params: *p}\n"
    )
    assert loaded.spec.columns[1].params.high == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["../x", "/abs", "nonexist/../../victim", "..", "a\\\\b"])
def test_a_name_must_be_one_path_component(name: str) -> None:
    assert error_of(f'name: "{name}"\ncolumns: [{SAMPLER}]\n').startswith("<string>:1:7: name: ")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x\\u0085y", "must not contain control or invisible formatting characters"),
        ("invoice\\u202egpj.exe", "must not contain control or invisible formatting characters"),
        ("x\\u200by", "must not contain control or invisible formatting characters"),
        (" spaced ", "must not start or end with spaces"),
        ("~", "must not be '~'"),
    ],
    ids=["c1-control", "bidi-override", "zero-width-space", "surrounding-spaces", "tilde"],
)
def test_a_name_must_read_as_it_will_be_shown(name: str, problem: str) -> None:
    assert problem in error_of(f'name: "{name}"\ncolumns: [{SAMPLER}]\n')


def test_a_spec_may_ask_for_at_most_a_trillion_records() -> None:
    message = error_of(f"num_records: 1000000000001\ncolumns: [{SAMPLER}]\n")
    assert message.startswith("<string>:1:14: num_records: must be at most 1000000000000"), message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{mean: 0, stddev: -1}", "stddev: must be at least 0"),
        ("{mean: 1.0e+300, stddev: 1}", "mean: must be at most 1e+100"),
        ("{mean: .nan, stddev: 1}", "mean: nan is not a finite number"),
    ],
)
def test_sampler_parameters_outside_their_domain_are_refused_at_their_line(params: str, message: str) -> None:
    text = f"columns:\n  - name: x\n    column_type: sampler\n    sampler_type: gaussian\n    params: {params}\n"
    error = error_of(text)
    assert error.startswith("<string>:5:") and message in error


def test_a_spec_path_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        load_spec(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        load_spec(Path("/dev/zero"))


def test_a_spec_file_larger_than_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SPEC_BYTES + 1)
    with pytest.raises(SpecError, match="more than a spec may hold"):
        load_spec(huge)


@pytest.mark.parametrize("file_name", ["odd\nname.yaml", "key: value.yaml", "a: b\nc"])
def test_an_existing_file_is_read_as_a_file_whatever_its_name(
    tmp_path: Path, file_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(file_name).write_text(f"name: from-file\ncolumns: [{SAMPLER}]\n", encoding="utf-8")
    assert load_spec(file_name).spec.name == "from-file"


def test_schema_errors_and_reference_errors_are_reported_in_one_pass() -> None:
    report = validate(
        "columns:\n"
        "  - {name: a, column_type: sampler, sampler_type: uniform, params: {low: 5, high: 1}}\n"
        "  - {name: b, column_type: expression, expr: '{{ a }} {{ nope }}'}\n"
    )
    found = [(d.span.line, d.code) for d in report.diagnostics if d.span is not None]
    assert found == [(2, "invalid"), (3, "unknown-reference")]


@pytest.mark.parametrize(
    ("condition", "problem"),
    [("x / 0 > 1", "division by zero"), ("1 // 0", "division by zero"), ("[][2]", "UndefinedError"), ("x > 1", "")],
)
def test_conditions_that_cannot_evaluate_are_known_statically(condition: str, problem: str) -> None:
    assert (problem in condition_problem(condition)) if problem else condition_problem(condition) == ""


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 1000000000 }}",
        "{{ [0] * 1000000000 }}",
        "{{ 2 ** 1000000000 }}",
        "{{ '%1000000000d' % 1 }}",
        "{{ '{:>1000000000}'.format(1) }}",
        "{{ '%*d' % (1000000000, 1) }}",
        "{{ '{0:{1}}'.format(1, '1000000000') }}",
        "{{ 'x'.ljust(1000000000) }}",
        "{{ ('x' * 5000000) | replace('x', 'xxx') }}",
        "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
    ],
)
def test_a_template_cannot_allocate_past_the_sandbox_limit(template: str) -> None:
    start = time.perf_counter()
    with pytest.raises(RenderError):
        render_template(template, {})
    assert time.perf_counter() - start < 2


def test_long_numbers_in_format_text_are_not_widths() -> None:
    text = render_template("{{ '%s of 123456789' % 1 }} {{ '{} of 123456789'.format(2) }}", {})
    assert text == "1 of 123456789 2 of 123456789"


def test_bounded_operators_still_work_on_ordinary_values() -> None:
    assert (
        render_template("{{ 'ab' * 2 }} {{ 2 ** 10 }} {{ '%03d' % 7 }} {{ 'a'|replace('a', 'bc') }}", {})
        == "abab 1024 007 bc"
    )


def test_crlf_in_template_text_and_literals_is_kept() -> None:
    assert render_template('a\r\n{{ x }}\r\n{{ "q\r\nz" }}', {"x": 1}) == "a\r\n1\r\nq\r\nz"


def test_validate_names_a_file_whose_name_holds_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "bad\nname.yaml"
    path.write_text("columns: 3\n", encoding="utf-8")
    report = validate(str(path))
    assert report.source == str(path)
    assert [d.span.file for d in report.diagnostics if d.span is not None] == [str(path)]


@pytest.mark.parametrize(
    "template",
    [
        "{{ " + "(" * 80 + "a" + ")" * 80 + " }}",
        "{{ " + "[" * 80 + "a" + "]" * 80 + " }}",
        "{{ " + " + ".join(["a"] * 3000) + " }}",
        "{% if a %}" * 3000 + "x" + "{% endif %}" * 3000,
    ],
    ids=["parentheses", "brackets", "a-long-sum", "nested-ifs"],
)
def test_a_template_nested_past_the_stack_is_an_error_at_its_line(template: str) -> None:
    expression = f"{{name: b, column_type: expression, expr: '{template}'}}"
    message = error_of(f"columns:\n  - {SAMPLER}\n  - {expression}\n")
    assert message.startswith("<string>:3:46: columns[1].expr: template nested too deeply"), message


def test_a_filter_argument_jinja_asserts_on_fails_the_row_not_the_process() -> None:
    with pytest.raises(RenderError, match="expected length >= 3, got -1"):
        render_template('{{ "x" | truncate(-1) }}', {})


@pytest.mark.parametrize("field", ["column_type", "sampler_type"])
def test_a_huge_unknown_value_is_shortened_in_its_error(field: str) -> None:
    column = {"column_type": "sampler", "sampler_type": "uniform"} | {field: "x" * 2_000_000}
    text = f"columns:\n  - {{name: a, column_type: {column['column_type']}, sampler_type: {column['sampler_type']}}}\n"
    message = error_of(text)
    assert len(message) < 300 and "xxx..." in message, message[:300]


def test_a_bad_convert_to_is_reported_at_convert_to_not_at_the_column() -> None:
    text = (
        "columns:\n  - name: x\n    column_type: sampler\n    sampler_type: uniform\n"
        "    params: {low: 1, high: 2}\n    convert_to: banana\n"
    )
    assert error_of(text).startswith("<string>:6:17: columns[0].convert_to: convert_to must be one of int, float, str")


@pytest.mark.parametrize("name", ["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "team\U0001f468\u200d\U0001f4bb"])
def test_a_name_with_joiners_persian_or_emoji_is_accepted(name: str) -> None:
    assert load_spec(f'name: "{name}"\ncolumns: [{SAMPLER}]\n').spec.name == name
