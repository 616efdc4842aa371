"""A NeMo Services test server written from the documented API (shared/reference/nemo-services-api.md).

Real HTTP on 127.0.0.1 (ephemeral port), stdlib only plus pyarrow for the artifacts it generates:

* Data Designer v2: jobs create/list/get/status/logs (paginated, ``page_cursor``)/results/download/cancel/
  delete and the streaming NDJSON ``/preview``;
* Files v2 (filesets create/get/list files/upload/download), Secrets v2 ``.../access``, Models v2 providers;
* the Inference Gateway route prefix (requests are only recorded).

Request bodies are checked for shape, with the same server-side rules the real service applies (seed
types, custom columns, tool configs, provider/secret/fileset resolution) and, through a pluggable
``config_validator``, against the official ``data-designer-config`` models when those are importable.
Faults (401/404/409/422/500, slow or truncated responses) are injected per route with ``fail``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.servers.loopback import LoopbackServer

DD = r"/apis/data-designer/v2/workspaces/(?P<ws>[^/]+)"
FILES = r"/apis/files/v2/workspaces/(?P<ws>[^/]+)"
ENTITY_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9\-@.+_]{1,62}(?<!-)$")
JOB_REQUEST_KEYS = {
    "name", "description", "project", "spec", "profile", "options", "ownership", "custom_fields",
    "output_location",
}  # fmt: skip
REMOTE_SEED_TYPES = {"hf", "nmp", "directory", "file_contents"}
FILESET_REF = re.compile(r"^(?:(?P<ws>[^/#]+)/)?(?P<fs>[^/#]+)#(?P<path>.+)$")
TERMINAL = {"completed", "error", "cancelled"}
#: nemo-platform 0.6.0's bodies for a missing project and for an over-long job name (their real causes are
#: only in its log)
INVALID_JOB_REQUEST = (
    "Invalid job request. Check that the name, project, platform_spec, and referenced resources are valid for "
    "this workspace, then try again."
)
STATE_CONFLICT = (
    "Unable to create job because the request conflicts with existing platform state. Review the job name and "
    "referenced resources, then try again."
)

#: A config validator returns a list of problems (empty when the config is valid).
ConfigValidator = Callable[[dict[str, Any]], list[str]]


class Rejected(Exception):
    """Raised by a handler to answer with an error status and a FastAPI-style ``{"detail": ...}``."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


@dataclass
class Fault:
    """Make matching requests misbehave: an error status, a delay, or a body cut short."""

    method: str
    pattern: str
    status: int | None = None
    body: Any = None
    delay: float = 0.0
    truncate: bool = False
    times: int | None = None  # None: every matching request
    query: str = ""  # a substring the raw query string must contain

    def matches(self, method: str, path: str, query: str = "") -> bool:
        return self.method in (method, "*") and re.search(self.pattern, path) is not None and self.query in query


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Job:
    name: str
    workspace: str
    request: dict[str, Any]
    statuses: list[str]
    created_at: str
    step: int = 0
    cancel_state: str | None = None  # "cancelling" once asked, "cancelled" from the next poll on
    logs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.cancel_state or self.statuses[min(self.step, len(self.statuses) - 1)]

    @property
    def num_records(self) -> int:
        return int(self.request["spec"]["num_records"])


def official_validator() -> ConfigValidator | None:
    """Validate configs with the official ``DataDesignerConfig`` when it is importable, else None.

    The ``nmp`` fileset seed is a NeMo plugin type the plain library lacks: its grammar is checked
    here and it is swapped for a stand-in hf source before the official models see the config."""
    try:
        from data_designer.config.data_designer_config import DataDesignerConfig
    except ImportError:
        return None

    def validate(config: dict[str, Any]) -> list[str]:
        from pydantic import ValidationError

        probe = json.loads(json.dumps(config))
        source = (probe.get("seed_config") or {}).get("source") or {}
        if source.get("seed_type") == "nmp":
            probe["seed_config"]["source"] = {"seed_type": "hf", "path": "datasets/ddc/fileset-stand-in/data.parquet"}
        try:
            DataDesignerConfig.model_validate(probe)
        except ValidationError as exc:
            return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
        except Exception as exc:  # the official validators raise their own errors for some checks
            return [str(exc)]
        return []

    return validate


