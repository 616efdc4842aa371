"""Vectorised rendering of simple Jinja templates with pyarrow.compute.

``compile_fast(text)`` returns None unless the template uses only: text, column references, constants,
``~`` and ``+`` concatenation, ``+ - * /`` arithmetic, comparisons, ``and``/``or``/``not``, inline
``a if c else b``, ``{% if %}/{% elif %}/{% else %}`` blocks, and the ``upper``/``lower``/``trim``/
``capitalize``/``title``/``length``/``string``/``round`` filters. The compiled function renders a whole
batch and marks the rows whose value it cannot prove identical to Jinja's (nulls, strings that JSON-decode to
something else, floats Python would print in scientific notation, non-ASCII case mapping, division by
zero ...); those rows, or the whole batch when the column types do not fit, are rendered by Jinja.
The property test in
``tests/engine/test_fastpath.py`` checks both paths agree.

``compile_fast_value(text)`` serves expression columns with an int, float or bool ``dtype`` whose
template is one ``{{ expression }}``: it gives the cast values without printing and parsing text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FastRender = Callable[["Mapping[str, pa.Array]", int], "tuple[Any, np.ndarray]"]

#: Strings that ``json.loads`` might decode (so Jinja would see a number, bool, list ...).
_JSONISH = r"^\s*([-0-9\[{\"]|true|false|null|NaN|Infinity)"
_STRICT_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_STRICT_NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


class _Unsupported(Exception):
    """Compile time: the template is outside the fast subset."""


class _NotFast(Exception):
    """Run time: this batch's column types do not fit; render the whole batch with Jinja."""


@dataclass
class _Vec:
    kind: str  # "str" | "int" | "float" | "bool" | "text" (already a rendered string; no further ops)
    value: Any  # pa.Array or pa.Scalar


@functools.lru_cache(maxsize=1024)
def compile_fast(text: str) -> FastRender | None:
    from ddc.templating import TemplateProblem, nodes, parse_template

    try:
        tree = parse_template(text)
    except TemplateProblem:
        return None
    try:
        program = _compile_body(tree.body, nodes)
    except _Unsupported:
        return None

    def render(data: Mapping[str, pa.Array], num_rows: int) -> tuple[Any, np.ndarray]:
        import numpy as np
        import pyarrow as pa

        state = _State(data, num_rows)
        try:
            out = program(state)
        except _NotFast:
            return [None] * num_rows, np.arange(num_rows)
        array = out if isinstance(out, pa.Array) else pa.repeat(out, num_rows)
        slow = np.flatnonzero(state.slow)
        return array, slow

    return render


ValueRender = Callable[["Mapping[str, pa.Array]", int, str], "pa.Array | None"]


@functools.lru_cache(maxsize=1024)
def compile_fast_value(text: str) -> ValueRender | None:
    """For a template that is one ``{{ expression }}`` of numbers or booleans, the value itself cast to
    an expression's ``dtype`` (int, float or bool), skipping the text round trip.

    The official cast parses the rendered text, and here that is the identity: Jinja prints a float
    with ``str``, which is ``repr`` -- the shortest text that parses back to the same float -- and an
    int exactly; "True"/"False" cast to bool as themselves. The render answers None for a batch where
    that is not proven for every row (a row Jinja must render, a NaN or infinity, whose bits a parse
    would change, an int beyond 2**53, a cast that fails): the caller renders that batch as text."""
    from ddc.templating import TemplateProblem, nodes, parse_template

    try:
        body = parse_template(text).body
    except TemplateProblem:
        return None
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    try:
        expression = _compile_expr(body[0].nodes[0], nodes)
    except _Unsupported:
        return None

    def render(data: Mapping[str, pa.Array], num_rows: int, dtype: str) -> pa.Array | None:
        import numpy as np
        import pyarrow as pa

        state = _State(data, num_rows)
        try:
            vec = expression(state)
        except _NotFast:
            return None
        value = vec.value if isinstance(vec.value, pa.Array) else pa.repeat(vec.value, num_rows)
        if state.slow.any() or value.null_count:
            return None
        values = value.to_numpy(zero_copy_only=False)
        if vec.kind == "bool":
            return pa.array(values, pa.bool_()) if dtype == "bool" else None
        if vec.kind == "int" and (np.abs(values) <= 2**53).all():
            return cast_numbers(values.astype(np.float64), dtype)
        if vec.kind == "float" and np.isfinite(values).all():
            return cast_numbers(values, dtype)
        return None

    return render


