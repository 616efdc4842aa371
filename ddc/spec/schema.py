"""The JSON Schema of ddc specs, made for validators and editors alike.

Generated from the pydantic models (``Spec.model_json_schema``), then reshaped so that

* it is plain draft-07 (``definitions``, no ``discriminator`` keyword), which is what most editors use;
* every union on a tag (``column_type``, ``sampler_type``, ``seed_type`` ...) becomes one object with an
  ``enum`` of the tags and an ``if``/``then`` per tag. An editor therefore completes the tag from the
  enum, offers only the keys of the chosen variant (``low``, ``high``, ``decimal_places`` inside a uniform
  sampler's ``params``) and reports a wrong tag as "not one of <the valid values>", instead of the error
  soup a ``oneOf`` of every variant gives;
* the unions pydantic resolves with a function (legacy constraints without ``constraint_type``, inference
  params without ``generation_type``, contexts without ``modality``, distributions without
  ``distribution_type``) are mirrored rule for rule, so the schema accepts what the models accept;
* definitions and titles use public names (``uniform sampler column``), never Python class names;
* the main fields carry a ``markdownDescription`` with an example, and column and sampler types carry
  ``defaultSnippets`` that scaffold a valid column in one keystroke.

The output is a pure function of the models: same ddc, same bytes (see ``schema_text``).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from ddc.errors import DdcError, InternalError
from ddc.fsutil import write_atomic
from ddc.spec.vocab import FAKER_LOCALES, MAX_AGE, MIN_AGE, PERSONA_LOCALES, SAMPLER_TYPES

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
#: Where the schema is meant to be published; editors only use it as the schema's name.
SCHEMA_ID = "https://ddc.example/schemas/ddc.schema.json"
#: File-name convention the editor wiring maps to the schema.
SPEC_GLOBS: tuple[str, ...] = ("*.ddc.yaml", "*.ddc.yml")

Schema = dict[str, Any]

# --- public names -------------------------------------------------------------------------------------

#: pydantic model name -> (definition name, title shown in hover and completion).
_PUBLIC: dict[str, tuple[str, str]] = {
    "Spec": ("spec", "ddc spec"),
    "LocalProvider": ("local-provider", "local model provider"),
    "MCPProviderConfig": ("mcp-provider", "MCP provider"),
    "RunSettings": ("run-settings", "run settings"),
    "SubmitSettings": ("submit-settings", "submit settings"),
    "ModelConfig": ("model-config", "model config"),
    "ChatCompletionParams": ("inference-chat-completion", "chat-completion inference parameters"),
    "EmbeddingParams": ("inference-embedding", "embedding inference parameters"),
    "ImageParams": ("inference-image", "image inference parameters"),
    "UniformDistribution": ("distribution-uniform", "uniform distribution"),
    "UniformDistributionParams": ("distribution-uniform-params", "uniform distribution params"),
    "ManualDistribution": ("distribution-manual", "manual distribution"),
    "ManualDistributionParams": ("distribution-manual-params", "manual distribution params"),
    "SkipConfig": ("skip", "skip condition"),
    "ImageContext": ("context-image", "image context"),
    "AudioContext": ("context-audio", "audio context"),
    "VideoContext": ("context-video", "video context"),
    "LLMTextColumn": ("column-llm-text", "llm-text column"),
    "LLMCodeColumn": ("column-llm-code", "llm-code column"),
    "LLMStructuredColumn": ("column-llm-structured", "llm-structured column"),
    "LLMJudgeColumn": ("column-llm-judge", "llm-judge column"),
    "Score": ("judge-score", "judge score"),
    "ExpressionColumn": ("column-expression", "expression column"),
    "CodeValidationColumn": ("column-validation-code", "code validation column"),
    "RemoteValidationColumn": ("column-validation-remote", "remote validation column"),
    "CodeValidatorParams": ("validator-params-code", "code validator params"),
    "RemoteValidatorParams": ("validator-params-remote", "remote validator params"),
    "SeedDatasetColumn": ("column-seed-dataset", "seed-dataset column"),
    "EmbeddingColumn": ("column-embedding", "embedding column"),
    "ImageColumn": ("column-image", "image column"),
    "SeedConfig": ("seed-config", "seed config"),
    "LocalFileSeedSource": ("seed-source-local", "local file seed"),
    "HuggingFaceSeedSource": ("seed-source-hf", "Hugging Face seed"),
    "DirectorySeedSource": ("seed-source-directory", "directory seed"),
    "FileContentsSeedSource": ("seed-source-file-contents", "file contents seed"),
    "AgentRolloutSeedSource": ("seed-source-agent-rollout", "agent rollout seed"),
    "FilesetSeedSource": ("seed-source-nmp", "NeMo fileset seed"),
    "QuerySeedSource": ("seed-source-query", "DuckDB query seed (ddc)"),
    "IndexRange": ("selection-index-range", "index range"),
    "PartitionBlock": ("selection-partition-block", "partition block"),
    "ScalarInequalityConstraint": ("constraint-scalar-inequality", "scalar inequality constraint"),
    "ColumnInequalityConstraint": ("constraint-column-inequality", "column inequality constraint"),
    "DropColumnsProcessor": ("processor-drop-columns", "drop_columns processor"),
    "SchemaTransformProcessor": ("processor-schema-transform", "schema_transform processor"),
    "JudgeScoreProfiler": ("profiler-judge-score", "judge score profiler"),
    "ToolConfig": ("tool-config", "tool config"),
}
for _tag in SAMPLER_TYPES:
    _camel = "".join(part.capitalize() for part in _tag.split("_"))
    _PUBLIC[f"{_camel}Params"] = (f"sampler-params-{_tag}", f"{_tag} sampler params")
    _PUBLIC[f"{_camel}SamplerColumn"] = (f"column-sampler-{_tag}", f"{_tag} sampler column")

_REF = "#/definitions/"


def _public(model: str) -> tuple[str, str]:
    if model not in _PUBLIC:
        raise InternalError(f"model {model} has no public name: add it to _PUBLIC in {__name__}")
    return _PUBLIC[model]


def _ref(name: str) -> Schema:
    return {"$ref": _REF + name}


# --- tag dispatch ---------------------------------------------------------------------------------------


def _dispatch(
    tag: str,
    cases: list[tuple[str, Schema]],
    *,
    title: str,
    description: str,
    tag_description: str,
    required: bool = True,
    untagged: Schema | None = None,
) -> Schema:
    """One object whose ``tag`` is an enum and whose other keys follow the variant the tag names.

    ``untagged`` is the schema applied when the tag is absent (the models infer it); without it the tag
    is required."""
    tag_schema: Schema = {
        "title": tag.replace("_", " ").title(),
        "description": tag_description,
        "type": "string",
        "enum": [value for value, _ in cases],
    }
    branches: list[Schema] = [
        {
            "if": {"type": "object", "properties": {tag: {"const": value}}, "required": [tag]},
            "then": _ref_of(case),
        }
        for value, case in cases
    ]
    if untagged is not None:
        branches.append({"if": {"type": "object", "not": {"required": [tag]}}, "then": untagged})
    node: Schema = {
        "title": title,
        "description": description,
        "type": "object",
        "properties": {tag: tag_schema},
        "allOf": branches,
    }
    if required and untagged is None:
        node["required"] = [tag]
    return node


def _ref_of(case: Schema) -> Schema:
    return {"$ref": case["$ref"]} if "$ref" in case else case


# --- conversion of pydantic's output -------------------------------------------------------------------


class _Converter:
    """Rewrites pydantic's draft 2020-12 flavoured output into the editor-friendly draft-07 schema."""

    def __init__(self, defs: dict[str, Schema]) -> None:
        self.source = defs
        self.out: dict[str, Schema] = {}

    def run(self) -> dict[str, Schema]:
        for name in sorted(self.source):
            public, title = _public(name)
            node = self.convert(self.source[name])
            node["title"] = title
            if "description" in node:
                node["description"] = " ".join(node["description"].split()).replace("``", "`")
            self.out[public] = node
        return self.out

    def convert(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            ref: Schema = {"$ref": _REF + _public(name)[0]}
            ref.update({k: self.convert(v) for k, v in node.items() if k != "$ref"})
            return ref
        if "discriminator" in node:
            return self.tagged_union(node)
        if "oneOf" in node and all("$ref" in alt for alt in node["oneOf"]):
            names = frozenset(alt["$ref"].rsplit("/", 1)[-1] for alt in node["oneOf"])
            return self.inferred_union(names, node)
        return {key: self.convert(value) for key, value in node.items()}

    def tagged_union(self, node: Schema) -> Schema:
        """pydantic's ``oneOf`` + ``discriminator`` -> a reference to a named dispatch definition."""
        tag = node["discriminator"]["propertyName"]
        mapping = node["discriminator"]["mapping"]
        if tag not in _TAGGED:
            raise InternalError(f"no dispatch definition for unions tagged {tag!r}: add it to _TAGGED in {__name__}")
        name, title, description, tag_description, order = _TAGGED[tag]
        if name not in self.out:
            cases = []
            for value in order:
                target = mapping[value]
                if isinstance(target, str):
                    cases.append((value, self.convert({"$ref": target})))
                else:
                    cases.append((value, self.tagged_union(target)))
            self.out[name] = _dispatch(
                tag, cases, title=title, description=description, tag_description=tag_description
            )
        extra = {k: v for k, v in node.items() if k in {"description", "title", "default"}}
        return {**_ref(name), **extra}

    def inferred_union(self, names: frozenset[str], node: Schema) -> Schema:
        """Unions whose member pydantic picks with a function: mirror the function's rules."""
        builder = _INFERRED.get(names)
        if builder is None:
            raise InternalError(
                f"no dispatch rule for the union of {sorted(names)}: add one to _INFERRED in {__name__}"
            )
        name = builder(self)
        extra = {k: v for k, v in node.items() if k in {"description", "title", "default"}}
        return {**_ref(name), **extra}


def _constraint(conv: _Converter) -> str:
    name = "constraint"
    if name not in conv.out:
        scalar, column = _ref("constraint-scalar-inequality"), _ref("constraint-column-inequality")
        conv.out[name] = _dispatch(
            "constraint_type",
            [("scalar_inequality", scalar), ("column_inequality", column)],
            title="constraint",
            description="An inequality a sampler column must satisfy; rows that break it are resampled.",
            tag_description="`scalar_inequality` (compare with a number) or `column_inequality` (compare "
            "with another sampler column). When absent it is inferred: a text `rhs` names a column.",
            untagged={
                "if": {"properties": {"rhs": {"type": "string"}}, "required": ["rhs"]},
                "then": column,
                "else": scalar,
            },
        )
    return name


def _inference(conv: _Converter) -> str:
    name = "inference-parameters"
    if name not in conv.out:
        chat, emb, img = (_ref(f"inference-{k}") for k in ("chat-completion", "embedding", "image"))
        conv.out[name] = _dispatch(
            "generation_type",
            [("chat-completion", chat), ("embedding", emb), ("image", img)],
            title="inference parameters",
            description="Generation type and request parameters of a model.",
            tag_description="`chat-completion` (LLM columns), `embedding` or `image`. When absent it is "
            "inferred: `encoding_format` or `dimensions` mean embedding, anything else chat-completion.",
            untagged={
                "if": {"anyOf": [{"required": ["encoding_format"]}, {"required": ["dimensions"]}]},
                "then": emb,
                "else": chat,
            },
        )
    return name


def _distribution(conv: _Converter) -> str:
    name = "distribution"
    if name not in conv.out:
        uniform, manual = _ref("distribution-uniform"), _ref("distribution-manual")
        conv.out[name] = _dispatch(
            "distribution_type",
            [("uniform", uniform), ("manual", manual)],
            title="distribution",
            description="A value sampled for every request.",
            tag_description="`uniform` (a range) or `manual` (listed values). When absent it is inferred: "
            "`params.values` means manual, anything else uniform.",
            untagged={
                "if": {
                    "properties": {"params": {"type": "object", "required": ["values"]}},
                    "required": ["params"],
                },
                "then": manual,
                "else": uniform,
            },
        )
    return name


def _context(conv: _Converter) -> str:
    name = "multi-modal-context"
    if name not in conv.out:
        image, audio, video = (_ref(f"context-{k}") for k in ("image", "audio", "video"))
        conv.out[name] = _dispatch(
            "modality",
            [("image", image), ("audio", audio), ("video", video)],
            title="multi-modal context",
            description="An image, audio or video column sent to the model with the prompt.",
            tag_description="`image`, `audio` or `video`; may be omitted for images.",
            untagged=image,
        )
    return name


_INFERRED = {
    frozenset({"ScalarInequalityConstraint", "ColumnInequalityConstraint"}): _constraint,
    frozenset({"ChatCompletionParams", "EmbeddingParams", "ImageParams"}): _inference,
    frozenset({"UniformDistribution", "ManualDistribution"}): _distribution,
    frozenset({"ImageContext", "AudioContext", "VideoContext"}): _context,
}

_COLUMN_ORDER = (
    "sampler", "llm-text", "llm-code", "llm-structured", "llm-judge", "expression", "validation",
    "seed-dataset", "embedding", "image",
)  # fmt: skip

#: tag -> (definition name, title, description, tag description, tag order)
_TAGGED: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "column_type": (
        "column",
        "column",
        "One column of the dataset; `column_type` says how its values are made.",
        "How the column's values are made: a statistical `sampler`, an LLM (`llm-text`, `llm-code`, "
        "`llm-structured`, `llm-judge`), a Jinja `expression`, a `validation`, the `seed-dataset`, an "
        "`embedding` or an `image`.",
        _COLUMN_ORDER,
    ),
    "sampler_type": (
        "column-sampler",
        "sampler column",
        "A column sampled from a distribution or dataset, without a model.",
        "The sampler; it decides which keys `params` takes.",
        SAMPLER_TYPES,
    ),
    "validator_type": (
        "column-validation",
        "validation column",
        "A column holding validation results of other columns.",
        "`code` (lint Python or parse SQL locally) or `remote` (an HTTP endpoint).",
        ("code", "remote"),
    ),
    "seed_type": (
        "seed-source",
        "seed source",
        "Where the seed rows come from.",
        "Kind of seed source: `local` file(s), Hugging Face `hf`, `directory` listing, `file_contents`, "
        "`agent_rollout` traces, NeMo fileset `nmp`, or ddc's DuckDB `query` over local tables.",
        ("local", "hf", "directory", "file_contents", "agent_rollout", "nmp", "query"),
    ),
    "processor_type": (
        "processor",
        "processor",
        "A step run on the generated dataset.",
        "`drop_columns` or `schema_transform`.",
        ("drop_columns", "schema_transform"),
    ),
}


