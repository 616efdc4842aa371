"""Submitting a spec and following the job: the library side of ``ddc submit``, ``ddc jobs`` and
``ddc preview --remote``.

Nothing here prints: progress goes to a ``report`` callback the caller renders. Order of work:
pre-flight checks, seed materialisation, payload (all local; a dry run stops here), then the service:
seed upload, create, poll with backoff while following logs, download and check the dataset.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddc.compile.plan import Plan, plan_spec
from ddc.errors import ServiceError, SpecError, SubmitError
from ddc.nemo.client import DEFAULT_TIMEOUT, NemoClient, resolve_base_url, resolve_token
from ddc.spec.load import LoadedSpec
from ddc.submission.artifacts import DatasetCheck, check_dataset, extract_artifacts
from ddc.submission.errors import ConfigRejectedError, JobFailedError, JobWaitTimeout, ServiceHTTPError
from ddc.submission.payload import JobOptions, build_payload, check_options, preview_body
from ddc.submission.preflight import check_submit
from ddc.submission.seeds import (
    DEFAULT_SEED_FILESET,
    MaterialisedSeed,
    fileset_seed_source,
    materialise_seed,
    upload_seed,
)
from ddc.submission.targets import after_refused_create, check_targets

Report = Callable[[str], None]
TERMINAL_STATUSES = ("completed", "error", "cancelled")
MAX_POLL_ERRORS = 5


def _ignore(_: str) -> None:
    pass


@dataclass(frozen=True)
class Connection:
    """Where the service is: base URL precedence is --base-url, spec, $NMP_BASE_URL, localhost:8080."""

    base_url: str | None = None
    token: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def client(self, workspace: str, spec_base_url: str | None = None) -> NemoClient:
        token = self.token if self.token is not None else resolve_token()
        return NemoClient(
            resolve_base_url(self.base_url, spec_base_url),
            workspace=workspace,
            token=token,
            timeout=self.timeout,
        )


@dataclass(frozen=True)
class SubmitOptions(JobOptions):
    upload_seeds: bool = False
    create_output_location: bool = False
    seed_fileset: str = DEFAULT_SEED_FILESET
    dry_run: bool = False
    wait: bool = False
    download: Path | None = None
    poll_interval: float = 1.0
    max_poll_interval: float = 10.0
    wait_timeout: float | None = None  # seconds; None waits until the job ends


@dataclass
class SubmitOutcome:
    body: dict[str, Any]
    job_name: str | None = None
    status: str | None = None
    artifacts: Path | None = None
    dataset: DatasetCheck | None = None
    warnings: list[str] = field(default_factory=list)


def _preflight(
    loaded: LoadedSpec,
    options: JobOptions,
    *,
    upload_seeds: bool,
    report: Report,
    preview_records: int | None = None,
    version_checks: bool = True,
) -> None:
    diagnostics = check_submit(
        loaded,
        upload_seeds=upload_seeds,
        name=options.name,
        dd_version=options.dd_version,
        preview_records=preview_records,
    )
    if not version_checks:  # the target version is not known yet
        diagnostics = [d for d in diagnostics if d.code != "version"]
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise SpecError(errors)
    for warning in diagnostics:
        report(warning.format())


def _needs_upload(loaded: LoadedSpec) -> bool:
    seed = loaded.spec.seed_config
    return seed is not None and seed.source.seed_type in ("local", "query", "df")


@contextmanager
def _staged_seed(loaded: LoadedSpec, upload: bool) -> Iterator[MaterialisedSeed | None]:
    if not (upload and _needs_upload(loaded)):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="ddc-seed-") as tmp:
        yield materialise_seed(loaded, Path(tmp))


def workspace_of(plan: Plan, options: JobOptions) -> str:
    return options.workspace or plan.submit.workspace


def with_service_version(
    loaded: LoadedSpec, options: SubmitOptions, connection: Connection, report: Report = _ignore
) -> SubmitOptions:
    """Without ``--dd-version`` or ``submit.dd_version``, target the data-designer the service pins: its
    platform version (``GET /cluster-info``) through ``PLATFORM_PINS``; else the documented default."""
    from dataclasses import replace

    from ddc.submission.versions import DEFAULT_VERSION, version_for_platform

    submit = loaded.spec.submit
    if options.dd_version or (submit is not None and submit.dd_version):
        return options
    workspace = options.workspace or (submit.workspace if submit else "default")
    with connection.client(workspace, submit.base_url if submit else None) as client:
        platform = client.platform_version()
    version = version_for_platform(platform) if platform else None
    if version is None:
        return options
    if version != DEFAULT_VERSION:
        report(f"NeMo Platform {platform} pins data-designer {version}: the config is checked and shaped for it")
    return replace(options, dd_version=version)


def submit_spec(
    loaded: LoadedSpec,
    options: SubmitOptions,
    connection: Connection | None = None,
    *,
    report: Report = _ignore,
) -> SubmitOutcome:
    """Check, shape and (unless a dry run) submit a spec; optionally wait, download and verify."""
    connection = connection or Connection()
    check_options(options)  # names the service would refuse: refused before it is asked anything
    if not options.dry_run:  # a spec that cannot be submitted is refused before the service is asked anything
        _preflight(loaded, options, upload_seeds=options.upload_seeds, report=_ignore, version_checks=False)
        options = with_service_version(loaded, options, connection, report)
    _preflight(loaded, options, upload_seeds=options.upload_seeds, report=report)
    plan = plan_spec(loaded)
    workspace = workspace_of(plan, options)
    with _staged_seed(loaded, options.upload_seeds) as seed:
        seed_source = fileset_seed_source(workspace, options.seed_fileset, seed.remote_name) if seed else None
        body = build_payload(loaded, plan, options, seed_source=seed_source)
        outcome = SubmitOutcome(body)
        if options.dry_run:
            return outcome
        with connection.client(workspace, plan.submit.base_url) as client:
            check_targets(client, body, create_output_location=options.create_output_location, report=report)
            if seed is not None:
                upload_seed(client, seed, fileset=options.seed_fileset, report=report)
            try:
                job = client.create_job(body)
            except (ServiceHTTPError, ConfigRejectedError) as exc:
                after_refused_create(client, body, exc, report)
                raise
            outcome.job_name = str(job.get("name"))
            outcome.status = str(job.get("status", "created"))
            report(f"submitted job {outcome.job_name} to {client.base_url} (workspace {workspace})")
            if not (options.wait or options.download):
                return outcome
            outcome.status = wait_for_job(
                client,
                outcome.job_name,
                poll_interval=options.poll_interval,
                max_interval=options.max_poll_interval,
                timeout=options.wait_timeout,
                report=report,
            )
            if options.download is not None:
                outcome.artifacts, outcome.dataset = download_job(
                    client,
                    outcome.job_name,
                    options.download,
                    expected_records=body["spec"]["num_records"],
                    report=report,
                )
    return outcome


# --- following a job -------------------------------------------------------------------------------------


def format_log_message(entry: dict[str, Any]) -> str:
    """A log entry's text: the worker writes JSON records, possibly after a prefix such as ``[stderr]``."""
    message = str(entry.get("message", ""))
    start = message.find("{")
    if start >= 0:
        try:
            record = json.loads(message[start:])
        except ValueError:
            record = None
        if isinstance(record, dict) and "message" in record:
            level = str(record.get("levelname", "")).lower()
            return f"{level}: {record['message']}" if level else str(record["message"])
    return message.strip()


