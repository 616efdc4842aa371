"""What works where: the migration checklist for running locally (``run``) or on NeMo Services (``submit``).

Offline form checks, built from ``compile.resources`` (one row per provider, secret, seed and persona
reference) plus the features one side lacks (MCP tools). Each finding names the spec location and the
fix, the "migration action" of NeMo's "Moving Between Execution Modes" guide.
"""

from __future__ import annotations

import os
from typing import Literal

from ddc.compile.resources import Resource, spec_resources
from ddc.errors import Diagnostic
from ddc.spec.load import LoadedSpec
from ddc.spec.source import PathKey, format_path

Mode = Literal["run", "submit"]


def _finding(
    loaded: LoadedSpec, path: PathKey, message: str, hint: str, code: str, severity: str = "error"
) -> Diagnostic:
    return Diagnostic(message, loaded.source.map.span(path), format_path(path), hint, severity, code)


def nemo_access(loaded: LoadedSpec) -> bool:
    """Whether ``ddc run`` can reach NeMo Services (a base URL is configured)."""
    submit = loaded.spec.submit
    return bool(os.environ.get("NMP_BASE_URL") or (submit is not None and submit.base_url))


def mode_diagnostics(loaded: LoadedSpec, mode: Mode, *, upload_seeds: bool = False) -> list[Diagnostic]:
    """Findings that block (errors) or qualify (info) running ``loaded`` in ``mode``."""
    out: list[Diagnostic] = []
    spec = loaded.spec
    tagged_tools = [(i, c) for i, c in enumerate(spec.columns) if getattr(c, "tool_alias", None)]
    if mode == "run":
        out.extend(_run_tool_findings(loaded, {str(getattr(c, "tool_alias", "")) for _, c in tagged_tools}))
    elif spec.tool_configs or tagged_tools:
        path: PathKey = ("tool_configs",) if spec.tool_configs else ("columns", tagged_tools[0][0], "tool_alias")
        out.append(
            _finding(loaded, path, "[submit] tool configs (MCP) are not supported by NeMo Services",
                     "remove tool_configs and tool_alias", "submit-mcp")
        )  # fmt: skip
    access = nemo_access(loaded)
    for resource in spec_resources(spec):
        finding = _resource_finding(loaded, resource, mode, access=access, upload_seeds=upload_seeds)
        if finding is not None:
            out.append(finding)
    return out


def _run_tool_findings(loaded: LoadedSpec, used: set[str]) -> list[Diagnostic]:
    """Tool configs (used by a column) that ``ddc run`` cannot serve: an MCP provider not declared in
    ``mcp_providers``, or the ``mcp`` package missing."""
    spec = loaded.spec
    out: list[Diagnostic] = []
    declared = {p.name for p in spec.mcp_providers or ()}
    for i, tool in enumerate(spec.tool_configs or ()):
        if tool.tool_alias not in used:
            continue
        for j, name in enumerate(tool.providers):
            if name not in declared:
                out.append(
                    _finding(loaded, ("tool_configs", i, "providers", j),
                             f"[run] MCP provider {name!r} is not declared",
                             f"add it under mcp_providers (name: {name}, with command or endpoint)", "run-mcp")
                )  # fmt: skip
    if used and not _installed("mcp"):
        path: PathKey = ("tool_configs",) if spec.tool_configs else ("columns",)
        out.append(
            _finding(loaded, path, "[run] tool use (MCP) needs the mcp package",
                     "pip install 'ddc[mcp]'", "run-mcp-missing")
        )  # fmt: skip
    return out


def _installed(module: str) -> bool:
    import sys
    from importlib.util import find_spec

    if module in sys.modules:
        return sys.modules[module] is not None
    return find_spec(module) is not None


def _resource_finding(
    loaded: LoadedSpec, r: Resource, mode: Mode, *, access: bool, upload_seeds: bool
) -> Diagnostic | None:
    label = {"provider": "provider", "secret": "secret", "seed": "seed", "persona": "persona locale"}[r.kind]
    if mode == "run":
        if not r.run:
            return _finding(loaded, r.path, f"[run] {label} {r.ref!r} cannot be used by ddc run", r.run_fix,
                            f"run-{r.form}")  # fmt: skip
        if r.needs_nemo_for_run and not access:
            message = (
                f"[run] no local persona dataset for {r.ref!r} and no NeMo Services access"
                if r.kind == "persona"
                else f"[run] {label} {r.ref!r} needs NeMo Services access"
            )
            return _finding(loaded, r.path, message, r.run_fix, f"run-{r.form}", "warning")
        return None
    if r.submit:
        return None
    if r.kind == "seed" and upload_seeds and r.form in {"local-seed", "query-seed"}:
        return None
    what = {
        "local-provider": "is local-only",
        "malformed-provider": "is not a valid provider reference",
        "env-secret": "is an environment variable; the service takes only Secrets API references",
        "plaintext-secret": "is a plaintext token; the service takes only Secrets API references",
        "local-seed": "is a local file the service cannot read",
        "query-seed": "is a local query the service cannot read",
        "local-directory": "is a local directory the service cannot read",
        "agent-rollout-seed": "is not supported",
    }.get(r.form, "is not available on NeMo Services")
    return _finding(loaded, r.path, f"[submit] {label} {r.ref!r} {what}", r.submit_fix, f"submit-{r.form}")


def explain(loaded: LoadedSpec, mode: Mode) -> list[str]:
    """One line per reference: where it is and how ``mode`` resolves it."""
    lines = []
    smap = loaded.source.map
    for r in sorted(spec_resources(loaded.spec), key=lambda r: (smap.span(r.path).line, smap.span(r.path).column)):
        how = r.run if mode == "run" else r.submit
        span = loaded.source.map.span(r.path)
        lines.append(
            f"{span}: {r.kind} {r.ref!r} -> {how or 'unavailable: ' + (r.run_fix if mode == 'run' else r.submit_fix)}"
        )
    return lines
