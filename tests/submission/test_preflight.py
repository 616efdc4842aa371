"""Pre-flight checks: what NeMo Services cannot run is reported with its spec position, before sending."""

from __future__ import annotations

from pathlib import Path

from ddc.errors import Diagnostic
from ddc.spec.load import load_spec
from ddc.submission.preflight import check_submit
from tests.submission.conftest import write_spec

MODEL = """\
        model_configs:
          - {alias: text, model: m, provider: default/nvidia-build}
"""


def errors(path: Path, **kwargs: object) -> list[Diagnostic]:
    return [d for d in check_submit(load_spec(path), **kwargs) if d.severity == "error"]  # type: ignore[arg-type]


def test_a_ready_spec_has_no_errors(simple_spec: Path) -> None:
    assert errors(simple_spec) == []


def test_a_query_seed_needs_upload_seeds(join_spec: Path) -> None:
    [found] = errors(join_spec)
    assert "local query the service cannot read" in found.message
    assert "--upload-seeds" in found.hint
    assert (found.span.line, found.path) == (17, "seed_config.source.tables")  # type: ignore[union-attr]


def test_upload_seeds_clears_the_local_seed_error(join_spec: Path) -> None:
    assert errors(join_spec, upload_seeds=True) == []


def test_a_local_seed_file_needs_upload_seeds(tmp_path: Path) -> None:
    (tmp_path / "seed.csv").write_text("a\n1\n", encoding="utf-8")
    spec = write_spec(
        tmp_path,
        """\
        seed_config: {source: {seed_type: local, path: seed.csv}}
        columns:
          - {name: b, column_type: expression, expr: "{{ a }}"}
        """,
    )
    [found] = errors(spec)
    assert "local file the service cannot read" in found.message


def test_tool_configs_are_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        MODEL
        + """\
        tool_configs:
          - {tool_alias: search, providers: [web]}
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: text, tool_alias: search}
        """,
    )
    [found] = errors(spec)
    assert "tool configs (MCP) are not supported by NeMo Services" in found.message


def test_an_environment_variable_secret_is_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        seed_config: {source: {seed_type: hf, path: datasets/u/d/data.parquet, token: HF_TOKEN}}
        columns:
          - {name: b, column_type: expression, expr: "x"}
        """,
    )
    [found] = errors(spec)
    assert found.path == "seed_config.source.token"
    assert "environment variable" in found.message


def test_a_plaintext_secret_is_refused_without_repeating_it(tmp_path: Path) -> None:
    token = "hf_abcdefghijklmnopqrstuvwxyz012345"
    spec = write_spec(
        tmp_path,
        f"""\
        seed_config: {{source: {{seed_type: hf, path: datasets/u/d/data.parquet, token: {token}}}}}
        columns:
          - {{name: b, column_type: expression, expr: "x"}}
        """,
    )
    [found] = errors(spec)
    assert "plaintext token" in found.message
    assert token not in found.format()


def test_a_secrets_api_reference_is_accepted(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        seed_config: {source: {seed_type: hf, path: datasets/u/d/data.parquet, token: default/hf-token}}
        columns:
          - {name: b, column_type: expression, expr: "x"}
        """,
    )
    assert errors(spec) == []


def test_a_malformed_provider_reference_is_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        model_configs:
          - {alias: text, model: m, provider: a/b/c}
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: text}
        """,
    )
    [found] = errors(spec)
    assert "'a/b/c' is not a valid provider reference" in found.message
    assert found.path == "model_configs[0].provider"


def test_an_unmapped_local_provider_is_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        model_configs:
          - {alias: text, model: m, provider: local-vllm}
        providers:
          - {name: local-vllm, endpoint: "http://127.0.0.1:8000/v1"}
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: text}
        """,
    )
    [found] = errors(spec)
    assert "'local-vllm' is local-only" in found.message
    assert "submit.providers" in found.hint
    assert (found.span.line, found.span.column) == (2, 39)  # type: ignore[union-attr]


def test_default_model_aliases_are_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: nvidia-text}
        """,
    )
    found = [d for d in errors(spec) if d.code == "submit-alias"]
    assert found[0].message.startswith("model alias 'nvidia-text' is not declared in model_configs")


def test_a_spec_name_that_cannot_be_a_job_name_is_refused(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        "        name: Product Reviews\n"
        + MODEL
        + """\
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: text}
        """,
    )
    [found] = errors(spec)
    assert "cannot be a job name" in found.message
    assert errors(spec, name="product-reviews") == []


def test_a_feature_the_target_version_lacks_is_an_error(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        """\
        columns:
          - {name: p, column_type: sampler, sampler_type: person, params: {locale: de_DE}}
        """,
    )
    [found] = errors(spec, dd_version="0.9.1")
    assert found.path == "columns[0].params.locale"
    assert errors(spec, dd_version="0.9.6") == []


def test_a_remote_preview_is_limited_to_ten_records(simple_spec: Path) -> None:
    [found] = errors(simple_spec, preview_records=11)
    assert found.message == "a remote preview makes at most 10 records (asked for 11)"


def test_a_spec_name_over_51_characters_is_refused_naming_the_results_fileset(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path, f"name: {'r' * 52}\ncolumns:\n  - {{name: a, column_type: sampler, sampler_type: uuid}}\n"
    )
    [finding] = [d for d in check_submit(load_spec(spec)) if d.code == "job-name"]
    assert (finding.span.line if finding.span else None) == 1
    assert "at most 51 characters" in finding.hint and "job-fileset-<name>" in finding.hint


def test_validate_for_submit_checks_the_chosen_version(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """\
        seed_config:
          source: {seed_type: nmp, path: "default/catalog#products.csv"}
        columns:
          - {name: a, column_type: expression, expr: "{{ product }}"}
        submit: {dd_version: platform-0.3.0}
        """)  # fmt: skip
    [finding] = [d for d in check_submit(load_spec(spec)) if d.code == "version"]
    assert "the target is 0.7.0" in finding.message


def test_an_output_location_is_a_warning_for_platform_0_3_0_which_ignores_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """\
        columns:
          - {name: a, column_type: sampler, sampler_type: uuid}
        submit: {dd_version: platform-0.3.0, output_location: results}
        """)  # fmt: skip
    [finding] = [d for d in check_submit(load_spec(spec)) if d.code == "version"]
    assert finding.severity == "warning" and "ignores output_location" in finding.message
