"""The vectorised fast path renders exactly what Jinja renders (property test), and is really used."""

from __future__ import annotations

import math

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddc.engine.expressions import TemplateRenderer
from ddc.engine.fastpath import compile_fast

TEXT = st.text(alphabet=st.sampled_from(list("ab Z-_.:1 \t\x1c\x0bé\"[]{}()<>'ßtrue0")), max_size=6)
NAMES = ["s1", "s2", "i1", "i2", "f1", "b1"]
#: Every filter the fast path compiles, with each argument form it accepts.
FILTERS = ["upper", "lower", "trim", "capitalize", "title", "length", "string", "round", "round(1)",
           "round(2, 'common')", "round(precision=3)"]  # fmt: skip


def _atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NAMES),
        st.integers(-5, 5).map(str),
        st.sampled_from(["0.5", "2.0", "1e-05", "3.25"]),
        TEXT.filter(lambda t: "'" not in t and "\\" not in t).map(lambda t: f"'{t}'"),
    )


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, st.sampled_from(["~", "+", "-", "*", "/", "==", "!=", "<", ">=", "and", "or"]), children
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda e: f"(-{e})"),
        children.map(lambda e: f"(not {e})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(children, st.sampled_from(FILTERS)).map(lambda t: f"({t[0]}|{t[1]})"),
    )


EXPRESSIONS = st.recursive(_atoms(), _expr, max_leaves=5)
LITERAL = st.text(alphabet=st.sampled_from(list("ab -:\n")), max_size=4)
PART = st.one_of(
    LITERAL,
    EXPRESSIONS.map(lambda e: "{{ " + e + " }}"),
    st.tuples(EXPRESSIONS, LITERAL, EXPRESSIONS, LITERAL).map(
        lambda t: "{% if " + t[0] + " %}" + t[1] + "{{ " + t[2] + " }}{% else %}" + t[3] + "{% endif %}"
    ),
)
TEMPLATES = st.lists(PART, min_size=1, max_size=3).map("".join).filter(lambda t: t.strip() != "")

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1e15, 1e16, 1e-4, 9.99e-5, 0.1, 123.456]),
)
INTS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-10, 10), st.sampled_from([2**53 + 1, -(2**53) - 1]))


@st.composite
def batches(draw: st.DrawFn, plain: bool = False) -> dict[str, pa.Array]:
    """A batch of every column type; ``plain``: no nulls and finite floats only."""
    n = draw(st.integers(1, 8))

    def col(values: st.SearchStrategy, arrow_type: pa.DataType) -> pa.Array:
        cells = values if plain else st.one_of(values, st.none())
        return pa.array(draw(st.lists(cells, min_size=n, max_size=n)), arrow_type)

    return {
        "s1": col(TEXT, pa.string()),
        "s2": col(TEXT, pa.string()),
        "i1": col(INTS, pa.int64()),
        "i2": col(st.integers(-3, 3), pa.int64()),
        "f1": col(FLOATS.filter(math.isfinite) if plain else FLOATS, pa.float64()),
        "b1": col(st.booleans(), pa.bool_()),
    }


def _same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=TEMPLATES, data=batches())
def test_fast_path_and_jinja_render_the_same_values(template: str, data: dict[str, pa.Array]) -> None:
    n = len(data["s1"])
    fast = TemplateRenderer(template, fast=True).render(data, n)
    slow = TemplateRenderer(template, fast=False).render(data, n)
    fast_values = fast.values if isinstance(fast.values, list) else fast.values.to_pylist()
    assert fast_values == slow.values
    assert sorted(fast.errors) == sorted(slow.errors)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    name_filter=st.sampled_from(FILTERS),
    data=batches(),
)
def test_each_filter_renders_as_jinja_renders_it(name: str, name_filter: str, data: dict[str, pa.Array]) -> None:
    template = "{{ " + name + "|" + name_filter + " }}"
    n = len(data["s1"])
    fast = TemplateRenderer(template, fast=True).render(data, n)
    fast_values = fast.values if isinstance(fast.values, list) else fast.values.to_pylist()
    assert fast_values == TemplateRenderer(template, fast=False).render(data, n).values


