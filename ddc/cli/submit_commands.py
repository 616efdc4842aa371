"""`ddc submit`, `ddc jobs ...`, `ddc preview --remote`: NeMo Services from the command line.

Progress goes to stderr, results to stdout. Exit codes: 0 completed (or submitted), 1 the spec or config
was rejected (pre-flight or HTTP 422), 2 bad usage, 3 the job ended in error or was cancelled, 4 HTTP,
auth or connection errors, 5 still running when ``--wait-timeout`` passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ddc.cli.output import Output, echo_json, make_output, output_options

SPEC = click.argument("spec", metavar="SPEC|MODULE.py", type=click.Path(dir_okay=False, path_type=Path))


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--workspace, --base-url and --timeout, shared by every command that talks to the service."""
    func = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        help="HTTP timeout in seconds.",
    )(func)
    func = click.option(
        "--base-url",
        metavar="URL",
        default=None,
        help="NeMo Services base URL (default: spec submit.base_url, $NMP_BASE_URL, "
        "http://localhost:8080). The token comes from $NMP_ACCESS_TOKEN.",
    )(func)
    func = click.option(
        "-w",
        "--workspace",
        metavar="W",
        default=None,
        help="Workspace (default: spec submit.workspace, else 'default').",
    )(func)
    return func


def _wait_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--poll-interval and --wait-timeout, shared by the commands that follow a job (submit, jobs wait)."""
    func = click.option(
        "--wait-timeout",
        metavar="SECONDS",
        type=click.FloatRange(min=0.0),
        default=None,
        help="Stop waiting after this long (exit 5); the job keeps running. Default: wait until it ends.",
    )(func)
    return click.option(
        "--poll-interval",
        type=click.FloatRange(min=0.0),
        default=1.0,
        show_default=True,
        help="First status poll interval in seconds (grows 1.5x up to 10 s).",
    )(func)


def _report(line: str) -> None:
    click.echo(line, err=True)


_VERBOSE = "Also print the request body and the time the command took (stderr)."


def _reporter(output: Output) -> Callable[[str], None]:
    """Progress lines to stderr; with --quiet only warnings and the lines about an interrupted job."""
    if not output.quiet:
        return _report

    def report(line: str) -> None:
        if "warning" in line or line.startswith(("interrupted", "could not", "cancel")):
            _report(line)

    return report


def _load(spec: str) -> Any:
    """A spec file, or a module compiled by ``ddc build`` (``load_config_builder()``)."""
    from ddc.api import load

    return load(Path(spec))


@click.command()
@SPEC
@click.option("-n", "--num-records", type=click.IntRange(min=1), default=None, help="Records to generate.")
@_connection_options
@click.option("--name", default=None, help="Job name (default: the spec's name; else the service picks one).")
@click.option("--project", metavar="P", default=None, help="NeMo project of the job.")
@click.option(
    "--output-location",
    metavar="FILESET",
    default=None,
    help="Fileset receiving the artifacts (default: spec submit.output_location). It must exist: submit "
    "checks it before creating anything.",
)
@click.option(
    "--create-output-location",
    is_flag=True,
    help="Create the output fileset when it does not exist (instead of refusing to submit).",
)
@click.option("--dry-run", is_flag=True, help="Print the exact JSON body and send nothing.")
@click.option("--wait", is_flag=True, help="Poll until the job ends, streaming its log lines.")
@click.option(
    "--download",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="When completed, download and check the dataset into DIR/artifacts (implies --wait).",
)
@click.option("--upload-seeds", is_flag=True, help="Upload a local or query seed to a fileset and use it.")
@click.option("--seed-fileset", default="ddc-seeds", show_default=True, help="Fileset for uploaded seeds.")
@click.option(
    "--dd-version",
    metavar="V",
    default=None,
    help="data-designer version the service pins (0.7.0, 0.9.0, 0.9.1, 0.9.6, 0.9.7), or platform-X.Y.Z for "
    "the one NeMo Platform X.Y.Z pins (0.3.0 -> 0.7.0; 0.4.0-0.6.0 -> 0.9.1). Default: spec submit.dd_version, "
    "else the one the service's platform pins (GET /cluster-info), else 0.9.1.",
)
@_wait_options
@output_options("Print a JSON summary (job, status, dataset, records) on stdout.", verbose_help=_VERBOSE)
def submit(
    spec: str,
    num_records: int | None,
    workspace: str | None,
    base_url: str | None,
    timeout: float,
    name: str | None,
    project: str | None,
    output_location: str | None,
    create_output_location: bool,
    dry_run: bool,
    wait: bool,
    download: Path | None,
    upload_seeds: bool,
    seed_fileset: str,
    dd_version: str | None,
    poll_interval: float,
    wait_timeout: float | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Submit SPEC as a Data Designer job to NeMo Services.

    Checks the spec for what the service cannot do before sending anything, then that the project and
    the output fileset exist and the job name is free, before creating anything. Exit codes: 0 completed
    (or submitted), 1 rejected (pre-flight or HTTP 422), 3 job error or cancelled, 4 HTTP/auth/connection,
    5 still running when --wait-timeout passed (the job goes on).

    \b
    Examples:
      ddc submit spec.yaml --dry-run
      ddc submit spec.yaml -n 1000 --wait
      ddc submit spec.yaml --upload-seeds --wait --download out/
      NMP_BASE_URL=https://nemo.example.com ddc submit spec.yaml --dd-version 0.9.6
    """
    from ddc.submission.jobs import Connection, SubmitOptions, submit_spec

    options = SubmitOptions(
        num_records=num_records, name=name, project=project, output_location=output_location,
        create_output_location=create_output_location, workspace=workspace, dd_version=dd_version,
        upload_seeds=upload_seeds, seed_fileset=seed_fileset,
        dry_run=dry_run, wait=wait, download=download, poll_interval=poll_interval, wait_timeout=wait_timeout,
    )  # fmt: skip
    output = make_output(quiet, verbose, as_json)
    started = time.monotonic()
    report = _reporter(output)
    outcome = submit_spec(_load(spec), options, Connection(base_url, timeout=timeout), report=report)
    if dry_run:
        click.echo(json.dumps(outcome.body, indent=2, ensure_ascii=False))
        return
    if output.verbose:
        report(f"request body: {json.dumps(outcome.body, ensure_ascii=False)}")
        report(f"finished in {time.monotonic() - started:.1f} s")
    if output.json:
        dataset = outcome.artifacts / "dataset" if outcome.artifacts is not None else None
        echo_json(
            {
                "job": outcome.job_name,
                "status": outcome.status,
                "dataset": str(dataset) if outcome.dataset is not None and dataset is not None else None,
                "records": outcome.dataset.num_records if outcome.dataset is not None else None,
                "warnings": outcome.warnings,
            }
        )
        return
    if output.quiet:
        return
    click.echo(f"job: {outcome.job_name}")
    click.echo(f"status: {outcome.status}")
    if outcome.dataset is not None and outcome.artifacts is not None:
        click.echo(f"dataset: {outcome.artifacts / 'dataset'} ({outcome.dataset.num_records} records)")


