"""The only module that imports jinja2: the sandboxed environment, parsing, references, rendering.

Semantics follow Data Designer's default ``secure`` engine: an immutable sandbox, a whitelist of
filters, no ``set``/``macro``/``import``/``include``/``extends``/``block`` tags, and only the
row's columns as variables.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.lexer import Lexer, Token, TokenStream
from jinja2.sandbox import ImmutableSandboxedEnvironment

# re-exported: it lives in ddc.errors so that catching it needs no jinja2
from ddc.errors import TemplateProblem as TemplateProblem

ALLOWED_FILTERS: frozenset[str] = frozenset(
    {
        "abs", "capitalize", "escape", "first", "float", "forceescape", "int", "items", "last", "length",
        "list", "lower", "max", "min", "random", "replace", "reverse", "round", "sort", "string", "title",
        "trim", "truncate", "unique", "upper", "urlencode", "jsonpath",
    }
)  # fmt: skip
FORBIDDEN_TAGS: tuple[type[nodes.Node], ...] = (
    nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.Import, nodes.FromImport, nodes.Include,
    nodes.Extends, nodes.Block, nodes.CallBlock,
)  # fmt: skip
MAX_NODES = 600
MAX_DEPTH = 10
#: What one operation of a template may build (characters or items) and what one render may output:
#: ``{{ 'x' * 1000000000 }}`` took 3 GB while validating (constant folding) and crashed the run.
MAX_SIZE = 10_000_000
#: Bits of an integer a template may compute (``9 ** 9 ** 9`` would take minutes).
MAX_INT_BITS = 100_000


class TooLarge(ValueError):
    """A template operation or render that would pass MAX_SIZE (or MAX_INT_BITS)."""


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0


_DIGITS = re.compile(r"\d+")
#: printf-style conversion specs: flags, width, precision (``*`` takes them from the arguments)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
#: str.format specs: the text after ``:`` in a replacement field (``{...}`` inside it takes an argument)
_BRACE_SPEC = re.compile(r"\{[^{}:]*:((?:[^{}]|\{[^{}]*\})*)\}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing, a repetition, power or formatting whose result would pass the limits."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if _size(seq) and isinstance(times, int) and _size(seq) * times > MAX_SIZE:
                raise TooLarge(f"a repetition of {_size(seq) * times:,} items is more than {MAX_SIZE:,}")
        if _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise TooLarge(f"an integer of more than {MAX_INT_BITS:,} bits")
    elif operator == "**":
        if _int_bits(left) > 1 and isinstance(right, int) and _int_bits(left) * right > MAX_INT_BITS:
            raise TooLarge(f"an integer power of more than {MAX_INT_BITS:,} bits")
    elif operator == "%" and isinstance(left, str):
        _check_widths(left, right, percent=True)


def _check_widths(text: str, args: Any = (), *, percent: bool) -> None:
    """A format string's widths and precisions bound its output: refuse ``%1000000000d`` and
    ``{:>1000000000}``, and a width taken from an argument (``%*d``, ``{:{}}``) past MAX_SIZE."""
    specs = _PERCENT_SPEC.findall(text) if percent else _BRACE_SPEC.findall(text)
    numbers = [n for spec in specs for n in _DIGITS.findall("".join(spec))]
    if any(len(n) > 7 or int(n) > MAX_SIZE for n in numbers):
        raise TooLarge(f"a format width of more than {MAX_SIZE:,}")
    from_args = any("*" in "".join(spec) for spec in specs) if percent else any("{" in spec for spec in specs)
    values = args if isinstance(args, (tuple, list)) else args.values() if isinstance(args, dict) else (args,)
    if from_args and any(_too_wide(v) for v in values):
        raise TooLarge(f"a format width of more than {MAX_SIZE:,}")


def _mapping_values(args: tuple[Any, ...]) -> list[Any]:
    """The values of format_map's one mapping argument."""
    return list(args[0].values()) if len(args) == 1 and isinstance(args[0], dict) else []


def _too_wide(value: Any) -> bool:
    if isinstance(value, int):
        return value > MAX_SIZE
    return isinstance(value, str) and value.strip().isdigit() and (len(value.strip()) > 7 or int(value) > MAX_SIZE)