class _State:
    def __init__(self, data: Mapping[str, pa.Array], num_rows: int) -> None:
        import numpy as np

        self.data = data
        self.n = num_rows
        self.slow = np.zeros(num_rows, dtype=bool)

    def mark(self, mask: Any) -> None:
        import numpy as np
        import pyarrow as pa

        if mask is None:
            return
        if isinstance(mask, pa.Scalar):
            if mask.as_py():
                self.slow[:] = True
            return
        arr = mask.to_numpy(zero_copy_only=False) if hasattr(mask, "to_numpy") else np.asarray(mask)
        if arr.shape == ():
            if bool(arr):
                self.slow[:] = True
            return
        self.slow |= arr.astype(bool)


# --- compile: AST -> closures -----------------------------------------------------------------------


def _compile_body(body: list[Any], nodes: Any) -> Callable[[_State], Any]:
    parts = [_compile_stmt(stmt, nodes) for stmt in body]

    def run(state: _State) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        pieces = [p(state) for p in parts]
        if not pieces:
            return pa.scalar("")
        if len(pieces) == 1:
            return pieces[0]
        return pc.binary_join_element_wise(*pieces, "")

    return run


def _compile_stmt(stmt: Any, nodes: Any) -> Callable[[_State], Any]:
    if isinstance(stmt, nodes.Output):
        pieces = [_compile_output_node(n, nodes) for n in stmt.nodes]

        def run_output(state: _State) -> Any:
            import pyarrow as pa
            import pyarrow.compute as pc

            values = [p(state) for p in pieces]
            if not values:
                return pa.scalar("")
            return values[0] if len(values) == 1 else pc.binary_join_element_wise(*values, "")

        return run_output
    if isinstance(stmt, nodes.If):
        test = _compile_expr(stmt.test, nodes)
        body = _compile_body(stmt.body, nodes)
        if stmt.elif_:
            rest = nodes.If(stmt.elif_[0].test, stmt.elif_[0].body, stmt.elif_[1:], stmt.else_)
            otherwise = _compile_stmt(rest, nodes)
        else:
            otherwise = _compile_body(stmt.else_, nodes)

        def run_if(state: _State) -> Any:
            import pyarrow.compute as pc

            cond = _truth(test(state))
            return pc.if_else(cond, body(state), otherwise(state))

        return run_if
    raise _Unsupported(type(stmt).__name__)


def _compile_output_node(node: Any, nodes: Any) -> Callable[[_State], Any]:
    if isinstance(node, nodes.TemplateData):
        import pyarrow as pa

        scalar = pa.scalar(node.data)
        return lambda state: scalar
    expr = _compile_expr(node, nodes)
    return lambda state: _to_str(expr(state), state)


_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply"}
_BINOPS = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}
_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "lteq": "less_equal", "gt": "greater",
            "gteq": "greater_equal"}  # fmt: skip
_STRING_FILTERS = {
    "upper": "utf8_upper",
    "lower": "utf8_lower",
    "trim": "utf8_trim_whitespace",
    "capitalize": "utf8_capitalize",
    "title": "utf8_title",
}
#: Jinja's ``title`` starts a word after ``-``, whitespace or an opening bracket, Arrow's after any
#: non-letter: rows with other characters (digits, quotes, closing brackets ...) go to Jinja.
_TITLE_SAFE = r"^[A-Za-z\t\n\f\r (\-{\[<]*$"


