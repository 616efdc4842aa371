"""What the real service refuses or misreports is caught by ddc first: one-line errors, before anything
is created on the service (the services log shows every request it received)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.nemo_platform.helpers import FAST, SAMPLER_SPEC, dataset_rows, write_spec
from tests.nemo_platform.platform import NemoPlatform

PERSON_SPEC = """\
num_records: 2
columns:
  - name: person
    column_type: sampler
    sampler_type: person_from_faker
    params: {locale: en_GB}
  - name: who
    column_type: sampler
    sampler_type: person
    params: {locale: en_GB}
"""


def nothing_created(platform: NemoPlatform, job: str, *filesets: str) -> bool:
    """Neither the job, nor its results fileset, nor ``filesets`` exist on the service (state, not the
    request log: tests on other xdist workers use the same platform at the same time)."""
    job_missing = platform.get(f"/apis/data-designer/v2/workspaces/default/jobs/create/{job}").status_code == 404
    return job_missing and not any(platform.fileset_exists(f) for f in (f"job-fileset-{job}", *filesets))


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_52_character_job_name_is_refused_before_anything_is_sent(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = "a" * 52
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name)  # fmt: skip
    assert code == 2
    assert "at most 51 characters" in one_line(err)
    assert nothing_created(nemo_platform, name)


def test_a_51_character_job_name_is_accepted(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    name = nemo_platform.unique("n").ljust(51, "x")
    code, out, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                         "--name", name)  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"job: {name}\n")


def test_a_missing_project_is_refused_before_anything_is_created(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = nemo_platform.unique("orphan")
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name, "--project", "no-such-project")  # fmt: skip
    assert code == 1
    assert "project 'no-such-project' does not exist in workspace 'default'" in one_line(err)
    assert nothing_created(nemo_platform, name)


def test_an_existing_project_is_accepted(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    project = nemo_platform.unique("team")
    nemo_platform.create_project(project)
    name = nemo_platform.unique("in-project")
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name, "--project", project)  # fmt: skip
    assert code == 0, err
    assert nemo_platform.get(f"/apis/data-designer/v2/workspaces/default/jobs/create/{name}").status_code == 200


def test_a_missing_output_fileset_is_refused_before_anything_is_created(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    output, name = nemo_platform.unique("out"), nemo_platform.unique("no-output")
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name, "--output-location", output)  # fmt: skip
    assert code == 1
    message = one_line(err)
    assert f"output fileset default/{output} does not exist" in message
    assert "--create-output-location" in message
    assert nothing_created(nemo_platform, name, output)


def test_create_output_location_creates_the_fileset_the_artifacts_land_in(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    output, name = nemo_platform.unique("out"), nemo_platform.unique("with-output")
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name, "--output-location", output, "--create-output-location",
                       "--download", str(tmp_path / "dl"), *FAST)  # fmt: skip
    assert code == 0, err
    assert f"created output fileset default/{output}" in err
    assert dataset_rows(tmp_path / "dl") == 3
    assert f"jobs/{name}/results" in nemo_platform.nemo("files", "list", output, "--workspace", "default").stdout


def test_a_leftover_job_fileset_is_named_with_the_command_that_removes_it(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = nemo_platform.unique("blocked")
    nemo_platform.create_fileset(f"job-fileset-{name}")  # what a refused create can leave behind
    code, _, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name)  # fmt: skip
    assert code == 1
    message = one_line(err)
    assert f"fileset default/job-fileset-{name} exists without a job" in message
    assert f"nemo files filesets delete job-fileset-{name}" in message
    assert nemo_platform.get(f"/apis/data-designer/v2/workspaces/default/jobs/create/{name}").status_code == 404


def test_a_taken_job_name_is_refused_naming_it(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    name = nemo_platform.unique("taken")
    spec = write_spec(tmp_path, SAMPLER_SPEC)
    assert run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name)[0] == 0
    code, _, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name)
    assert code == 1
    assert f"a job named {name!r} already exists" in one_line(err)


def test_a_rejected_config_leaves_no_job_fileset_behind(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        num_records: 1
        model_configs:
          - {alias: text, model: m, provider: default/no-such-provider}
        columns:
          - {name: t, column_type: llm-text, prompt: "hi", model_alias: text}
        """,
    )
    name = nemo_platform.unique("refused")
    code, _, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name)
    assert code == 1
    assert "no-such-provider" in one_line(err)
    assert not nemo_platform.fileset_exists(f"job-fileset-{name}")


def test_the_target_version_follows_the_service(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    offset, name = nemo_platform.log_size(), nemo_platform.unique("locale")
    code, _, err = run("submit", str(write_spec(tmp_path, PERSON_SPEC)), "--base-url", nemo_platform.base_url,
                       "--name", name)  # fmt: skip
    assert code == 1
    assert "needs data-designer 0.9.6 or later, but the target is 0.9.1" in err
    assert "GET /cluster-info 200" in nemo_platform.requests_since(offset)
    assert nothing_created(nemo_platform, name)


def test_validate_online_reports_a_missing_project_and_output_fileset(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    spec = write_spec(
        tmp_path,
        f"""\
        columns:
          - {{name: a, column_type: sampler, sampler_type: uuid}}
        submit:
          base_url: {nemo_platform.base_url}
          project: no-such-project
          output_location: no-such-output
        """,
    )
    code, _, err = run("validate", str(spec), "--for", "submit", "--online")
    assert code == 1
    assert f"{spec}:5:12: submit.project: [online] project 'no-such-project' does not exist" in err
    assert f"{spec}:6:20: submit.output_location: [online] output fileset default/no-such-output does not exist" in err
