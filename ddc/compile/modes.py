"""What works where: findings for running a spec locally (``run``) or on NeMo Services (``submit``).

Offline form checks only; each finding names the spec location and the fix (the "migration action" of
NeMo's "Moving Between Execution Modes" guide).
"""

from __future__ import annotations

from typing import Literal

from ddc.errors import Diagnostic
from ddc.spec.load import LoadedSpec
from ddc.spec.source import PathKey, format_path

DEFAULT_PROVIDERS = ("nvidia", "openai", "openrouter")


def _finding(
    loaded: LoadedSpec, path: PathKey, message: str, hint: str, code: str, severity: str = "error"
) -> Diagnostic:
    return Diagnostic(message, loaded.source.map.span(path), format_path(path), hint, severity, code)


def is_gateway_ref(provider: str) -> bool:
    return provider.count("/") == 1 and all(provider.split("/"))


def mode_diagnostics(loaded: LoadedSpec, mode: Literal["run", "submit"]) -> list[Diagnostic]:
    return _run_findings(loaded) if mode == "run" else _submit_findings(loaded)


def _run_findings(loaded: LoadedSpec) -> list[Diagnostic]:
    spec = loaded.spec
    out: list[Diagnostic] = []
    local = {p.name for p in spec.providers or ()}
    for i, col in enumerate(spec.columns):
        if getattr(col, "tool_alias", None):
            out.append(
                _finding(
                    loaded,
                    ("columns", i, "tool_alias"),
                    "[run] tool use (MCP) is not supported by ddc run",
                    "remove tool_alias to run locally, or run with the official engine",
                    "run-mcp",
                )
            )
    for i, model in enumerate(spec.model_configs or ()):
        provider = model.provider
        if provider in local or provider in DEFAULT_PROVIDERS:
            continue
        if is_gateway_ref(provider):
            out.append(
                _finding(
                    loaded,
                    ("model_configs", i, "provider"),
                    f"[run] provider {provider!r} is a NeMo Inference Gateway provider",
                    "set NMP_BASE_URL (and NMP_ACCESS_TOKEN) so ddc run can reach it",
                    "run-gateway",
                    "info",
                )
            )
        else:
            out.append(
                _finding(
                    loaded,
                    ("model_configs", i, "provider"),
                    f"[run] unknown provider {provider!r}",
                    "define it under `providers:` (endpoint and api_key env var)",
                    "run-provider",
                )
            )
    seed = spec.seed_config
    if seed is not None and seed.source.seed_type == "nmp":
        out.append(
            _finding(
                loaded,
                ("seed_config", "source", "path"),
                "[run] fileset seed is read from NeMo Services",
                "set NMP_BASE_URL so ddc run can download it",
                "run-fileset",
                "info",
            )
        )
    return out


def _submit_findings(loaded: LoadedSpec) -> list[Diagnostic]:
    spec = loaded.spec
    out: list[Diagnostic] = []
    seed = spec.seed_config
    if seed is not None and seed.source.seed_type in {"local", "query", "agent_rollout"}:
        field = "query" if seed.source.seed_type == "query" else "path"
        out.append(
            _finding(
                loaded,
                ("seed_config", "source", field),
                f"[submit] a {seed.source.seed_type} seed is not readable by NeMo Services",
                "pass --upload-seeds, or use a fileset seed (seed_type: nmp, path: workspace/fileset#file)",
                "submit-local-seed",
            )
        )
    if (
        seed is not None
        and seed.source.seed_type == "hf"
        and seed.source.token
        and not is_gateway_ref(seed.source.token)
    ):
        out.append(
            _finding(
                loaded,
                ("seed_config", "source", "token"),
                "[submit] NeMo Services takes only Secrets API references for tokens",
                "store the token with the Secrets API and write workspace/name",
                "submit-secret",
            )
        )
    if spec.tool_configs:
        out.append(
            _finding(
                loaded,
                ("tool_configs",),
                "[submit] tool configs (MCP) are not supported by NeMo Services",
                "remove tool_configs and tool_alias",
                "submit-mcp",
            )
        )
    local = {p.name for p in spec.providers or ()}
    mapping = (spec.submit.providers if spec.submit else {}) or {}
    for i, model in enumerate(spec.model_configs or ()):
        provider = model.provider
        path: PathKey = ("model_configs", i, "provider")
        if provider in mapping:
            continue
        if provider in local:
            out.append(
                _finding(
                    loaded,
                    path,
                    f"[submit] provider {provider!r} is local-only",
                    f"map it in submit.providers, e.g. {provider}: default/nvidia-build",
                    "submit-local-provider",
                )
            )
        elif provider.count("/") > 1:
            out.append(
                _finding(
                    loaded,
                    path,
                    f"[submit] malformed provider reference {provider!r}",
                    "write workspace/name or name",
                    "submit-provider",
                )
            )
    return out
