"""Reply parsing recipes (pure functions; the column tests cover them over HTTP)."""

from __future__ import annotations

import pytest

from ddc.engine.llm.parsing import ParseProblem, code_recipe, coerce_score, extract_json, fenced_blocks


def test_unclosed_fence_runs_to_the_end() -> None:
    assert fenced_blocks("```python\nx = 1\n") == [("python", "x = 1\n")]


def test_untagged_fence_is_accepted_as_code() -> None:
    assert code_recipe("python").parse("```\nx = 1\n```") == "x = 1"


def test_reply_without_fence_is_not_code() -> None:
    with pytest.raises(ParseProblem, match="No parsable code response"):
        code_recipe("python").parse("x = 1")


def test_trailing_commas_are_repaired() -> None:
    assert extract_json('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}


def test_nan_is_refused() -> None:
    with pytest.raises(ParseProblem, match="NaN"):
        extract_json('{"a": NaN}')


def test_string_score_matches_an_integer_option() -> None:
    assert coerce_score(" 4 ", [1, 4]) == "4"
