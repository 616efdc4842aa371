"""The JSON Schema: committed file is current, draft-07, and agrees with the models spec by spec."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from ddc.errors import SpecError
from ddc.spec.load import validate_source
from ddc.spec.schema import generate_schema, schema_text
from ddc.spec.source import read_source
from ddc.spec.vocab import SAMPLER_TYPES

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "ddc.schema.json"
CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
COLUMN_TYPES = (
    "sampler", "llm-text", "llm-code", "llm-structured", "llm-judge", "expression", "validation",
    "seed-dataset", "embedding", "image",
)  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return generate_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema)


def schema_errors(validator: Draft7Validator, path: Path) -> list[str]:
    data = read_source(path.read_bytes(), path.name).data
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def model_errors(path: Path) -> list[str]:
    try:
        validate_source(read_source(path.read_bytes(), path.name))
    except SpecError as exc:
        return [d.format() for d in exc.diagnostics]
    return []


def walk(node: Any, path: str = "#") -> Any:
    """Every (json-pointer, mapping) in the schema."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


# --- the committed file --------------------------------------------------------------------------------


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schemas/ddc.schema.json is stale: run `ddc schema -o schemas/ddc.schema.json` and commit it"
    )


def test_schema_text_is_identical_across_hash_seeds() -> None:
    code = "import sys; from ddc.spec.schema import schema_text; sys.stdout.write(schema_text())"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


# --- shape -------------------------------------------------------------------------------------------------


def test_schema_declares_draft_07_and_is_a_valid_draft_07_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


def test_schema_uses_only_draft_07_definitions_and_no_pydantic_keywords(schema: dict[str, Any]) -> None:
    text = json.dumps(schema)
    assert "$defs" not in text
    assert '"discriminator"' not in text
    refs = {node["$ref"] for _, node in walk(schema) if isinstance(node.get("$ref"), str)}
    assert all(ref.startswith("#/definitions/") for ref in refs)
    assert {ref.removeprefix("#/definitions/") for ref in refs} <= set(schema["definitions"])


def test_every_property_has_a_description(schema: dict[str, Any]) -> None:
    missing = [
        f"{where}/{name}"
        for where, node in walk(schema)
        if isinstance(node.get("properties"), dict) and not where.endswith("/if") and "/dependencies/" not in where
        for name, prop in node["properties"].items()
        if isinstance(prop, dict) and set(prop) - {"const", "type", "required", "minLength"}
        if not prop.get("description")
    ]
    assert missing == []


def test_no_python_class_name_is_visible(schema: dict[str, Any]) -> None:
    import ddc.spec.columns
    import ddc.spec.document
    import ddc.spec.inference
    import ddc.spec.processing
    import ddc.spec.samplers
    import ddc.spec.seeds

    class_names = {
        name
        for module in (
            ddc.spec.columns,
            ddc.spec.document,
            ddc.spec.inference,
            ddc.spec.processing,
            ddc.spec.samplers,
            ddc.spec.seeds,
        )
        for name, value in vars(module).items()
        if isinstance(value, type)
    }
    visible = set(schema["definitions"]) | {n.get("title") for _, n in walk(schema) if isinstance(n.get("title"), str)}
    assert visible & class_names == set()


def test_column_type_is_a_required_enum_of_every_column_type(schema: dict[str, Any]) -> None:
    column = schema["definitions"]["column"]
    assert column["required"] == ["column_type"]
    assert column["properties"]["column_type"]["enum"] == list(COLUMN_TYPES)


def test_sampler_type_is_a_required_enum_of_all_14_samplers(schema: dict[str, Any]) -> None:
    sampler = schema["definitions"]["column-sampler"]
    assert sampler["required"] == ["sampler_type"]
    assert sampler["properties"]["sampler_type"]["enum"] == list(SAMPLER_TYPES)
    assert len(SAMPLER_TYPES) == 14


def test_uniform_sampler_params_offer_only_uniform_keys(schema: dict[str, Any]) -> None:
    column = schema["definitions"]["column-sampler-uniform"]
    assert column["properties"]["params"]["$ref"] == "#/definitions/sampler-params-uniform"
    params = schema["definitions"]["sampler-params-uniform"]
    assert set(params["properties"]) == {"low", "high", "decimal_places", "sampler_type"}
    assert params["additionalProperties"] is False


def test_params_sampler_type_is_an_optional_const(schema: dict[str, Any]) -> None:
    params = schema["definitions"]["sampler-params-uniform"]
    assert params["properties"]["sampler_type"]["const"] == "uniform"
    assert "sampler_type" not in params.get("required", [])


def test_main_fields_have_markdown_with_an_example(schema: dict[str, Any]) -> None:
    definitions = schema["definitions"]
    main_fields = [
        ("spec", "columns"), ("spec", "seed_config"), ("column", "column_type"),
        ("column-sampler", "sampler_type"),
        ("column-llm-text", "model_alias"), ("column-llm-text", "prompt"), ("column-expression", "expr"),
    ]  # fmt: skip
    for definition, name in main_fields:
        assert "```yaml" in definitions[definition]["properties"][name]["markdownDescription"], (
            definition,
            name,
        )


# --- snippets ---------------------------------------------------------------------------------------------


def snippet_default(value: Any) -> Any:
    """A snippet body with every ${n:default} placeholder replaced by its default, as an editor inserts it."""
    import re

    if isinstance(value, dict):
        return {snippet_default(k): snippet_default(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snippet_default(v) for v in value]
    if isinstance(value, str):
        text = re.sub(r"\$\{\d+:((?:[^}\\]|\\.)*)\}", r"\1", value).replace("\\}", "}")
        if text.startswith("^"):
            return json.loads(text[1:])
        return int(text) if text.isdigit() else text
    return value


def test_there_is_one_snippet_per_sampler_type_and_per_other_column_type(schema: dict[str, Any]) -> None:
    bodies = [s["body"] for s in schema["definitions"]["spec"]["properties"]["columns"]["defaultSnippets"]]
    samplers = [b["sampler_type"] for b in bodies if b["column_type"] == "sampler"]
    others = [b["column_type"] for b in bodies if b["column_type"] != "sampler"]
    assert samplers == list(SAMPLER_TYPES)
    assert others == list(COLUMN_TYPES[1:])


def test_every_column_snippet_scaffolds_a_valid_column(schema: dict[str, Any], validator: Draft7Validator) -> None:
    for snippet in schema["definitions"]["spec"]["properties"]["columns"]["defaultSnippets"]:
        column = snippet_default(snippet["body"])
        spec = {"columns": [column]}
        assert list(validator.iter_errors(spec)) == [], snippet["label"]
        text = json.dumps(spec)
        validate_source(read_source(text, snippet["label"]))


# --- agreement with the models ------------------------------------------------------------------------------


def test_corpus_is_large_enough() -> None:
    assert len(VALID) >= 30
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_spec_is_accepted_by_schema_and_models(validator: Draft7Validator, path: Path) -> None:
    assert model_errors(path) == []
    assert schema_errors(validator, path) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_is_rejected_by_schema_and_models(validator: Draft7Validator, path: Path) -> None:
    assert model_errors(path) != [], "the models accept it"
    assert schema_errors(validator, path) != [], "the schema accepts it"


EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_satisfies_the_schema(validator: Draft7Validator, path: Path) -> None:
    assert schema_errors(validator, path) == []
