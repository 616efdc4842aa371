"""Checks that a spec can run on NeMo Services, before anything is sent.

Mirrors what the service refuses (section 1.8/2 of the API reference) and what only makes sense on
this machine: local seed files, tool configs, secrets that are not Secrets API references, malformed or
local-only providers, default model aliases the service does not have, features the target
data-designer version lacks. Every finding names the spec position. ``ddc validate --for submit`` calls
``check_submit`` as well.
"""

from __future__ import annotations

import re
from typing import Any

from ddc.errors import Diagnostic
from ddc.spec.load import LoadedSpec
from ddc.spec.seeds import parse_fileset_ref
from ddc.spec.source import PathKey, format_path

ENTITY_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9\-@.+_]{1,62}(?<!-)$")
SECRET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*/[A-Za-z0-9][A-Za-z0-9_.@+-]*$")
PLAINTEXT_TOKEN = re.compile(r"^(hf_|sk-|nvapi-)|^[A-Za-z0-9_-]{20,}$")
ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
REMOTE_SEED_TYPES = ("hf", "nmp", "directory", "file_contents")
#: Providers the official library defines for local runs; the service has only Inference Gateway ones.
LIBRARY_DEFAULT_PROVIDERS = ("nvidia", "openai", "openrouter")
MAX_PREVIEW_RECORDS = 10


class _Findings:
    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded = loaded
        self.items: list[Diagnostic] = []

    def error(
        self, path: PathKey, message: str, hint: str = "", code: str = "submit", *, key: bool = False
    ) -> None:
        span = self.loaded.source.map.span(path, key=key)
        self.items.append(Diagnostic(message, span, format_path(path), hint, "error", code))

    def warn(self, path: PathKey, message: str, hint: str = "", code: str = "submit") -> None:
        span = self.loaded.source.map.span(path)
        self.items.append(Diagnostic(message, span, format_path(path), hint, "warning", code))


def check_submit(
    loaded: LoadedSpec,
    *,
    upload_seeds: bool = False,
    name: str | None = None,
    dd_version: str | None = None,
    preview_records: int | None = None,
) -> list[Diagnostic]:
    """Every reason this spec cannot be submitted as it is (errors) or may surprise (warnings)."""
    found = _Findings(loaded)
    _check_seed(found, upload_seeds)
    _check_tools(found)
    _check_models(found)
    _check_names(found, name)
    _check_version(found, dd_version)
    if preview_records is not None and preview_records > MAX_PREVIEW_RECORDS:
        found.error(
            ("num_records",),
            f"a remote preview makes at most {MAX_PREVIEW_RECORDS} records (asked for {preview_records})",
            hint="pass -n 10 or fewer",
            code="preview-limit",
        )
    return found.items


def _check_seed(found: _Findings, upload_seeds: bool) -> None:
    seed = found.loaded.spec.seed_config
    if seed is None:
        return
    source = seed.source
    kind = source.seed_type
    where: PathKey = ("seed_config", "source", "seed_type")
    if kind in ("local", "query"):
        if not upload_seeds:
            what = "a local seed file" if kind == "local" else "a query over local files"
            found.error(
                where,
                f"the seed is {what}, which NeMo Services cannot read",
                hint="pass --upload-seeds to upload it to a fileset, or upload it yourself and use "
                "seed_type: nmp with path workspace/fileset#file.parquet",
                code="local-seed",
            )
        return
    if kind not in REMOTE_SEED_TYPES:
        found.error(
            where,
            f"seed_type {kind!r} is not supported by NeMo Services",
            hint="use hf, nmp, directory or file_contents",
            code="seed-type",
        )
        return
    if kind in ("directory", "file_contents"):
        try:
            parse_fileset_ref(source.path)
        except ValueError:
            found.error(
                ("seed_config", "source", "path"),
                f"{kind} seeds on NeMo Services read a fileset directory, not the local path {source.path!r}",
                hint="upload the files to a fileset and write path: workspace/fileset#directory",
                code="local-seed",
            )
    if kind == "hf" and source.token is not None:
        _check_secret(found, ("seed_config", "source", "token"), source.token)


