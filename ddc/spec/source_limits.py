"""Limits a YAML document must respect before it is composed: alias bombs and deep nesting.

A 295-byte "billion laughs" document names 10^9 nodes through nested aliases; composing and walking
it took 46 s and 3 GB before a MemoryError, and ``a: &a [*a]`` or 1,000 nested brackets end in a
RecursionError. One streaming pass over the parser's events (no nodes built) counts what the
document would expand to and refuses it at the line of the alias or bracket that crosses a limit.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import yaml

from ddc.errors import Diagnostic, SourceSpan, SpecError

#: Nested mappings and lists; real specs stay below 20 (a JSON schema of structured output included).
MAX_DEPTH = 100
#: Aliases in one document; real specs use a handful (a shared model config, a shared prompt).
MAX_ALIASES = 10_000
#: Nodes reached through aliases, counted with every repetition: what anchors and aliases may add.
MAX_ALIAS_NODES = 200_000


@dataclass
class _Frame:
    anchor: str | None
    size: int = 1  # this collection's node plus everything in it, aliases expanded


def check_structure(text: str, name: str, loaders: tuple[type, ...]) -> None:
    """Raise SpecError when ``text`` nests deeper than MAX_DEPTH or its aliases expand past the limits.

    A syntax error stops a pass quietly and the next loader tries (libyaml refuses some documents the
    pure-Python parser reads); the composer reports what none could parse, with its own position."""
    for loader in loaders:
        try:
            _check_events(text, name, loader)
            return
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            if mark is not None and "nesting depth" in str(exc.problem):
                # libyaml stops at its own depth limit (1000) before yielding a single event (the
                # pure-Python scanner is quadratic in open brackets): the text up to there nests past
                # MAX_DEPTH and, cut short, yields its events.
                with contextlib.suppress(yaml.YAMLError):
                    _check_events(text[: mark.index], name, loader)
                _refuse(name, exc, f"nested more than {MAX_DEPTH} levels deep", "flatten the structure")
        except yaml.YAMLError:
            pass


def _check_events(text: str, name: str, loader: type) -> None:
    stack: list[_Frame] = []
    sizes: dict[str, int] = {}  # anchor -> expanded size of its node (complete nodes only)
    aliases = alias_nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                _refuse(name, event, f"nested more than {MAX_DEPTH} levels deep", "flatten the structure")
            stack.append(_Frame(event.anchor))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                sizes[done.anchor] = done.size
            if stack:
                stack[-1].size += done.size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            if stack:
                stack[-1].size += 1
        elif isinstance(event, yaml.AliasEvent):
            anchor = event.anchor
            if any(frame.anchor == anchor for frame in stack):
                _refuse(
                    name,
                    event,
                    f"alias *{anchor} refers to its own anchor (a recursive structure)",
                    "a spec is a tree: copy the value instead",
                )
            size = sizes.get(anchor, 1)  # an undefined alias is the composer's to report
            aliases += 1
            alias_nodes += size
            if aliases > MAX_ALIASES or alias_nodes > MAX_ALIAS_NODES:
                what = f"{aliases} aliases" if aliases > MAX_ALIASES else f"{alias_nodes:,} nodes"
                _refuse(
                    name,
                    event,
                    f"alias *{anchor} expands the document past {what} (an alias bomb?)",
                    f"at most {MAX_ALIASES:,} aliases adding {MAX_ALIAS_NODES:,} nodes; write the values out",
                )
            if stack:
                stack[-1].size += size


def _refuse(name: str, event: Any, message: str, hint: str) -> None:
    mark = getattr(event, "start_mark", None) or event.problem_mark
    raise SpecError(
        Diagnostic(f"YAML {message}", SourceSpan(name, mark.line + 1, mark.column + 1), hint=hint, code="yaml-limit")
    )