def _check_call(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Bound the str methods whose output a small argument can blow up (padding, replace, format)."""
    func = getattr(func, "__wrapped__", func)  # the sandbox wraps str.format at attribute access
    owner = getattr(func, "__self__", None)
    name = getattr(func, "__name__", "")
    if isinstance(owner, str):
        if name in {"ljust", "rjust", "center", "zfill", "expandtabs"}:
            if any(isinstance(a, int) and a > MAX_SIZE for a in (*args, *kwargs.values())):
                raise TooLarge(f"str.{name} to more than {MAX_SIZE:,} characters")
        elif name == "replace":
            _check_replace(owner, *args[:2])
        elif name in {"format", "format_map"}:
            _check_widths(owner, (*args, *kwargs.values(), *_mapping_values(args)), percent=False)


def _check_replace(text: Any = "", old: Any = "", new: Any = "", *_: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * (len(new) - len(old)) > MAX_SIZE:
            raise TooLarge(f"a replace that would make more than {MAX_SIZE:,} characters")


#: Stands in for ``\r`` while Jinja lexes (Jinja turns every line break into ``newline_sequence``);
#: a whitespace character to the lexer, so a ``\r`` inside ``{{ }}`` still reads as whitespace.
_CR = "\x1e"


class _ExactLexer(Lexer):
    """Jinja's lexer, keeping ``\r`` in a template's text and string literals: ``a\r\n{{ x }}``
    renders ``a\r\n1``, not ``a\n1``, so values round-trip exactly."""

    def tokenize(
        self, source: str, name: str | None = None, filename: str | None = None, state: str | None = None
    ) -> TokenStream:
        if "\r" not in source or _CR in source:
            return super().tokenize(source, name, filename, state)
        stream = self.wrap(self.tokeniter(source.replace("\r", _CR), name, filename, state), name, filename)
        return TokenStream(_restore_cr(stream), name, filename)


def _restore_cr(stream: Iterator[Token]) -> Iterator[Token]:
    for token in stream:
        if isinstance(token.value, str) and _CR in token.value:
            yield Token(token.lineno, token.type, token.value.replace(_CR, "\r"))
        else:
            yield token


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus limits on what one operation may allocate. Intercepted operators
    are never constant-folded at compile time (Jinja leaves them to ``call_binop``), so validation
    never builds the value either."""

    intercepted_binops = frozenset({"*", "**", "%"})

    @property
    def lexer(self) -> Lexer:
        cached = self.__dict__.get("_ddc_lexer")
        if cached is None:
            cached = self.__dict__["_ddc_lexer"] = _ExactLexer(self)
        return cached

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_call(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _bounded(env: _BoundedSandbox) -> _BoundedSandbox:
    env.globals.pop("lipsum", None)  # lipsum(10**9) would be a gigabyte of text
    return env


def _jsonpath(value: Any, expr: str) -> list[Any]:
    """Minimal JSONPath (`$.a.b`, `$.a[0]`, `$.a[*].b`) over dicts and lists."""
    import re

    parts = [p for p in re.split(r"\.|\[|\]", expr.lstrip("$")) if p]
    current = [value]
    for part in parts:
        nxt: list[Any] = []
        for item in current:
            if part == "*":
                nxt.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else [])
            elif isinstance(item, list) and part.lstrip("-").isdigit():
                idx = int(part)
                if -len(item) <= idx < len(item):
                    nxt.append(item[idx])
            elif isinstance(item, dict) and part.strip("'\"") in item:
                nxt.append(item[part.strip("'\"")])
        current = nxt
    return current


@functools.lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The shared secure environment (autoescape off, undefined is an error)."""
    env = _bounded(_BoundedSandbox(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True))
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.filters["jsonpath"] = _jsonpath
    env.filters["replace"] = _replace_filter
    return env


def parse_template(text: str) -> nodes.Template:
    """Parse with the real Jinja parser and apply the secure engine's structural rules."""
    env = environment()
    try:
        tree = env.parse(text)
        _check_structure(tree)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"Jinja syntax error: {exc.message}", exc.lineno) from exc
    except RecursionError:  # Jinja's parser descends once per nesting level (a bracket is ~14 calls)
        raise TemplateProblem(f"template nested too deeply (at most {MAX_DEPTH} levels)") from None
    return tree


def _check_structure(tree: nodes.Template) -> None:
    count = 0
    for node in tree.find_all(nodes.Node):
        count += 1
        if isinstance(node, FORBIDDEN_TAGS):
            tag = type(node).__name__.lower().replace("assign", "set").replace("fromimport", "from-import")
            raise TemplateProblem(f"the {{% {tag} %}} tag is not allowed in Data Designer templates", node.lineno)
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateProblem(
                f"the filter '{node.name}' is not allowed; allowed filters: {', '.join(sorted(ALLOWED_FILTERS))}",
                node.lineno,
            )
        if isinstance(node, nodes.For):
            if node.recursive:
                raise TemplateProblem("recursive for loops are not allowed", node.lineno)
            if next(node.find_all(nodes.For), None) is not None:
                raise TemplateProblem("nested for loops are not allowed", node.lineno)
    if count > MAX_NODES:
        raise TemplateProblem(f"template too complex ({count} nodes; at most {MAX_NODES})")
    if _depth(tree) > MAX_DEPTH + 2:
        raise TemplateProblem(f"template nested too deeply (at most {MAX_DEPTH} levels)")


