"""``ddc validate --online``: ask NeMo Services whether the resources a spec names exist.

Offline checks (``compile.modes``) judge forms; these confirm the referents: the provider exists and
serves the model, the secret exists, the fileset and file exist, the persona fileset exists.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from ddc.compile.resources import Resource, spec_resources
from ddc.errors import Diagnostic, ServiceError
from ddc.nemo.errors import ServiceHTTPError
from ddc.nemo.personas import persona_fileset
from ddc.nemo.resources import NemoAccess
from ddc.spec.load import LoadedSpec
from ddc.spec.seeds import parse_fileset_ref
from ddc.spec.source import format_path


def online_diagnostics(loaded: LoadedSpec, mode: str, access: NemoAccess) -> list[Diagnostic]:
    """One finding per resource NeMo Services does not have; a single finding if it cannot be reached."""
    out: list[Diagnostic] = []
    spec = loaded.spec
    mapping = (spec.submit.providers if spec.submit else {}) or {}
    models = {m.provider: m.model for m in spec.model_configs or ()}
    checked: dict[tuple[str, str, str], Problem | None] = {}
    with access.client() as client:
        for resource in spec_resources(spec):
            if mode == "run" and not resource.needs_nemo_for_run:
                continue  # resolved locally first; the service is not asked
            key = (resource.kind, resource.form, resource.ref)
            if key in checked:  # each referent is asked about once; every position still gets its finding
                problem = checked[key]
            else:
                try:
                    problem = checked[key] = _check(client, resource, mode, mapping, models, access.workspace)
                except ServiceHTTPError as exc:
                    problem = checked[key] = (
                        f"NeMo Services answered {exc.status} while checking {resource.kind} {resource.ref!r}",
                        "",
                    )
                except ServiceError as exc:
                    out.append(Diagnostic(f"[online] cannot reach NeMo Services: {exc.message}", None, "", exc.hint,
                                          "error", "online-unreachable"))  # fmt: skip
                    return out
            if problem is not None:
                message, hint, severity = (*problem, "error")[:3]
                out.append(
                    Diagnostic(f"[online] {message}", loaded.source.map.span(resource.path), format_path(resource.path),
                               hint, severity, f"online-{resource.kind}")
                )  # fmt: skip
        if mode == "submit":
            try:
                out.extend(_submit_targets(loaded, client))
            except ServiceError as exc:
                out.append(Diagnostic(f"[online] cannot check the project or output fileset: {exc.message}", None,
                                      "", exc.hint, "error", "online-unreachable"))  # fmt: skip
    return out


def _submit_targets(loaded: LoadedSpec, client: Any) -> list[Diagnostic]:
    """``submit.project`` and ``submit.output_location`` must exist before a job names them."""
    submit = loaded.spec.submit
    if submit is None:
        return []
    out = []
    ws = client.workspace
    if submit.project and not client.project_exists(submit.project):
        out.append(Diagnostic(
            f"[online] project {submit.project!r} does not exist in workspace {ws!r}",
            loaded.source.map.span(("submit", "project")), "submit.project",
            f"create it (POST /apis/entities/v2/workspaces/{ws}/projects) or remove submit.project", "error",
            "online-project",
        ))  # fmt: skip
    if submit.output_location and not client.fileset_exists(submit.output_location):
        out.append(Diagnostic(
            f"[online] output fileset {ws}/{submit.output_location} does not exist",
            loaded.source.map.span(("submit", "output_location")), "submit.output_location",
            f"create it (nemo files filesets create {submit.output_location}) or submit with "
            "--create-output-location", "error", "online-output-location",
        ))  # fmt: skip
    return out


#: (message, hint) or (message, hint, severity); the severity defaults to "error".
Problem = tuple[str, ...]


def _model_names(served: object) -> list[str]:
    if not isinstance(served, list):
        return []
    names = [m if isinstance(m, str) else m.get("name") or m.get("model") or m.get("id") for m in served
             if isinstance(m, (str, dict))]  # fmt: skip
    return [str(n) for n in names if n]


def _check(
    client: object, r: Resource, mode: str, mapping: dict[str, str], models: dict[str, str], workspace: str
) -> Problem | None:
    if r.kind == "provider":
        reference = mapping.get(r.ref, r.ref) if mode == "submit" else r.ref
        if r.form == "local-provider" and reference == r.ref:
            return None  # nothing on the service to check (the offline check reports the missing mapping)
        if r.form not in {"gateway-provider", "named-provider", "default-provider", "local-provider"}:
            return None
        try:
            provider = client.get_provider(reference)  # type: ignore[attr-defined]
        except ServiceHTTPError as exc:
            if exc.status == 404:
                return f"provider {reference!r} does not exist", "check `nemo inference providers list`"
            raise
        enabled = provider.get("enabled_models") or []
        model = models.get(r.ref)
        if enabled and model not in enabled:
            return f"provider {reference!r} does not serve model {model!r}", f"enabled: {', '.join(enabled)}"
        if not enabled and not _model_names(provider.get("served_models")):
            status = provider.get("status")
            return (
                f"provider {reference!r} serves no models (the Models API lists none"
                + (f"; status {status}" if status else "")
                + f"), so requests for {model!r} may fail",
                f"check `nemo inference providers get {reference.rpartition('/')[2]}` and the provider's host_url",
                "warning",
            )
        return None
    if r.kind == "secret" and r.form == "secrets-api":
        if not client.secret_exists(r.ref):  # type: ignore[attr-defined]
            return f"secret {r.ref!r} does not exist", "create it with the Secrets API (nemo secrets create)"
        return None
    if r.kind == "seed" and r.form in {"fileset-seed", "fileset-directory"}:
        ws, fileset, pattern = parse_fileset_ref(r.ref, workspace)
        try:
            files = client.list_files(fileset, workspace=ws)  # type: ignore[attr-defined]
        except ServiceHTTPError as exc:
            if exc.status == 404:
                return f"fileset {ws}/{fileset} does not exist", "upload the data first (ddc migrate --to submit)"
            raise
        names = [str(f.get("path", "")).lstrip("/") for f in files]
        if r.form == "fileset-seed" and not fnmatch.filter(names, pattern.lstrip("/")):
            return f"fileset {ws}/{fileset} has no file matching {pattern!r}", ""
        return None
    if r.kind == "persona":
        ws, fileset, name = persona_fileset(r.ref)
        try:
            files = client.list_files(fileset, workspace=ws)  # type: ignore[attr-defined]
        except ServiceHTTPError as exc:
            if exc.status == 404:
                return (f"persona fileset {ws}/{fileset} does not exist",
                        f"nemo data-designer personas make-fileset --locale {r.ref}")  # fmt: skip
            raise
        if name not in {str(f.get("path", "")).lstrip("/") for f in files}:
            return f"persona fileset {ws}/{fileset} has no {name}", ""
    return None
