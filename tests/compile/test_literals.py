"""`ddc.compile.literals`: every value is written as a literal that evaluates back to itself."""

from __future__ import annotations

import ast
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddc.compile.literals import LINE_LENGTH, literal, reduce_value, string_literal
from tests.compile.strategies import hostile_text

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.one_of(hostile_text, st.integers()), children, max_size=6),
    ),
    max_leaves=40,
)


def _same(a: Any, b: Any) -> bool:
    """Equality that also compares types (True is not 1, 1.0 is not 1) and key order."""
    return repr(a) == repr(b)


@given(json_like, st.integers(min_value=0, max_value=4))
def test_literal_evaluates_back_to_the_value(value: Any, indent: int) -> None:
    text = literal(value, indent)
    assert _same(ast.literal_eval(text.lstrip()), value)


@given(hostile_text)
def test_string_literal_is_a_single_constant(text: str) -> None:
    source = string_literal(text)
    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Constant)
    assert node.value == text
    assert "\n" not in source


def _atom(value: Any) -> bool:
    return not isinstance(value, (list, dict)) or not value


def _is_single_scalar(line: str) -> bool:
    """`"scalar",`, `key: "scalar",` or `key: [`: something no layout can shorten."""
    candidate = line.strip().removeprefix("x=").rstrip(",")
    if candidate.endswith(("[", "{", "(")):  # `key: [` opening a collection under a long key
        candidate = candidate[:-1].rstrip().removesuffix(":")
    for wrapped in (candidate, "{" + candidate + "}"):
        try:
            value = ast.literal_eval(wrapped)
        except (SyntaxError, ValueError):
            continue
        if _atom(value) or (isinstance(value, dict) and len(value) == 1 and _atom(next(iter(value.values())))):
            return True
    return False


@given(json_like)
def test_literal_lines_fit_unless_a_single_scalar_is_longer(value: Any) -> None:
    for line in literal(value, 1, "x=", ",").splitlines():
        assert len(line) <= LINE_LENGTH or _is_single_scalar(line), line


def test_tuples_become_lists() -> None:
    assert reduce_value({"a": (1, (2, 3))}) == {"a": [1, [2, 3]]}


@pytest.mark.parametrize("bad", [object(), {1.5: "x"}, {(1,): "x"}, {True: "x"}, b"bytes"])
def test_values_outside_the_json_like_types_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError):
        literal(bad)


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinities_are_written_as_float_calls(value: float) -> None:
    assert eval(literal(value)) == value  # the only non-literal form the emitter writes


def test_nan_is_written_as_a_float_call() -> None:
    assert math.isnan(eval(literal(math.nan)))


def test_multi_line_strings_become_one_source_line_per_text_line() -> None:
    text = "first line of a long prompt that goes on\nsecond line\nthird line with 'quotes' and \"doubles\"\n"
    out = literal(text, 1, "prompt=", ",")
    assert out.splitlines()[0] == "    prompt=("
    assert len(out.splitlines()) == 5
    assert ast.literal_eval(out.strip().removeprefix("prompt=").rstrip(",")) == text
