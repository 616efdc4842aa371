"""``ddc validate --online``: ask NeMo Services whether the resources a spec names exist.

Offline checks (``compile.modes``) judge forms; these confirm the referents: the provider exists and
serves the model, the secret exists, the fileset and file exist, the persona fileset exists.
"""

from __future__ import annotations

import fnmatch

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
    with access.client() as client:
        for resource in spec_resources(spec):
            if mode == "run" and not resource.needs_nemo_for_run:
                continue  # resolved locally first; the service is not asked
            try:
                problem = _check(client, resource, mode, mapping, models, access.workspace)
            except ServiceHTTPError as exc:
                problem = (f"NeMo Services answered {exc.status} while checking {resource.kind} {resource.ref!r}", "")
            except ServiceError as exc:
                out.append(Diagnostic(f"[online] cannot reach NeMo Services: {exc.message}", None, "", exc.hint,
                                      "error", "online-unreachable"))  # fmt: skip
                return out
            if problem is not None:
                message, hint = problem
                out.append(
                    Diagnostic(f"[online] {message}", loaded.source.map.span(resource.path), format_path(resource.path),
                               hint, "error", f"online-{resource.kind}")
                )  # fmt: skip
    return out


def _check(
    client: object, r: Resource, mode: str, mapping: dict[str, str], models: dict[str, str], workspace: str
) -> tuple[str, str] | None:
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
