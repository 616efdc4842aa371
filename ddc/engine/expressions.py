"""Expression columns: Jinja templates over the row, with the official engine's value handling.

Per row (the reference semantics, used by the fallback path):

* the record is made JSON-like and every string that parses as JSON is decoded first (``"1"`` is the
  number 1, ``"true"`` is True, ``'{"a": 1}'`` is a dict), recursively inside dicts and lists;
* the template renders in the secure sandbox (``ddc.templating``);
* a render that raises, or is empty/whitespace, fails the row; so does a failing ``dtype`` cast:
  ``float(v)``, ``int(float(v))``, ``bool(int(float(v)))`` falling back to ``v.lower() == "true"``.

Failed rows are reported as per-cell errors and the runner drops them (``failed_cells="drop"``); when
every row of a batch fails, the runner raises a RunError naming the column, row, template and cause.

Speed: ``ddc.engine.fastpath`` compiles simple templates to vectorised pyarrow compute; rows it
cannot prove identical (for example strings that look like JSON) fall back to Jinja row by row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddc.engine.kinds import BatchInput, ColumnKind, ColumnOutput, RunContext, SyncColumnGenerator

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import PlannedColumn

#: RE2 class of exactly the characters Python's ``str.strip()`` removes.
_PY_BLANK = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"
)
_JSON_START = frozenset('{["-0123456789tfnNI')


def decode_json_values(value: Any) -> Any:
    """The official ``deserialize_json_values``: strings holding JSON become the decoded value."""
    if isinstance(value, str):
        stripped = value.lstrip(" \t\n\r")  # the whitespace JSON allows
        if stripped and stripped[0] in _JSON_START:
            try:
                return decode_json_values(json.loads(value))
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {str(k): decode_json_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [decode_json_values(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def cast_value(text: str, dtype: str) -> Any:
    """The official dtype cast of a rendered value; raises ValueError when it does not apply."""
    if dtype == "str":
        return text
    if dtype == "float":
        return float(text)
    if dtype == "int":
        return int(float(text))
    try:
        return bool(int(float(text)))
    except (ValueError, OverflowError):
        return text.lower() == "true"


@dataclass
class Rendered:
    """Rendered strings (None where the row failed) and the failures by batch position."""

    values: Any  # list[str | None] or pa.StringArray
    errors: dict[int, str] = field(default_factory=dict)


class TemplateRenderer:
    """One template compiled once; renders a batch through the fast path and/or Jinja."""

    def __init__(self, text: str, *, fast: bool = True) -> None:
        from ddc.engine.fastpath import compile_fast, compile_fast_value
        from ddc.templating import compile_template

        self.text = text
        self.template = compile_template(text)
        self.fast = compile_fast(text) if fast else None
        self.fast_value = compile_fast_value(text) if fast else None

    def render_value(self, data: Mapping[str, pa.Array], num_rows: int, dtype: str) -> pa.Array | None:
        """Every row's value cast to ``dtype`` (int, float or bool) without rendering text, when the
        fast path proves that gives what casting the rendered text would; else None."""
        return None if self.fast_value is None else self.fast_value(data, num_rows, dtype)

    def render(self, data: Mapping[str, pa.Array], num_rows: int) -> Rendered:
        """All rows rendered; ``values`` is a pyarrow string array when the fast path did every row."""
        pending: Any
        if self.fast is not None:
            fast_values, pending = self.fast(data, num_rows)
            if len(pending) == 0:
                return Rendered(fast_values)
            values = fast_values if isinstance(fast_values, list) else fast_values.to_pylist()
        else:
            values, pending = [None] * num_rows, list(range(num_rows))
        errors: dict[int, str] = {}
        self._render_rows(data, pending, values, errors)
        return Rendered(values, errors)

    def _render_rows(
        self, data: Mapping[str, pa.Array], positions: Any, out: list[str | None], errors: dict[int, str]
    ) -> None:
        from ddc.templating import RenderError, render, template_references

        names = [n for n in template_references(self.text) if n in data]
        positions = [int(p) for p in positions]
        if len(positions) * 4 > len(out):  # most rows: convert whole columns once
            columns = {n: data[n].to_pylist() for n in names}
            cell = lambda col, pos: col[pos]  # noqa: E731
        else:
            columns = {n: data[n] for n in names}
            cell = lambda col, pos: col[pos].as_py()  # noqa: E731
        for pos in positions:
            record = {n: decode_json_values(cell(col, pos)) for n, col in columns.items()}
            try:
                text = render(self.template, record)
            except RenderError as exc:
                errors[pos] = f"undefined variable: {exc}" if exc.undefined else f"{exc.kind}: {exc}"
                out[pos] = None
                continue
            out[pos] = text


def render_condition(expression: str, data: Mapping[str, pa.Array], num_rows: int) -> tuple[np.ndarray, dict[int, str]]:
    """Rows where a brace-less condition (a conditional_params key) renders exactly "True", and the
    rows where it failed to evaluate (their cells fail: a failure is never read as False)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rendered = TemplateRenderer("{{ " + expression + " }}").render(data, num_rows)
    errors = {pos: f"condition {expression!r}: {cause}" for pos, cause in rendered.errors.items()}
    if isinstance(rendered.values, pa.Array):
        return pc.fill_null(pc.equal(rendered.values, "True"), False).to_numpy(zero_copy_only=False), errors
    return np.array([v == "True" for v in rendered.values], dtype=bool), errors


