"""Surgical edits of a YAML spec's text: change a few values, keep every comment and the key order.

Edits are character ranges taken from the source map (``SourceMap.value_ranges``/``key_ranges``) and
applied back to front, so untouched text is byte-identical. Used by ``ddc migrate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ddc.spec.source import PathKey, Source


def _scalar_text(value: Any) -> str:
    """A YAML scalar as it would be written inline (quoted when needed)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _block_text(value: Any, indent: int) -> str:
    """A YAML value in block style, every line indented by ``indent`` spaces."""
    dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=True, width=100)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in dumped.splitlines(keepends=True))


@dataclass
class SpecEditor:
    """Collects edits against one source text; ``text()`` applies them."""

    source: Source
    _edits: list[tuple[int, int, str]] = field(default_factory=list)
    _deleted: set[PathKey] = field(default_factory=set)

    @property
    def original(self) -> str:
        return self.source.text

    def _line_start(self, index: int) -> int:
        return self.original.rfind("\n", 0, index) + 1

    def _line_end(self, index: int) -> int:
        end = self.original.find("\n", index)
        return len(self.original) if end < 0 else end + 1

    def _column(self, index: int) -> int:
        return index - self._line_start(index)

    def _end_of_value_line(self, path: PathKey) -> int:
        """Just past the line holding the value's last character (block values end at the next token)."""
        start, end = self.source.map.value_ranges[path]
        while end > start and self.original[end - 1] in " \t\r\n":
            end -= 1
        return self._line_end(max(end - 1, start))

    def has(self, path: PathKey) -> bool:
        return path in self.source.map.value_ranges

    def set_value(self, path: PathKey, value: Any) -> None:
        """Replace the value at ``path``; scalars inline, collections as a flow or block value."""
        start, end = self.source.map.value_ranges[path]
        old = self.original[start:end]
        if not isinstance(value, (dict, list)):
            self._edits.append((start, end, _scalar_text(value)))
        elif old.lstrip().startswith(("{", "[")):
            flow = yaml.safe_dump(
                value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False
            ).strip()
            self._edits.append((start, end, flow))
        else:
            key_start = self.source.map.key_ranges.get(path, (start, start))[0]
            indent = self._column(key_start) + 2
            block = _block_text(value, indent)
            self._edits.append((start, end, "\n" + block.rstrip("\n") + ("\n" if old.endswith("\n") else "")))

    def delete_key(self, path: PathKey) -> None:
        """Remove a key and its value (whole lines in block style; the entry in flow style)."""
        key_start, _ = self.source.map.key_ranges[path]
        _, value_end = self.source.map.value_ranges[path]
        if self._in_flow(path):
            text = self.original
            after = value_end
            while after < len(text) and text[after] in " \t":
                after += 1
            if after < len(text) and text[after] == ",":
                self._edits.append((key_start, after + 1 + (1 if text[after + 1 : after + 2] == " " else 0), ""))
            else:
                before = text.rfind(",", self.source.map.value_ranges[path[:-1]][0], key_start)
                self._edits.append((before if before >= 0 else key_start, value_end, ""))
            self._deleted.add(path)
            return
        self._edits.append((self._line_start(key_start), self._end_of_value_line(path), ""))
        self._deleted.add(path)

    def add_key(self, mapping: PathKey, key: str, value: Any) -> None:
        """Add ``key: value`` as the last entry of the mapping at ``mapping``."""
        keys = [p for p in self.source.map.key_ranges if p[:-1] == mapping and len(p) == len(mapping) + 1]
        if self._flow_mapping(mapping):
            _, end = self.source.map.value_ranges[mapping]
            close = self.original.rfind("}", 0, end)
            entry = f"{key}: {yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()}"
            sep = ", " if any(k not in self._deleted for k in keys) else ""
            self._edits.append((close, close, sep + entry))
            return
        if not keys:
            raise ValueError(f"cannot add {key!r} to an empty or missing mapping")
        last = max(keys, key=lambda p: self.source.map.value_ranges[p][1])
        indent = self._column(self.source.map.key_ranges[last][0])
        insert_at = self._end_of_value_line(last)
        if isinstance(value, (dict, list)) and value:
            text = " " * indent + f"{key}:\n" + _block_text(value, indent + 2)
        else:
            text = " " * indent + f"{key}: {_scalar_text(value)}\n"
        if insert_at == len(self.original) and not self.original.endswith("\n"):
            text = "\n" + text
        self._edits.append((insert_at, insert_at, text))

    def append_item(self, sequence: PathKey, value: Any) -> None:
        """Append ``value`` to the list at ``sequence`` (flow lists get a flow item, block lists a block item)."""
        start, end = self.source.map.value_ranges[sequence]
        items = sorted(
            (p for p in self.source.map.value_ranges if p[:-1] == sequence and len(p) == len(sequence) + 1),
            key=lambda p: self.source.map.value_ranges[p][0],
        )
        if self.original[start : start + 1] == "[":
            close = self.original.rfind("]", 0, end)
            flow = yaml.safe_dump(
                value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False
            ).strip()
            self._edits.append((close, close, (", " if items else "") + flow))
            return
        if not items:
            raise ValueError("cannot append to an empty block list")
        first_start = self.source.map.value_ranges[items[0]][0]
        dash = self.original.rfind("-", self._line_start(first_start), first_start)
        indent = self._column(dash if dash >= 0 else first_start)
        insert_at = self._end_of_value_line(items[-1])
        if isinstance(value, dict) and value:
            flow = yaml.safe_dump(
                value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False
            ).strip()
            line = " " * indent + "- " + flow + "\n"
        else:
            line = " " * indent + "- " + _scalar_text(value) + "\n"
        self._edits.append((insert_at, insert_at, line))

    def _flow_mapping(self, path: PathKey) -> bool:
        if path not in self.source.map.value_ranges:
            return False
        start, _ = self.source.map.value_ranges[path]
        return self.original[start : start + 1] == "{"

    def _in_flow(self, path: PathKey) -> bool:
        return self._flow_mapping(path[:-1])

    def text(self) -> str:
        out = self.original
        for start, end, replacement in sorted(self._edits, key=lambda e: (e[0], e[1]), reverse=True):
            out = out[:start] + replacement + out[end:]
        return out