@click.group()
def jobs() -> None:
    """Inspect and manage Data Designer jobs on NeMo Services.

    \b
    Examples:
      ddc jobs list
      ddc jobs status my-job
      ddc jobs logs my-job
      ddc jobs wait my-job --wait-timeout 3600 --download out/
      ddc jobs cancel my-job
      ddc jobs download my-job -o out/
    """


def _client(workspace: str | None, base_url: str | None, timeout: float) -> Any:
    from ddc.submission.jobs import Connection

    return Connection(base_url, timeout=timeout).client(workspace or "default")


@jobs.command("list")
@_connection_options
@click.option("--json", "as_json", is_flag=True, help="Print the service's job list as JSON.")
def list_jobs(workspace: str | None, base_url: str | None, timeout: float, as_json: bool) -> None:
    """List recent jobs in the workspace, newest first.

    \b
    Example:
      ddc jobs list -w default
    """
    with _client(workspace, base_url, timeout) as client:
        page = client.list_jobs()
    rows = page.get("data") or []
    if as_json:
        click.echo(json.dumps([{k: r.get(k) for k in ("name", "status", "created_at")} for r in rows], indent=2))
        return
    for row in rows:
        click.echo(f"{row.get('name')}\t{row.get('status')}\t{row.get('created_at')}")


@jobs.command()
@click.argument("name")
@_connection_options
def status(name: str, workspace: str | None, base_url: str | None, timeout: float) -> None:
    """Print the status of job NAME (and its error, if it failed).

    \b
    Example:
      ddc jobs status my-job
    """
    with _client(workspace, base_url, timeout) as client:
        doc = client.job_status(name)
        error = doc.get("error_details")
        click.echo(f"{name}\t{doc.get('status')}")
        if isinstance(error, dict) and error.get("message"):
            click.echo(f"error: {client.redact(str(error['message']))}")


@jobs.command()
@click.argument("name")
@_connection_options
def logs(name: str, workspace: str | None, base_url: str | None, timeout: float) -> None:
    """Print every log line of job NAME (all pages).

    \b
    Example:
      ddc jobs logs my-job
    """
    from ddc.submission.jobs import LogFollower

    with _client(workspace, base_url, timeout) as client:
        for line in LogFollower(client, name).new_lines():
            click.echo(line)


