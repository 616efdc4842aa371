"""NeMo resources for local runs: Inference Gateway routes, fileset seeds (cached), Secrets API values.

Resolution order for ``ddc run`` (documented in docs/execution-modes.md and shown by
``ddc validate --for run --explain``): local first (spec providers, environment variables, local files,
a local persona dataset), then NeMo Services when a base URL is configured (``NMP_BASE_URL`` or the
spec's ``submit.base_url``; token from ``NMP_ACCESS_TOKEN``).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from ddc.errors import RunError
from ddc.fsutil import cache_root, write_atomic
from ddc.nemo.client import NemoClient, checked_base_url, resolve_token
from ddc.nemo.errors import ServiceHTTPError
from ddc.spec.document import Spec
from ddc.spec.seeds import parse_fileset_ref

GATEWAY_ROUTE = "{base}/apis/inference-gateway/v2/workspaces/{ws}/provider/{name}/-"


@dataclass(frozen=True)
class NemoAccess:
    """How to reach NeMo Services from this machine, or None when nothing is configured."""

    base_url: str
    token: str | None
    workspace: str = "default"

    @classmethod
    def from_settings(
        cls, base_url: str | None = None, spec_base_url: str | None = None, workspace: str = "default"
    ) -> NemoAccess | None:
        """Base URL in ``ddc submit``'s order: the option, then the spec, then ``$NMP_BASE_URL``; but no
        localhost fallback, since a local run only talks to NeMo Services when told where it is. An invalid
        URL is a ``UsageError`` naming where it came from."""
        sources = (
            ("--base-url", base_url),
            ("submit.base_url", spec_base_url),
            ("NMP_BASE_URL", os.environ.get("NMP_BASE_URL")),
        )
        for source, base in sources:
            if base:
                return cls(checked_base_url(base, source), resolve_token(), workspace)
        return None

    @classmethod
    def for_spec(cls, spec: Spec, *, base_url: str | None = None, workspace: str | None = None) -> NemoAccess | None:
        """Access as configured for ``spec`` (its ``submit`` settings), options first."""
        submit = spec.submit
        return cls.from_settings(
            base_url, submit.base_url if submit else None, workspace or (submit.workspace if submit else "default")
        )

    def client(self, workspace: str | None = None) -> NemoClient:
        return NemoClient(self.base_url, workspace=workspace or self.workspace, token=self.token)

    def gateway_endpoint(self, reference: str, host_url: str | None = None) -> str:
        """The OpenAI-compatible base URL of an Inference Gateway provider ``workspace/name`` or ``name``.

        The official client's rule: the route gets ``/v1`` unless the provider's ``host_url`` already ends
        in it (the gateway appends the rest of the path to ``host_url``); unknown ``host_url``: ``/v1``."""
        workspace, _, name = reference.rpartition("/")
        route = GATEWAY_ROUTE.format(base=self.base_url, ws=workspace or self.workspace, name=name)
        return route if host_url is not None and host_url.rstrip("/").endswith("/v1") else route + "/v1"

    def provider_host_url(self, reference: str) -> str | None:
        """The ``host_url`` the Models API has for a provider, or None when it cannot be read."""
        from ddc.errors import ServiceError

        workspace, _, _ = reference.rpartition("/")
        try:
            with self.client(workspace or None) as client:
                value = client.get_provider(reference).get("host_url")
        except ServiceError:
            return None
        return value if isinstance(value, str) else None

    def gateway_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def fetch_fileset_seed(
    access: NemoAccess, reference: str, *, root: Path | None = None, dest: Path | None = None
) -> tuple[str, int]:
    """Download the files of ``workspace/fileset#path-or-glob`` into the cache (or into ``dest``); return a
    local path or glob over them and how many files were downloaded (0 when all were already there)."""
    workspace, fileset, pattern = parse_fileset_ref(reference, access.workspace)
    base = dest if dest is not None else (root or cache_root()) / "filesets" / workspace / fileset
    prefix = pattern.split("*", 1)[0].rsplit("/", 1)[0] if "*" in pattern or "?" in pattern else pattern
    with access.client(workspace) as client:
        listing = client.list_files(fileset, prefix if prefix != pattern else "", workspace=workspace)
        names = [str(row.get("path", "")).lstrip("/") for row in listing]
        matches = sorted(n for n in names if fnmatch.fnmatchcase(n, pattern.lstrip("/")))
        if not matches:
            raise RunError(
                f"fileset {workspace}/{fileset} has no file matching {pattern!r}",
                hint=f"files there: {', '.join(names[:8]) or 'none'}",
            )
        sizes = {str(row.get("path", "")).lstrip("/"): row.get("size") for row in listing}
        downloaded = 0
        for name in matches:
            target = base / name
            if target.is_file() and (sizes.get(name) is None or target.stat().st_size == sizes[name]):
                continue
            if ".." in Path(name).parts:
                raise RunError(f"fileset {workspace}/{fileset} lists an unsafe path {name!r}")
            write_atomic(target, client.download_file(fileset, name, workspace=workspace))
            downloaded += 1
    return str(base / pattern.lstrip("/")), downloaded


def fetch_fileset_directory(access: NemoAccess, reference: str, *, root: Path | None = None) -> Path:
    """Download every file under ``workspace/fileset#dir`` into the cache (files already there with the
    listed size are kept); return the local directory, which mirrors the fileset's."""
    workspace, fileset, directory = parse_fileset_ref(reference, access.workspace)
    directory = directory.strip("/")
    pattern = f"{directory}/*" if directory else "*"
    local, _ = fetch_fileset_seed(access, f"{workspace}/{fileset}#{pattern}", root=root)
    return Path(local).parent


def resolve_secret(value: str, access: NemoAccess | None) -> str:
    """A secret reference as the local composite resolver reads it: environment variable, then the
    Secrets API (``workspace/name`` when NeMo access is configured), then the value itself. The value
    is registered for redaction (``ddc.redaction``)."""
    from ddc.redaction import register

    if value in os.environ:
        register(os.environ[value])
        return os.environ[value]
    parts = value.split("/")
    if access is not None and len(parts) <= 2 and all(parts):
        with access.client() as client:
            try:
                return client.secret_value(value)  # registered by the client
            except ServiceHTTPError as exc:
                if exc.status != 404:
                    raise
    register(value)
    return value
