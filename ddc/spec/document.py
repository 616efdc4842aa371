"""The spec document: the canonical Data Designer config plus ddc's extensions.

``DataDesignerConfig`` is exactly the official config (data-designer 0.9.x field names, discriminators
and defaults). ``Spec`` adds ddc's extensions at the top level; ``compile.plan`` turns a Spec into the
canonical config plus run and submit settings.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ddc.spec.base import SpecModel
from ddc.spec.columns import Column
from ddc.spec.inference import ModelConfig
from ddc.spec.processing import Constraint, JudgeScoreProfiler, Processor, ToolConfig
from ddc.spec.seeds import SeedConfig
from ddc.spec.urls import checked_http_url

ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*/[A-Za-z0-9][A-Za-z0-9_.@+-]*$")
_FILESET_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9\-@.+_]{1,62}(?<!-)$")

#: Keys of the official DataDesignerConfig, in the official field order.
CONFIG_FIELDS: tuple[str, ...] = (
    "columns", "model_configs", "tool_configs", "seed_config", "constraints", "profilers", "processors",
)  # fmt: skip


class DataDesignerConfig(SpecModel):
    """The official Data Designer dataset config."""

    columns: list[Column] = Field(description="Columns to generate, in any order; dependencies are inferred.")
    model_configs: list[ModelConfig] | None = Field(
        default=None, description="Models columns refer to by alias; omit to use the default aliases (nvidia-text ...)."
    )
    tool_configs: list[ToolConfig] | None = Field(default=None, description="MCP tool configs for LLM columns.")
    seed_config: SeedConfig | None = Field(default=None, description="Seed dataset the rows start from.")
    constraints: list[Constraint] | None = Field(default=None, description="Inequalities sampler columns must satisfy.")
    profilers: list[JudgeScoreProfiler] | None = Field(
        default=None, description="Post-generation judge-score summaries."
    )
    processors: list[Processor] | None = Field(default=None, description="Column drops and schema transforms.")


class LocalProvider(SpecModel):
    """ddc extension: an OpenAI-compatible endpoint used by `ddc run` (never sent to NeMo Services)."""

    name: str = Field(description="Provider name that `model_configs[].provider` refers to.")
    endpoint: str = Field(description="Base URL, e.g. `http://127.0.0.1:8000/v1`.")
    provider_type: Literal["openai", "anthropic"] = Field(default="openai", description="API flavour.")
    api_key: str | None = Field(
        default=None,
        description="Where the API key is read at run time, never the key itself: the name of an environment "
        "variable (VLLM_API_KEY) or a NeMo Secrets API reference (workspace/name).",
    )
    extra_body: dict[str, object] | None = Field(default=None, description="Keys merged into every request body.")
    extra_headers: dict[str, str] | None = Field(default=None, description="Headers added to every request.")
    structured_output: Literal["json_schema", "json_object", "prompt"] | None = Field(
        default=None,
        description="How llm-structured, llm-judge and llm-code columns ask this endpoint for JSON: "
        "`json_schema` sends `response_format: {type: json_schema}` (vLLM, llama.cpp, NIM, OpenAI), "
        "`json_object` sends `{type: json_object, schema}` (llama-cpp-python, Ollama-style servers), "
        "`prompt` sends no response_format (the schema is in the prompt only). Default: probed by the "
        "start-up health check (json_schema, then json_object, then prompt).",
    )

    @field_validator("api_key")
    @classmethod
    def _key_reference(cls, value: str | None) -> str | None:
        if value is not None and not (ENV_VAR.match(value) or SECRET_REF.match(value)):
            raise ValueError(
                "api_key must name an environment variable such as VLLM_API_KEY (or a Secrets API reference "
                "workspace/name), not hold the key itself"
            )
        return value

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return checked_http_url(value)


class MCPProviderConfig(SpecModel):
    """ddc extension: an MCP server the tools of `tool_configs` come from, for `ddc run` (the official
    ``LocalStdioMCPProvider`` / ``MCPProvider``; never sent to NeMo Services)."""

    name: str = Field(description="Provider name that `tool_configs[].providers` refers to.")
    provider_type: Literal["stdio", "streamable_http", "sse"] | None = Field(
        default=None,
        description="Transport: `stdio` (a local command; the default with `command`), `streamable_http` or "
        "`sse` (the default with `endpoint`, as in the official MCPProvider).",
    )
    command: str | None = Field(default=None, description="stdio: the server's executable, e.g. `python`.")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="stdio: extra environment variables.")
    endpoint: str | None = Field(default=None, description="HTTP: the server URL, e.g. `http://127.0.0.1:8000/mcp`.")
    api_key: str | None = Field(
        default=None,
        description="HTTP: where the bearer token is read at run time, never the token itself: the name of an "
        "environment variable.",
    )

    @field_validator("api_key")
    @classmethod
    def _key_reference(cls, value: str | None) -> str | None:
        if value is not None and not ENV_VAR.match(value):
            raise ValueError("api_key must name an environment variable such as MCP_API_KEY, not hold the key")
        return value

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_http_url(value)

    @model_validator(mode="after")
    def _one_transport(self) -> MCPProviderConfig:
        if (self.command is None) == (self.endpoint is None):
            raise ValueError("give either command (a stdio server) or endpoint (an HTTP server)")
        kind = self.provider_type or ("stdio" if self.command is not None else "sse")
        if (kind == "stdio") != (self.command is not None):
            wanted = "command" if kind == "stdio" else "endpoint"
            raise ValueError(f"provider_type {kind!r} needs {wanted}")
        return self

    @property
    def transport(self) -> str:
        return self.provider_type or ("stdio" if self.command is not None else "sse")


class RunSettings(SpecModel):
    """ddc extension: defaults for `ddc run`; command-line options override them."""

    output_dir: str = Field(default="artifacts", description="Directory the dataset folder is written under.")
    format: Literal["parquet", "jsonl", "csv"] = Field(default="parquet", description="Output file format.")
    batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Records per batch (and per output file). Default: 1000 when the spec has model-backed "
        "columns (fine-grained progress and resume), else 20000 (vectorised columns are cheap per row).",
    )
    on_error: Literal["keep", "drop", "fail"] = Field(
        default="keep",
        description="A cell whose model call fails after retries: keep the row with null (logged in "
        "errors.jsonl), drop the row, or fail the run.",
    )
    max_error_rate: float = Field(
        default=0.5, gt=0, le=1, description="Stop early when this share of the last model calls failed."
    )


class SubmitSettings(SpecModel):
    """ddc extension: defaults for `ddc submit`; command-line options override them."""

    base_url: str | None = Field(default=None, description="NeMo Services base URL; else $NMP_BASE_URL.")
    workspace: str = Field(default="default", description="NeMo workspace the job runs in.")
    project: str | None = Field(default=None, description="NeMo project the job belongs to.")
    providers: dict[str, str] = Field(
        default_factory=dict,
        description="Local provider name -> Inference Gateway provider (`workspace/name`) used when submitting.",
    )
    output_location: str | None = Field(default=None, description="Fileset (in the workspace) receiving the artifacts.")
    dd_version: str | None = Field(
        default=None,
        description="data-designer version the service pins (0.7.0, 0.9.1, ...) or `platform-X.Y.Z`; default: "
        "what the service reports, else 0.9.1 (NeMo Platform 0.6).",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_http_url(value)

    @field_validator("output_location")
    @classmethod
    def _fileset_name(cls, value: str | None) -> str | None:
        if value is not None and not _FILESET_NAME.match(value):
            raise ValueError("output_location must be a bare fileset name (lower case, no '/' or '#')")
        return value

    @field_validator("providers")
    @classmethod
    def _provider_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for local, remote in value.items():
            if remote.count("/") > 1 or not remote.strip("/"):
                raise ValueError(f"providers.{local}: {remote!r} must be `workspace/name` or `name`")
        return value


class Spec(DataDesignerConfig):
    """A ddc spec: the Data Designer config plus ddc extensions (name, records, seed, providers, run, submit)."""

    name: str | None = Field(
        default=None,
        description="Dataset and job name; one path component (no `/`, `\\`, `.` or `..`): the dataset "
        "directory under `-o`.",
    )
    description: str | None = Field(default=None, description="What this dataset is for.")
    num_records: int | None = Field(
        default=None, ge=1, le=10**12, description="Records to generate; `-n` overrides; default 10."
    )
    random_seed: int | None = Field(
        default=None,
        ge=0,
        description="Seed of samplers, shuffles and sampled inference parameters; same seed, same data.",
    )
    providers: list[LocalProvider] | None = Field(
        default=None, description="Local OpenAI-compatible endpoints for `ddc run`."
    )
    mcp_providers: list[MCPProviderConfig] | None = Field(
        default=None, description="MCP servers the tools of `tool_configs` come from, for `ddc run`."
    )
    run: RunSettings | None = Field(default=None, description="Defaults for `ddc run`.")
    submit: SubmitSettings | None = Field(default=None, description="Defaults for `ddc submit`.")

    @field_validator("name")
    @classmethod
    def _one_path_component(cls, value: str | None) -> str | None:
        if value is not None:
            problem = dataset_name_problem(value)
            if problem:
                raise ValueError(f"{value!r} {problem}")
        return value

    def canonical_fields(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in CONFIG_FIELDS}


#: Zero-width (non-)joiners: invisible, but part of how Persian words and emoji sequences are written.
_JOINERS = frozenset({"\u200c", "\u200d"})


def _invisible(ch: str) -> bool:
    """C0/C1 controls and formatting characters (bidi overrides, zero-width space), joiners excepted."""
    category = unicodedata.category(ch)
    return category == "Cc" or (category == "Cf" and ch not in _JOINERS)


def dataset_name_problem(name: str) -> str:
    """Why ``name`` cannot be the dataset directory under ``-o`` ('' when it can): one path component,
    so ``../x``, ``/abs`` or ``a/../../b`` never write outside the output directory."""
    if not name.strip():
        return "must not be blank"
    if name in {".", ".."} or "/" in name or "\\" in name:
        return "must be a single directory name (no '/', '\\', '.' or '..'), it names the dataset directory under -o"
    if any(
        unicodedata.category(ch) == "Cc" or (unicodedata.category(ch) == "Cf" and ch not in _JOINERS) for ch in name
    ):
        return "must not contain control or invisible formatting characters"  # C0/C1, bidi overrides, ZWSP
    if name != name.strip():
        return "must not start or end with spaces"
    if name == "~":
        return "must not be '~', which shells read as the home directory"
    if len(name.encode("utf-8")) > 200:
        return "is longer than 200 bytes"
    return ""