class ExpressionGenerator(SyncColumnGenerator):
    def __init__(self, planned: PlannedColumn, context: RunContext) -> None:
        self.name = planned.name
        self.dtype: str = planned.config.dtype
        self.renderer = TemplateRenderer(planned.config.expr)
        self.never_blank = _always_prints_text(planned.config.expr)

    def generate_sync(self, batch: BatchInput) -> ColumnOutput:
        from ddc.engine.fastpath import cast_strings

        if self.dtype != "str":
            values = self.renderer.render_value(batch.data, batch.num_rows, self.dtype)
            if values is not None:
                return ColumnOutput(values=values)
        rendered = self.renderer.render(batch.data, batch.num_rows)
        errors = dict(rendered.errors)
        for pos in [] if self.never_blank else _blank_positions(rendered.values):
            errors[pos] = "the template rendered an empty value"
        values = cast_strings(rendered.values, self.dtype, errors)
        return ColumnOutput(values=values, errors=errors)


def _always_prints_text(text: str) -> bool:
    """True when every render of the template prints literal text that is not white space (as
    ``"{{ a }}-{{ b }}"`` prints "-"), so no row can render blank and the check is skipped."""
    from ddc.templating import TemplateProblem, nodes, parse_template

    def prints(body: list[Any]) -> bool:
        for node in body:
            if isinstance(node, nodes.Output) and any(
                isinstance(part, nodes.TemplateData) and part.data.strip() for part in node.nodes
            ):
                return True
            if (
                isinstance(node, nodes.If)
                and prints(node.body)
                and all(prints(branch.body) for branch in node.elif_)
                and prints(node.else_)
            ):
                return True
        return False

    try:
        return prints(parse_template(text).body)
    except TemplateProblem:
        return False


def _blank_positions(values: Any) -> list[int]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.Array):
        blank = pc.match_substring_regex(values, _PY_BLANK)
        return [int(i) for i in np.flatnonzero(pc.fill_null(blank, False).to_numpy(zero_copy_only=False))]
    return [i for i, text in enumerate(values) if text is not None and not text.strip()]


def expression_kind() -> ColumnKind:
    return ColumnKind("expression", ExpressionGenerator, failed_cells="drop")


def skip_rows(when: str, data: Mapping[str, pa.Array], num_rows: int) -> np.ndarray:
    """Rows whose ``skip.when`` holds. A render that fails skips the row (the official fail-safe)."""
    import numpy as np

    rendered = TemplateRenderer(when).render(data, num_rows)
    values = rendered.values if isinstance(rendered.values, list) else rendered.values.to_pylist()
    truth: dict[str, bool] = {}
    return np.array([v is None or _native_truth(v, truth) for v in values], dtype=bool)


def _native_truth(text: str, known: dict[str, bool]) -> bool:
    """Truth of a rendered ``skip.when`` as the official's native Jinja reads it (``jinja2.nativetypes``):
    text that is a Python literal counts as that literal (``0.00``, ``[ ]`` and ``None`` are false), any
    other text by not being empty (``false`` and `` False``, with its leading space, are true)."""
    truth = known.get(text)
    if truth is None:
        import ast

        try:
            truth = bool(ast.literal_eval(ast.parse(text, mode="eval")))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            truth = text != ""
        known[text] = truth
    return truth
