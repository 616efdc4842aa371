"""HTTP client for NeMo Services: Data Designer jobs and preview, Files, Secrets.

One place talks HTTP, so one place translates transport and status errors into the error tree (422 ->
ConfigRejectedError, other statuses and connection failures -> ServiceError) and one place redacts the
access token from every message and log line. httpx is imported when a client is built, never at import.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from ddc.errors import ServiceError, UsageError
from ddc.nemo.errors import ConfigRejectedError, ServiceHTTPError
from ddc.spec.urls import checked_http_url

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "http://localhost:8080"
DEFAULT_TIMEOUT = 30.0
DD_PREFIX = "/apis/data-designer/v2/workspaces/{ws}"
FILES_PREFIX = "/apis/files/v2/workspaces/{ws}"
SECRETS_PREFIX = "/apis/secrets/v2/workspaces/{ws}"
ENTITIES_PREFIX = "/apis/entities/v2/workspaces/{ws}"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_MAX_DETAIL = 2000

log = logging.getLogger("ddc.nemo")


def resolve_base_url(
    option: str | None = None, spec_value: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """``--base-url``, then the spec's ``submit.base_url``, then ``$NMP_BASE_URL``, then localhost:8080;
    a ``UsageError`` naming where an invalid URL came from."""
    environ = os.environ if env is None else env
    sources = (("--base-url", option), ("submit.base_url", spec_value), ("NMP_BASE_URL", environ.get("NMP_BASE_URL")))
    for source, candidate in sources:
        if candidate:
            return checked_base_url(candidate, source)
    return DEFAULT_BASE_URL


def checked_base_url(value: str, source: str = "the NeMo Services base URL") -> str:
    """``value`` without a trailing slash when it is an http(s) URL with a host and a valid port; else a
    ``UsageError`` (not httpx's ``InvalidURL`` traceback, or a "connection broke" for ``notaurl``)."""
    try:
        return checked_http_url(value, name=source).rstrip("/")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def resolve_token(env: Mapping[str, str] | None = None) -> str | None:
    """The access token from ``$NMP_ACCESS_TOKEN`` (sent as ``Authorization: Bearer``), if any."""
    from ddc.redaction import register

    environ = os.environ if env is None else env
    token = environ.get("NMP_ACCESS_TOKEN") or None
    register(token)
    return token


class Redactor:
    """Removes known secrets, and anything following ``Bearer``, from text."""

    def __init__(self, *secrets: str | None) -> None:
        from ddc.redaction import register

        register(*secrets)  # and everywhere else ddc prints or writes
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        """Also redact ``secret`` (a value fetched at run time) from now on."""
        from ddc.redaction import register

        register(secret)
        if secret and secret not in self._secrets:
            self._secrets = sorted({*self._secrets, secret}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _BEARER.sub(r"\1***", text)


def format_detail(payload: Any) -> str:
    """FastAPI's ``detail`` (a string, or a list of ``{loc, msg}``) as one readable string."""
    detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        text = "; ".join(parts)
    elif isinstance(detail, str):
        text = detail
    else:
        text = json.dumps(detail, sort_keys=True)
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


#: What to do about the 4xx bodies nemo-platform 0.6.0 sends whose cause is not obvious from the text.
CAUSE_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Invalid job request"), "the service does not say which part; its usual cause is a project "
     "that does not exist (`ddc validate SPEC --for submit --online` checks it)"),
    (re.compile(r"conflicts with existing platform state"), "a job name over 51 characters (its results fileset "
     "job-fileset-NAME would exceed 63), or a fileset job-fileset-NAME left behind; pass another --name"),
    (re.compile(r"Fileset '([^/']+)/(job-fileset-[^']+)' already exists"), r"a refused or deleted job left fileset "
     r"\1/\2 behind: delete it (nemo files filesets delete \2 --workspace \1) or pass another --name"),
    (re.compile(r"fileset '([^']+)' not found or not accessible"), r"create the output fileset \1 first, or pass "
     "--create-output-location"),
    (re.compile(r"Cannot access provider '([^']+)'"), r"check that provider \1 exists (nemo inference providers "
     "list) and submit.providers maps to it"),
)  # fmt: skip