def shape_validator(config: dict[str, Any]) -> list[str]:
    """Minimal shape check used when the official models are not importable."""
    problems: list[str] = []
    if not isinstance(config, dict):
        return ["config: must be an object"]
    known = {
        "columns",
        "model_configs",
        "tool_configs",
        "seed_config",
        "constraints",
        "profilers",
        "processors",
    }
    problems += [f"config.{k}: extra inputs are not permitted" for k in sorted(set(config) - known)]
    columns = config.get("columns")
    if not isinstance(columns, list) or not columns:
        problems.append("config.columns: must be a non-empty list")
        return problems
    for i, col in enumerate(columns):
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or "column_type" not in col:
            problems.append(f"config.columns.{i}: needs 'name' and 'column_type'")
    return problems


class NemoServices(LoopbackServer):
    """The server and its state. Use as a context manager or call ``start``/``stop``."""

    def __init__(
        self,
        *,
        token: str | None = None,
        statuses: list[str] | None = None,
        log_page_size: int = 2,
        config_validator: ConfigValidator | str | None = "auto",
    ) -> None:
        self.token = token
        self.statuses = statuses or ["created", "pending", "active", "completed"]
        self.log_page_size = log_page_size
        self.config_validator: ConfigValidator | None = (
            (official_validator() or shape_validator) if config_validator == "auto" else config_validator  # type: ignore[assignment]
        )
        self.jobs: dict[tuple[str, str], Job] = {}
        self.filesets: dict[tuple[str, str], dict[str, bytes]] = {}
        self.secrets: dict[tuple[str, str], str] = {}
        self.projects: set[tuple[str, str]] = set()
        self.providers: dict[tuple[str, str], dict[str, Any]] = {
            ("default", "nvidia-build"): {
                "name": "nvidia-build",
                "workspace": "default",
                "enabled_models": [],
            },
        }
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.preview_error: str | None = None
        self.preview_truncate = False
        self.artifacts_override: bytes | None = None
        self._lock = threading.Lock()
        super().__init__()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def base_url(self) -> str:
        return self.url

    # --- test controls -----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        pattern: str,
        status: int | None = None,
        *,
        body: Any = None,
        delay: float = 0.0,
        truncate: bool = False,
        times: int | None = None,
        query: str = "",
    ) -> Fault:
        """Make requests whose path matches ``pattern`` (a regex; and whose query contains ``query``)
        fail, stall or be cut short."""
        fault = Fault(method, pattern, status, body, delay, truncate, times, query)
        self.faults.append(fault)
        return fault

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def add_fileset(self, workspace: str, name: str, files: dict[str, bytes] | None = None) -> None:
        self.filesets[(workspace, name)] = dict(files or {})

    # --- routing -----------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("POST", DD + r"/preview", self.preview),
            ("POST", DD + r"/jobs/create", self.create_job),
            ("GET", DD + r"/jobs/create", self.list_jobs),
            ("GET", DD + r"/jobs/create/(?P<name>[^/]+)", self.get_job),
            ("DELETE", DD + r"/jobs/create/(?P<name>[^/]+)", self.delete_job),
            ("GET", DD + r"/jobs/create/(?P<name>[^/]+)/status", self.job_status),
            ("GET", DD + r"/jobs/create/(?P<name>[^/]+)/logs", self.job_logs),
            ("GET", DD + r"/jobs/create/(?P<name>[^/]+)/results", self.list_results),
            ("GET", DD + r"/jobs/create/(?P<name>[^/]+)/results/(?P<result>[^/]+)", self.get_result),
            (
                "GET",
                DD + r"/jobs/create/(?P<name>[^/]+)/results/(?P<result>[^/]+)/download",
                self.download_result,
            ),
            ("POST", DD + r"/jobs/create/(?P<name>[^/]+)/cancel", self.cancel_job),
            ("POST", FILES + r"/filesets", self.create_fileset),
            ("GET", FILES + r"/filesets/(?P<fs>[^/]+)", self.get_fileset),
            ("DELETE", FILES + r"/filesets/(?P<fs>[^/]+)", self.delete_fileset),
            ("POST", r"/apis/entities/v2/workspaces/(?P<ws>[^/]+)/projects", self.create_project),
            ("GET", r"/apis/entities/v2/workspaces/(?P<ws>[^/]+)/projects/(?P<name>[^/]+)", self.get_project),
            ("GET", FILES + r"/filesets/(?P<fs>[^/]+)/files", self.list_files),
            ("PUT", FILES + r"/filesets/(?P<fs>[^/]+)/-/(?P<path>.+)", self.upload_file),
            ("GET", FILES + r"/filesets/(?P<fs>[^/]+)/-/(?P<path>.+)", self.download_file),
            (
                "GET",
                r"/apis/secrets/v2/workspaces/(?P<ws>[^/]+)/secrets/(?P<name>[^/]+)/access",
                self.access_secret,
            ),
            ("GET", r"/apis/secrets/v2/workspaces/(?P<ws>[^/]+)/secrets/(?P<name>[^/]+)", self.secret_metadata),
            ("GET", r"/apis/models/v2/workspaces/(?P<ws>[^/]+)/providers", self.list_providers),
            ("GET", r"/apis/models/v2/workspaces/(?P<ws>[^/]+)/providers/(?P<name>[^/]+)", self.get_provider),
            (
                "*",
                r"/apis/inference-gateway/v2/workspaces/(?P<ws>[^/]+)/provider/(?P<name>[^/]+)/-/.*",
                self.gateway,
            ),
            ("GET", r"/health/ready", lambda req: (200, {"status": "ok"})),
        ]
        return [(m, re.compile("^" + p + "$"), h) for m, p, h in table]

    # --- Data Designer: jobs -------------------------------------------------------------------------

    def _job(self, ws: str, name: str) -> Job:
        job = self.jobs.get((ws, name))
        if job is None:
            raise Rejected(404, f"Job '{name}' not found in workspace '{ws}'.")
        return job

    def _job_json(self, job: Job) -> dict[str, Any]:
        req = job.request
        return {
            "id": f"job-{job.name}", "name": job.name, "description": req.get("description"), "project": None,
            "workspace": job.workspace, "created_at": job.created_at, "updated_at": job.created_at,
            "status": job.status, "status_details": {}, "error_details": self._error_details(job),
            "ownership": {}, "custom_fields": req.get("custom_fields") or {},
            "spec": {"job_config": req["spec"], "model_providers": [], "model_configs": []},
        }  # fmt: skip

    @staticmethod
    def _error_details(job: Job) -> dict[str, Any] | None:
        return {"message": "generation failed: model endpoint returned 500"} if job.status == "error" else None

    def _advance(self, job: Job) -> None:
        if job.cancel_state == "cancelling":
            job.cancel_state = "cancelled"
            self._log(job, "job status is now cancelled")
            return
        if job.status in TERMINAL or job.step >= len(job.statuses) - 1:
            return
        job.step += 1
        self._log(job, f"job status is now {job.status}")
        if job.status == "active":
            self._log(job, f"generating {job.num_records} records")
        if job.status == "completed":
            self._log(job, "dataset written")

    def _log(self, job: Job, message: str) -> None:
        record = {"name": "data_designer.test", "levelname": "INFO", "message": message}
        job.logs.append({
            "timestamp": job.created_at, "job": job.name, "job_step": "data-designer-job",
            "job_task": "task-0",
            "message": "[stderr] " + json.dumps(record),
        })  # fmt: skip

    def validate_config(self, config: Any, ws: str) -> None:
        """The server's request checks: shape, official models, then what ``to_spec`` resolves."""
        if not isinstance(config, dict):
            raise Rejected(422, [{"loc": ["body", "spec", "config"], "msg": "Input should be an object"}])
        for col in config.get("columns") or []:
            if isinstance(col, dict) and col.get("column_type") == "custom":
                raise Rejected(422, "Custom columns are not supported by the NeMo Platform Data Designer service.")
        source = (config.get("seed_config") or {}).get("source") or {}
        if source and source.get("seed_type") not in REMOTE_SEED_TYPES:
            raise Rejected(
                422,
                "The NeMo Platform Data Designer service only supports seed data from HuggingFace "
                "or the NeMo Platform Files service (FilesetFile, Directory, or FileContents seed "
                "sources referencing fileset paths)",
            )
        if self.config_validator is not None:
            problems = self.config_validator(config)
            if problems:
                raise Rejected(422, [{"loc": ["body", "spec", "config"], "msg": p} for p in problems])
        messages: list[str] = []
        if config.get("tool_configs"):
            messages.append("Tool configs are not supported in the NeMo Platform Data Designer service.")
        aliases = {m.get("alias"): m for m in config.get("model_configs") or []}
        used = {c.get("model_alias") for c in config.get("columns") or [] if c.get("model_alias")}
        unknown = sorted(a for a in used if a not in aliases)
        if unknown:
            messages.append(f"Unrecognized model aliases in config: {unknown}")
        for alias in sorted(a for a in used if a in aliases):
            provider = str(aliases[alias].get("provider", ""))
            if provider.count("/") > 1:
                messages.append(f"Malformed model provider '{provider}' for model config with alias '{alias}'")
                continue
            pws, _, pname = provider.rpartition("/")
            if (pws or ws, pname) not in self.providers:
                messages.append(f"Cannot access provider '{provider}'. Check that it exists and you have access to it.")
        if source.get("seed_type") == "nmp":
            match = FILESET_REF.match(str(source.get("path", "")))
            if match is None:
                messages.append(f"Invalid fileset reference '{source.get('path')}'")
            else:
                fws, fs, path = match["ws"] or ws, match["fs"], match["path"]
                if (fws, fs) not in self.filesets:
                    messages.append(f"Could not find fileset '{fs}' in workspace '{fws}'")
                elif path not in self.filesets[(fws, fs)]:
                    messages.append(f"File '{path}' not found in fileset '{fws}/{fs}'")
        if source.get("seed_type") == "hf" and source.get("token"):
            sws, _, sname = str(source["token"]).rpartition("/")
            if (sws or ws, sname) not in self.secrets:
                messages.append(f"Could not find secret '{sname}' in workspace '{sws or ws}'")
        if messages:
            raise Rejected(
                422,
                "Failed to transform nemo-data-designer-plugin job input to output: " + "\n".join(messages),
            )

    def create_job(self, req: Request) -> tuple[int, Any]:
        body = req.json()
        if not isinstance(body, dict):
            raise Rejected(422, [{"loc": ["body"], "msg": "Input should be an object"}])
        extra = sorted(set(body) - JOB_REQUEST_KEYS)
        if extra:
            raise Rejected(422, [{"loc": ["body", k], "msg": "Extra inputs are not permitted"} for k in extra])
        spec = body.get("spec")
        if not isinstance(spec, dict) or set(spec) != {"num_records", "config"}:
            raise Rejected(422, [{"loc": ["body", "spec"], "msg": "spec must have exactly num_records and config"}])
        if not isinstance(spec["num_records"], int) or isinstance(spec["num_records"], bool) or spec["num_records"] < 1:
            raise Rejected(422, [{"loc": ["body", "spec", "num_records"], "msg": "Input should be a positive integer"}])
        out = body.get("output_location")
        if out is not None and (not isinstance(out, str) or not ENTITY_NAME.match(out)):
            raise Rejected(422, [{"loc": ["body", "output_location"], "msg": "must be a fileset name"}])
        name = body.get("name") or f"job-{uuid.uuid4().hex[:10]}"
        if not ENTITY_NAME.match(name):
            raise Rejected(422, [{"loc": ["body", "name"], "msg": "invalid entity name"}])
        if body.get("project") and (req.ws, body["project"]) not in self.projects:
            with self._lock:  # 0.6.0 has created the results fileset by then, and leaves it behind
                self.filesets.setdefault((req.ws, f"job-fileset-{name}"), {})
            raise Rejected(422, INVALID_JOB_REQUEST)
        if out is not None and (req.ws, out) not in self.filesets:
            raise Rejected(422, f"fileset '{out}' not found or not accessible in workspace '{req.ws}'")
        self.validate_config(spec["config"], req.ws)
        with self._lock:
            results = (req.ws, f"job-fileset-{name}")
            if (req.ws, name) in self.jobs:
                raise Rejected(409, f"Job '{name}' already exists in workspace '{req.ws}'. Choose a different job "
                                    "name or delete the existing job before creating a new one.")  # fmt: skip
            if results in self.filesets:
                raise Rejected(409, f"Fileset '{req.ws}/{results[1]}' already exists")
            if len(results[1]) > 63:
                raise Rejected(409, STATE_CONFLICT)  # 0.6.0: the cause (the fileset name) is only in its log
            self.filesets[results] = {}
            job = Job(name, req.ws, body, list(self.statuses), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            self._log(job, "job created")
            self.jobs[(req.ws, name)] = job
        return 201, self._job_json(job)

    def list_jobs(self, req: Request) -> tuple[int, Any]:
        page = int(req.param("page", "1"))
        size = int(req.param("page_size", "10"))
        jobs = sorted((j for (ws, _), j in self.jobs.items() if ws == req.ws), key=lambda j: j.created_at, reverse=True)
        chunk = jobs[(page - 1) * size : page * size]
        return 200, {
            "data": [self._job_json(j) for j in chunk],
            "pagination": {"page": page, "page_size": size, "current_page_size": len(chunk),
                           "total_pages": max(1, -(-len(jobs) // size)), "total_results": len(jobs)},
            "sort": "-created_at", "filter": {},
        }  # fmt: skip

    def get_job(self, req: Request) -> tuple[int, Any]:
        return 200, self._job_json(self._job(req.ws, req.match["name"]))

    def delete_job(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        if job.status not in TERMINAL:
            raise Rejected(409, f"Job '{job.name}' is not in a terminal state")
        del self.jobs[(req.ws, job.name)]
        return 204, None

    def job_status(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        with self._lock:
            self._advance(job)
        return 200, {
            "id": f"job-{job.name}", "name": job.name, "status": job.status, "status_details": {},
            "error_details": self._error_details(job), "steps": [], "created_at": job.created_at,
            "updated_at": job.created_at,
        }  # fmt: skip

    def job_logs(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        start = int(req.param("page_cursor", "0") or 0)
        limit = int(req.param("limit", str(self.log_page_size)))
        limit = min(limit, self.log_page_size)
        page = job.logs[start : start + limit]
        after = start + len(page)
        return 200, {
            "data": page, "total": len(job.logs),
            "next_page": str(after) if after < len(job.logs) else None,
            "prev_page": str(max(0, start - limit)) if start > 0 else None,
        }  # fmt: skip

    def _result_json(self, job: Job, name: str) -> dict[str, Any]:
        base = f"{DD}/jobs/create/{job.name}/results/{name}".replace("(?P<ws>[^/]+)", job.workspace)
        return {
            "name": name, "job": job.name, "workspace": job.workspace, "created_at": job.created_at,
            "updated_at": job.created_at,
            "artifact_url": f"{job.workspace}/job-fileset-{job.name}#results/0/{name}",
            "artifact_storage_type": "fileset", "download_url": self.base_url + base + "/download",
        }  # fmt: skip

    def list_results(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        names = ["artifacts", "analysis"] if job.status == "completed" else []
        return 200, {"data": [self._result_json(job, n) for n in names]}

    def get_result(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        if job.status != "completed" or req.match["result"] not in {"artifacts", "analysis"}:
            raise Rejected(
                404, f"Result '{req.match['result']}' for job '{job.name}' not found in workspace '{req.ws}'."
            )
        return 200, self._result_json(job, req.match["result"])

    def download_result(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        result = req.match["result"]
        if job.status != "completed" or result not in {"artifacts", "analysis"}:
            raise Rejected(404, f"Result '{result}' for job '{job.name}' not found in workspace '{req.ws}'.")
        if result == "analysis":
            return 200, {"num_records": job.num_records, "column_statistics": []}
        data = self.artifacts_override if self.artifacts_override is not None else self.artifacts_tarball(job)
        return 200, Raw(
            data,
            "application/x-tar",
            {"Content-Disposition": 'attachment; filename="artifacts.tar.gz"'},
        )

    def artifacts_tarball(self, job: Job) -> bytes:
        """The artifacts tarball: seed columns (read from the fileset), then the config columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        config = job.request["spec"]["config"]
        n = job.num_records
        columns: dict[str, list[Any]] = {}
        seed = self._seed_table(config, job.workspace)
        if seed is not None and seed.num_rows:
            for name in seed.column_names:
                values = seed.column(name).to_pylist()
                columns[name] = [values[i % len(values)] for i in range(n)]
        dropped = {c["name"] for c in config["columns"] if c.get("drop")}
        for col in config["columns"]:
            if col["name"] not in dropped and col.get("column_type") != "seed-dataset":
                columns[col["name"]] = [f"{col['name']}-{i}" for i in range(n)]
        table = pa.table(columns) if columns else pa.table({"_": list(range(n))})
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            half = max(1, n // 2)
            for index, (offset, length) in enumerate(((0, half), (half, n - half))):
                if length <= 0:
                    continue
                part = io.BytesIO()
                pq.write_table(table.slice(offset, length), part)
                _add_bytes(tar, f"artifacts/dataset/parquet-files/batch_{index:05d}.parquet", part.getvalue())
            _add_bytes(tar, "artifacts/dataset/metadata.json", json.dumps({"num_records": n}).encode())
        return buffer.getvalue()

    def _seed_table(self, config: dict[str, Any], ws: str) -> Any:
        import pyarrow.parquet as pq

        source = (config.get("seed_config") or {}).get("source") or {}
        match = FILESET_REF.match(str(source.get("path", ""))) if source.get("seed_type") == "nmp" else None
        if match is None:
            return None
        data = self.filesets.get((match["ws"] or ws, match["fs"]), {}).get(match["path"])
        return None if data is None else pq.read_table(io.BytesIO(data))

    def cancel_job(self, req: Request) -> tuple[int, Any]:
        job = self._job(req.ws, req.match["name"])
        with self._lock:
            if job.status not in TERMINAL:
                job.cancel_state = "cancelling"
                self._log(job, "job cancellation requested")
        return 200, self._job_json(job)

    # --- Data Designer: preview ----------------------------------------------------------------------

    def preview(self, req: Request) -> tuple[int, Any]:
        body = req.json()
        if not isinstance(body, dict) or set(body) - {"config", "num_records"} or "config" not in body:
            raise Rejected(422, [{"loc": ["body"], "msg": "body must be {config, num_records}"}])
        n = body.get("num_records") or 10
        if n > 10:
            raise Rejected(422, "Max num records for preview requests is 10")
        config = body["config"]
        self.validate_config(config, req.ws)
        names = [c["name"] for c in config["columns"] if not c.get("drop")]
        records = [{name: f"{name}-{i}" for name in names} for i in range(n)]
        frames: list[dict[str, Any]] = [
            {"kind": "log", "level": "info", "message": "Preview generation started"},
        ]
        if self.preview_error is not None:
            frames.append({"kind": "error", "message": self.preview_error, "details": {"type": "ValueError"}})
        else:
            frames += [
                {"kind": "dataset_metadata", "metadata": {"seed_column_names": [], "column_names": names}},
                {"kind": "dataset", "records": records},
                {"kind": "analysis", "analysis": {"num_records": n, "column_statistics": []}},
                {"kind": "done"},
            ]
        return 200, Stream(frames, truncate=self.preview_truncate)

    # --- Files, Secrets, Models, Inference Gateway ---------------------------------------------------

    def create_fileset(self, req: Request) -> tuple[int, Any]:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not ENTITY_NAME.match(body["name"]):
            raise Rejected(422, [{"loc": ["body", "name"], "msg": "invalid fileset name"}])
        extra = sorted(set(body) - {"name", "description", "purpose", "storage", "cache", "project"})
        if extra:
            raise Rejected(422, [{"loc": ["body", k], "msg": "Extra inputs are not permitted"} for k in extra])
        key = (req.ws, body["name"])
        with self._lock:
            if key in self.filesets:
                raise Rejected(409, f"Fileset '{req.ws}/{body['name']}' already exists")
            self.filesets[key] = {}
        return 201, {"name": body["name"], "workspace": req.ws, "purpose": body.get("purpose")}

    def _fileset(self, ws: str, name: str) -> dict[str, bytes]:
        files = self.filesets.get((ws, name))
        if files is None:
            raise Rejected(404, f"Could not find fileset '{name}' in workspace '{ws}'")
        return files

    def get_fileset(self, req: Request) -> tuple[int, Any]:
        self._fileset(req.ws, req.match["fs"])
        return 200, {"name": req.match["fs"], "workspace": req.ws}

    def delete_fileset(self, req: Request) -> tuple[int, Any]:
        self._fileset(req.ws, req.match["fs"])
        with self._lock:
            del self.filesets[(req.ws, req.match["fs"])]
        return 204, None

    def create_project(self, req: Request) -> tuple[int, Any]:
        body = req.json()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not ENTITY_NAME.match(name):
            raise Rejected(422, [{"loc": ["body", "name"], "msg": "invalid entity name"}])
        self.projects.add((req.ws, name))
        return 201, {"name": name, "workspace": req.ws}

    def get_project(self, req: Request) -> tuple[int, Any]:
        if (req.ws, req.match["name"]) not in self.projects:
            raise Rejected(404, f"Project '{req.match['name']}' not found in workspace '{req.ws}'")
        return 200, {"name": req.match["name"], "workspace": req.ws}

    def list_files(self, req: Request) -> tuple[int, Any]:
        files = self._fileset(req.ws, req.match["fs"])
        prefix = req.param("path", "")
        rows = [{"path": p, "size": len(b)} for p, b in sorted(files.items()) if p.startswith(prefix)]
        return 200, {"data": rows}

    def upload_file(self, req: Request) -> tuple[int, Any]:
        files = self._fileset(req.ws, req.match["fs"])
        path = unquote(req.match["path"])
        files[path] = req.body
        return 201, {"path": path, "size": len(req.body)}

    def download_file(self, req: Request) -> tuple[int, Any]:
        files = self._fileset(req.ws, req.match["fs"])
        path = unquote(req.match["path"])
        if path not in files:
            raise Rejected(404, f"File '{path}' not found in fileset '{req.ws}/{req.match['fs']}'")
        return 200, Raw(files[path], "application/octet-stream")

    def secret_metadata(self, req: Request) -> tuple[int, Any]:
        if (req.ws, req.match["name"]) not in self.secrets:
            raise Rejected(404, f"Secret {req.ws}/{req.match['name']} not found")
        return 200, {"name": req.match["name"], "workspace": req.ws}

    def access_secret(self, req: Request) -> tuple[int, Any]:
        value = self.secrets.get((req.ws, req.match["name"]))
        if value is None:
            raise Rejected(404, f"Secret {req.ws}/{req.match['name']} not found")
        return 200, {"name": req.match["name"], "value": value}

    def list_providers(self, req: Request) -> tuple[int, Any]:
        rows = [p for (ws, _), p in self.providers.items() if req.ws in ("-", ws)]
        return 200, {"data": rows}

    def get_provider(self, req: Request) -> tuple[int, Any]:
        provider = self.providers.get((req.ws, req.match["name"]))
        if provider is None:
            raise Rejected(404, f"Model provider not found: {req.ws}/{req.match['name']}")
        return 200, provider

    def gateway(self, req: Request) -> tuple[int, Any]:
        """The Inference Gateway route of a provider: an OpenAI-compatible endpoint with deterministic
        replies (chat completions and embeddings), for the provider's served models."""
        name = req.match["name"]
        if (req.ws, name) not in self.providers:
            raise Rejected(404, f"Provider '{name}' not found in workspace '{req.ws}'")
        path = req.match.group(0)
        body = req.json() if req.body else {}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        if path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": f"gateway {name} reply {digest}"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return 200, {"id": digest, "object": "chat.completion", "model": body.get("model"),
                         "choices": [choice], "usage": usage}  # fmt: skip
        if path.endswith("/embeddings"):
            inputs = body.get("input") or []
            inputs = [inputs] if isinstance(inputs, str) else inputs
            data = [{"index": i, "embedding": [float(len(str(t))), 1.0, 0.5]} for i, t in enumerate(inputs)]
            return 200, {"object": "list", "data": data, "usage": usage}
        if path.endswith("/models"):
            return 200, {
                "object": "list",
                "data": [{"id": m} for m in self.providers[(req.ws, name)]["enabled_models"]],
            }
        raise Rejected(404, f"no gateway route {path}")


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


@dataclass
class Raw:
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    frames: list[dict[str, Any]]
    truncate: bool = False


@dataclass
class Request:
    ws: str
    match: re.Match[str]
    query: dict[str, list[str]]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except json.JSONDecodeError as exc:
            raise Rejected(422, [{"loc": ["body"], "msg": f"JSON decode error: {exc.msg}"}]) from exc

    def param(self, name: str, default: str) -> str:
        values = self.query.get(name)
        return values[0] if values else default


class _Handler(BaseHTTPRequestHandler):
    state: NemoServices
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        state = self.state
        state.requests.append(RecordedRequest(method, url.path, parse_qs(url.query), dict(self.headers.items()), body))
        fault = self._fault(method, url.path, url.query)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.truncate:
            self._truncated()
            return
        if fault is not None and fault.status is not None:
            self._send_json(fault.status, fault.body if fault.body is not None else {"detail": "injected failure"})
            return
        if state.token is not None and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._send_json(401, {"detail": "Not authenticated"})
            return
        for route_method, pattern, handler in state.routes():
            match = pattern.match(url.path)
            if match and route_method in (method, "*"):
                ws = match.groupdict().get("ws") or ""
                try:
                    status, payload = handler(Request(ws, match, parse_qs(url.query), body))
                except Rejected as exc:
                    self._send_json(exc.status, {"detail": exc.detail})
                    return
                self._send(status, payload)
                return
        self._send_json(404, {"detail": "Not Found"})

    def _fault(self, method: str, path: str, query: str) -> Fault | None:
        with self.state._lock:
            for fault in self.state.faults:
                if fault.matches(method, path, query) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _send(self, status: int, payload: Any) -> None:
        if isinstance(payload, Raw):
            self._send_bytes(status, payload.data, payload.content_type, payload.headers)
        elif isinstance(payload, Stream):
            self._send_stream(payload)
        elif payload is None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send_json(status, payload)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json")

    def _send_bytes(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, stream: Stream) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        frames = stream.frames[:2] if stream.truncate else stream.frames
        for frame in frames:
            self._chunk((json.dumps(frame) + "\n").encode())
        if stream.truncate:
            self._chunk(b'{"kind": "datas')  # a frame cut mid-line, then the connection drops
            self.close_connection = True
            return
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _truncated(self) -> None:
        """Promise a body and deliver half of it, then drop the connection."""
        data = json.dumps({"detail": "this response is cut short", "padding": "x" * 200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
