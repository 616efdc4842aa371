"""libyaml and the pure-Python loader must agree: same data, same positions, same character ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ddc.errors import SpecError
from ddc.spec import source

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "examples").glob("*.ddc.yaml")) + sorted((ROOT / "tests" / "compile" / "valid").glob("*.yaml"))

pytestmark = pytest.mark.skipif(source._FastLoader is None, reason="PyYAML was built without libyaml")


def _slow(text: str) -> tuple[object, source.SourceMap]:
    return source._compose(source._Loader(text), "x")


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_both_loaders_read_every_spec_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert source._fast_parse(text, "x") == _slow(text)


def test_offsets_count_characters_not_bytes() -> None:
    text = "name: 'héllo wörld ✓'\nnext: x\n"
    fast = source._fast_parse(text, "x")
    assert fast is not None and fast[1].value_ranges[("next",)] == _slow(text)[1].value_ranges[("next",)]


def test_control_characters_go_to_the_loader_that_refuses_them() -> None:
    assert source._fast_parse("a: b\x07\n", "x") is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SPECS), st.data())
def test_edited_specs_parse_alike_or_go_to_the_pure_python_loader(path: Path, data: st.DataObject) -> None:
    text = path.read_text(encoding="utf-8")
    start = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.sampled_from(["", ":", "- ", "  ", "{", "]", "'", '"', "\n", "&a ", "*a", "ü", "!!str "]))
    text = text[:start] + insert + text[start:]
    try:
        expected = _slow(text)
    except (yaml.YAMLError, SpecError):
        expected = None
    try:
        fast = source._fast_parse(text, "x")
    except SpecError:
        fast = None
    assert fast is None or fast == expected