@jobs.command()
@click.argument("name")
@click.option(
    "--download",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="When completed, download and check the dataset into DIR/artifacts.",
)
@_wait_options
@_connection_options
def wait(
    name: str,
    wait_timeout: float | None,
    download: Path | None,
    poll_interval: float,
    workspace: str | None,
    base_url: str | None,
    timeout: float,
) -> None:
    """Follow job NAME until it ends, streaming its new log lines (a job submitted without --wait, or a
    wait that timed out). Exit codes as for submit: 3 failed or cancelled, 5 still running at --wait-timeout.

    \b
    Example:
      ddc jobs wait my-job --wait-timeout 3600 --download out/
    """
    from ddc.submission.jobs import fetch_job_dataset, wait_for_job

    with _client(workspace, base_url, timeout) as client:
        status = wait_for_job(client, name, poll_interval=poll_interval, timeout=wait_timeout, report=_report)
        click.echo(f"{name}\t{status}")
        if download is not None:
            artifacts, check = fetch_job_dataset(client, name, download, report=_report)
            click.echo(f"dataset: {artifacts / 'dataset'} ({check.num_records} records)")


@jobs.command()
@click.argument("name")
@_connection_options
def cancel(name: str, workspace: str | None, base_url: str | None, timeout: float) -> None:
    """Ask the service to cancel job NAME.

    \b
    Example:
      ddc jobs cancel my-job
    """
    with _client(workspace, base_url, timeout) as client:
        doc = client.cancel_job(name)
    click.echo(f"{name}\t{doc.get('status')}")


@jobs.command("download")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to extract into (default: ./NAME).",
)
@_connection_options
def download_cmd(name: str, output: Path | None, workspace: str | None, base_url: str | None, timeout: float) -> None:
    """Download the artifacts of completed job NAME, extract them safely and check the dataset.

    \b
    Example:
      ddc jobs download my-job -o out/
    """
    from ddc.submission.jobs import fetch_job_dataset

    with _client(workspace, base_url, timeout) as client:
        artifacts, check = fetch_job_dataset(client, name, output or Path(name), report=_report)
    click.echo(f"dataset: {artifacts / 'dataset'} ({check.num_records} records)")


@click.command()
@SPEC
@click.option("--remote", is_flag=True, help="Preview on NeMo Services (the streaming preview endpoint).")
@click.option("-n", "--num-records", type=click.IntRange(min=1), default=None, help="Records (at most 10).")
@_connection_options
@click.option("--upload-seeds", is_flag=True, help="Upload a local or query seed to a fileset and use it.")
@click.option("--seed-fileset", default="ddc-seeds", show_default=True, help="Fileset for uploaded seeds.")
@click.option("--dd-version", metavar="V", default=None, help="data-designer version the service pins.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON lines instead of panels.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines; only warnings and errors (stderr).")
@click.option("-v", "--verbose", is_flag=True, help="Also print the time the preview took.")
def preview(
    spec: str,
    remote: bool,
    num_records: int | None,
    workspace: str | None,
    base_url: str | None,
    timeout: float,
    upload_seeds: bool,
    seed_fileset: str,
    dd_version: str | None,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Preview SPEC on NeMo Services: at most 10 records, one panel per record (as `ddc show`).

    \b
    Examples:
      ddc preview --remote spec.yaml
      ddc preview --remote spec.yaml -n 3 --json
    """
    from ddc.errors import UsageError
    from ddc.submission.jobs import Connection, SubmitOptions, preview_remote

    if not remote:
        raise UsageError("only remote previews are available: pass --remote (a local one is `ddc run SPEC -n 10`)")
    options = SubmitOptions(
        num_records=num_records,
        workspace=workspace,
        dd_version=dd_version,
        upload_seeds=upload_seeds,
        seed_fileset=seed_fileset,
    )
    output = make_output(quiet, verbose, False)
    started = time.monotonic()
    report = _reporter(output)
    result = preview_remote(_load(spec), options, Connection(base_url, timeout=timeout), report=report)
    if output.verbose:
        report(f"finished in {time.monotonic() - started:.1f} s")
    if as_json:
        for record in result.records:
            click.echo(json.dumps(record, ensure_ascii=False, default=str))
        return
    from ddc.cli.record_view import print_records

    print_records([{c: r.get(c) for c in result.columns} for r in result.records])
    if not output.quiet:
        click.echo(f"{len(result.records)} record(s)", err=True)
