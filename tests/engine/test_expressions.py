from __future__ import annotations

import pytest
from conftest import column

from ddc.errors import RunError

HEAD = """
num_records: 20
random_seed: 1
columns:
  - {name: n, column_type: sampler, sampler_type: category, params: {values: ['1', '2', 'x']}}
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 18, high: 60}, convert_to: int}
"""


def test_expression_renders_jinja_over_the_row(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: 'age={{ age }}'}")
    assert column(result, "e") == [f"age={a}" for a in column(result, "age")]


def test_int_dtype_casts_through_float(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ age / 2 }}', dtype: int}")
    assert column(result, "e") == [int(a / 2) for a in column(result, "age")]


def test_bool_dtype_of_a_comparison(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ age > 35 }}', dtype: bool}")
    assert column(result, "e") == [a > 35 for a in column(result, "age")]


def test_float_dtype(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ age }}.5', dtype: float}")
    assert column(result, "e") == [a + 0.5 for a in column(result, "age")]


def test_json_strings_are_decoded_before_rendering(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ n is number }}'}")
    assert column(result, "e") == [str(v != "x") for v in column(result, "n")]


def test_rows_whose_cast_fails_are_dropped_with_a_warning(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ n }}', dtype: int}")
    assert any("dropped" in w and "'e'" in w for w in result.warnings)


def test_dropped_rows_leave_fewer_records(generate) -> None:
    result = generate(HEAD + "  - {name: e, column_type: expression, expr: '{{ n }}', dtype: int}")
    assert result.table.num_rows == column(result, "n").count("1") + column(result, "n").count("2")


def test_all_rows_failing_names_column_row_template_and_variable(generate) -> None:
    text = HEAD + "  - {name: e, column_type: expression, expr: '{{ age.missing }}'}"
    expected = r"column 'e', row 0: undefined variable: .*'missing'.*template: '\{\{ age\.missing \}\}'"
    with pytest.raises(RunError, match=expected):
        generate(text)


def test_blank_render_drops_the_row(generate) -> None:
    result = generate(HEAD + '  - {name: e, column_type: expression, expr: "{% if age > 30 %}old{% endif %}"}')
    assert set(column(result, "e")) == {"old"}


def test_a_branch_that_prints_only_white_space_is_blank_too(generate) -> None:
    result = generate(
        HEAD + '  - {name: e, column_type: expression, expr: "{% if age > 30 %}old{% else %} \t{% endif %}"}'
    )
    assert set(column(result, "e")) == {"old"}


def test_expression_can_read_another_expression(generate) -> None:
    result = generate(
        HEAD
        + "  - {name: a, column_type: expression, expr: '{{ age + 1 }}', dtype: int}\n"
        + "  - {name: b, column_type: expression, expr: '{{ a * 2 }}', dtype: int}"
    )
    assert column(result, "b") == [(a + 1) * 2 for a in column(result, "age")]


def test_skip_when_writes_the_skip_value(generate) -> None:
    result = generate(
        HEAD + "  - {name: e, column_type: expression, expr: 'x', skip: {when: '{{ age > 30 }}', value: SKIPPED}}"
    )
    assert column(result, "e") == ["SKIPPED" if a > 30 else "x" for a in column(result, "age")]


def test_skip_when_may_be_a_jinja_statement(generate) -> None:
    result = generate(
        HEAD
        + "  - {name: e, column_type: expression, expr: 'x',"
        + " skip: {when: '{% if age > 30 %}true{% endif %}', value: SKIPPED}}"
    )
    assert column(result, "e") == ["SKIPPED" if a > 30 else "x" for a in column(result, "age")]


@pytest.mark.parametrize(
    ("rendered", "skipped"),
    [("0.00", False), ("[ ]", False), ("-0", False), ("None", False), ("false", True), (" False", True)],
)
def test_skip_when_output_is_read_as_a_python_literal_as_the_official_does(
    generate, rendered: str, skipped: bool
) -> None:
    """The official renders skip.when with Jinja's native types: text that is a Python literal counts by
    that literal's truth, any other text (``false``, `` False``) by not being empty."""
    result = generate(
        HEAD
        + "  - {name: e, column_type: expression, expr: 'x',"
        + f" skip: {{when: '{{% if age %}}{rendered}{{% endif %}}', value: SKIPPED}}}}"
    )
    assert set(column(result, "e")) == {"SKIPPED" if skipped else "x"}


def test_skip_propagates_to_dependent_columns(generate) -> None:
    result = generate(
        HEAD
        + "  - {name: e, column_type: expression, expr: 'x', skip: {when: '{{ age > 30 }}'}}\n"
        + "  - {name: f, column_type: expression, expr: '{{ e }}!'}"
    )
    assert column(result, "f") == [None if a > 30 else "x!" for a in column(result, "age")]
