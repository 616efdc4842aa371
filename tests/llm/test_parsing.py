"""Reply parsing recipes (pure functions; the column tests cover them over HTTP)."""

from __future__ import annotations

import pytest

from ddc.engine.llm.parsing import (
    ParseProblem,
    code_recipe,
    coerce_score,
    extract_json,
    fenced_blocks,
    parse_json,
    structured_recipe,
)


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


@pytest.mark.parametrize(
    "reply",
    [
        "```json\n{'name': 'cat', 'legs': 4}\n```",  # single quotes
        '```json\n{name: "cat", legs: 4}\n```',  # unquoted keys
        '```json\n{"name": "cat", "legs": 4\n```',  # cut off before the closing brace
        'Here it is: {"name": "cat", "legs": 4} -- enjoy!',  # prose around an unfenced object
        '```json\n{"name": "cat", // the animal\n "legs": 4}\n```',  # a comment
    ],
    ids=["single-quotes", "unquoted-keys", "unclosed", "prose-around", "comment"],
)
def test_near_json_the_official_engine_repairs_is_accepted(reply: str) -> None:
    assert extract_json(reply) == {"name": "cat", "legs": 4}


def test_a_repair_is_noted() -> None:
    parsed = parse_json("{'a': 1}")
    assert parsed.value == {"a": 1} and parsed.repair is not None and parsed.repair.startswith("json_repair: ")


def test_valid_json_needs_no_repair() -> None:
    assert parse_json('{"a": 1}').repair is None


def test_text_without_json_is_still_refused() -> None:
    with pytest.raises(ParseProblem, match="not valid JSON"):
        extract_json("I cannot answer that.")


def test_a_repaired_reply_must_still_match_the_schema() -> None:
    recipe = structured_recipe({"type": "object", "properties": {"legs": {"type": "integer"}}, "required": ["legs"]})
    with pytest.raises(ParseProblem, match="does not match the schema"):
        recipe.parse("{'legs': 'four'}")
