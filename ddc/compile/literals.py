"""The one way user values reach generated code: exact Python literals, already formatted.

A value is first reduced to builtin JSON-like types (str, int, float, bool, None, list, dict); then
written as a literal whose text ``ast.literal_eval`` turns back into the same value. Strings are
escaped character by character, so no input (quotes, backslashes, newlines, ``{{ }}``, unicode) can
ever become code. Layout follows ruff/black: a collection stays on one line when it fits, otherwise one
element per line with a trailing comma; long multi-line strings become parenthesised implicit
concatenations, one source line per text line.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

LINE_LENGTH = 88
INDENT = "    "

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def text_width(text: str) -> int:
    """Columns ``text`` takes in an editor, as ruff counts them: wide East Asian characters take two."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def reduce_value(value: Any) -> Any:
    """Exact builtin types only: tuples become lists, keys stay as they are, anything else is refused."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [reduce_value(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"mapping key {k!r} is not a string or integer")
            out[reduce_value(k)] = reduce_value(v)
        return out
    raise TypeError(f"cannot emit a value of type {type(value).__name__}")


def string_literal(text: str) -> str:
    """A Python string literal for ``text``: double quotes unless single quotes need fewer escapes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = [quote]
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == quote:
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append(quote)
    return "".join(out)


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else '-float("inf")'
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    raise TypeError(f"not a scalar: {value!r}")


def inline(value: Any) -> str:
    """The single-line form of a reduced value."""
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {inline(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def literal(value: Any, indent: int = 0, prefix: str = "", suffix: str = "") -> str:
    """``prefix + value + suffix`` laid out at ``indent`` levels (no trailing newline).

    ``prefix`` is what precedes the value on its first line (``"name="`` or ``"\"key\": "``) and
    ``suffix`` what follows it (``","``); both count towards the line length, as in ruff."""
    value = reduce_value(value)
    pad = INDENT * indent
    flat = inline(value)
    if text_width(f"{pad}{prefix}{flat}{suffix}") <= LINE_LENGTH:
        return f"{pad}{prefix}{flat}{suffix}"
    inner = INDENT * (indent + 1)
    opened = _unclosed_parens(prefix)
    if opened and prefix.endswith("(") and suffix.startswith(")" * opened):
        # The value is a call's sole argument: ruff splits the outermost call first, then the value.
        head = prefix[: _first_unclosed_paren(prefix) + 1]
        argument = literal(value, indent + 1, prefix[len(head) :], ")" * (opened - 1))
        return f"{pad}{head}\n{argument}\n{pad}){suffix[opened:]}"
    one_line_str = isinstance(value, str) and "\n" not in value.rstrip("\n")
    if one_line_str and prefix.endswith(" = ") and text_width(inner + flat) <= LINE_LENGTH:
        # ruff parenthesises a long right-hand side when that makes it fit
        return f"{pad}{prefix}(\n{inner}{flat}\n{pad}){suffix}"
    if isinstance(value, list) and value:
        lines = [f"{pad}{prefix}["]
        lines += [literal(v, indent + 1, suffix=",") for v in value]
        lines.append(f"{pad}]{suffix}")
        return "\n".join(lines)
    if isinstance(value, dict) and value:
        lines = [f"{pad}{prefix}{{"]
        lines += [literal(v, indent + 1, prefix=f"{_scalar(k)}: ", suffix=",") for k, v in value.items()]
        lines.append(f"{pad}}}{suffix}")
        return "\n".join(lines)
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        if text_width(inner + flat) <= LINE_LENGTH:  # ruff joins implicit concatenations that fit
            return f"{pad}{prefix}(\n{inner}{flat}\n{pad}){suffix}"
        pieces = value.splitlines(keepends=True)
        lines = [f"{pad}{prefix}("]
        lines += [f"{inner}{string_literal(piece)}" for piece in pieces]
        lines.append(f"{pad}){suffix}")
        return "\n".join(lines)
    return f"{pad}{prefix}{flat}{suffix}"


def _unclosed_parens(text: str) -> int:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
    return depth


def _first_unclosed_paren(text: str) -> int:
    """Index of the outermost "(" that ``text`` leaves open."""
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
    return stack[0]
