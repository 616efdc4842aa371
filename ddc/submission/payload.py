"""The create-job body NeMo Services receives: ``{"spec": {"num_records", "config"}}`` plus options.

The config is ``dd_config(spec)`` (the official DataDesignerConfig JSON), with local provider names
mapped to Inference Gateway providers (``submit.providers``), the seed source replaced by its uploaded
form when given, and shaped for the data-designer version the service pins. ddc's extensions (local
provider endpoints, API key variables, run settings) are not part of ``dd_config`` and never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddc.compile.canonical import dd_config
from ddc.compile.plan import Plan
from ddc.errors import CompileError, UsageError
from ddc.nemo.names import ENTITY_NAME, ENTITY_RULE, job_name_problem
from ddc.spec.load import LoadedSpec
from ddc.spec.source import format_path
from ddc.submission.versions import (
    DEFAULT_VERSION,
    TABLE,
    VersionTable,
    accepted_versions,
    resolve_version,
    shape_for_version,
)


@dataclass(frozen=True)
class JobOptions:
    """What the command line (or API caller) says about one submission; None means the spec's default."""

    num_records: int | None = None
    name: str | None = None
    description: str | None = None
    project: str | None = None
    output_location: str | None = None
    workspace: str | None = None
    dd_version: str | None = None


#: List fields sent as ``[]`` when empty, as the official SDK sends them.
EMPTY_LISTS = ("model_configs", "tool_configs")


def check_options(options: JobOptions) -> None:
    """Command-line names the service would refuse: job name and output fileset follow its entity rule."""
    problem = job_name_problem(options.name) if options.name is not None else None
    if problem is not None:
        raise UsageError(f"--name {options.name!r} is not a valid job name", hint=problem)
    if options.output_location is not None and not ENTITY_NAME.match(options.output_location):
        raise UsageError(
            f"--output-location {options.output_location!r} must be a bare fileset name", hint=f"use {ENTITY_RULE}"
        )


def target_version(plan: Plan, options: JobOptions) -> str:
    """``--dd-version``, else the spec's ``submit.dd_version``, else 0.9.1 (NeMo Platform 0.6); a
    ``platform-X.Y.Z`` value means the data-designer that platform pins."""
    version = options.dd_version or plan.submit.dd_version or DEFAULT_VERSION
    try:
        return resolve_version(version)
    except ValueError:
        raise CompileError(
            f"data-designer {version} is not a supported submit target", hint="use one of " + accepted_versions()
        ) from None


def remote_config(
    loaded: LoadedSpec,
    plan: Plan,
    *,
    version: str,
    seed_source: dict[str, Any] | None = None,
    table: VersionTable = TABLE,
) -> dict[str, Any]:
    """The DataDesignerConfig JSON to submit. Raises CompileError for a feature ``version`` lacks."""
    config = dd_config(plan.spec, seed_source=seed_source)
    for key in EMPTY_LISTS:  # the official SDK sends [] for these, never null
        if config.get(key) is None:
            config[key] = []
    mapping = plan.submit.providers
    for model in config.get("model_configs") or []:
        model["provider"] = mapping.get(model["provider"], model["provider"])
    shaped, problems = shape_for_version(config, version, table)
    if problems:
        first = problems[0]
        raise CompileError(
            f"{format_path(first.path)}: {first.feature} {first.value!r} needs data-designer {first.since} "
            f"or later, but the target is {version}",
            span=loaded.source.map.span(first.path),
            hint=f"pass --dd-version {first.since} if the service runs it, or choose another value",
        )
    return shaped


def build_payload(
    loaded: LoadedSpec, plan: Plan, options: JobOptions, *, seed_source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The exact JSON body of ``POST .../jobs/create``."""
    check_options(options)
    version = target_version(plan, options)
    body: dict[str, Any] = {}
    name = options.name or plan.spec.name
    description = options.description or plan.spec.description
    project = options.project or plan.submit.project
    output_location = options.output_location or plan.submit.output_location
    if name:
        body["name"] = name
    if description:
        body["description"] = description
    if project:
        body["project"] = project
    num_records = options.num_records or plan.num_records
    body["spec"] = {
        "num_records": num_records,
        "config": remote_config(loaded, plan, version=version, seed_source=seed_source),
    }
    if output_location:
        body["output_location"] = output_location
    return body


def preview_body(
    loaded: LoadedSpec, plan: Plan, options: JobOptions, *, seed_source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of ``POST .../preview``: ``{"config", "num_records"}``."""
    version = target_version(plan, options)
    num_records = options.num_records or min(plan.num_records, 10)
    return {
        "config": remote_config(loaded, plan, version=version, seed_source=seed_source),
        "num_records": num_records,
    }
