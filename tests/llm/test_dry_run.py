"""Dry run: prompts of the first rows rendered, requests and tokens estimated, no request sent."""

from __future__ import annotations

from pathlib import Path

from ddc.compile.plan import plan_spec
from ddc.engine.llm.dryrun import dry_run, dry_run_spec
from ddc.spec.load import load_spec
from tests.llm.runner import spec_text

COLUMNS = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats, dogs]}
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "Write about {{ topic }}"
  - name: title
    column_type: llm-text
    model_alias: text
    prompt: "Title for {{ essay }}"
"""


def plan_for(num_records: int = 100):  # type: ignore[no-untyped-def]
    return plan_spec(load_spec(spec_text("http://127.0.0.1:9/v1", COLUMNS) + f"num_records: {num_records}\n"))


def test_prompts_of_the_first_rows_are_rendered() -> None:
    report = dry_run(plan_for(), [{"topic": "cats"}, {"topic": "dogs"}])
    assert [p.prompt for p in report.previews if p.column == "essay"] == ["Write about cats", "Write about dogs"]


def test_model_columns_feeding_later_prompts_show_placeholders() -> None:
    report = dry_run(plan_for(), [{"topic": "cats"}])
    assert [p.prompt for p in report.previews if p.column == "title"] == ["Title for <essay>"]


def test_requests_are_estimated_for_the_full_run() -> None:
    report = dry_run(plan_for(100), [{"topic": "cats"}])
    assert report.estimates["text"].requests == 200


def test_input_tokens_are_characters_over_four() -> None:
    report = dry_run(plan_for(100), [{"topic": "cats"}])
    assert report.estimates["text"].input_tokens == round(len("Write about cats") * 100 / 4) + round(
        len("Title for <essay>") * 100 / 4
    )


def test_dry_run_of_a_spec_renders_sampled_values_without_requests(tmp_path: Path) -> None:
    from tests.servers.openai_server import OpenAIServer

    with OpenAIServer() as server:
        spec = tmp_path / "spec.yaml"
        spec.write_text(spec_text(server.base_url, COLUMNS) + "num_records: 50\n")
        report = dry_run_spec(spec, rows=2)
        assert server.requests == []
    assert next(p.prompt for p in report.previews if p.column == "essay") in ("Write about cats", "Write about dogs")


STRUCTURED = """
  - name: info
    column_type: llm-structured
    model_alias: text
    prompt: "Describe"
    output_format: {type: object, properties: {name: {type: string}}}
"""


def test_a_structured_column_shows_the_response_format_it_sends() -> None:
    plan = plan_spec(load_spec(spec_text("http://127.0.0.1:9/v1", STRUCTURED)))
    request = dry_run(plan, [{}]).previews[0].request
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "info", "schema": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }


def test_a_providers_structured_output_prompt_sends_no_response_format() -> None:
    text = spec_text("http://127.0.0.1:9/v1", STRUCTURED, provider="    structured_output: prompt")
    request = dry_run(plan_spec(load_spec(text)), [{}]).previews[0].request
    assert request["response_format"] == "none (set by provider 'local')"


def test_with_a_chosen_seed_each_previewed_request_shows_its_seed() -> None:
    from ddc.engine.llm.wire import request_seed

    report = dry_run(plan_for(), [{"topic": "cats"}, {"topic": "dogs"}], seed=7)
    assert [p.request["seed"] for p in report.previews if p.column == "essay"] == [
        request_seed(7, "essay", 0, 0, 0),
        request_seed(7, "essay", 1, 0, 0),
    ]
