"""What must hold on the service before a job is created, and the cleanup after a refused create.

nemo-platform 0.6.0 answers a missing project with a generic 422, a missing output fileset with a 422,
and a job name whose ``job-fileset-<name>`` exists with a 409 "conflicts with existing platform state";
a refused create can also leave that fileset behind, which then blocks the name. So ``ddc submit``
asks first (a few metadata GETs), says exactly what is wrong in one line, and creates nothing until
every check passed; after a refused create it removes the fileset the attempt left, or says how to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ddc.errors import DdcError, ServiceError
from ddc.nemo.client import NemoClient
from ddc.nemo.errors import ConfigRejectedError
from ddc.nemo.names import job_fileset

Report = Callable[[str], None]


def check_targets(client: NemoClient, body: dict[str, Any], *, create_output_location: bool, report: Report) -> None:
    """Refuse (ConfigRejectedError, exit 1) what the service would refuse or misreport; then create the
    output fileset when asked to. Nothing is created unless every check passed."""
    ws = client.workspace
    project = body.get("project")
    if project and not client.project_exists(project):
        raise ConfigRejectedError(
            f"project {project!r} does not exist in workspace {ws!r}; nothing was submitted",
            hint=f"create it (POST {client.base_url}/apis/entities/v2/workspaces/{ws}/projects "
            f'{{"name": "{project}"}}), or drop submit.project / --project',
        )
    name = body.get("name")
    if name:
        if client.job_exists(name):
            raise ConfigRejectedError(
                f"a job named {name!r} already exists in workspace {ws!r}; nothing was submitted",
                hint="pass another --name (or change the spec's name)",
            )
        leftover = job_fileset(name)
        if client.fileset_exists(leftover):
            raise ConfigRejectedError(
                f"fileset {ws}/{leftover} exists without a job {name!r} (left by an earlier refused or deleted "
                "job), and the service would refuse the name with a 409; nothing was submitted",
                hint=f"delete it (nemo files filesets delete {leftover} --workspace {ws}) or pass another --name",
            )
    output = body.get("output_location")
    if output and not client.fileset_exists(output):
        if not create_output_location:
            raise ConfigRejectedError(
                f"output fileset {ws}/{output} does not exist, and NeMo Services needs it before the job is "
                "created; nothing was submitted",
                hint=f"pass --create-output-location, or create it (nemo files filesets create {output} "
                f"--workspace {ws})",
            )
        client.create_fileset(output)
        report(f"created output fileset {ws}/{output}")


def after_refused_create(client: NemoClient, body: dict[str, Any], error: DdcError, report: Report) -> None:
    """After a refused create: remove the ``job-fileset-<name>`` the attempt left (it would block the name),
    or add to ``error`` exactly what is left and how to remove it."""
    name = body.get("name")
    if not name:
        return
    leftover = job_fileset(name)
    ws = client.workspace
    try:
        if client.job_exists(name) or not client.fileset_exists(leftover):
            return
        client.delete_fileset(leftover)
    except ServiceError as exc:
        extra = (
            f"the refused create left fileset {ws}/{leftover}, which blocks the name {name!r}, and removing it "
            f"failed ({exc.message}): delete it with `nemo files filesets delete {leftover} --workspace {ws}`"
        )
        error.hint = f"{error.hint}; {extra}" if error.hint else extra
        return
    report(f"removed fileset {ws}/{leftover}, which the refused create had left behind")
