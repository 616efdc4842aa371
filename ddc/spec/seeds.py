"""Seed dataset config: every official seed source, the NeMo fileset source, and ddc's query source."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from ddc.spec.base import SpecModel

SEED_FILE_SUFFIXES = (".parquet", ".csv", ".json", ".jsonl")
_FILESET_REF = re.compile(r"^(?:(?P<workspace>[^/#]+)/)?(?P<fileset>[^/#]+)#(?P<path>.+)$")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LocalFileSeedSource(SpecModel):
    """A local CSV, Parquet, JSON or JSONL file, or a glob of them."""

    seed_type: Literal["local"] = Field(default="local", description="Always `local`.")
    path: str = Field(description="File path or glob such as `data/*.parquet`; relative to the spec file.")

    @field_validator("path")
    @classmethod
    def _known_suffix(cls, value: str) -> str:
        if not value.lower().endswith(SEED_FILE_SUFFIXES):
            raise ValueError(f"seed file {value!r} must end in one of {', '.join(SEED_FILE_SUFFIXES)}")
        return value


class HuggingFaceSeedSource(SpecModel):
    """A file or glob in a Hugging Face dataset repository."""

    seed_type: Literal["hf"] = Field(description="Always `hf`.")
    path: str = Field(description="`datasets/<org>/<repo>/<file or glob>`, without `hf://`.")
    token: str | None = Field(
        default=None,
        description="Access token reference: an environment variable name (local runs) or a NeMo Secrets "
        "API reference `workspace/name` (submitted jobs).",
    )
    endpoint: str = Field(default="https://huggingface.co", description="Hub endpoint.")


class DirectorySeedSource(SpecModel):
    """One row per file under a directory."""

    seed_type: Literal["directory"] = Field(description="Always `directory`.")
    path: str = Field(min_length=1, description="Directory, or a fileset reference `workspace/fileset#dir`.")
    file_pattern: str = Field(default="*", description="Glob on file base names (no `/`).")
    recursive: bool = Field(default=True, description="Descend into subdirectories.")

    @field_validator("file_pattern")
    @classmethod
    def _basename_only(cls, value: str) -> str:
        if "/" in value:
            raise ValueError("file_pattern matches base names only and must not contain '/'")
        return value


class FileContentsSeedSource(DirectorySeedSource):
    """One row per file under a directory, with the file's text in `content`."""

    seed_type: Literal["file_contents"] = Field(description="Always `file_contents`.")  # type: ignore[assignment]
    encoding: str = Field(default="utf-8", description="Text encoding of the files.")


class AgentRolloutSeedSource(SpecModel):
    """One row per agent trace (Claude Code, Codex, ATIF ...)."""

    seed_type: Literal["agent_rollout"] = Field(description="Always `agent_rollout`.")
    format: Literal["atif", "claude_code", "codex", "hermes_agent", "pi_coding_agent"] = Field(
        description="Trace format."
    )
    path: str | None = Field(default=None, description="Directory of traces; required for `atif`.")
    file_pattern: str | None = Field(default=None, description="Glob on file names; the default depends on format.")
    recursive: bool = Field(default=True, description="Descend into subdirectories.")

    @model_validator(mode="after")
    def _atif_needs_path(self) -> AgentRolloutSeedSource:
        if self.format == "atif" and not self.path:
            raise ValueError("path is required for the atif format")
        return self


class FilesetSeedSource(SpecModel):
    """A file (or wildcard) in a NeMo Services fileset: `workspace/fileset#path`."""

    seed_type: Literal["nmp"] = Field(description="Always `nmp` (NeMo Platform Files service).")
    path: str = Field(description="`[workspace/]fileset#file-or-wildcard`, e.g. `default/reviews#data/*.parquet`.")

    @field_validator("path")
    @classmethod
    def _fileset_ref(cls, value: str) -> str:
        if not _FILESET_REF.match(value):
            raise ValueError(f"fileset reference {value!r} must look like workspace/fileset#path or fileset#path")
        return value


class QuerySeedSource(SpecModel):
    """ddc extension: a DuckDB SQL query over named local tables; its result is the seed dataset.

    Compiles to a `local` Parquet seed for the official engine and to an uploaded fileset for NeMo Services."""

    seed_type: Literal["query"] = Field(description="Always `query` (ddc extension).")
    tables: dict[str, str] = Field(
        min_length=1,
        description="Table name -> file or glob (csv, parquet, json, jsonl), relative to the spec file.",
    )
    query: str = Field(
        description="One read-only DuckDB SELECT over the tables, e.g. `SELECT * FROM a JOIN b USING (id)`; "
        "it can read the declared tables and nothing else."
    )

    @field_validator("tables")
    @classmethod
    def _table_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if not _TABLE_NAME.match(name):
                raise ValueError(f"table name {name!r} must be a SQL identifier (letters, digits, _)")
            if not path.lower().endswith(SEED_FILE_SUFFIXES):
                raise ValueError(f"table {name}: {path!r} must end in one of {', '.join(SEED_FILE_SUFFIXES)}")
        return value

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must not be empty")
        return value


class DataFrameSeedSource(SpecModel):
    """The official in-memory seed (a DataFrame given from Python). The rows travel beside the spec
    (``LoadedSpec.seed_data``); a file cannot declare them, so it is absent from the JSON Schema."""

    seed_type: Literal["df"] = Field(description="Always `df`.")


SeedSource = Annotated[
    SkipJsonSchema[DataFrameSeedSource]
    | LocalFileSeedSource
    | HuggingFaceSeedSource
    | DirectorySeedSource
    | FileContentsSeedSource
    | AgentRolloutSeedSource
    | FilesetSeedSource
    | QuerySeedSource,
    Field(discriminator="seed_type"),
]


class IndexRange(SpecModel):
    """Use only rows start..end (both inclusive) of the seed."""

    start: int = Field(ge=0, description="First row (inclusive).")
    end: int = Field(ge=0, description="Last row (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> IndexRange:
        if self.start > self.end:
            raise ValueError(f"start must not be after end (got {self.start} > {self.end})")
        return self


class PartitionBlock(SpecModel):
    """Use only one of num_partitions equal blocks of the seed."""

    index: int = Field(default=0, ge=0, description="Which block, from 0.")
    num_partitions: int = Field(default=1, ge=1, description="Number of blocks.")

    @model_validator(mode="after")
    def _in_range(self) -> PartitionBlock:
        if self.index >= self.num_partitions:
            raise ValueError(f"index must be below num_partitions (got {self.index} >= {self.num_partitions})")
        return self


class SeedConfig(SpecModel):
    """Rows of an existing dataset that generation starts from; its columns are usable in templates."""

    source: SeedSource = Field(description="Where the seed rows come from.")
    sampling_strategy: Literal["ordered", "shuffle"] = Field(
        default="ordered", description="Read rows in order, or shuffled (seeded by random_seed); both cycle."
    )
    selection_strategy: IndexRange | PartitionBlock | None = Field(
        default=None, description="Use only an index range or one partition of the seed."
    )


def parse_fileset_ref(value: str, default_workspace: str = "default") -> tuple[str, str, str]:
    """Split `workspace/fileset#path` into its parts."""
    match = _FILESET_REF.match(value)
    if not match:
        raise ValueError(f"not a fileset reference: {value!r}")
    return match["workspace"] or default_workspace, match["fileset"], match["path"]