def test_round_matches_python_near_ties_and_at_extreme_magnitudes() -> None:
    import numpy as np

    g = np.random.default_rng(0)
    halves = (g.integers(-(10**6), 10**6, 20_000) + 0.5) / 10.0 ** g.integers(0, 4, 20_000)
    values = np.concatenate(
        [
            halves,
            np.nextafter(halves, np.inf),
            np.nextafter(halves, -np.inf),
            g.normal(0, 1e6, 5_000),
            [2.675, 1.005, 0.285, 1.115, 5e-324, 1e300, -0.0, 2.0**52 + 1, 1e-7],
        ]
    )
    data = {"x": pa.array(values)}
    for precision in range(4):
        template = "{{ x|round(" + str(precision) + ") }}"
        fast = TemplateRenderer(template, fast=True).render(data, len(values)).values
        rendered = fast if isinstance(fast, list) else fast.to_pylist()
        assert rendered == [str(round(v, precision)) for v in values.tolist()]


def test_simple_templates_compile_to_the_fast_path() -> None:
    for template in [
        "{{ a }} {{ b|upper }}",
        "{{ n * 2 + 1 }}",
        "{% if x > 3 %}big{% else %}small{% endif %}",
        "{{ a|capitalize }} ({{ a|length }}) {{ a|title }}",
    ]:
        assert compile_fast(template) is not None


def test_loops_fall_back_to_jinja() -> None:
    assert compile_fast("{% for x in items %}{{ x }}{% endfor %}") is None


def test_a_plain_batch_is_rendered_entirely_by_the_fast_path() -> None:
    data = {"a": pa.array(["x", "y"]), "n": pa.array([1, 2])}
    rendered = TemplateRenderer("{{ a|upper }}-{{ n * 10 }}").render(data, 2)
    assert isinstance(rendered.values, pa.Array)
    assert rendered.values.to_pylist() == ["X-10", "Y-20"]


NUMERIC_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("0123456789-+.eE _xInfatrueTRUEFALSE")), max_size=8),
    st.floats(allow_nan=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(NUMERIC_TEXT, min_size=1, max_size=6), dtype=st.sampled_from(["int", "float", "bool"]))
def test_vectorised_cast_matches_the_official_per_value_cast(values: list[str], dtype: str) -> None:
    from ddc.engine.expressions import cast_value
    from ddc.engine.fastpath import cast_strings

    errors: dict[int, str] = {}
    cast = cast_strings(pa.array(values, pa.string()), dtype, errors).to_pylist()
    for i, text in enumerate(values):
        try:
            expected = cast_value(text, dtype)
            in_range = dtype != "int" or -(2**63) <= expected < 2**63
        except (ValueError, OverflowError):
            in_range = False
        if in_range:
            assert i not in errors and _same(cast[i], expected)
        else:
            assert i in errors and cast[i] is None


def _bits(value: object) -> object:
    import struct

    return struct.pack("<d", value) if isinstance(value, float) else value


#: Expressions of numbers and booleans (the ones a dtype cast can take without text).
NUMBERS = st.recursive(
    st.sampled_from(["i1", "i2", "f1", "b1", "0.5", "1e-05", "3", "-2"]),
    lambda children: st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "<", "and"]), children)
        .map(" ".join)
        .map("({})".format),
        children.map("(-{})".format),
        st.tuples(children, st.sampled_from(["round", "round(2)"])).map("|".join).map("({})".format),
    ),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expression=st.one_of(NUMBERS, NUMBERS, EXPRESSIONS),
    dtype=st.sampled_from(["int", "float", "bool"]),
    data=batches(plain=True),
)
def test_a_typed_value_is_what_casting_jinjas_text_gives(
    expression: str, dtype: str, data: dict[str, pa.Array]
) -> None:
    """Skipping the text round trip of ``{{ expression }}`` with a dtype never changes a value's bits."""
    from ddc.engine.fastpath import cast_strings

    template = "{{ " + expression + " }}"
    n = len(data["s1"])
    typed = TemplateRenderer(template).render_value(data, n, dtype)
    if typed is None:
        return
    errors: dict[int, str] = {}
    text = TemplateRenderer(template, fast=False).render(data, n)
    assert not text.errors
    expected = cast_strings(text.values, dtype, errors)
    assert not errors
    assert [_bits(v) for v in typed.to_pylist()] == [_bits(v) for v in expected.to_pylist()]


def test_a_plain_numeric_expression_is_typed_without_text() -> None:
    data = {"a": pa.array([1.5, -2.25]), "b": pa.array([1, 2])}
    assert TemplateRenderer("{{ a - b }}").render_value(data, 2, "float").to_pylist() == [0.5, -4.25]
    assert TemplateRenderer("{{ a * 0 / 0 }}").render_value(data, 2, "float") is None  # Jinja decides