def _compile_expr(node: Any, nodes: Any) -> Callable[[_State], _Vec]:
    if isinstance(node, nodes.Name):
        name = node.name
        return lambda state: _column(state, name)
    if isinstance(node, nodes.Const):
        value = node.value
        kind = _const_kind(value)
        import pyarrow as pa

        scalar = pa.scalar(value)
        return lambda state: _Vec(kind, scalar)
    if isinstance(node, nodes.Concat):
        parts = [_compile_expr(n, nodes) for n in node.nodes]

        def run_concat(state: _State) -> _Vec:
            import pyarrow.compute as pc

            return _Vec("str", pc.binary_join_element_wise(*[_to_str(p(state), state) for p in parts], ""))

        return run_concat
    op = type(node).__name__
    if op in _BINOPS:
        left, right = _compile_expr(node.left, nodes), _compile_expr(node.right, nodes)
        return lambda state: _binop(_BINOPS[op], left(state), right(state), state)
    if isinstance(node, nodes.Neg):
        inner = _compile_expr(node.node, nodes)
        return lambda state: _negate(inner(state))
    if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in _COMPARE:
        left, right = _compile_expr(node.expr, nodes), _compile_expr(node.ops[0].expr, nodes)
        fn = _COMPARE[node.ops[0].op]
        return lambda state: _compare(fn, left(state), right(state), state)
    if isinstance(node, (nodes.And, nodes.Or)):
        left, right = _compile_expr(node.left, nodes), _compile_expr(node.right, nodes)
        fn = "and_" if isinstance(node, nodes.And) else "or_"
        return lambda state: _logic(fn, left(state), right(state))
    if isinstance(node, nodes.Not):
        inner = _compile_expr(node.node, nodes)
        return lambda state: _not(inner(state))
    if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
        test = _compile_expr(node.test, nodes)
        yes, no = _compile_expr(node.expr1, nodes), _compile_expr(node.expr2, nodes)
        return lambda state: _cond(_truth(test(state)), yes(state), no(state), state)
    if isinstance(node, nodes.Filter) and node.name == "round" and node.node is not None:
        precision = _round_precision(node, nodes)
        inner = _compile_expr(node.node, nodes)
        return lambda state: _round(inner(state), precision, state)
    if isinstance(node, nodes.Filter) and node.name in (*_STRING_FILTERS, "length", "string"):
        if node.node is None or node.args or node.kwargs:
            raise _Unsupported("filter block or arguments")
        inner = _compile_expr(node.node, nodes)
        if node.name == "length":
            return lambda state: _length(inner(state))
        if node.name == "string":
            return lambda state: _Vec("str", _to_str(inner(state), state))
        fn = _STRING_FILTERS[node.name]
        return lambda state: _string_filter(fn, inner(state), state)
    raise _Unsupported(op)


def _const_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise _Unsupported("big int")
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    raise _Unsupported(type(value).__name__)


# --- run time ---------------------------------------------------------------------------------------


def _column(state: _State, name: str) -> _Vec:
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in state.data:
        raise _NotFast(name)
    arr = state.data[name]
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if arr.null_count:
        state.mark(pc.is_null(arr))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr = arr.cast(pa.string()) if pa.types.is_large_string(t) else arr
        state.mark(_jsonish(arr))
        return _Vec("str", pc.fill_null(arr, "") if arr.null_count else arr)
    if pa.types.is_boolean(t):
        return _Vec("bool", pc.fill_null(arr, False) if arr.null_count else arr)
    if pa.types.is_integer(t):
        arr = arr.cast(pa.int64())
        return _Vec("int", pc.fill_null(arr, 0) if arr.null_count else arr)
    if pa.types.is_floating(t):
        arr = arr.cast(pa.float64())
        return _Vec("float", pc.fill_null(arr, 0.0) if arr.null_count else arr)
    raise _NotFast(str(t))


@functools.lru_cache(maxsize=1)
def _json_first_bytes() -> np.ndarray:
    """Bytes a ``_JSONISH`` match can start with."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[list(b'-0123456789[{"tfnNI \t\n\x0b\x0c\r')] = True
    table[0x80:] = True  # not ASCII: let the regex decide
    return table


def _jsonish(arr: pa.StringArray) -> np.ndarray:
    """Rows matching ``_JSONISH``. Only a row whose first byte can start a match (a JSON start or
    white space) is given to the regex: most text starts with neither, and one table look-up per row
    is far cheaper than the regex."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    starts = offsets[:-1]
    candidate = offsets[1:] > starts  # an empty string never matches
    data = arr.buffers()[2]
    if data is None or not candidate.any():
        return np.zeros(n, dtype=bool)
    candidate[candidate] = _json_first_bytes()[np.frombuffer(data, dtype=np.uint8)[starts[candidate]]]
    out = np.zeros(n, dtype=bool)
    if candidate.any():
        matched = pc.match_substring_regex(arr.filter(pa.array(candidate)), _JSONISH)
        out[candidate] = pc.fill_null(matched, False).to_numpy(zero_copy_only=False)
    return out


