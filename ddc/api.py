"""The library API the CLI wraps: load, validate, build, run, submit for any kind of input.

It sits beside the CLI, above engine/ and submission/: it may import them (lazily), they never import it.

Every entry point accepts a spec path, YAML text, a ``ddc.ConfigBuilder``, a compiled module path
(``*.py`` exposing ``load_config_builder()``), or an official ``DataDesignerConfigBuilder``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ddc.errors import DdcError, Diagnostic, SpecError
from ddc.spec.load import LoadedSpec

Mode = Literal["run", "submit"]
SpecInput = Any  # str | Path | ConfigBuilder | LoadedSpec | official builder


def load(source: SpecInput, *, check: bool = True, seed_data: Any = None) -> LoadedSpec:
    """Any accepted input -> a validated LoadedSpec.

    A ``str`` or ``PathLike`` is a path when it names a file (``*.py``: a module exposing
    ``load_config_builder()``), else spec text; a spec's text is never tested as a path. ``seed_data``
    (a pandas or polars DataFrame, a pyarrow Table) is the seed dataset, read in place."""
    if seed_data is None:
        return _load(source, check=check)
    from ddc.spec.memory_seed import with_seed_data

    loaded = with_seed_data(_load(source, check=False), seed_data)
    if check:
        from ddc.spec.checks import check_spec

        diagnostics = check_spec(loaded)
        if any(d.severity == "error" for d in diagnostics):
            raise SpecError(diagnostics)
    return loaded


def _load(source: SpecInput, *, check: bool) -> LoadedSpec:
    from ddc.spec.load import load_spec
    from ddc.spec.python_config import config_of, is_config_object, load_module

    if isinstance(source, LoadedSpec):
        return source
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _names_module(source)):
        path = Path(source)
        if path.suffix == ".py":
            return _from_python(config_of(load_module(path), str(path)), str(path), path, check=check)
        return load_spec(path, check=check)
    if is_config_object(source):
        label = f"<{type(source).__name__}>"
        return _from_python(config_of(source, label), label, None, check=check)
    if not isinstance(source, str):
        raise SpecError(
            f"cannot read a spec from a {type(source).__name__}",
            hint="pass a path, YAML/JSON text, a ConfigBuilder, a DataDesignerConfigBuilder or a config dict",
        )
    return load_spec(source, check=check)


def _names_file(source: Any) -> bool:
    from ddc.spec.load import looks_like_path

    return isinstance(source, str) and "\n" not in source and (source.endswith(".py") or looks_like_path(source))


def _names_module(text: str) -> bool:
    return "\n" not in text and text.endswith(".py")


def _from_python(config: Any, name: str, module: Path | None, *, check: bool) -> LoadedSpec:
    """A Python config (``ddc.spec.python_config.PythonConfig``) as a LoadedSpec; its diagnostics point
    at the module and name the column."""
    import dataclasses

    from ddc.spec.load import validate_source
    from ddc.spec.python_config import name_columns, python_source

    src = python_source(config, name, module)
    try:
        loaded = validate_source(src)
        loaded = dataclasses.replace(loaded, seed_data=config.seed_data)
        if check:
            from ddc.spec.checks import check_spec

            diagnostics = check_spec(loaded)
            if any(d.severity == "error" for d in diagnostics):
                raise SpecError(diagnostics)
    except SpecError as exc:
        raise SpecError(name_columns(exc.diagnostics, config.data)) from None
    return loaded


@dataclass
class ValidationReport:
    """Everything ``ddc validate`` found; ``ok`` when nothing blocks the chosen modes."""

    source: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fingerprint: str | None = None
    #: per mode, how each external reference resolves (``ddc validate --explain``)
    explanations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "fingerprint": self.fingerprint,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "explanations": self.explanations,
        }


def validate(source: SpecInput, *, modes: tuple[Mode, ...] = (), online: bool = False) -> ValidationReport:
    """Check a spec fully (schema, references, templates, cycles, seeds) and, per mode, portability.

    With ``online``, also ask NeMo Services whether the providers, secrets, filesets and persona
    filesets the spec names exist. Never raises for a bad spec: problems come back as diagnostics."""
    from ddc.compile.canonical import fingerprint
    from ddc.compile.modes import explain, mode_diagnostics
    from ddc.compile.plan import plan_spec
    from ddc.spec.checks import check_spec
    from ddc.spec.load import looks_like_path

    is_path = isinstance(source, os.PathLike) or (isinstance(source, str) and looks_like_path(source))
    name = str(source) if is_path else "<spec>"
    try:
        loaded = load(source, check=False)
    except SpecError as exc:
        return ValidationReport(name, exc.diagnostics)
    report = ValidationReport(loaded.name)
    report.diagnostics.extend(check_spec(loaded))
    if report.ok:
        try:
            plan_spec(loaded)
        except SpecError as exc:
            report.diagnostics.extend(exc.diagnostics)
    for mode in modes:
        if mode == "submit":
            from ddc.submission.preflight import check_submit

            report.diagnostics.extend(check_submit(loaded, dd_version=_service_dd_version(loaded) if online else None))
        else:
            report.diagnostics.extend(mode_diagnostics(loaded, mode))
        report.explanations[mode] = explain(loaded, mode)
        if online:
            report.diagnostics.extend(_online(loaded, mode))
    if online and modes:
        report.diagnostics.extend(_online_hub(loaded))
    report.diagnostics.sort(key=lambda d: (d.span.line if d.span else 0, d.span.column if d.span else 0))
    if loaded.source.name.endswith(".py") or loaded.source.name.startswith("<"):
        from ddc.spec.python_config import name_columns

        report.diagnostics = name_columns(report.diagnostics, loaded.source.data)
    if report.ok:
        report.fingerprint = fingerprint(loaded.spec)
    return report


def _service_dd_version(loaded: LoadedSpec) -> str | None:
    """With ``--online`` and no ``submit.dd_version``: the data-designer the service's platform pins."""
    from ddc.errors import ServiceError
    from ddc.nemo.resources import NemoAccess
    from ddc.submission.versions import version_for_platform

    access = NemoAccess.for_spec(loaded.spec)
    if access is None or (loaded.spec.submit is not None and loaded.spec.submit.dd_version):
        return None
    try:
        with access.client() as client:
            platform = client.platform_version()
    except ServiceError:
        return None  # the online checks report the service as unreachable
    return version_for_platform(platform) if platform else None


