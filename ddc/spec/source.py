"""YAML (and JSON) reading with a source position for every value, and duplicate keys refused.

``read_source`` returns plain data plus a ``SourceMap``: JSON path -> position of the key and of the
value. Spans are built by composing YAML nodes once; nothing is parsed twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ddc.errors import Diagnostic, SourceSpan, SpecError
from ddc.spec.source_limits import check_structure

PathKey = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Positions of keys and values by JSON path, for one source file."""

    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    #: character offsets [start, end) of each value and key in the decoded text (for surgical edits)
    value_ranges: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_ranges: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    #: unquoted words YAML 1.1 reads as booleans though they are rarely meant as such (``NO``, ``on``):
    #: the text as written, by path (``ddc.spec.checks`` warns; the official library reads them alike)
    yaml11_booleans: dict[PathKey, str] = field(default_factory=dict)

    def span(self, path: PathKey, *, key: bool = False) -> SourceSpan:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while True:
            if probe in table:
                line, col = table[probe]
                return SourceSpan(self.file, line, col)
            if key and probe in self.values:
                line, col = self.values[probe]
                return SourceSpan(self.file, line, col)
            if not probe:
                return SourceSpan(self.file, 1, 1)
            probe = probe[:-1]

    def rebased(self, prefix: PathKey) -> SourceMap:
        """A map where paths under ``prefix`` are addressed without it (for the wrapped form)."""
        n = len(prefix)
        out = SourceMap(
            self.file,
            dict(self.values),
            dict(self.keys),
            dict(self.value_ranges),
            dict(self.key_ranges),
            dict(self.yaml11_booleans),
        )
        for table, src in (
            (out.values, self.values),
            (out.keys, self.keys),
            (out.value_ranges, self.value_ranges),
            (out.key_ranges, self.key_ranges),
        ):
            for path, pos in src.items():
                if path[:n] == prefix:
                    table[path[n:]] = pos
        for path, text in self.yaml11_booleans.items():
            if path[:n] == prefix:
                out.yaml11_booleans[path[n:]] = text
        return out


@dataclass(frozen=True)
class Source:
    """A read spec file: its data, positions, display name, content hash and text."""

    data: Any
    map: SourceMap
    name: str
    path: Path | None
    sha256: str
    text: str = ""