def cause_hint(detail: str) -> str | None:
    """What to do about a known error body, or None."""
    for pattern, hint in CAUSE_HINTS:
        match = pattern.search(detail)
        if match:
            return match.expand(hint)
    return None


class NemoClient:
    """A session with one NeMo Services deployment and workspace."""

    def __init__(
        self,
        base_url: str,
        *,
        workspace: str = "default",
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = checked_base_url(base_url)
        self.workspace = workspace
        self.timeout = timeout
        self.redact = Redactor(token)
        headers = {"Accept": "application/json", "User-Agent": "ddc"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"NemoClient({self.base_url!r}, workspace={self.workspace!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NemoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------------------------------------

    def _dd(self, path: str) -> str:
        return DD_PREFIX.format(ws=quote(self.workspace, safe="")) + path

    def _files(self, path: str, workspace: str | None = None) -> str:
        return FILES_PREFIX.format(ws=quote(workspace or self.workspace, safe="")) + path

    def _transport_error(self, exc: Exception, what: str) -> ServiceError:
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            message = f"NeMo Services at {self.base_url} did not answer within {self.timeout:g}s ({what})"
            hint = "the service may be overloaded; try again later"
        elif isinstance(exc, httpx.ConnectError):
            message = f"cannot connect to NeMo Services at {self.base_url} ({what}): {exc}"
            hint = "check --base-url or NMP_BASE_URL and that the service is running"
        else:
            message = f"the connection to NeMo Services at {self.base_url} broke ({what}): {exc}"
            hint = "the response was cut short; try again"
        return ServiceError(self.redact(message), hint=hint)

    def _status_error(self, response: httpx.Response, what: str) -> ServiceError | ConfigRejectedError:
        status = response.status_code
        try:
            detail = format_detail(response.json())
        except ValueError:
            detail = response.text.strip()[:_MAX_DETAIL]
        detail = self.redact(detail)
        known = cause_hint(detail)
        if status == 422:
            return ConfigRejectedError(f"NeMo Services rejected the request ({what}): {detail}", hint=known or "")
        hints = {
            401: "set NMP_ACCESS_TOKEN to a valid access token (`nemo auth token` prints one)",
            403: "the token lacks the data-designer (or files) scope for this workspace",
            404: "check the name and --workspace",
            409: "the request conflicts with what the service has (the message says what)",
        }
        hint = known or hints.get(status, "the service failed; try again later" if status >= 500 else "")
        text = f"NeMo Services answered HTTP {status} ({what})" + (f": {detail}" if detail else "")
        return ServiceHTTPError(self.redact(text), status=status, hint=hint)

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json_body: Any = None,
        content: bytes | BinaryIO | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect_json: bool = True,
    ) -> Any:
        """Send one request; return the decoded JSON (or None). Raises ServiceError/ConfigRejectedError."""
        import httpx

        log.debug(self.redact(f"{method} {self.base_url}{path}"))
        try:
            response = self._http.request(method, path, json=json_body, content=content, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from exc
        log.debug(self.redact(f"{method} {path} -> {response.status_code}"))
        if response.status_code >= 400:
            raise self._status_error(response, what)
        if not expect_json or response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceError(self.redact(f"NeMo Services sent a response that is not JSON ({what})")) from exc

    @contextmanager
    def stream(
        self, method: str, path: str, *, what: str, json_body: Any = None, timeout: float | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed response with a 2xx status (error statuses are raised with their detail)."""
        import httpx

        try:
            with self._http.stream(
                method, path, json=json_body, timeout=timeout if timeout is not None else self.timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._status_error(response, what)
                yield response
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from exc

    def platform_version(self) -> str | None:
        """The NeMo Platform version the service reports (``GET /cluster-info``), or None when it has no
        such route (older platforms)."""
        try:
            info = self.request("GET", "/cluster-info", what="platform version")
        except ServiceHTTPError as exc:
            if exc.status in (404, 405):
                return None
            raise
        value = (info or {}).get("platform_version") if isinstance(info, dict) else None
        return value if isinstance(value, str) else None

    # --- Data Designer jobs ------------------------------------------------------------------------------

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", self._dd("/jobs/create"), what="create job", json_body=body)

    def list_jobs(self, *, page: int = 1, page_size: int = 20) -> dict[str, Any]:
        params = {"page": page, "page_size": page_size, "sort": "-created_at"}
        return self.request("GET", self._dd("/jobs/create"), what="list jobs", params=params)

    def get_job(self, name: str) -> dict[str, Any]:
        return self.request("GET", self._dd(f"/jobs/create/{quote(name, safe='')}"), what=f"get job {name}")

    def job_status(self, name: str) -> dict[str, Any]:
        return self.request(
            "GET", self._dd(f"/jobs/create/{quote(name, safe='')}/status"), what=f"status of job {name}"
        )

    def job_logs(self, name: str, *, page_cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if page_cursor is not None:
            params["page_cursor"] = page_cursor
        if limit is not None:
            params["limit"] = limit
        return self.request(
            "GET",
            self._dd(f"/jobs/create/{quote(name, safe='')}/logs"),
            what=f"logs of job {name}",
            params=params,
        )

    def list_results(self, name: str) -> list[dict[str, Any]]:
        data = self.request(
            "GET", self._dd(f"/jobs/create/{quote(name, safe='')}/results"), what=f"results of job {name}"
        )
        return list((data or {}).get("data") or [])

    def cancel_job(self, name: str) -> dict[str, Any]:
        return self.request("POST", self._dd(f"/jobs/create/{quote(name, safe='')}/cancel"), what=f"cancel job {name}")

    def delete_job(self, name: str) -> None:
        self.request(
            "DELETE",
            self._dd(f"/jobs/create/{quote(name, safe='')}"),
            what=f"delete job {name}",
            expect_json=False,
        )

    def download_result(self, name: str, result: str, dest: BinaryIO) -> int:
        """Stream one result's file into ``dest``; returns the byte count."""
        path = self._dd(f"/jobs/create/{quote(name, safe='')}/results/{quote(result, safe='')}/download")
        size = 0
        with self.stream("GET", path, what=f"download {result} of job {name}") as response:
            for chunk in response.iter_bytes():
                dest.write(chunk)
                size += len(chunk)
        return size

    def preview(self, body: dict[str, Any], *, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """The NDJSON frames of a streamed preview, in order. Raises ServiceError on a broken stream."""
        with self.stream("POST", self._dd("/preview"), what="preview", json_body=body, timeout=timeout) as response:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                try:
                    frame = json.loads(line)
                except ValueError as exc:
                    raise ServiceError(
                        "the preview stream was cut off mid-frame", hint="the connection broke; try again"
                    ) from exc
                if isinstance(frame, dict):
                    yield frame

    # --- Files and Secrets ---------------------------------------------------------------------------

    def create_fileset(self, name: str, *, purpose: str = "dataset") -> bool:
        """Create a fileset; False when it already exists (HTTP 409)."""
        return self._create(self._files("/filesets"), f"fileset {name}", {"name": name, "purpose": purpose})

    def _create(self, path: str, what: str, body: dict[str, Any]) -> bool:
        """POST a new resource; False when it already exists (HTTP 409)."""
        try:
            self.request("POST", path, what=f"create {what}", json_body=body)
        except ServiceHTTPError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def _exists(self, path: str, what: str) -> bool:
        try:
            self.request("GET", path, what=what)
        except ServiceHTTPError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def fileset_exists(self, name: str, *, workspace: str | None = None) -> bool:
        return self._exists(self._files(f"/filesets/{quote(name, safe='')}", workspace), f"fileset {name}")

    def delete_fileset(self, name: str) -> None:
        self.request("DELETE", self._files(f"/filesets/{quote(name, safe='')}"), what=f"delete fileset {name}",
                     expect_json=False)  # fmt: skip

    def project_exists(self, name: str) -> bool:
        """Whether project ``name`` exists in the workspace (the Entities API)."""
        path = ENTITIES_PREFIX.format(ws=quote(self.workspace, safe="")) + f"/projects/{quote(name, safe='')}"
        return self._exists(path, f"project {name}")

    def job_exists(self, name: str) -> bool:
        return self._exists(self._dd(f"/jobs/create/{quote(name, safe='')}"), f"job {name}")

    def upload_file(self, fileset: str, remote_path: str, local_path: Path) -> None:
        path = self._files(f"/filesets/{quote(fileset, safe='')}/-/{quote(remote_path)}")
        with local_path.open("rb") as handle:
            self.request(
                "PUT",
                path,
                what=f"upload {remote_path} to fileset {fileset}",
                content=handle,
                headers={"Content-Type": "application/octet-stream"},  # what the official SDK sends
                expect_json=False,
            )

    def list_files(self, fileset: str, prefix: str = "", *, workspace: str | None = None) -> list[dict[str, Any]]:
        data = self.request(
            "GET",
            self._files(f"/filesets/{quote(fileset, safe='')}/files", workspace),
            what=f"list fileset {fileset}",
            params={"path": prefix},
        )
        return list((data or {}).get("data") or [])

    def download_file(self, fileset: str, remote_path: str, *, workspace: str | None = None) -> bytes:
        import httpx

        path = self._files(f"/filesets/{quote(fileset, safe='')}/-/{quote(remote_path)}", workspace)
        what = f"download {remote_path} from fileset {fileset}"
        try:
            response = self._http.get(path)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from exc
        if response.status_code >= 400:
            raise self._status_error(response, what)
        return response.content

    def secret_value(self, reference: str) -> str:
        """The value of a Secrets API secret (``workspace/name`` or ``name``); never logged."""
        workspace, _, name = reference.rpartition("/")
        path = (
            SECRETS_PREFIX.format(ws=quote(workspace or self.workspace, safe=""))
            + f"/secrets/{quote(name, safe='')}/access"
        )
        data = self.request("GET", path, what=f"secret {reference}")
        value = (data or {}).get("value")
        if not isinstance(value, str):
            raise ServiceError(f"NeMo Services returned no value for secret {reference!r}")
        self.redact.add(value)
        return value

    def get_provider(self, reference: str) -> dict[str, Any]:
        """An Inference Gateway provider (``workspace/name`` or ``name``) as the Models API describes it."""
        workspace, _, name = reference.rpartition("/")
        path = (
            f"/apis/models/v2/workspaces/{quote(workspace or self.workspace, safe='')}/providers/{quote(name, safe='')}"
        )
        return dict(self.request("GET", path, what=f"provider {reference}") or {})

    def create_secret(self, reference: str, value: str) -> bool:
        """Create a Secrets API secret (``workspace/name`` or ``name``); False when it already exists."""
        workspace, _, name = reference.rpartition("/")
        self.redact.add(value)
        path = SECRETS_PREFIX.format(ws=quote(workspace or self.workspace, safe="")) + "/secrets"
        return self._create(path, f"secret {reference}", {"name": name, "value": value})

    def create_provider(self, reference: str, host_url: str, api_key_secret: str | None) -> bool:
        """Register an Inference Gateway provider (the Models API); False when it already exists."""
        workspace, _, name = reference.rpartition("/")
        body: dict[str, Any] = {"name": name, "host_url": host_url}
        if api_key_secret:
            body["api_key_secret_name"] = api_key_secret.rpartition("/")[2]
        path = f"/apis/models/v2/workspaces/{quote(workspace or self.workspace, safe='')}/providers"
        return self._create(path, f"provider {reference}", body)

    def secret_exists(self, reference: str) -> bool:
        """Whether a secret exists, from its metadata (``GET .../secrets/NAME``): its value is never read."""
        workspace, _, name = reference.rpartition("/")
        prefix = SECRETS_PREFIX.format(ws=quote(workspace or self.workspace, safe=""))
        return self._exists(f"{prefix}/secrets/{quote(name, safe='')}", f"secret {reference}")
