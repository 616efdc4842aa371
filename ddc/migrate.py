"""``ddc migrate --to local|submit``: a copy of a spec with each resource moved to the other mode.

To submit: local provider -> its mapped Inference Gateway provider; environment-variable secret ->
Secrets API reference; local or query seed -> materialised, uploaded fileset reference.
To local: gateway provider -> a local provider entry; Secrets API secret -> environment variable; fileset
seed -> downloaded local file; persona fileset -> installed local persona dataset.

With ``apply`` (``--apply``, to submit), the service-side steps of the execution-modes checklist are done
too, each shown first and confirmed: Secrets API secrets created from the environment variables the spec
names, an Inference Gateway provider registered for each local provider (with its key as a secret),
local seeds uploaded to a fileset, and local persona datasets published as the ``system`` persona
filesets. Names default to the workspace and the local name (``default/<provider>``,
``default/<env-var-in-lower-case>``); ``--provider``/``--secret`` choose others. A declined step stops
the migration before anything after it, and the spec is not written.

Edits are surgical (``ddc.spec.edit``): comments and key order survive where content is unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ddc.compile.resources import Resource, spec_resources
from ddc.errors import Diagnostic, SpecError
from ddc.spec.edit import SpecEditor
from ddc.spec.load import LoadedSpec

Direction = Literal["local", "submit"]


@dataclass(frozen=True)
class ServiceStep:
    """A change on NeMo Services that ``apply`` makes: shown, confirmed, then done."""

    description: str
    perform: Callable[[], str]  # what happened: "created", "already there: kept" ...


@dataclass
class MigrationResult:
    text: str
    actions: list[str] = field(default_factory=list)
    added_providers: set[str] = field(default_factory=set)
    steps: list[ServiceStep] = field(default_factory=list)


@dataclass(frozen=True)
class MigrationOptions:
    to: Direction
    out: Path
    providers: dict[str, str] = field(default_factory=dict)  # to submit: local -> ws/name; to local: ref -> name
    secrets: dict[str, str] = field(default_factory=dict)  # to submit: ENV -> ws/name; to local: ws/name -> ENV
    seed_fileset: str = "ddc-seeds"
    workspace: str | None = None
    base_url: str | None = None
    apply: bool = False  # to submit: create the secrets, providers, seed and persona filesets on the service
    confirm: Callable[[str], bool] | None = None  # asked before each step; None: every step is done


def env_name_for(reference: str) -> str:
    """``default/hf-token`` -> ``HF_TOKEN``."""
    name = reference.rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "SECRET"


def migrate_spec(
    loaded: LoadedSpec, options: MigrationOptions, *, report: Callable[[str], None] | None = None
) -> MigrationResult:
    """The migrated spec text; uploads or downloads data when a seed must move."""
    editor = SpecEditor(loaded.source)
    result = MigrationResult(text="")
    problems: list[Diagnostic] = []
    resources = spec_resources(loaded.spec)
    step = _to_submit if options.to == "submit" else _to_local
    for resource in resources:
        problem = step(loaded, editor, resource, options, result)
        if problem is not None:
            problems.append(
                Diagnostic(problem[0], loaded.source.map.span(resource.path), resource.where, problem[1], "error",
                           f"migrate-{resource.form}")
            )  # fmt: skip
    if problems:
        raise SpecError(problems)
    _apply_steps(result, options)
    result.text = editor.text()
    if report is not None:
        for action in result.actions:
            report(action)
    return result


def _access(loaded: LoadedSpec, options: MigrationOptions):  # type: ignore[no-untyped-def]
    from ddc.nemo.resources import NemoAccess

    return NemoAccess.for_spec(loaded.spec, base_url=options.base_url, workspace=options.workspace)


def _apply_steps(result: MigrationResult, options: MigrationOptions) -> None:
    from ddc.errors import UsageError

    done: list[str] = []
    for number, step in enumerate(result.steps, 1):
        shown = f"[{number}/{len(result.steps)}] {step.description}"
        if options.confirm is not None and not options.confirm(shown):
            raise UsageError(
                f"declined: {step.description}; nothing after it was done and no spec was written"
                + (f" (done before it: {'; '.join(done)})" if done else "")
            )
        outcome = step.perform()
        done.append(f"{step.description}: {outcome}")
        result.actions.append(f"{shown}: {outcome}")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "secret"


def _workspace(loaded: LoadedSpec, options: MigrationOptions) -> str:
    return options.workspace or (loaded.spec.submit.workspace if loaded.spec.submit else None) or "default"


def _to_submit(
    loaded: LoadedSpec, editor: SpecEditor, r: Resource, options: MigrationOptions, result: MigrationResult
) -> tuple[str, str] | None:
    spec = loaded.spec
    if r.kind == "provider" and r.form == "local-provider":
        mapped = options.providers.get(r.ref) or ((spec.submit.providers if spec.submit else {}) or {}).get(r.ref)
        if not mapped and options.apply:
            mapped = f"{_workspace(loaded, options)}/{r.ref}"
        if not mapped:
            return f"local provider {r.ref!r} has no gateway mapping", (
                f"pass --provider {r.ref}=WORKSPACE/NAME, or --apply to register it on the gateway"
            )
        if options.apply:
            problem = _plan_provider(loaded, r.ref, mapped, options, result)
            if problem is not None:
                return problem
        editor.set_value(r.path, mapped)
        result.actions.append(f"{r.where}: provider {r.ref} -> {mapped}")
    elif r.kind == "secret" and r.path[0] != "providers" and r.form in {"env-secret", "plaintext-secret"}:
        mapped = options.secrets.get(r.ref)
        if not mapped and options.apply and r.form == "env-secret":
            mapped = f"{_workspace(loaded, options)}/{_slug(r.ref)}"
        if not mapped:
            shown = r.ref if r.form == "env-secret" else "TOKEN"
            return f"secret {r.ref!r} must become a Secrets API reference", (
                f"pass --secret {shown}=WORKSPACE/NAME"
                + (", or --apply to create it" if r.form == "env-secret" else "")
            )
        if options.apply:
            problem = _plan_secret(loaded, mapped, r.ref if r.form == "env-secret" else None, r.ref, options, result)
            if problem is not None:
                return problem
        editor.set_value(r.path, mapped)
        result.actions.append(f"{r.where}: secret {r.ref} -> Secrets API {mapped}")
    elif r.kind == "seed" and r.form in {"local-seed", "query-seed"}:
        access = _access(loaded, options)
        if access is None:
            return "uploading the seed needs NeMo Services", "set NMP_BASE_URL (and NMP_ACCESS_TOKEN)"

        def upload() -> str:
            source = _upload_seed(loaded, access, options)
            _rewrite_seed(editor, loaded, source)
            return f"uploaded as {source['path']}"

        if options.apply:
            result.steps.append(ServiceStep(f"upload the {r.form} {r.ref} to fileset {options.seed_fileset}", upload))
        else:
            result.actions.append(f"seed_config.source: {r.form} -> {upload()}")
    elif r.kind == "persona" and options.apply:
        return _plan_personas(loaded, r.ref, options, result)
    return None


def _plan_secret(
    loaded: LoadedSpec,
    reference: str,
    env: str | None,
    shown: str,
    options: MigrationOptions,
    result: MigrationResult,
) -> tuple[str, str] | None:
    """A step creating ``reference`` from the environment variable ``env`` (when it is not there yet)."""
    access = _access(loaded, options)
    if access is None:
        return "creating secrets needs NeMo Services", "set NMP_BASE_URL (and NMP_ACCESS_TOKEN)"
    if env is None or not os.environ.get(env):
        return f"secret {shown!r}: no value to create {reference} from", (
            f"set the environment variable {env}" if env else "create it with: nemo secrets create"
        )
    value = os.environ[env]

    def create() -> str:
        with access.client() as client:
            return "created" if client.create_secret(reference, value) else "already there: kept"

    result.steps.append(ServiceStep(f"create secret {reference} from ${env}", create))
    return None


def _plan_provider(
    loaded: LoadedSpec, name: str, reference: str, options: MigrationOptions, result: MigrationResult
) -> tuple[str, str] | None:
    """Steps registering local provider ``name`` on the gateway as ``reference``, its key as a secret."""
    access = _access(loaded, options)
    if access is None:
        return "registering a gateway provider needs NeMo Services", "set NMP_BASE_URL (and NMP_ACCESS_TOKEN)"
    local = next((p for p in loaded.spec.providers or () if p.name == name), None)
    if local is None:
        return f"provider {name!r} is not defined under providers:", "define it, or pass --provider NAME=WS/NAME"
    key = getattr(local, "api_key", None)
    secret: str | None = None
    if key and "/" in key:
        secret = key  # already a Secrets API reference
    elif key:
        secret = f"{reference.rpartition('/')[0] or _workspace(loaded, options)}/{_slug(name)}-api-key"
        problem = _plan_secret(loaded, secret, key, f"providers[{name}].api_key", options, result)
        if problem is not None:
            return problem
    endpoint = local.endpoint

    def register() -> str:
        with access.client() as client:
            created = client.create_provider(reference, endpoint, secret)
        return "registered" if created else "already there: kept"

    via = f" with the key in {secret}" if secret else ""
    result.steps.append(ServiceStep(f"register gateway provider {reference} -> {endpoint}{via}", register))
    return None


def _plan_personas(
    loaded: LoadedSpec, locale: str, options: MigrationOptions, result: MigrationResult
) -> tuple[str, str] | None:
    """A step publishing the local persona dataset of ``locale`` as its ``system`` fileset, if missing."""
    from ddc.nemo.personas import installed_persona_path, persona_fileset

    access = _access(loaded, options)
    if access is None:
        return "publishing persona datasets needs NeMo Services", "set NMP_BASE_URL (and NMP_ACCESS_TOKEN)"
    workspace, fileset, file_name = persona_fileset(locale)
    if any(s.description.endswith(f"{workspace}/{fileset}") for s in result.steps):
        return None
    with access.client(workspace) as client:
        if client.fileset_exists(fileset, workspace=workspace):
            return None
    local = installed_persona_path(locale)
    if local is None:
        return f"the persona fileset {workspace}/{fileset} is missing and no local dataset is installed", (
            f"ddc personas install --locale {locale} --from FILE, then migrate again"
        )

    def publish() -> str:
        with access.client(workspace) as client:
            client.create_fileset(fileset)
            client.upload_file(fileset, file_name, local)
        return "published"

    result.steps.append(ServiceStep(f"publish {local} as persona fileset {workspace}/{fileset}", publish))
    return None


def _upload_seed(loaded: LoadedSpec, access, options: MigrationOptions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    import tempfile

    from ddc.submission.seeds import materialise_seed, upload_seed

    with tempfile.TemporaryDirectory(prefix="ddc-migrate-") as tmp:
        seed = materialise_seed(loaded, Path(tmp))
        with access.client() as client:
            return upload_seed(client, seed, fileset=options.seed_fileset)


def _rewrite_seed(editor: SpecEditor, loaded: LoadedSpec, source: dict[str, str]) -> None:
    base: tuple[str, ...] = ("seed_config", "source")
    for key in ("tables", "query", "token", "endpoint", "file_pattern", "recursive", "encoding"):
        if editor.has((*base, key)) and key not in source:
            editor.delete_key((*base, key))
    for key, value in source.items():
        if editor.has((*base, key)):
            editor.set_value((*base, key), value)
        else:
            editor.add_key(base, key, value)


def _to_local(
    loaded: LoadedSpec, editor: SpecEditor, r: Resource, options: MigrationOptions, result: MigrationResult
) -> tuple[str, str] | None:
    if r.kind == "provider" and r.form in {"gateway-provider", "named-provider"}:
        access = _access(loaded, options)
        name = options.providers.get(r.ref) or r.ref.rsplit("/", 1)[-1]
        existing = {p.name for p in loaded.spec.providers or ()} | result.added_providers
        if name not in existing:
            if access is None:
                return f"gateway provider {r.ref!r} has no local endpoint", (
                    f"pass --provider {r.ref}=NAME for a provider defined under providers:, or set NMP_BASE_URL"
                )
            entry = {"name": name, "endpoint": access.gateway_endpoint(r.ref), "api_key": "NMP_ACCESS_TOKEN"}
            if editor.has(("providers",)):
                editor.append_item(("providers",), entry)
            else:
                editor.add_key((), "providers", [entry])
            result.added_providers.add(name)
            result.actions.append(f"providers: added {name} -> {entry['endpoint']}")
        editor.set_value(r.path, name)
        result.actions.append(f"{r.where}: provider {r.ref} -> local {name}")
    elif r.kind == "secret" and r.form == "secrets-api":
        env = options.secrets.get(r.ref) or env_name_for(r.ref)
        editor.set_value(r.path, env)
        result.actions.append(f"{r.where}: secret {r.ref} -> environment variable {env}")
    elif r.kind == "seed" and r.form == "fileset-seed":
        access = _access(loaded, options)
        if access is None:
            return "downloading the fileset seed needs NeMo Services", "set NMP_BASE_URL (and NMP_ACCESS_TOKEN)"
        from ddc.nemo.resources import fetch_fileset_seed
        from ddc.spec.seeds import parse_fileset_ref

        _, fileset, _ = parse_fileset_ref(r.ref)
        dest = options.out.resolve().parent / "data" / fileset
        local, _ = fetch_fileset_seed(access, r.ref, dest=dest)
        relative = os.path.relpath(local, options.out.resolve().parent).replace(os.sep, "/")
        _rewrite_seed(editor, loaded, {"seed_type": "local", "path": relative})
        result.actions.append(f"seed_config.source: fileset {r.ref} -> local {relative}")
    elif r.kind == "persona" and r.needs_nemo_for_run:
        access = _access(loaded, options)
        if access is None:
            return f"no local persona dataset for {r.ref}", r.run_fix
        from ddc.nemo.personas import install_personas

        path = install_personas(r.ref, access=access)
        result.actions.append(f"personas: installed {r.ref} at {path}")
    return None
