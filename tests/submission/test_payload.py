"""The create-job body: shape, options, provider mapping, and shaping for a data-designer version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddc.compile.plan import plan_spec
from ddc.errors import CompileError, UsageError
from ddc.spec.load import load_spec
from ddc.submission.payload import JobOptions, build_payload
from ddc.submission.versions import FieldAddition, VersionTable, shape_for_version
from tests.submission.conftest import write_spec

PERSON_SPEC = """\
columns:
  - name: person
    column_type: sampler
    sampler_type: person
    params: {locale: en_GB}
"""


def payload(path: Path, **options: object) -> dict:
    loaded = load_spec(path)
    return build_payload(loaded, plan_spec(loaded), JobOptions(**options))  # type: ignore[arg-type]


def test_body_is_spec_with_num_records_and_config(simple_spec: Path) -> None:
    body = payload(simple_spec)
    assert set(body) == {"name", "spec"}
    assert set(body["spec"]) == {"num_records", "config"}
    assert body["spec"]["num_records"] == 4
    assert [c["name"] for c in body["spec"]["config"]["columns"]] == ["topic", "review"]


def test_num_records_option_overrides_the_spec(simple_spec: Path) -> None:
    assert payload(simple_spec, num_records=250)["spec"]["num_records"] == 250


def test_optional_fields_come_from_options(simple_spec: Path) -> None:
    body = payload(
        simple_spec, name="nightly", project="reviews", output_location="review-data", description="nightly batch"
    )
    assert {k: body[k] for k in ("name", "project", "output_location", "description")} == {
        "name": "nightly", "project": "reviews", "output_location": "review-data", "description": "nightly batch",
    }  # fmt: skip


def test_local_providers_are_mapped_and_never_sent(tmp_path: Path) -> None:
    text = json.dumps(payload(_mapped_spec(tmp_path)))
    assert '"provider": "default/nvidia-build"' in text
    for local_detail in ("local-vllm", "127.0.0.1:8000", "VLLM_API_KEY"):
        assert local_detail not in text


def _mapped_spec(tmp_path: Path) -> Path:
    return write_spec(
        tmp_path,
        """\
        model_configs:
          - {alias: text, model: m, provider: local-vllm}
        providers:
          - {name: local-vllm, endpoint: "http://127.0.0.1:8000/v1", api_key: VLLM_API_KEY}
        submit:
          providers: {local-vllm: default/nvidia-build}
        columns:
          - {name: t, column_type: llm-text, prompt: hi, model_alias: text}
        """,
    )


def test_a_feature_newer_than_the_target_version_is_a_compile_error(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as info:
        payload(write_spec(tmp_path, PERSON_SPEC), dd_version="0.9.1")
    message = str(info.value)
    assert "person sampler locale 'en_GB' needs data-designer 0.9.6 or later, but the target is 0.9.1" in message
    assert message.startswith(f"{tmp_path / 'spec.yaml'}:5:")


def test_the_same_feature_is_accepted_by_a_version_that_has_it(tmp_path: Path) -> None:
    body = payload(write_spec(tmp_path, PERSON_SPEC), dd_version="0.9.6")
    assert body["spec"]["config"]["columns"][0]["params"]["locale"] == "en_GB"


def test_an_unknown_target_version_is_refused(simple_spec: Path) -> None:
    with pytest.raises(CompileError, match=r"data-designer 0\.8\.0 is not a supported submit target"):
        payload(simple_spec, dd_version="0.8.0")


NEWER_FIELD = VersionTable(field_additions=(
    FieldAddition("0.9.6", "column trace", ("columns", "*"), "with_trace", "none", {"column_type": "llm-text"}),
))  # fmt: skip


def test_a_newer_field_holding_its_default_is_omitted_for_an_older_version() -> None:
    config = {"columns": [{"name": "a", "column_type": "llm-text", "with_trace": "none"}]}
    shaped, problems = shape_for_version(config, "0.9.1", NEWER_FIELD)
    assert (shaped["columns"][0], problems) == ({"name": "a", "column_type": "llm-text"}, [])


def test_a_newer_field_with_a_value_is_reported_for_an_older_version() -> None:
    config = {"columns": [{"name": "a", "column_type": "llm-text", "with_trace": "all_messages"}]}
    _, problems = shape_for_version(config, "0.9.1", NEWER_FIELD)
    assert [(p.path, p.feature, p.since) for p in problems] == [(("columns", 0, "with_trace"), "column trace", "0.9.6")]


def test_a_newer_field_is_kept_for_a_version_that_has_it() -> None:
    config = {"columns": [{"name": "a", "column_type": "llm-text", "with_trace": "none"}]}
    shaped, _ = shape_for_version(config, "0.9.6", NEWER_FIELD)
    assert shaped == config


def test_an_invalid_job_name_option_is_a_usage_error(simple_spec: Path) -> None:
    with pytest.raises(UsageError, match="--name 'Nightly Run' is not a valid job name"):
        payload(simple_spec, name="Nightly Run")


def test_an_output_location_with_a_slash_is_a_usage_error(simple_spec: Path) -> None:
    with pytest.raises(UsageError, match="must be a bare fileset name"):
        payload(simple_spec, output_location="default/results")


def test_a_job_name_over_51_characters_is_a_usage_error_naming_the_limit(simple_spec: Path) -> None:
    with pytest.raises(UsageError, match="at most 51 characters"):
        payload(simple_spec, name="a" * 52)


def test_a_51_character_job_name_is_sent(simple_spec: Path) -> None:
    assert payload(simple_spec, name="a" * 51)["name"] == "a" * 51


def test_empty_model_and_tool_lists_are_sent_as_empty_lists(tmp_path: Path) -> None:
    config = payload(write_spec(tmp_path, "columns:\n  - {name: a, column_type: sampler, sampler_type: uuid}\n"))
    assert (config["spec"]["config"]["model_configs"], config["spec"]["config"]["tool_configs"]) == ([], [])


@pytest.mark.parametrize(("chosen", "pinned"), [("platform-0.6.0", "0.9.1"), ("platform-0.3.0", "0.7.0")])
def test_a_platform_version_targets_the_data_designer_it_pins(chosen: str, pinned: str) -> None:
    from ddc.submission.versions import resolve_version

    assert resolve_version(chosen) == pinned


def test_the_data_designer_0_7_0_profile_refuses_fileset_seeds(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """\
        seed_config:
          source: {seed_type: nmp, path: "default/catalog#products.csv"}
        columns:
          - {name: a, column_type: expression, expr: "{{ product }}"}
        """)  # fmt: skip
    with pytest.raises(CompileError, match=r"seed source type .* needs data-designer 0\.9\.1 .* target is 0\.7\.0"):
        payload(spec, dd_version="platform-0.3.0")


def test_the_data_designer_0_7_0_profile_accepts_a_sampler_spec(simple_spec: Path) -> None:
    assert payload(simple_spec, dd_version="0.7.0")["spec"]["config"]["columns"]