def format_path(path: PathKey) -> str:
    """``("columns", 3, "params", "low")`` -> ``columns[3].params.low``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings (JSON has no dates; the official loader stringifies)."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)

_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """The same loader on libyaml: about 8x faster. Its nodes carry the same marks (character offsets)."""

    _CLoader.add_constructor(
        "tag:yaml.org,2002:timestamp",
        lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
    )
    _FastLoader = _CLoader


def _compose(loader: Any, name: str) -> tuple[Any, SourceMap]:
    """Data and positions from one loader; duplicate keys are collected into one SpecError."""
    try:
        node = loader.get_single_node()
        smap = SourceMap(name)
        if node is None:
            return None, smap
        problems: list[Diagnostic] = []
        _walk(node, (), smap, problems)
        if problems:
            raise SpecError(problems)
        return loader.construct_document(node), smap
    finally:
        loader.dispose()


def _fast_parse(decoded: str, name: str) -> tuple[Any, SourceMap] | None:
    """Parse with libyaml when it is installed; None sends the text to the pure-Python loader, whose
    messages (and refusal of control characters) the diagnostics are written against."""
    if _FastLoader is None or yaml.reader.Reader.NON_PRINTABLE.search(decoded):
        return None
    try:
        return _compose(_FastLoader(decoded), name)
    except yaml.YAMLError:
        return None


def read_source(text: str | bytes, name: str, path: Path | None = None) -> Source:
    """Parse ``text``; raise SpecError with the position of any syntax error or duplicate key."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    digest = hashlib.sha256(raw).hexdigest()
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            Diagnostic(
                f"not valid UTF-8 at byte {exc.start}",
                SourceSpan(name, 1, 1),
                hint="save the file as UTF-8",
                code="syntax",
            )
        ) from exc
    plain = not yaml.reader.Reader.NON_PRINTABLE.search(decoded)
    check_structure(decoded, name, (_FastLoader, _Loader) if _FastLoader is not None and plain else (_Loader,))
    fast = _fast_parse(decoded, name)
    if fast is not None:
        return Source(data=fast[0], map=fast[1], name=name, path=path, sha256=digest, text=decoded)
    try:
        loader = _Loader(decoded)
    except yaml.reader.ReaderError as exc:  # a control character YAML refuses, found before parsing starts
        before = decoded[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise SpecError(
            Diagnostic(
                f"YAML syntax error: control character U+{code:04X} is not allowed",
                SourceSpan(name, line, column),
                hint="remove it, or write it as an escape inside a double-quoted string",
                code="syntax",
            )
        ) from exc
    try:
        data, smap = _compose(loader, name)
    except yaml.MarkedYAMLError as exc:
        raise SpecError(_yaml_diagnostic(exc, name, decoded)) from exc
    except yaml.YAMLError as exc:
        raise SpecError(Diagnostic(f"cannot parse YAML: {exc}", SourceSpan(name, 1, 1), code="syntax")) from exc
    return Source(data=data, map=smap, name=name, path=path, sha256=digest, text=decoded)


def _walk(node: yaml.Node, path: PathKey, smap: SourceMap, problems: list[Diagnostic]) -> None:
    smap.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    smap.value_ranges.setdefault(path, (node.start_mark.index, node.end_mark.index))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = _scalar_key(key_node)
            child = (*path, key)
            if key in seen:
                first = seen[key].start_mark
                problems.append(
                    Diagnostic(
                        f"duplicate key {key!r} (first defined at line {first.line + 1})",
                        SourceSpan(smap.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                        format_path(child),
                        hint="remove one of them; YAML keeps only the last silently",
                        code="duplicate-key",
                    )
                )
                continue
            seen[key] = key_node
            smap.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            smap.key_ranges[child] = (key_node.start_mark.index, key_node.end_mark.index)
            _walk(value_node, child, smap, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), smap, problems)
    elif node.tag == _BOOL and not node.style and node.value.lower() not in ("true", "false"):
        smap.yaml11_booleans[path] = node.value


_BOOL = "tag:yaml.org,2002:bool"


def _scalar_key(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:int":
            try:
                return int(node.value)
            except ValueError:
                return node.value
        return node.value
    return f"<{node.id} key>"


def _yaml_diagnostic(exc: yaml.MarkedYAMLError, name: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    context = exc.context or ""
    at_end = "end of stream" in (exc.problem or "") or "<stream end>" in (exc.problem or "")
    if exc.context_mark is not None and (context.startswith("while scanning a simple key") or at_end):
        mark = exc.context_mark  # where the unclosed quote/bracket or the colon-less key starts
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    problem = exc.problem or "invalid YAML"
    hint = ""
    if "\t" in problem or "tab" in problem.lower():
        problem = "tab character in indentation"
        hint = "YAML indents with spaces only; replace the tab with spaces"
    elif "could not find expected ':'" in problem:
        hint = "a key needs ': ' after it, or a multi-line string needs quoting"
    elif "mapping values are not allowed" in problem:
        hint = "quote the value if it contains ': ', or fix the indentation"
    elif "found undefined alias" in problem:
        hint = "define the anchor (&name) before using the alias (*name)"
    elif problem.startswith("expected") or "unexpected end" in problem:
        hint = "check for an unclosed quote, bracket or brace"
    if exc.context and exc.context not in problem:
        problem = f"{problem} ({exc.context})" if "while" not in exc.context else problem
    return Diagnostic(f"YAML syntax error: {problem}", SourceSpan(name, line, col), hint=hint, code="syntax")