def _to_str(vec: _Vec, state: _State) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if vec.kind in ("str", "text"):
        return vec.value
    if vec.kind == "bool":
        if isinstance(vec.value, pa.Scalar):
            return pa.scalar(str(vec.value.as_py()))
        return pc.if_else(vec.value, "True", "False")
    if vec.kind == "int":
        return pc.cast(vec.value, pa.string())
    if isinstance(vec.value, pa.Scalar):
        return pa.scalar(str(vec.value.as_py()))
    return _format_floats(vec.value, state)


def _format_floats(values: pa.Array, state: _State) -> pa.Array:
    """Python's ``str(float)`` for floats in [1e-4, 1e16) and 0/nan/inf; other rows go to Jinja."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(values, pa.string())
    magnitude = pc.abs(values)
    finite = pc.is_finite(values)
    scientific = pc.and_(
        pc.and_(finite, pc.not_equal(values, 0.0)),
        pc.or_(pc.less(magnitude, 1e-4), pc.greater_equal(magnitude, 1e16)),
    )
    state.mark(pc.or_(scientific, pc.match_substring(text, "e")))
    needs_point = pc.and_(finite, pc.invert(pc.match_substring_regex(text, r"[.e]")))
    return pc.if_else(needs_point, pc.binary_join_element_wise(text, ".0", ""), text)


def _f64(vec: _Vec) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(vec.value, pa.float64(), safe=False)  # inexact rows were marked for Jinja


def _numeric(vec: _Vec) -> None:
    if vec.kind not in ("int", "float"):
        raise _NotFast(vec.kind)


def _binop(fn: str, left: _Vec, right: _Vec, state: _State) -> _Vec:
    import pyarrow as pa
    import pyarrow.compute as pc

    if fn == "add" and left.kind == "str" and right.kind == "str":
        return _Vec("str", pc.binary_join_element_wise(left.value, right.value, ""))
    _numeric(left)
    _numeric(right)
    if fn == "div" or left.kind != right.kind:
        _mark_inexact_ints(left, state)
        _mark_inexact_ints(right, state)
    if fn == "div":
        divisor = _f64(right)
        state.mark(pc.equal(divisor, 0.0))
        safe = pc.if_else(pc.equal(divisor, 0.0), 1.0, divisor)
        return _Vec("float", pc.divide(_f64(left), safe))
    if left.kind == "int" and right.kind == "int":
        try:
            return _Vec("int", getattr(pc, _ARITH[fn] + "_checked")(left.value, right.value))
        except pa.ArrowInvalid as exc:  # overflow: Python ints are unbounded
            raise _NotFast("overflow") from exc
    return _Vec("float", getattr(pc, _ARITH[fn])(_f64(left), _f64(right)))


def _mark_inexact_ints(vec: _Vec, state: _State) -> None:
    """Ints beyond 2**53 do not convert to float exactly; Python mixes them with floats exactly."""
    import pyarrow.compute as pc

    if vec.kind == "int":
        state.mark(pc.or_(pc.greater(vec.value, 2**53), pc.less(vec.value, -(2**53))))


def _negate(vec: _Vec) -> _Vec:
    import pyarrow as pa
    import pyarrow.compute as pc

    _numeric(vec)
    try:
        return _Vec(vec.kind, pc.negate_checked(vec.value))
    except pa.ArrowInvalid as exc:
        raise _NotFast("overflow") from exc


def _compare(fn: str, left: _Vec, right: _Vec, state: _State) -> _Vec:
    import pyarrow.compute as pc

    if left.kind == "str" and right.kind == "str":
        return _Vec("bool", getattr(pc, fn)(left.value, right.value))
    if left.kind in ("int", "float") and right.kind in ("int", "float"):
        if left.kind == "int" and right.kind == "int":
            return _Vec("bool", getattr(pc, fn)(left.value, right.value))
        _mark_inexact_ints(left, state)
        _mark_inexact_ints(right, state)
        return _Vec("bool", getattr(pc, fn)(_f64(left), _f64(right)))
    if left.kind == "bool" and right.kind == "bool":
        return _Vec("bool", getattr(pc, fn)(left.value, right.value))
    raise _NotFast(f"{left.kind} vs {right.kind}")


def _truth(vec: _Vec) -> Any:
    import pyarrow.compute as pc

    if vec.kind == "bool":
        return vec.value
    if vec.kind in ("int", "float"):
        return pc.not_equal(vec.value, 0)
    if vec.kind == "str":
        return pc.greater(pc.utf8_length(vec.value), 0)
    raise _NotFast(vec.kind)


def _logic(fn: str, left: _Vec, right: _Vec) -> _Vec:
    import pyarrow.compute as pc

    if left.kind != "bool" or right.kind != "bool":
        raise _NotFast("and/or on non-bool values")
    return _Vec("bool", getattr(pc, fn)(left.value, right.value))


def _not(vec: _Vec) -> _Vec:
    import pyarrow.compute as pc

    return _Vec("bool", pc.invert(_truth(vec)))


def _cond(test: Any, yes: _Vec, no: _Vec, state: _State) -> _Vec:
    import pyarrow.compute as pc

    if yes.kind == no.kind:
        return _Vec(yes.kind, pc.if_else(test, yes.value, no.value))
    return _Vec("text", pc.if_else(test, _to_str(yes, state), _to_str(no, state)))


def _string_filter(fn: str, vec: _Vec, state: _State) -> _Vec:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _to_str(vec, state)
    if isinstance(text, pa.Scalar):
        if fn == "utf8_title":
            raise _NotFast("title of a constant")
        value = text.as_py()
        python: dict[str, Callable[[str], str]] = {
            "utf8_upper": str.upper,
            "utf8_lower": str.lower,
            "utf8_trim_whitespace": str.strip,
            "utf8_capitalize": str.capitalize,
        }
        return _Vec("str", pa.scalar(python[fn](value)))
    state.mark(pc.invert(pc.string_is_ascii(text)))
    if fn == "utf8_title":
        state.mark(pc.invert(pc.match_substring_regex(text, _TITLE_SAFE)))
    if fn == "utf8_trim_whitespace":  # Python also strips \x1c-\x1f; Arrow does not
        state.mark(pc.match_substring_regex(text, r"[\x1c-\x1f]"))
    return _Vec("str", getattr(pc, fn)(text))


def _round_precision(node: Any, nodes: Any) -> int:
    """``round``, ``round(p)`` or ``round(p, 'common')`` with a constant ``0 <= p <= 15``; anything else
    (floor/ceil, a computed precision) stays with Jinja."""
    args = list(node.args)
    named = {kw.key: kw.value for kw in node.kwargs}
    if (
        node.dyn_args is not None
        or node.dyn_kwargs is not None
        or len(args) > 2
        or set(named) - {"precision", "method"}
    ):
        raise _Unsupported("round arguments")
    precision = args[0] if args else named.get("precision")
    method = args[1] if len(args) > 1 else named.get("method")
    if method is not None and not (isinstance(method, nodes.Const) and method.value == "common"):
        raise _Unsupported("round method")
    if precision is None:
        return 0
    if not isinstance(precision, nodes.Const) or type(precision.value) is not int or not 0 <= precision.value <= 15:
        raise _Unsupported("round precision")
    return int(precision.value)


def _round(vec: _Vec, precision: int, state: _State) -> _Vec:
    """Python's ``round(x, p)`` (Jinja's ``common`` method): ints unchanged; floats by half-to-even on
    ``x * 10**p``, which matches Python's correctly rounded result except near a tie (where the
    product's own rounding can decide) and at magnitudes beyond 2**52: those rows go to Jinja."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if vec.kind == "int":
        return vec
    if vec.kind != "float":
        raise _NotFast(f"round of {vec.kind}")
    if isinstance(vec.value, pa.Scalar):
        return _Vec("float", pa.scalar(round(vec.value.as_py(), precision)))
    scaled = pc.multiply(vec.value, 10.0**precision)
    distance = pc.abs(pc.subtract(pc.subtract(scaled, pc.floor(scaled)), 0.5))
    finite = pc.is_finite(scaled)
    unsure = pc.or_(pc.less(distance, 1e-6), pc.greater_equal(pc.abs(scaled), 2.0**52))
    state.mark(pc.and_(finite, unsure))
    # k / 10**p, a correctly rounded division, is the double nearest the decimal result, as Python's is
    # (pc.round(x, ndigits) multiplies by 10**-p instead and can land one ulp off).
    whole = pc.round(scaled, round_mode="half_to_even")
    return _Vec("float", pc.divide(whole, 10.0**precision))


