"""External resources a spec refers to, and where each resolves when running locally or submitting.

One table drives ``ddc validate --for run|submit`` (the migration checklist), ``--explain`` (the
resolution order) and ``ddc migrate``. Resolution order for ``ddc run``: local first (spec
``providers``, environment variables, local files, the local persona dataset), then NeMo Services
(Inference Gateway, Secrets API, Files API, persona filesets) when ``NMP_BASE_URL`` or
``submit.base_url`` gives access; Hugging Face seeds come from the Hub into the local cache.
``ddc submit``: NeMo resources only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ddc.fsutil import cache_root
from ddc.spec.document import ENV_VAR, Spec
from ddc.spec.source import PathKey, format_path

Kind = Literal["provider", "secret", "seed", "persona"]
DEFAULT_PROVIDERS = ("nvidia", "openai", "openrouter")
_SECRET_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*(/[A-Za-z0-9][A-Za-z0-9_.@+-]*)?$")


@dataclass(frozen=True)
class Resource:
    """One reference, how ``ddc run`` and ``ddc submit`` resolve it, and what to do where it cannot."""

    kind: Kind
    ref: str
    path: PathKey
    form: str  # e.g. "local-provider", "gateway-provider", "env-secret", "local-seed", "fileset-seed"
    run: str  # how ddc run resolves it ("" = cannot)
    submit: str  # how the service resolves it ("" = cannot)
    run_fix: str = ""
    submit_fix: str = ""
    needs_nemo_for_run: bool = False

    @property
    def where(self) -> str:
        return format_path(self.path)


def persona_dataset_paths(locale: str) -> list[Path]:
    """Where a local Nemotron-Personas dataset for ``locale`` is looked for, in order."""
    roots = [
        os.environ.get("DATA_DESIGNER_MANAGED_ASSETS_PATH"),
        str(Path.home() / ".data-designer" / "managed-assets"),
    ]
    return [Path(root) / "datasets" / f"{locale}.parquet" for root in roots if root]


def is_workspace_ref(value: str) -> bool:
    """``workspace/name`` (exactly one slash, both parts non-empty)."""
    parts = value.split("/")
    return len(parts) == 2 and all(parts)


def gateway_route(base_url: str, reference: str, default_workspace: str = "default") -> str:
    """The OpenAI-compatible Inference Gateway route of a provider reference."""
    workspace, name = reference.split("/", 1) if "/" in reference else (default_workspace, reference)
    return f"{base_url.rstrip('/')}/apis/inference-gateway/v2/workspaces/{workspace}/provider/{name}/-/v1"


def spec_resources(spec: Spec) -> list[Resource]:
    """Every provider, secret, seed and persona reference in ``spec``, in spec order."""
    out: list[Resource] = []
    local = {p.name: i for i, p in enumerate(spec.providers or ())}
    mapping = (spec.submit.providers if spec.submit else {}) or {}
    used = _used_aliases(spec)
    for i, model in enumerate(spec.model_configs or ()):
        if used is not None and model.alias not in used:
            continue
        out.append(_provider(model.provider, ("model_configs", i, "provider"), local, mapping))
    referenced = {m.provider for m in spec.model_configs or () if used is None or m.alias in used}
    for i, provider in enumerate(spec.providers or ()):
        if provider.api_key and provider.name in referenced:
            mapped = mapping.get(provider.name)
            secret = _secret(provider.api_key, ("providers", i, "api_key"))
            out.append(
                Resource(
                    "secret", provider.api_key, ("providers", i, "api_key"), secret.form,
                    run=secret.run, run_fix=secret.run_fix, needs_nemo_for_run=secret.needs_nemo_for_run,
                    submit=f"not sent: the gateway provider {mapped!r} holds its own key" if mapped else "",
                    submit_fix="NeMo Services reads keys from the Secrets API through its gateway providers: "
                    f"map {provider.name} in submit.providers",
                )
            )  # fmt: skip
    seed = spec.seed_config
    if seed is not None:
        out.extend(_seed(seed.source))
    for i, col in enumerate(spec.columns):
        if getattr(col, "sampler_type", None) == "person":
            locale = col.params.locale  # type: ignore[union-attr]
            fileset = f"system/nemotron-personas-dataset-{locale.lower()}"
            installed = any(p.is_file() for p in persona_dataset_paths(locale))
            out.append(
                Resource(
                    "persona", locale, ("columns", i, "params", "locale"), "persona-locale",
                    run=f"local persona dataset {locale}.parquet, else the fileset {fileset}",
                    submit=f"the persona fileset {fileset}",
                    run_fix=f"ddc personas install --locale {locale}",
                    needs_nemo_for_run=not installed,
                    submit_fix=f"publish the fileset with: nemo data-designer personas make-fileset --locale {locale}",
                )
            )  # fmt: skip
    return out


def _used_aliases(spec: Spec) -> set[str] | None:
    aliases = {getattr(c, "model_alias", None) for c in spec.columns} | {p.model_alias for p in spec.profilers or ()}
    aliases.discard(None)
    return aliases  # type: ignore[return-value]


def _provider(provider: str, path: PathKey, local: dict[str, int], mapping: dict[str, str]) -> Resource:
    if provider in local:
        mapped = mapping.get(provider)
        return Resource(
            "provider", provider, path, "local-provider",
            run=f"local endpoint from providers[{local[provider]}]",
            submit=f"mapped to the Inference Gateway provider {mapped!r}" if mapped else "",
            submit_fix=f"map it in submit.providers, e.g. {provider}: default/nvidia-build",
        )  # fmt: skip
    if is_workspace_ref(provider):
        return Resource(
            "provider", provider, path, "gateway-provider",
            run="the NeMo Inference Gateway route of this provider (bearer token from NMP_ACCESS_TOKEN)",
            submit="resolved by the service's Inference Gateway",
            run_fix="set NMP_BASE_URL and NMP_ACCESS_TOKEN, or point the model at a local provider",
            needs_nemo_for_run=True,
        )  # fmt: skip
    if provider.count("/") > 1 or not provider:
        return Resource(
            "provider", provider, path, "malformed-provider", run="", submit="",
            run_fix="write a local provider name, or workspace/name",
            submit_fix="write workspace/name or name",
        )  # fmt: skip
    if provider in DEFAULT_PROVIDERS:
        return Resource(
            "provider", provider, path, "default-provider",
            run=f"the default {provider!r} endpoint (key from its environment variable)",
            submit=f"the Inference Gateway provider {provider!r} in the job's workspace",
            submit_fix=f"make sure the workspace has a provider named {provider!r}, or map it in submit.providers",
        )  # fmt: skip
    return Resource(
        "provider", provider, path, "named-provider",
        run="the user providers file, else the Inference Gateway provider of that name (needs NeMo access)",
        submit="the Inference Gateway provider of that name in the job's workspace",
        run_fix="define it under providers: (endpoint, api_key env var)",
        needs_nemo_for_run=True,
    )  # fmt: skip


def _seed(source: Any) -> list[Resource]:
    kind = getattr(source, "seed_type", "")
    out: list[Resource] = []
    if kind in {"local", "query"}:
        field = "path" if kind == "local" else "tables"
        out.append(
            Resource(
                "seed", getattr(source, "path", "") or ", ".join(getattr(source, "tables", {}).values()),
                ("seed_config", "source", field), f"{kind}-seed",
                run="local files read by DuckDB",
                submit="",
                submit_fix="pass --upload-seeds, or use seed_type: nmp with path workspace/fileset#file",
            )
        )  # fmt: skip
    elif kind == "nmp":
        out.append(
            Resource(
                "seed", source.path, ("seed_config", "source", "path"), "fileset-seed",  # type: ignore[attr-defined]
                run="downloaded through the Files API into the local cache (needs NeMo access)",
                submit="read by the service from the fileset",
                run_fix="set NMP_BASE_URL, or ddc migrate --to local to download it once",
                needs_nemo_for_run=True,
            )
        )  # fmt: skip
    elif kind == "hf":
        token = getattr(source, "token", None)
        if token:
            who = "token from seed_config.source.token (resolved as the next line says)"
        else:
            who = "token from $HF_TOKEN" if os.environ.get("HF_TOKEN") else "no token: public datasets only"
        out.append(
            Resource(
                "seed", source.path, ("seed_config", "source", "path"), "hf-seed",  # type: ignore[attr-defined]
                run=f"downloaded from the Hugging Face Hub at {source.endpoint} into {cache_root() / 'hf'}, "  # type: ignore[attr-defined]
                f"reused while its ETag is unchanged; {who}",
                submit="read by the service from the Hugging Face Hub",
                run_fix="set HF_TOKEN (or token) for a private or gated dataset",
            )
        )  # fmt: skip
        if token:
            out.append(_secret(token, ("seed_config", "source", "token")))
    elif kind in {"directory", "file_contents"}:
        path = source.path  # type: ignore[attr-defined]
        remote = "#" in path
        out.append(
            Resource(
                "seed", path, ("seed_config", "source", "path"), "fileset-directory" if remote else "local-directory",
                run="downloaded through the Files API into the local cache (needs NeMo access)"
                if remote
                else "a local directory",
                submit="the fileset directory" if remote else "",
                run_fix="set NMP_BASE_URL, or ddc migrate --to local to download it once" if remote else "",
                submit_fix="" if remote else "upload the directory to a fileset and write workspace/fileset#dir",
                needs_nemo_for_run=remote,
            )
        )  # fmt: skip
    elif kind == "agent_rollout":
        out.append(
            Resource("seed", getattr(source, "path", None) or kind, ("seed_config", "source"), "agent-rollout-seed",
                     run="", submit="", run_fix="agent rollout seeds are not supported by ddc run",
                     submit_fix="agent rollout seeds are not supported by NeMo Services")
        )  # fmt: skip
    return out


def _secret(value: str, path: PathKey) -> Resource:
    if is_workspace_ref(value):
        return Resource(
            "secret", value, path, "secrets-api",
            run="the Secrets API (needs NeMo access)", submit="the Secrets API",
            run_fix="set NMP_BASE_URL, or use an environment variable name locally", needs_nemo_for_run=True,
        )  # fmt: skip
    if ENV_VAR.match(value) and value.upper() == value and "_" in value:
        return Resource(
            "secret", value, path, "env-secret",
            run=f"environment variable ${value}", submit="",
            submit_fix="store it with the Secrets API and write workspace/name",
        )  # fmt: skip
    if _SECRET_REF.match(value) and not value.startswith("hf_"):
        return Resource(
            "secret", value, path, "secrets-api",
            run="the Secrets API in the default workspace (needs NeMo access)",
            submit="the Secrets API in the job's workspace", needs_nemo_for_run=True,
        )  # fmt: skip
    return Resource(
        "secret", "<redacted>", path, "plaintext-secret",
        run="used as written (plaintext)", submit="",
        submit_fix="never put a token in a spec: store it with the Secrets API and write workspace/name",
    )  # fmt: skip