def _check_secret(found: _Findings, path: PathKey, value: str) -> None:
    if SECRET_REF.match(value):
        return
    if ENV_VAR_NAME.match(value):
        problem = f"{value!r} looks like an environment variable name"
    elif PLAINTEXT_TOKEN.search(value):
        problem = "this looks like a plaintext token"  # never repeat the value: it may be a real token
    else:
        problem = f"{value!r} is not a secret reference"
    found.error(
        path,
        f"{problem}; NeMo Services reads secrets only from its Secrets API",
        hint="store the token as a secret and write its reference workspace/name, e.g. default/hf-token",
        code="secret",
    )


def _check_tools(found: _Findings) -> None:
    spec = found.loaded.spec
    if spec.tool_configs:
        found.error(
            ("tool_configs",),
            "tool configs (MCP) are not supported by NeMo Services",
            hint="remove tool_configs and tool_alias to submit this spec",
            code="tools",
            key=True,
        )
    for index, column in enumerate(spec.columns):
        if getattr(column, "tool_alias", None):
            found.error(
                ("columns", index, "tool_alias"),
                "tool_alias is not supported by NeMo Services",
                hint="remove it to submit this spec",
                code="tools",
            )


def _used_aliases(spec: Any) -> dict[str, PathKey]:
    used: dict[str, PathKey] = {}
    for index, column in enumerate(spec.columns):
        alias = getattr(column, "model_alias", None)
        if alias:
            used.setdefault(alias, ("columns", index, "model_alias"))
    for index, profiler in enumerate(spec.profilers or ()):
        used.setdefault(profiler.model_alias, ("profilers", index, "model_alias"))
    return used


def _check_models(found: _Findings) -> None:
    spec = found.loaded.spec
    mapping = spec.submit.providers if spec.submit else {}
    local = {p.name for p in spec.providers or ()}
    declared = {m.alias for m in spec.model_configs or ()}
    for alias, path in _used_aliases(spec).items():
        if alias not in declared:
            found.error(
                path,
                f"model alias {alias!r} is not declared in model_configs; NeMo Services has no "
                "default model aliases",
                hint="add a model_configs entry with an Inference Gateway "
                "provider such as default/nvidia-build",
                code="alias",
            )
    for index, model in enumerate(spec.model_configs or ()):
        path: PathKey = ("model_configs", index, "provider")
        provider = model.provider
        remote = mapping.get(provider, provider)
        if provider in local and provider not in mapping:
            found.error(
                path,
                f"provider {provider!r} is a local endpoint (see providers) that NeMo Services cannot reach",
                hint=f"map it to an Inference Gateway provider in submit.providers, e.g. "
                f"{{{provider}: default/nvidia-build}}",
                code="local-provider",
            )
        elif remote.count("/") > 1 or not remote.strip("/") or remote.startswith("/") or remote.endswith("/"):
            found.error(
                path,
                f"malformed provider reference {remote!r}",
                hint="write workspace/name or name (an Inference Gateway provider)",
                code="provider",
            )
        elif provider in LIBRARY_DEFAULT_PROVIDERS and provider not in mapping:
            found.warn(
                path,
                f"provider {provider!r} is a library default for local runs; NeMo Services will look "
                "for an Inference Gateway provider of that name in the workspace",
                hint=f"map it in submit.providers, e.g. {{{provider}: default/nvidia-build}}",
            )


def _check_names(found: _Findings, name: str | None) -> None:
    spec = found.loaded.spec
    if name is None and spec.name is not None and not ENTITY_NAME.match(spec.name):
        found.error(
            ("name",),
            f"{spec.name!r} cannot be a job name on NeMo Services",
            hint="use lower case letters, digits and - . _ @ +, starting with a letter (at most 63), "
            "or pass --name",
            code="job-name",
        )


def _check_version(found: _Findings, dd_version: str | None) -> None:
    from ddc.compile.canonical import dd_config
    from ddc.submit.versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, shape_for_version

    spec = found.loaded.spec
    version = dd_version or (spec.submit.dd_version if spec.submit else None) or DEFAULT_VERSION
    if version not in SUPPORTED_VERSIONS:
        found.error(
            ("submit", "dd_version"),
            f"data-designer {version} is not a supported submit target",
            hint="use one of " + ", ".join(SUPPORTED_VERSIONS),
            code="version",
        )
        return
    _, problems = shape_for_version(dd_config(spec), version)
    for problem in problems:
        found.error(
            problem.path,
            f"{problem.feature} {problem.value!r} needs data-designer {problem.since} or "
            f"later, but the target is {version}",
            hint=f"pass --dd-version {problem.since} if the service runs it",
            code="version",
        )