# --- refinements the models check in validators -----------------------------------------------------


def _ci_suffix(suffixes: tuple[str, ...]) -> str:
    """A case-insensitive 'ends with one of' pattern that ECMAScript and Python both understand."""
    parts = ["".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in s) for s in suffixes]
    return "(" + "|".join(parts) + ")$"


_SEED_SUFFIX = _ci_suffix((".parquet", ".csv", ".json", ".jsonl"))
_NUMERIC_SAMPLERS = (
    "category", "subcategory", "uniform", "gaussian", "bernoulli", "bernoulli_mixture", "binomial", "poisson",
    "scipy",
)  # fmt: skip


def _refine(defs: dict[str, Schema]) -> None:
    """Express the models' simple field validators in the schema, so editors flag them while typing."""

    def prop(definition: str, name: str) -> Schema:
        node = defs[definition]["properties"][name]
        for alt in node.get("anyOf", []):  # optional fields: refine the non-null branch
            if alt.get("type") != "null":
                return alt
        return node

    for tag in SAMPLER_TYPES:
        column = defs[f"column-sampler-{tag}"]["properties"]
        column["skip"] = {"type": "null", "description": column["skip"]["description"], "default": None}
    for tag in _NUMERIC_SAMPLERS:
        prop(f"column-sampler-{tag}", "convert_to")["enum"] = ["int", "float", "str"]
    seed_col = defs["column-seed-dataset"]["properties"]
    seed_col["skip"] = {
        "type": "null",
        "description": "Not allowed on seed-dataset columns.",
        "default": None,
    }

    prop("sampler-params-person", "locale")["enum"] = list(PERSONA_LOCALES)
    prop("sampler-params-person_from_faker", "locale")["enum"] = list(FAKER_LOCALES)
    for tag in ("person", "person_from_faker"):
        prop(f"sampler-params-{tag}", "age_range")["items"].update(minimum=MIN_AGE, maximum=MAX_AGE)
    prop("sampler-params-subcategory", "values")["additionalProperties"]["minItems"] = 1
    prop("judge-score", "options")["minProperties"] = 1

    prop("sampler-params-category", "weights")["items"]["minimum"] = 0
    for name, high in (("temperature", 2), ("top_p", 1)):
        number = next(
            a for a in defs["inference-chat-completion"]["properties"][name]["anyOf"] if a.get("type") == "number"
        )
        number.update(minimum=0, maximum=high)
    for tag in ("datetime", "timedelta"):
        prop(f"column-sampler-{tag}", "convert_to")["pattern"] = "%"
    prop("skip", "when")["pattern"] = r"^(?=[\s\S]*\{\{)(?=[\s\S]*\}\})"
    prop("column-expression", "expr")["pattern"] = r"\S"
    prop("seed-source-query", "query")["pattern"] = r"\S"
    tables = prop("seed-source-query", "tables")
    tables["propertyNames"] = {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
    tables["additionalProperties"]["pattern"] = _SEED_SUFFIX
    prop("seed-source-local", "path")["pattern"] = _SEED_SUFFIX
    prop("seed-source-nmp", "path")["pattern"] = r"^(?:[^/#]+/)?[^/#]+#.+$"
    for source in ("seed-source-directory", "seed-source-file-contents"):
        prop(source, "file_pattern")["pattern"] = r"^[^/]*$"
    defs["seed-source-agent-rollout"]["allOf"] = [
        {
            "if": {"properties": {"format": {"const": "atif"}}, "required": ["format"]},
            "then": {"properties": {"path": {"type": "string", "minLength": 1}}, "required": ["path"]},
        }
    ]
    for kind in ("image", "audio", "video"):
        defs[f"context-{kind}"]["allOf"] = [
            {
                "if": {"properties": {"data_type": {"const": "base64"}}, "required": ["data_type"]},
                "then": {
                    "properties": {f"{kind}_format": {"type": "string"}},
                    "required": [f"{kind}_format"],
                },
            }
        ]

    prop("local-provider", "api_key")["pattern"] = (
        r"^([A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9][A-Za-z0-9_.@+-]*/[A-Za-z0-9][A-Za-z0-9_.@+-]*)$"
    )
    prop("local-provider", "endpoint")["pattern"] = r"^https?://"
    prop("mcp-provider", "endpoint")["pattern"] = r"^https?://"
    prop("mcp-provider", "api_key")["pattern"] = r"^[A-Za-z_][A-Za-z0-9_]*$"
    defs["mcp-provider"]["oneOf"] = [{"required": ["command"]}, {"required": ["endpoint"]}]
    prop("submit-settings", "output_location")["pattern"] = r"^[a-z](?!.*--)[a-z0-9\-@.+_]{1,62}(?<!-)$"
    prop("submit-settings", "providers")["additionalProperties"]["pattern"] = r"^(?=[\s\S]*[^/])[^/]*/?[^/]*$"


# --- editor aids: markdown descriptions with examples, snippets ------------------------------------------


def _md(description: str, example: str) -> str:
    return f"{description}\n\n```yaml\n{example.strip()}\n```"


_MARKDOWN: dict[tuple[str, str], str] = {
    ("spec", "columns"): _md(
        "Columns to generate, in any order; dependencies are inferred from Jinja references.",
        """
columns:
  - name: age
    column_type: sampler
    sampler_type: uniform
    params: {low: 18, high: 80, decimal_places: 0}
  - name: greeting
    column_type: expression
    expr: "Hello, you are {{ age }}"
""",
    ),
    ("spec", "model_configs"): _md(
        "Models that columns refer to by `alias`; omit to use the default aliases (`nvidia-text` ...).",
        """
model_configs:
  - alias: writer
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: nvidia
    inference_parameters:
      temperature: {distribution_type: uniform, params: {low: 0.5, high: 0.9}}
      max_tokens: 1024
""",
    ),
    ("spec", "seed_config"): _md(
        "Seed dataset the rows start from; its columns are usable in templates.",
        """
seed_config:
  source:
    seed_type: query
    tables: {products: data/products.csv, reviews: data/reviews.csv}
    query: SELECT * FROM products JOIN reviews USING (product_id)
  sampling_strategy: shuffle
""",
    ),
    ("spec", "constraints"): _md(
        "Inequalities sampler columns must satisfy.",
        """
constraints:
  - target_column: age
    operator: ge
    rhs: 18
""",
    ),
    ("spec", "num_records"): _md(
        "ddc extension: records to generate; `ddc run -n` overrides; default 10.", "num_records: 1000"
    ),
    ("spec", "random_seed"): _md(
        "ddc extension: seed of samplers, shuffles and sampled inference parameters; same seed, same data.",
        "random_seed: 42",
    ),
    ("spec", "providers"): _md(
        "ddc extension: local OpenAI-compatible endpoints for `ddc run`; `api_key` names an environment variable.",
        """
providers:
  - name: local-vllm
    endpoint: http://127.0.0.1:8000/v1
    api_key: VLLM_API_KEY
""",
    ),
    ("spec", "mcp_providers"): _md(
        "ddc extension: MCP servers for `ddc run` (a local command over stdio, or an HTTP endpoint); "
        "`tool_configs[].providers` names them.",
        """
mcp_providers:
  - name: local-tools
    command: python
    args: [tools_server.py]
  - name: search
    provider_type: streamable_http
    endpoint: http://127.0.0.1:8000/mcp
""",
    ),
    ("spec", "submit"): _md(
        "ddc extension: defaults for `ddc submit`.",
        """
submit:
  workspace: default
  providers: {local-vllm: default/nvidia-build}
  output_location: my-datasets
""",
    ),
    ("spec", "processors"): _md(
        "Steps run on the generated dataset: drop columns, or write an extra dataset from a template.",
        """
processors:
  - name: drop_helpers
    processor_type: drop_columns
    column_names: [helper_*]
""",
    ),
    ("spec", "run"): _md(
        "ddc extension: defaults for `ddc run`; command-line options override them.",
        """
run:
  output_dir: artifacts
  format: parquet
  on_error: keep
""",
    ),
    ("model-config", "alias"): _md("Name columns use in `model_alias`.", "alias: writer"),
    ("seed-source-query", "tables"): _md(
        "Table name -> file or glob (csv, parquet, json, jsonl), relative to the spec file.",
        "tables:\n  products: data/products.parquet\n  reviews: data/reviews-*.csv",
    ),
    ("seed-source-query", "query"): _md(
        "DuckDB SQL over the tables; its result is the seed dataset.",
        "query: SELECT p.*, r.rating FROM products p JOIN reviews r USING (product_id)",
    ),
    ("skip", "when"): _md(
        "Jinja expression in `{{ }}` over the row; when true the cell is skipped.", "when: '{{ rating > 2 }}'"
    ),
}

_COLUMN_MARKDOWN: dict[str, str] = {
    "name": _md("Column name, unique in the spec; also the output column name.", "name: customer_age"),
    "prompt": _md(
        "Jinja template of the user prompt; `{{ column }}` inserts the value of another column.",
        "prompt: Write a one-line review of {{ product }} by a {{ age }}-year-old.",
    ),
    "model_alias": _md(
        "Alias of the model (in `model_configs`, or a default alias such as `nvidia-text`) that generates this column.",
        "model_alias: nvidia-text",
    ),
    "expr": _md("Jinja template computed from other columns.", "expr: '{{ first_name }} {{ last_name }}'"),
    "system_prompt": _md("Jinja template of the system prompt.", "system_prompt: You are a terse product reviewer."),
}


def _snippet_params(tag: str) -> Schema:
    table: dict[str, Schema] = {
        "category": {"values": ["${2:a}", "${3:b}"]},
        "subcategory": {"category": "${2:parent_column}", "values": {"${3:a}": ["${4:a1}"]}},
        "uniform": {"low": "^${2:0}", "high": "^${3:1}"},
        "gaussian": {"mean": "^${2:0}", "stddev": "^${3:1}"},
        "bernoulli": {"p": "^${2:0.5}"},
        "bernoulli_mixture": {
            "p": "^${2:0.5}",
            "dist_name": "${3:expon}",
            "dist_params": {"scale": "^${4:1}"},
        },
        "binomial": {"n": "^${2:10}", "p": "^${3:0.5}"},
        "poisson": {"mean": "^${2:3}"},
        "scipy": {"dist_name": "${2:lognorm}", "dist_params": {"s": "^${3:0.5}"}},
        "datetime": {"start": "${2:2024-01-01}", "end": "${3:2025-01-01}"},
        "timedelta": {"dt_min": "^${2:1}", "dt_max": "^${3:30}", "reference_column_name": "${4:start_date}"},
        "uuid": {"prefix": "${2:id-}"},
        "person": {"locale": "${2:en_US}"},
        "person_from_faker": {"locale": "${2:en_US}"},
    }
    return table[tag]


def _placeholder_defaults(value: Any) -> Any:
    """A snippet body as inserted when every ``${n:default}`` is accepted as is."""
    if isinstance(value, dict):
        return {_placeholder_defaults(k): _placeholder_defaults(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder_defaults(v) for v in value]
    text = re.sub(r"\$\{\d+:((?:[^}\\]|\\.)*)\}", r"\1", value).replace("\\}", "}")
    return json.loads(text[1:]) if text.startswith("^") else text


def _column_snippets() -> list[Schema]:
    """One snippet per sampler type (for `sampler`) and one per other column type."""
    snippets: list[Schema] = [
        {
            "label": f"sampler: {tag}",
            "description": f"A `{tag}` sampler column.",
            "body": {
                "name": "${1:name}",
                "column_type": "sampler",
                "sampler_type": tag,
                "params": _snippet_params(tag),
            },
        }
        for tag in SAMPLER_TYPES
    ]
    prompt = "${2:Write a short product name for {{ category \\}\\}}"
    others: list[tuple[str, str, Schema]] = [
        ("llm-text", "Free text from an LLM.", {"prompt": prompt, "model_alias": "${3:nvidia-text}"}),
        (
            "llm-code",
            "Code from an LLM.",
            {"prompt": prompt, "model_alias": "${3:nvidia-text}", "code_lang": "${4:python}"},
        ),
        (
            "llm-structured",
            "JSON from an LLM, checked against a JSON Schema.",
            {
                "prompt": prompt,
                "model_alias": "${3:nvidia-text}",
                "output_format": {"type": "object", "properties": {"${4:field}": {"type": "string"}}},
            },
        ),
        (
            "llm-judge",
            "Scores given by an LLM judge.",
            {
                "prompt": prompt,
                "model_alias": "${3:nvidia-text}",
                "scores": [
                    {
                        "name": "${4:quality}",
                        "description": "${5:How good is it?}",
                        "options": {"1": "${6:poor}", "5": "${7:excellent}"},
                    }
                ],
            },
        ),
        ("expression", "A Jinja expression over other columns.", {"expr": "${2:{{ other_column \\}\\}}"}),
        (
            "validation",
            "Validation results of code columns.",
            {
                "target_columns": ["${2:code}"],
                "validator_type": "code",
                "validator_params": {"code_lang": "${3:python}"},
            },
        ),
        ("seed-dataset", "A column read from the seed dataset.", {}),
        (
            "embedding",
            "Embedding vectors of another column's text.",
            {"target_column": "${2:text}", "model_alias": "${3:nvidia-embedding}"},
        ),
        (
            "image",
            "Images generated from a prompt.",
            {"prompt": "${2:A photo of {{ product \\}\\}}", "model_alias": "${3:nvidia-image}"},
        ),
    ]
    for column_type, description, body in others:
        snippets.append(
            {
                "label": f"column: {column_type}",
                "description": description,
                "body": {"name": "${1:name}", "column_type": column_type, **body},
            }
        )
    return snippets


def _describe_tags(defs: dict[str, Schema]) -> None:
    """Describe each tag value by its variant: completion of `column_type:` explains every choice."""
    for tag in SAMPLER_TYPES:
        column = defs[f"column-sampler-{tag}"]
        column["description"] = defs[f"sampler-params-{tag}"]["description"]
    for dispatch in defs.values():
        branches = [b for b in dispatch.get("allOf", []) if "$ref" in b.get("then", {})]
        tagged = [(b["if"].get("properties", {}), b["then"]["$ref"].removeprefix(_REF)) for b in branches if "if" in b]
        tagged = [(next(iter(cond.items())), target) for cond, target in tagged if len(cond) == 1]
        if not tagged or "enum" not in dispatch["properties"].get(tagged[0][0][0], {}):
            continue
        descriptions = []
        for (tag, condition), target in tagged:
            summary = defs[target]["description"]
            descriptions.append(summary)
            if tag in defs[target].get("properties", {}):
                defs[target]["properties"][tag]["description"] = f"`{condition['const']}`: {summary}"
        dispatch["properties"][tagged[0][0][0]]["enumDescriptions"] = descriptions


def _decorate(defs: dict[str, Schema]) -> None:
    _describe_tags(defs)
    for (definition, name), markdown in _MARKDOWN.items():
        defs[definition]["properties"][name]["markdownDescription"] = markdown
    for definition, node in defs.items():
        if definition.startswith("column-") and "properties" in node:
            for name, markdown in _COLUMN_MARKDOWN.items():
                if name in node["properties"]:
                    node["properties"][name]["markdownDescription"] = markdown
    sampler_lines = [f"- `{tag}`: {defs[f'sampler-params-{tag}']['description']}" for tag in SAMPLER_TYPES]
    defs["column-sampler"]["properties"]["sampler_type"]["markdownDescription"] = (
        "The sampler; it decides which keys `params` takes.\n\n"
        + "\n".join(sampler_lines)
        + "\n\n```yaml\nsampler_type: gaussian\nparams: {mean: 170, stddev: 8}\n```"
    )
    column_type = defs["column"]["properties"]["column_type"]
    column_lines = [f"- `{t}`: {d}" for t, d in zip(_COLUMN_ORDER, column_type["enumDescriptions"], strict=True)]
    defs["column"]["properties"]["column_type"]["markdownDescription"] = (
        defs["column"]["properties"]["column_type"]["description"]
        + "\n\n"
        + "\n".join(column_lines)
        + "\n\n```yaml\n- name: age\n  column_type: sampler\n  sampler_type: uniform\n"
        + "  params: {low: 18, high: 80}\n```"
    )
    for tag in SAMPLER_TYPES:
        params = defs[f"column-sampler-{tag}"]["properties"]["params"]
        example = yaml.safe_dump(
            _placeholder_defaults(_snippet_params(tag)), default_flow_style=True, sort_keys=False, width=1000
        ).strip()
        params["markdownDescription"] = f"{params['description']}\n\n```yaml\nparams: {example}\n```"
    # On the list, not on the item: yaml-language-server offers them for a new `- ` entry.
    defs["spec"]["properties"]["columns"]["defaultSnippets"] = _column_snippets()
    for tag in SAMPLER_TYPES:
        defs[f"sampler-params-{tag}"]["defaultSnippets"] = [{"label": f"{tag} params", "body": _snippet_params(tag)}]


# --- the document -----------------------------------------------------------------------------------------


def generate_schema() -> Schema:
    """The JSON Schema (draft-07) of ddc specs, bare or in the official wrapped form."""
    from ddc.spec.document import CONFIG_FIELDS, Spec

    raw = Spec.model_json_schema(ref_template="#/$defs/{model}")
    defs = raw.pop("$defs")
    defs["Spec"] = raw
    converter = _Converter(copy.deepcopy(defs))
    definitions = converter.run()
    _refine(definitions)
    _decorate(definitions)

    spec = definitions["spec"]
    spec["description"] = (
        "A ddc spec: the NeMo Data Designer config (columns, model_configs, seed_config, constraints, "
        "processors, profilers, tool_configs) plus ddc extensions (name, description, num_records, "
        "random_seed, providers, run, submit)."
    )
    extensions = [name for name in spec["properties"] if name not in CONFIG_FIELDS]
    wrapped_props: Schema = {
        "data_designer": {
            "$ref": _REF + "spec",
            "title": "data_designer",
            "description": "The Data Designer config, as written by the official `write_config`.",
        },
        "library_version": {
            "title": "library_version",
            "description": "data-designer version that wrote the config, such as `0.9.6`; informational only.",
        },
    }
    for name in extensions:
        wrapped_props[name] = spec["properties"][name]
    definitions["wrapped-spec"] = {
        "title": "wrapped ddc spec",
        "description": "The official wrapped form (`data_designer:` plus `library_version`), with ddc "
        "extension keys allowed beside `data_designer` (not in both places).",
        "type": "object",
        "properties": wrapped_props,
        "required": ["data_designer"],
        "additionalProperties": False,
        "dependencies": {name: {"properties": {"data_designer": {"not": {"required": [name]}}}} for name in extensions},
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "ddc spec",
        "description": spec["description"],
        "type": "object",
        "if": {"required": ["data_designer"]},
        "then": _ref("wrapped-spec"),
        "else": _ref("spec"),
        "definitions": {name: definitions[name] for name in sorted(definitions)},
    }


def schema_text() -> str:
    """The schema as the exact text committed in ``schemas/ddc.schema.json``."""
    return json.dumps(generate_schema(), indent=2, ensure_ascii=False) + "\n"


# --- writing the schema and wiring editors --------------------------------------------------------------


def write_schema(path: Path) -> bool:
    """Write the schema to ``path`` atomically; False when the file already held exactly this text."""
    text = schema_text()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def register_vscode(workspace: Path, schema_path: Path) -> bool:
    """Map ``schema_path`` to ``*.ddc.yaml`` in ``<workspace>/.vscode/settings.json`` (``yaml.schemas``).

    Other settings are kept as they are. A settings file with comments is only rewritten when nothing
    needs to change; otherwise it is refused with the lines to add by hand, since rewriting would lose the
    comments. Returns False when the mapping was already there."""
    settings_path = workspace / ".vscode" / "settings.json"
    key = _workspace_relative(workspace, schema_path)
    settings: dict[str, Any] = {}
    has_comments = False
    if settings_path.is_file():
        text = settings_path.read_text(encoding="utf-8")
        try:
            loaded = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            try:
                loaded = json.loads(_strip_jsonc(text))
            except json.JSONDecodeError as exc:
                raise DdcError(
                    f"{settings_path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})",
                    hint="fix the file, or move it away and run `ddc schema --vscode` again",
                ) from None
            has_comments = True
        if not isinstance(loaded, dict):
            raise DdcError(f"{settings_path}: settings must be a JSON object")
        settings = loaded
    schemas = settings.get("yaml.schemas", {})
    if not isinstance(schemas, dict):
        raise DdcError(f"{settings_path}: yaml.schemas must be a JSON object")
    current = schemas.get(key, [])
    globs = [current] if isinstance(current, str) else list(current)
    missing = [glob for glob in SPEC_GLOBS if glob not in globs]
    if not missing:
        return False
    if has_comments:
        wanted = json.dumps({"yaml.schemas": {key: globs + missing}}, indent=2)
        raise DdcError(
            f"{settings_path} has comments, which rewriting it would lose",
            hint=f"add this to it by hand: {' '.join(wanted.split())}",
        )
    settings["yaml.schemas"] = {**schemas, key: globs + missing}
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(settings_path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return True


def _workspace_relative(workspace: Path, schema_path: Path) -> str:
    """The schema path as VS Code resolves it: relative to the workspace folder when inside it."""
    absolute = schema_path if schema_path.is_absolute() else Path.cwd() / schema_path
    try:
        return "./" + absolute.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return absolute.resolve().as_posix()


def _strip_jsonc(text: str) -> str:
    """JSON with comments (VS Code's settings dialect) -> JSON: drop comments and trailing commas."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))