class LogFollower:
    """Yields only the log lines not seen yet, following ``next_page`` cursors."""

    def __init__(self, client: NemoClient, job: str) -> None:
        self.client = client
        self.job = job
        self.cursor: str | None = None
        self.seen_in_page = 0

    def new_lines(self) -> list[str]:
        """Lines after the last ones returned; the position moves only when every page was read."""
        lines: list[str] = []
        cursor, seen = self.cursor, self.seen_in_page
        while True:
            page = self.client.job_logs(self.job, page_cursor=cursor)
            data = list(page.get("data") or [])
            lines += [format_log_message(e) for e in data[seen:]]
            next_page = page.get("next_page")
            if next_page:
                cursor, seen = str(next_page), 0
                continue
            self.cursor, self.seen_in_page = cursor, len(data)
            return [self.client.redact(line) for line in lines]


def _transient(exc: ServiceError) -> bool:
    return not isinstance(exc, ServiceHTTPError) or exc.status >= 500


def wait_for_job(
    client: NemoClient,
    name: str,
    *,
    poll_interval: float = 1.0,
    max_interval: float = 10.0,
    timeout: float | None = None,
    report: Report = _ignore,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll until the job is terminal, reporting status changes and new log lines; returns ``completed``.

    Raises JobFailedError for ``error``/``cancelled``, and JobWaitTimeout when ``timeout`` seconds pass
    first (the job is left running: the caller asked to stop waiting, not to stop the job). Up to five
    transient errors in a row (5xx, connection) are tolerated. Ctrl-C asks the service to cancel the
    job, then re-raises."""
    deadline = None if timeout is None else clock() + timeout
    follower = LogFollower(client, name)
    interval = poll_interval
    last: str | None = None
    failures = 0
    try:
        while True:
            try:
                status_doc = client.job_status(name)
                new_lines = follower.new_lines()
                failures = 0
            except ServiceError as exc:
                failures += 1
                if not _transient(exc) or failures >= MAX_POLL_ERRORS:
                    raise
                report(f"status poll failed ({exc}); retrying")
                sleep(interval)
                interval = min(interval * 1.5, max_interval)
                continue
            status = str(status_doc.get("status"))
            for line in new_lines:
                report(f"log: {line}")
            if status != last:
                report(f"job {name}: {status}")
                last, interval = status, poll_interval
            if status in TERMINAL_STATUSES:
                break
            if deadline is not None:
                left = deadline - clock()
                if left <= 0:
                    raise JobWaitTimeout(job=name, status=status, seconds=timeout or 0.0)
                interval = min(interval, left)  # wake up at the deadline, not after it
            sleep(interval)
            interval = min(interval * 1.5, max_interval)
    except KeyboardInterrupt:
        report(f"interrupted: asking NeMo Services to cancel job {name}")
        try:
            client.cancel_job(name)
            report(f"cancel requested for job {name}")
        except ServiceError as exc:
            report(f"could not cancel job {name}: {exc}")
        raise
    if status == "completed":
        return status
    details = status_doc.get("error_details") or {}
    reason = details.get("message") if isinstance(details, dict) else None
    text = f"job {name} ended with status {status}" + (f": {client.redact(str(reason))}" if reason else "")
    raise JobFailedError(text, job=name, status=status, hint=f"see `ddc jobs logs {name}`")


def download_job(
    client: NemoClient,
    name: str,
    dest: Path,
    *,
    expected_records: int | None = None,
    report: Report = _ignore,
) -> tuple[Path, DatasetCheck]:
    """Download the ``artifacts`` result, extract it safely under ``dest`` and check the dataset."""
    dest.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".ddc-artifacts-", suffix=".tar.gz", dir=dest)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            size = client.download_result(name, "artifacts", handle)
        report(f"downloaded artifacts of job {name} ({size} bytes)")
        artifacts = extract_artifacts(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _save_analysis(client, name, dest)
    check = check_dataset(artifacts, expected_records)
    report(f"dataset: {check.num_records} records in {len(check.files)} file(s) under {artifacts / 'dataset'}")
    return artifacts, check


def _save_analysis(client: NemoClient, name: str, dest: Path) -> None:
    """``analysis.json`` beside ``artifacts/`` when the service has it (a 404 is not an error)."""
    fd, tmp_name = tempfile.mkstemp(prefix=".ddc-analysis-", suffix=".json", dir=dest)
    try:
        with os.fdopen(fd, "wb") as handle:
            client.download_result(name, "analysis", handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, dest / "analysis.json")
    except ServiceHTTPError as exc:
        if exc.status != 404:
            raise
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def expected_records_of(job: dict[str, Any]) -> int | None:
    spec = job.get("spec") or {}
    config = spec.get("job_config") or spec
    value = config.get("num_records") if isinstance(config, dict) else None
    return value if isinstance(value, int) else None


def fetch_job_dataset(
    client: NemoClient, name: str, dest: Path, *, report: Report = _ignore
) -> tuple[Path, DatasetCheck]:
    """``ddc jobs download``: the artifacts of a job, checked against its record count once completed.

    A job still running (or failed) may have partial results, as the SDK allows; those are not counted."""
    job = client.get_job(name)
    status = str(job.get("status"))
    expected = expected_records_of(job) if status == "completed" else None
    if status != "completed":
        report(f"job {name} is {status}: the artifacts may be partial")
    return download_job(client, name, dest, expected_records=expected, report=report)


# --- remote preview --------------------------------------------------------------------------------------


@dataclass
class PreviewResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    analysis: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)


def preview_remote(
    loaded: LoadedSpec,
    options: SubmitOptions,
    connection: Connection | None = None,
    *,
    report: Report = _ignore,
) -> PreviewResult:
    """Stream a preview (at most 10 records) from the service."""
    connection = connection or Connection()
    plan = plan_spec(loaded)
    requested = options.num_records or min(plan.num_records, 10)
    _preflight(loaded, options, upload_seeds=options.upload_seeds, report=report, preview_records=requested)
    workspace = workspace_of(plan, options)
    result = PreviewResult()
    with _staged_seed(loaded, options.upload_seeds) as seed:
        seed_source = fileset_seed_source(workspace, options.seed_fileset, seed.remote_name) if seed else None
        body = preview_body(
            loaded,
            plan,
            JobOptions(**{**_job_fields(options), "num_records": requested}),
            seed_source=seed_source,
        )
        with connection.client(workspace, plan.submit.base_url) as client:
            if seed is not None:
                upload_seed(client, seed, fileset=options.seed_fileset, report=report)
            finished = False
            for frame in client.preview(body):
                kind = frame.get("kind")
                if kind == "log":
                    line = client.redact(f"{frame.get('level', 'info')}: {frame.get('message', '')}")
                    result.logs.append(line)
                    report(f"log: {line}")
                elif kind == "dataset_metadata":
                    meta = frame.get("metadata") or {}
                    result.columns = [str(c) for c in meta.get("column_names") or []]
                elif kind == "dataset":
                    result.records = [r for r in frame.get("records") or [] if isinstance(r, dict)]
                elif kind == "analysis":
                    result.analysis = frame.get("analysis")
                elif kind == "error":
                    raise SubmitError(client.redact(f"the remote preview failed: {frame.get('message', '')}"))
                elif kind == "done":
                    finished = True
                    break
            if not finished:
                raise ServiceError(
                    "the preview stream ended before it was done",
                    hint="the connection broke or the service stopped; try again",
                )
    if not result.columns and result.records:
        result.columns = list(result.records[0])
    return result


def _job_fields(options: JobOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in JobOptions.__dataclass_fields__}
