"""Schema and models agree on thousands of mutated specs, not only on the hand-written corpus.

Each case takes a valid corpus spec and makes one random edit (delete a key, add a key, replace a
value). The schema must never reject what the models accept, and when the models reject what the
schema accepts, the reason must be one a JSON Schema cannot express: a relation between values checked
in a model validator (low below high, start before end ...), reported with code ``invalid``.

Values that pydantic's lax mode coerces (``true`` for a number, ``"1.5"`` for a float, ``0`` for a
boolean) are left out on purpose: the schema is deliberately stricter there, so editors flag them.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from ddc.errors import SpecError
from ddc.spec.load import validate_source
from ddc.spec.schema import generate_schema
from ddc.spec.source import read_source

CORPUS = sorted((Path(__file__).resolve().parent / "corpus" / "valid").glob("*.yaml"))
CASES = 3000
VALUES: list[Any] = [
    None, 7, -3, 2.5, 1e9, "", "x", "uniform", "gaussian", "llm-text", "sampler", "expression", "{{ a }}",
    "data/a.csv", "atif", "base64", "image", "audio", "chat-completion", "embedding", "manual",
    "column_inequality", "scalar_inequality", "local", "query", "drop_columns", [], ["a"], [1, 2], {}, {"a": 1},
    {"low": 0, "high": 1}, {"values": [0.5]},
]  # fmt: skip
KEYS = [
    "extra", "mean", "low", "high", "values", "modality", "dimensions", "encoding_format", "constraint_type",
    "distribution_type", "generation_type", "params", "seed_type", "sampler_type", "column_type", "rhs",
    "image_format", "data_type", "path", "library_version", "num_records", "data_designer",
]  # fmt: skip


def walk(node: Any, path: tuple[Any, ...] = ()) -> Any:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


def mutate(rng: random.Random, doc: Any) -> Any:
    doc = copy.deepcopy(doc)
    path = rng.choice([p for p in walk(doc) if p])
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    roll = rng.random()
    if roll < 0.3 and isinstance(parent, dict):
        del parent[path[-1]]
    elif roll < 0.5 and isinstance(parent, dict):
        parent[rng.choice(KEYS)] = rng.choice(VALUES)
    else:
        parent[path[-1]] = rng.choice(VALUES)
    return doc


def model_codes(doc: Any) -> list[str] | None:
    """None when the models accept ``doc``, else the codes of their diagnostics."""
    try:
        validate_source(read_source(json.dumps(doc), "mutant"))
    except SpecError as exc:
        return [d.code for d in exc.diagnostics]
    return None


@pytest.fixture(scope="module")
def outcomes() -> list[tuple[Any, list[str] | None, bool]]:
    rng = random.Random(20260707)
    validator = Draft7Validator(generate_schema())
    docs = [read_source(p.read_bytes(), p.name).data for p in CORPUS]
    results = []
    for _ in range(CASES):
        mutant = mutate(rng, rng.choice(docs))
        results.append((mutant, model_codes(mutant), validator.is_valid(mutant)))
    return results


def test_schema_never_rejects_a_spec_the_models_accept(outcomes: list[tuple[Any, list[str] | None, bool]]) -> None:
    rejected = [json.dumps(doc)[:300] for doc, codes, schema_ok in outcomes if codes is None and not schema_ok]
    assert rejected == []


def test_models_reject_beyond_the_schema_only_for_value_relations(
    outcomes: list[tuple[Any, list[str] | None, bool]],
) -> None:
    beyond = [(codes, json.dumps(doc)[:300]) for doc, codes, ok in outcomes if codes is not None and ok]
    # pydantic may add the errors of the other members of a union (`top_p: float | distribution`)
    assert [(codes, doc) for codes, doc in beyond if "invalid" not in codes] == []


def test_mutations_exercise_both_outcomes(outcomes: list[tuple[Any, list[str] | None, bool]]) -> None:
    accepted = sum(codes is None for _, codes, _ in outcomes)
    assert 0.1 * CASES < accepted < 0.9 * CASES
