"""Reply recipes: the prompt suffix each LLM column kind adds, and how its reply is parsed.

Follows the official response recipes: ``llm-text`` keeps ``content.strip()`` as is; ``llm-code``
keeps the last fenced code block (its language tag, when present, must match); ``llm-structured``
keeps the last fenced ```` ```json ```` block, or the whole reply when it has no fence: strict JSON
first, then, as the official engine does, the near-JSON models write (trailing commas, single quotes,
unquoted keys, an unclosed bracket, prose around the object) repaired with ``json_repair``; the repair
is noted (``Parsed.repair``, shown in the cell trace) and the repaired value is then validated as
strictly as any other (no NaN/Infinity; the schema, Draft 2020-12, with undeclared properties pruned);
``llm-judge`` is structured output with one ``{reasoning, score}`` object per score, the score coerced
to one of its option keys. A ``ParseProblem``'s text is what a correction turn sends back to the model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ParseProblem(ValueError):
    """The reply does not have the required shape; the message tells the model what went wrong."""


@dataclass(frozen=True)
class Parsed:
    """A parsed reply, and how it was repaired first (None when it parsed as written)."""

    value: Any
    repair: str | None = None


@dataclass(frozen=True)
class Recipe:
    """The prompt suffix of a column kind and its reply parser."""

    suffix: str
    parse_reply: Callable[[str], Parsed]

    def parse(self, reply: str) -> Any:
        return self.parse_reply(reply).value


CODE_SUFFIX = (
    "* Your response must be code written in {syntax}.\n"
    "* You will follow accepted and common syntax and best-practices.\n"
    "* Your response will be given in markdown code fences specifying the correct language.\n"
    "* Only respond with a SINGLE code block."
)

JSON_SUFFIX = (
    "* Your response must be in JSON format.\n"
    "* Your JSON response must be returned within a Markdown, ```json code fence.\n"
    "* The JSON format is given as a JSON Schema description within <response_schema> markup tags.\n"
    "\n"
    "<response_schema>\n"
    "{schema}\n"
    "</response_schema>"
)

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block, CommonMark style (an unclosed fence runs to the end)."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        fence = match.group("fence")
        language = (match.group("info").split() or [""])[0].lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[i])
            i += 1
        blocks.append((language, "\n".join(body)))
        i += 1
    return blocks


def text_recipe() -> Recipe:
    return Recipe("", lambda reply: Parsed(reply.strip()))


def code_recipe(code_lang: str) -> Recipe:
    syntax = code_lang.split(":", 1)[0]

    def parse(reply: str) -> Parsed:
        blocks = fenced_blocks(reply)
        if not blocks:
            raise ParseProblem("No parsable code response.")
        language, code = blocks[-1]
        if language and language != syntax:
            raise ParseProblem("Responded with code not matching the requested syntax.")
        return Parsed(code.strip())

    return Recipe(CODE_SUFFIX.format(syntax=syntax), parse)


def extract_json(reply: str) -> Any:
    """The last ```json block, else the whole reply, repaired when it is near-JSON; NaN and Infinity are
    refused."""
    return parse_json(reply).value


def parse_json(reply: str) -> Parsed:
    """``extract_json`` with the repair it needed, if any."""
    blocks = [code for language, code in fenced_blocks(reply) if language == "json"]
    text = blocks[-1] if blocks else reply.strip()

    def refuse(constant: str) -> float:
        raise ParseProblem(f"The JSON response contains {constant}, which is not valid JSON.")

    try:
        return Parsed(json.loads(text, parse_constant=refuse))
    except json.JSONDecodeError as exc:
        where = "in the ```json code fence" if blocks else "(no ```json code fence found)"
        problem = f"The response is not valid JSON {where}: {exc.msg} at line {exc.lineno}."
        error = exc
    import json_repair

    repaired = json_repair.loads(text)
    if repaired == "" or not isinstance(repaired, (dict, list)):  # json_repair's answer to "no JSON here"
        raise ParseProblem(problem) from error
    _refuse_non_finite(repaired, refuse)
    return Parsed(repaired, f"json_repair: {error.msg} at line {error.lineno} column {error.colno}")


def _refuse_non_finite(value: Any, refuse: Callable[[str], float]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        refuse("NaN" if math.isnan(value) else "Infinity")
    elif isinstance(value, dict):
        for item in value.values():
            _refuse_non_finite(item, refuse)
    elif isinstance(value, list):
        for item in value:
            _refuse_non_finite(item, refuse)


def prune(value: Any, schema: Any, root: dict[str, Any]) -> Any:
    """Drop properties the schema does not declare, unless it sets ``additionalProperties`` itself."""
    if not isinstance(schema, dict):
        return value
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return prune(value, target, root)
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        kept = value if "additionalProperties" in schema else {k: v for k, v in value.items() if k in props}
        return {k: prune(v, props.get(k), root) for k, v in kept.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(v, schema["items"], root) for v in value]
    return value


def structured_recipe(schema: dict[str, Any]) -> Recipe:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)

    def parse(reply: str) -> Parsed:
        parsed = parse_json(reply)
        value = prune(parsed.value, schema, schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "the top level"
            raise ParseProblem(f"The JSON response does not match the schema at {where}: {first.message}")
        return Parsed(value, parsed.repair)

    return Recipe(JSON_SUFFIX.format(schema=json.dumps(schema)), parse)


def judge_schema(scores: list[Any]) -> dict[str, Any]:
    """The JSON Schema of a judge reply: one required ``{reasoning, score}`` object per score."""
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for score in scores:
        options = "\n".join(f"* {key}: {text}" for key, text in score.options.items())
        title = re.sub(r"\W+", "", score.name.title()) or "Score"
        defs[title] = {
            "description": score.description,
            "properties": {
                "reasoning": {"description": "Reasoning for the assigned score.", "title": "Reasoning",
                              "type": "string"},
                "score": {"description": f"Score options:\n{options}",
                          "enum": [str(k) for k in score.options], "title": "Score"},
            },
            "required": ["reasoning", "score"],
            "title": title,
            "type": "object",
        }  # fmt: skip
        properties[score.name] = {"$ref": f"#/$defs/{title}"}
    return {
        "$defs": defs,
        "properties": properties,
        "required": [s.name for s in scores],
        "title": "JudgeStructuredOutput",
        "type": "object",
    }


def coerce_score(value: Any, options: list[Any]) -> str | None:
    """The option key a returned score means (``"4"``, ``4`` and ``4.0`` match ``4``; booleans never do)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    wanted = str(value).strip().lower()
    for key in options:
        if str(key).strip().lower() == wanted:
            return str(key)
    return None


def judge_recipe(scores: list[Any]) -> Recipe:
    schema = judge_schema(scores)

    def parse(reply: str) -> Parsed:
        parsed = parse_json(reply)
        data = parsed.value
        if not isinstance(data, dict):
            raise ParseProblem("The JSON response must be an object with one entry per score.")
        out: dict[str, Any] = {}
        for score in scores:
            entry = data.get(score.name)
            if not isinstance(entry, dict) or "score" not in entry:
                raise ParseProblem(f"The JSON response has no score for {score.name!r}.")
            key = coerce_score(entry["score"], list(score.options))
            if key is None:
                allowed = ", ".join(str(k) for k in score.options)
                raise ParseProblem(f"{score.name!r}: score {entry['score']!r} is not one of {allowed}.")
            out[score.name] = {"reasoning": str(entry.get("reasoning", "")), "score": key}
        return Parsed(out, parsed.repair)

    return Recipe(JSON_SUFFIX.format(schema=json.dumps(schema)), parse)


def recipe_for(column: Any) -> Recipe:
    kind = column.column_type
    if kind == "llm-code":
        return code_recipe(column.code_lang)
    if kind == "llm-structured":
        return structured_recipe(column.output_format)
    if kind == "llm-judge":
        return judge_recipe(list(column.scores))
    return text_recipe()