def _length(vec: _Vec) -> _Vec:
    """``length`` of a string: code points, as Python's ``len`` (Arrow's utf8_length counts the
    same). Of anything else Jinja raises per row, so that batch goes to Jinja."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if vec.kind not in ("str", "text"):
        raise _NotFast(f"length of {vec.kind}")
    if isinstance(vec.value, pa.Scalar):
        return _Vec("int", pa.scalar(len(vec.value.as_py())))
    return _Vec("int", pc.cast(pc.utf8_length(vec.value), pa.int64()))


# --- casting rendered strings to the expression dtype -----------------------------------------------


def cast_numbers(floats: np.ndarray, dtype: str) -> pa.Array | None:
    """The official dtype cast of finite numbers written as plain decimals: ``float(v)``,
    ``int(float(v))``, ``bool(int(float(v)))``; None when an int would not fit in 64 bits (the per-row
    cast names the row)."""
    import numpy as np
    import pyarrow as pa

    if dtype == "float":
        return pa.array(floats, pa.float64())
    truncated = np.trunc(floats)
    if dtype == "bool":
        return pa.array(truncated != 0, pa.bool_())
    if (np.abs(truncated) >= 2**63).any():
        return None
    return pa.array(truncated.astype(np.int64), pa.int64())


def cast_strings(values: Any, dtype: str, errors: dict[int, str]) -> pa.Array:
    """The official dtype cast, vectorised for plain decimal strings; other rows cast one by one.

    Rows that cannot be cast are added to ``errors`` (and are null in the result)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ddc.engine.expressions import cast_value

    if dtype == "str":
        arr = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
        if errors:
            mask = np.zeros(len(arr), dtype=bool)
            mask[list(errors)] = True
            arr = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)
        return arr
    strings = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    plain = pc.fill_null(pc.match_substring_regex(strings, _STRICT_NUMBER_PATTERN), False).to_numpy(
        zero_copy_only=False
    )
    if errors:
        plain[list(errors)] = False
    floats = pc.cast(pc.if_else(pa.array(plain), strings, "0"), pa.float64()).to_numpy(zero_copy_only=False)
    if plain.all() and not errors:
        cast = cast_numbers(floats, dtype)
        if cast is not None:
            return cast
    target = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}[dtype]
    if dtype == "float":
        out: Any = floats.astype(object) if not plain.all() else floats
    elif dtype == "int":
        truncated = np.trunc(floats)
        too_big = np.abs(truncated) >= 2**63
        plain &= ~too_big
        out = np.where(too_big, 0, truncated).astype(np.int64)
        if not plain.all():
            out = out.astype(object)
    else:
        truncated = np.trunc(floats)
        out = truncated != 0
        if not plain.all():
            out = out.astype(object)
    if plain.all() and not errors:
        return pa.array(out, target)
    py = strings.to_pylist() if not plain.all() else None
    for index in np.flatnonzero(~plain):
        pos = int(index)
        if pos in errors:
            out[pos] = None
            continue
        text = py[pos] if py is not None else None
        if text is None:
            errors[pos] = "the template rendered no value"
            out[pos] = None
            continue
        try:
            value = cast_value(text, dtype)
            if dtype == "int" and not -(2**63) <= value < 2**63:
                raise OverflowError("outside the 64-bit integer range")
            out[pos] = value
        except (ValueError, OverflowError):
            errors[pos] = f"cannot cast {text!r} to {dtype}"
            out[pos] = None
    if errors:
        out = out.astype(object) if isinstance(out, np.ndarray) and out.dtype != object else out
        for failed in errors:
            out[failed] = None
    return pa.array(out, target)
