"""Checks that a spec can run on NeMo Services, before anything is sent.

The reference checks (local seeds without ``--upload-seeds``, tool configs, environment-variable or
plaintext secrets, malformed or local-only providers) come from the migration checklist
``ddc.compile.modes.mode_diagnostics(..., "submit")``, so ``ddc validate --for submit`` and ``ddc submit``
agree. Added here, because only submitting needs them: model aliases the service does not have (it has
no defaults), the job name rules, features the target data-designer version lacks, the preview limit.
Every finding names the spec position.
"""

from __future__ import annotations

from ddc.errors import Diagnostic
from ddc.nemo.names import job_name_problem
from ddc.spec.load import LoadedSpec
from ddc.spec.source import PathKey, format_path

MAX_PREVIEW_RECORDS = 10


class _Findings:
    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded = loaded
        self.items: list[Diagnostic] = []

    def error(self, path: PathKey, message: str, hint: str = "", code: str = "submit") -> None:
        span = self.loaded.source.map.span(path)
        self.items.append(Diagnostic(message, span, format_path(path), hint, "error", code))


def check_submit(
    loaded: LoadedSpec,
    *,
    upload_seeds: bool = False,
    name: str | None = None,
    dd_version: str | None = None,
    preview_records: int | None = None,
) -> list[Diagnostic]:
    """Every reason this spec cannot be submitted as it is (errors), and what to know (warnings, info)."""
    from ddc.compile.modes import mode_diagnostics

    found = _Findings(loaded)
    found.items.extend(mode_diagnostics(loaded, "submit", upload_seeds=upload_seeds))
    _check_aliases(found)
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


def _check_aliases(found: _Findings) -> None:
    spec = found.loaded.spec
    declared = {m.alias for m in spec.model_configs or ()}
    used: dict[str, PathKey] = {}
    for index, column in enumerate(spec.columns):
        alias = getattr(column, "model_alias", None)
        if alias:
            used.setdefault(alias, ("columns", index, "model_alias"))
    for index, profiler in enumerate(spec.profilers or ()):
        used.setdefault(profiler.model_alias, ("profilers", index, "model_alias"))
    for alias, path in used.items():
        if alias not in declared:
            found.error(
                path,
                f"model alias {alias!r} is not declared in model_configs; NeMo Services has no default aliases",
                hint="add a model_configs entry with an Inference Gateway provider such as default/nvidia-build",
                code="submit-alias",
            )


def _check_names(found: _Findings, name: str | None) -> None:
    spec = found.loaded.spec
    problem = job_name_problem(spec.name) if name is None and spec.name is not None else None
    if problem is not None:
        message = f"{spec.name!r} cannot be a job name on NeMo Services"
        found.error(("name",), message, hint=f"{problem}; or pass --name", code="job-name")


def _check_version(found: _Findings, dd_version: str | None) -> None:
    from ddc.compile.canonical import dd_config
    from ddc.submission.versions import DEFAULT_VERSION, accepted_versions, resolve_version, shape_for_version

    spec = found.loaded.spec
    chosen = dd_version or (spec.submit.dd_version if spec.submit else None) or DEFAULT_VERSION
    try:
        version = resolve_version(chosen)
    except ValueError:
        found.error(
            ("submit", "dd_version"),
            f"data-designer {chosen} is not a supported submit target",
            hint="use one of " + accepted_versions(),
            code="version",
        )
        return
    if version == "0.7.0" and spec.submit is not None and spec.submit.output_location:
        path = ("submit", "output_location")
        found.items.append(Diagnostic(
            "NeMo Platform 0.3.0 (data-designer 0.7.0) ignores output_location: the artifacts stay in the "
            "job's own fileset", found.loaded.source.map.span(path), format_path(path), "", "warning", "version",
        ))  # fmt: skip
    _, problems = shape_for_version(dd_config(spec), version)
    for problem in problems:
        found.error(
            problem.path,
            f"{problem.feature} {problem.value!r} needs data-designer {problem.since} or "
            f"later, but the target is {version}",
            hint=f"pass --dd-version {problem.since} if the service runs it",
            code="version",
        )
