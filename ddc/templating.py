"""The only module that imports jinja2: the sandboxed environment, parsing, references, rendering.

Semantics follow Data Designer's default ``secure`` engine: an immutable sandbox, a whitelist of
filters, no ``set``/``macro``/``import``/``include``/``extends``/``block`` tags, and only the
row's columns as variables.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

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


class TemplateProblem(ValueError):
    """A template that cannot be used; ``lineno`` is 1-based within the template."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        self.lineno = lineno
        super().__init__(message)


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
    env = ImmutableSandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.filters["jsonpath"] = _jsonpath
    return env


def parse_template(text: str) -> nodes.Template:
    """Parse with the real Jinja parser and apply the secure engine's structural rules."""
    env = environment()
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"Jinja syntax error: {exc.message}", exc.lineno) from exc
    _check_structure(tree)
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


def _depth(node: nodes.Node) -> int:
    children = list(node.iter_child_nodes())
    return 1 + max((_depth(c) for c in children), default=0)


def template_references(text: str) -> set[str]:
    """Root names a template reads (``{{ person.first_name }}`` reads ``person``); loop variables excluded."""
    return set(_references(text))


@functools.lru_cache(maxsize=4096)
def _references(text: str) -> frozenset[str]:
    """Parsed once per text: validation, planning and the engine all ask for the same templates."""
    return frozenset(meta.find_undeclared_variables(parse_template(text)))


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
    """Render a compiled template; every way a row can make it fail becomes a RenderError."""
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        raise RenderError(exc.message or str(exc), undefined=True, kind="UndefinedError") from exc
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(str(exc), kind=type(exc).__name__) from exc


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
    env = ImmutableSandboxedEnvironment(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=_json_finalize,
    )
    env.filters = dict(environment().filters)
    return env


@functools.lru_cache(maxsize=256)
def compile_json_template(text: str) -> jinja2.Template:
    """A template over JSON text (schema_transform): printed values are JSON-escaped."""
    parse_template(text)
    return json_environment().from_string(text)


def iter_template_fields(obj: Any) -> Iterable[tuple[str, str]]:
    """(field name, template) pairs of a column config that are Jinja templates."""
    for field_name in ("prompt", "system_prompt", "expr"):
        value = getattr(obj, field_name, None)
        if isinstance(value, str):
            yield field_name, value