def _online(loaded: LoadedSpec, mode: Mode) -> list[Diagnostic]:
    from ddc.compile.resources import spec_resources
    from ddc.nemo.online import online_diagnostics
    from ddc.nemo.resources import NemoAccess

    if mode == "run" and not any(r.needs_nemo_for_run for r in spec_resources(loaded.spec)):
        return []  # everything resolves locally (or from the Hugging Face Hub, checked once below)
    access = NemoAccess.for_spec(loaded.spec)
    if access is None:
        return [
            Diagnostic("--online needs NeMo Services: set NMP_BASE_URL (and NMP_ACCESS_TOKEN) or submit.base_url",
                       None, "", "", "error", "online-unconfigured")
        ]  # fmt: skip
    return online_diagnostics(loaded, mode, access)


def _online_hub(loaded: LoadedSpec) -> list[Diagnostic]:
    """A Hugging Face seed's file(s) exist on the Hub (a HEAD, or the tree listing for a glob); both modes
    read the same Hub, so this is asked once."""
    seed = loaded.spec.seed_config
    if seed is None or seed.source.seed_type != "hf":
        return []
    from ddc.engine.hfhub import check_hf_seed, hub_seed

    try:
        check_hf_seed(hub_seed(loaded))
    except DdcError as exc:
        return [Diagnostic(f"[online] {exc.message}", exc.span, "seed_config.source.path", exc.hint, "error",
                           "online-seed")]  # fmt: skip
    return []


@dataclass(frozen=True)
class BuildResult:
    text: str
    fingerprint: str
    path: Path | None
    changed: bool


def build(
    source: SpecInput,
    *,
    target: str = "ddc",
    out: str | Path | None = None,
    check: bool = False,
    write: bool = True,
) -> BuildResult:
    """Compile a spec to a Python module. With ``check``, compare to ``out`` instead of writing."""
    from ddc.compile.canonical import fingerprint
    from ddc.compile.emit import EmitOptions, emit_module, module_paths, seed_paths
    from ddc.compile.plan import plan_spec
    from ddc.fsutil import write_atomic

    loaded = load(source)
    plan = plan_spec(loaded)
    out_path = Path(out) if out is not None else None
    label, spec_dir = module_paths(loaded.source.path, out_path)
    options = EmitOptions(
        target=target,  # type: ignore[arg-type]
        source_label=label,
        spec_dir_from_module=spec_dir,
        seed_paths=seed_paths(plan),
    )
    text = emit_module(plan, options)
    current = out_path.read_text(encoding="utf-8") if out_path is not None and out_path.is_file() else None
    changed = current != text
    if out_path is not None and write and not check and changed:
        write_atomic(out_path, text)
    return BuildResult(text=text, fingerprint=fingerprint(loaded.spec), path=out_path, changed=changed)


def submit(
    source: SpecInput,
    *,
    num_records: int | None = None,
    workspace: str | None = None,
    base_url: str | None = None,
    name: str | None = None,
    upload_seeds: bool = False,
    wait: bool = False,
    download: str | Path | None = None,
    dry_run: bool = False,
    dd_version: str | None = None,
    seed_data: Any = None,
) -> Any:
    """Submit a spec (any accepted input) to NeMo Services; returns a ``SubmitOutcome``
    (``.body`` is the exact request, ``.job_name``, ``.status``, ``.dataset`` after ``download``).
    In-memory seed rows (``seed_data``, or an official ``DataFrameSeedSource``) are always uploaded to
    a fileset, as ``upload_seeds`` does for files: the service has no other way to read them."""
    from ddc.submission.jobs import Connection, SubmitOptions, submit_spec

    loaded = load(source, seed_data=seed_data)
    upload_seeds = upload_seeds or loaded.seed_data is not None

    options = SubmitOptions(
        num_records=num_records,
        workspace=workspace,
        name=name,
        dd_version=dd_version,
        upload_seeds=upload_seeds,
        wait=wait,
        download=Path(download) if download is not None else None,
        dry_run=dry_run,
    )
    return submit_spec(loaded, options, Connection(base_url=base_url))


def run(source: SpecInput, *, seed_data: Any = None, **options: Any) -> Any:
    """Generate a dataset locally from any accepted input; see ``ddc.engine.run`` for the options
    (``num_records``, ``output_dir``, ``fmt``, ``seed``, ``resume``, ``partition``, ``return_table``...).
    ``seed_data`` (pandas/polars DataFrame, pyarrow Table) is the seed, scanned in place by DuckDB."""
    from ddc.engine import run as run_engine

    return run_engine(load(source, seed_data=seed_data), **options)


def preview(source: SpecInput, num_records: int = 10, *, seed_data: Any = None, **options: Any) -> Any:
    """Generate ``num_records`` rows in memory (``.table``); nothing is written."""
    from ddc.engine import preview as preview_engine

    return preview_engine(load(source, seed_data=seed_data), num_records, **options)