def _depth(tree: nodes.Node) -> int:
    """The deepest path from ``tree`` to a leaf; iterative, so a chain of thousands of ``+`` is measured
    rather than overflowing the stack."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def template_references(text: str) -> set[str]:
    """Root names a template reads (``{{ person.first_name }}`` reads ``person``); loop variables excluded."""
    return set(_references(text))


@functools.lru_cache(maxsize=4096)
def _references(text: str) -> frozenset[str]:
    """Parsed once per text: validation, planning and the engine all ask for the same templates."""
    return frozenset(meta.find_undeclared_variables(parse_template(text)))


_OPERATOR_OF = {nodes.Mul: "*", nodes.Pow: "**", nodes.Mod: "%"}


def size_problem(text: str) -> str:
    """Why a template would fail on every row by building too much from constants ('' otherwise):
    ``{{ 'x' * 1000000000 }}`` is known at validate time, without building it."""
    try:
        tree = parse_template(text)
    except TemplateProblem:
        return ""
    for node in tree.find_all(tuple(_OPERATOR_OF)):
        try:
            left, right = node.left.as_const(), node.right.as_const()
        except nodes.Impossible:
            continue
        try:
            _check_binop(_OPERATOR_OF[type(node)], left, right)
        except TooLarge as exc:
            return str(exc)
    return ""


def condition_problem(expression: str) -> str:
    """Why a brace-less condition fails on every row, when that is knowable without data ('' otherwise):
    a condition over no column that raises, or a division by a constant zero."""
    try:
        tree = parse_template("{{ " + expression + " }}")
    except TemplateProblem:
        return ""  # reported by the reference check
    for node in tree.find_all((nodes.Div, nodes.FloorDiv, nodes.Mod)):
        try:
            divisor = node.right.as_const()
        except nodes.Impossible:
            continue
        if isinstance(divisor, (int, float)) and not isinstance(divisor, bool) and divisor == 0:
            return "division by zero"
    if not _references("{{ " + expression + " }}"):
        try:
            render(compile_template("{{ " + expression + " }}"), {})
        except RenderError as exc:
            return f"{exc.kind}: {exc}"
    return ""


def expression_references(expression: str) -> set[str]:
    """References of a brace-less expression (sampler ``conditional_params`` keys)."""
    return template_references("{{ " + expression + " }}")


@functools.lru_cache(maxsize=4096)
def compile_template(text: str) -> jinja2.Template:
    """Compile once, render many times."""
    parse_template(text)
    return environment().from_string(text)


class RenderError(ValueError):
    """A template failed for one row. ``undefined`` says a variable was missing; ``kind`` names the cause."""

    def __init__(self, message: str, *, undefined: bool = False, kind: str = "") -> None:
        self.undefined = undefined
        self.kind = kind
        super().__init__(message)


def render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render a compiled template; every way a row can make it fail becomes a RenderError (an output
    past MAX_SIZE characters too: the row's cell fails, the run goes on)."""
    try:
        parts: list[str] = []
        total = 0
        for chunk in template.generate(context):
            total += len(chunk)
            if total > MAX_SIZE:
                raise TooLarge(f"the rendered text is longer than {MAX_SIZE:,} characters")
            parts.append(chunk)
        return "".join(parts)
    except jinja2.UndefinedError as exc:
        raise RenderError(exc.message or str(exc), undefined=True, kind="UndefinedError") from exc
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, MemoryError) as exc:
        raise RenderError(str(exc) or type(exc).__name__, kind=type(exc).__name__) from exc
    except (AssertionError, RecursionError) as exc:  # Jinja's own filters assert on bad arguments
        # (``truncate(-1)``); a value nested past Python's stack fails its row, not the run
        message = str(exc) or "a filter was given an argument outside its range (such as a negative length)"
        raise RenderError(message, kind=type(exc).__name__) from exc


def render_template(text: str, context: dict[str, Any]) -> str:
    return render(compile_template(text), context)


def _json_finalize(value: Any) -> Any:
    """Make an interpolated value safe inside a JSON string (the official schema_transform hook)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(json.dumps(value, ensure_ascii=False), ensure_ascii=False)[1:-1]
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)[1:-1]
    return value


@functools.lru_cache(maxsize=1)
def json_environment() -> ImmutableSandboxedEnvironment:
    """The secure environment with a finalize hook that JSON-escapes every printed value."""
    env = _bounded(
        _BoundedSandbox(
            autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, finalize=_json_finalize
        )
    )
    env.filters = dict(environment().filters)
    return env


@functools.lru_cache(maxsize=256)
def compile_json_template(text: str) -> jinja2.Template:
    """A template over JSON text (schema_transform): printed values are JSON-escaped."""
    parse_template(text)
    return json_environment().from_string(text)


@jinja2.pass_eval_context
def _replace_filter(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> str:
    """Jinja's ``replace`` filter, bounded like ``str.replace`` (see _check_replace)."""
    from jinja2.filters import do_replace

    _check_replace(str(value), str(old), str(new))
    return do_replace(eval_ctx, value, old, new, count)


def iter_template_fields(obj: Any) -> Iterable[tuple[str, str]]:
    """(field name, template) pairs of a column config that are Jinja templates."""
    for field_name in ("prompt", "system_prompt", "expr"):
        value = getattr(obj, field_name, None)
        if isinstance(value, str):
            yield field_name, value
