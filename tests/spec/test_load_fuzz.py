"""No input makes validation crash: arbitrary edits of real specs and arbitrary values in real places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ddc.api import validate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.ddc.yaml"))]
SOURCES += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "compile" / "valid").glob("*.yaml"))]

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6) | st.integers(), c, max_size=3),
    max_leaves=8,
)


@st.composite
def edited_source(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        insert = draw(
            st.sampled_from(["", ":", "-", "  ", "\t", "{", "}", "[", "'", '"', "\n", "{{", "%", "*a", "&a", "!!"])
        )
        text = text[:start] + insert + text[end:]
    return text


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def replaced_value(draw: st.DrawFn) -> str:
    data = yaml.safe_load(draw(st.sampled_from(SOURCES)))
    path = draw(st.sampled_from(_paths(data)[1:]))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = draw(values)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@settings(max_examples=150)
@given(edited_source())
def test_validate_never_raises_on_edited_specs(text: str) -> None:
    report = validate(text)
    for diag in report.diagnostics:
        assert diag.message


@settings(max_examples=150)
@given(replaced_value())
def test_validate_never_raises_on_wrong_values_anywhere(text: str) -> None:
    report = validate(text)
    assert all(d.span is not None for d in report.diagnostics if d.severity == "error")


@settings(max_examples=100)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_validate_never_raises_on_arbitrary_file_contents(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_bytes(raw)
        report = validate(str(path))
    assert report.ok or all(d.span is not None for d in report.diagnostics if d.severity == "error")
