"""Model-backed column kinds through the engine seam, against the loopback server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ddc.engine.llm.kinds import LLMOptions
from tests.llm.runner import FAST_RETRY, run_column, spec_text
from tests.servers.openai_server import Fault, OpenAIServer, RecordedRequest, tiny_png

TOPIC = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats, dogs]}
"""


def text_column(prompt: str = "Write about {{ topic }}", **extra: str) -> str:
    lines = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (
        TOPIC
        + f"""
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "{prompt}"
{lines}"""
    )


def test_prompt_is_rendered_from_earlier_columns(openai_server: OpenAIServer) -> None:
    run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["cats"]})
    assert openai_server.requests[0].user_text == "Write about cats"


def test_system_prompt_is_sent_as_a_system_message(openai_server: OpenAIServer) -> None:
    spec = spec_text(openai_server.base_url, text_column(system_prompt="'Be brief about {{ topic }}'"))
    run_column(spec, "essay", {"topic": ["cats"]})
    assert openai_server.requests[0].body["messages"][0] == {
        "role": "system", "content": [{"type": "text", "text": "Be brief about cats"}]
    }  # fmt: skip


def test_json_string_values_are_navigable_in_prompts(openai_server: OpenAIServer) -> None:
    run_column(spec_text(openai_server.base_url, text_column("Hi {{ topic.name }}")), "essay",
               {"topic": ['{"name": "Ann"}']})  # fmt: skip
    assert openai_server.requests[0].user_text == "Hi Ann"


def test_text_value_is_the_stripped_reply(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda request: "  An essay.\n"
    output, _ = run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["cats"]})
    assert list(output.values) == ["An essay."]


def test_distribution_temperature_is_sampled_per_row_within_range(openai_server: OpenAIServer) -> None:
    params = "      temperature: {distribution_type: uniform, params: {low: 0.5, high: 0.9}}"
    run_column(spec_text(openai_server.base_url, text_column(), params=params), "essay", {"topic": ["a", "b", "c"]})
    temperatures = {r.body["temperature"] for r in openai_server.requests}
    assert len(temperatures) == 3 and all(0.5 <= t <= 0.9 for t in temperatures)


def test_sampled_temperatures_repeat_across_runs(openai_server: OpenAIServer) -> None:
    params = "      temperature: {distribution_type: uniform, params: {low: 0.5, high: 0.9}}"
    spec = spec_text(openai_server.base_url, text_column(), params=params)
    run_column(spec, "essay", {"topic": ["a", "b"]})
    run_column(spec, "essay", {"topic": ["a", "b"]})
    first, second = openai_server.requests[:2], openai_server.requests[2:]
    assert sorted(r.body["temperature"] for r in first) == sorted(r.body["temperature"] for r in second)


def test_template_error_is_a_cell_error_without_a_request(openai_server: OpenAIServer) -> None:
    output, _ = run_column(spec_text(openai_server.base_url, text_column("{{ topic.missing }}")), "essay",
                           {"topic": ['{"name": "Ann"}']})  # fmt: skip
    assert output.errors[0].startswith("template:") and openai_server.requests == []


def test_failed_call_keeps_the_row_with_an_error(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.http(400))
    output, _ = run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["cats", "dogs"]})
    assert (list(output.values).count(None), next(iter(output.errors.values())).split(":")[0]) == (1, "bad_request")


CODE = (
    TOPIC
    + """
  - name: query
    column_type: llm-code
    model_alias: text
    code_lang: "sql:postgres"
    prompt: "SQL about {{ topic }}"
"""
)


def test_code_prompt_carries_the_official_suffix(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda request: "```sql\nSELECT 1\n```"
    run_column(spec_text(openai_server.base_url, CODE), "query", {"topic": ["cats"]})
    assert openai_server.requests[0].user_text == (
        "SQL about cats\n\n* Your response must be code written in sql.\n"
        "* You will follow accepted and common syntax and best-practices.\n"
        "* Your response will be given in markdown code fences specifying the correct language.\n"
        "* Only respond with a SINGLE code block."
    )


def test_code_value_is_the_last_fenced_block(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda request: "First:\n```sql\nSELECT 1\n```\nBetter:\n```sql\nSELECT 2;\n```\n"
    output, _ = run_column(spec_text(openai_server.base_url, CODE), "query", {"topic": ["cats"]})
    assert list(output.values) == ["SELECT 2;"]


def test_code_in_another_language_is_restarted_then_fails(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda request: "```python\nprint(1)\n```"
    output, _ = run_column(spec_text(openai_server.base_url, CODE), "query", {"topic": ["cats"]})
    assert len(openai_server.requests) == 6 and "not matching the requested syntax" in output.errors[0]


def test_correction_turn_sends_the_parse_error_back(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda request: "no code here"
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, max_restarts=0, max_corrections=1)
    run_column(spec_text(openai_server.base_url, CODE), "query", {"topic": ["cats"]}, options=options)
    assert openai_server.requests[1].user_text == "No parsable code response."


STRUCTURED = (
    TOPIC
    + """
  - name: info
    column_type: llm-structured
    model_alias: text
    prompt: "Describe {{ topic }}"
    output_format:
      type: object
      properties: {name: {type: string}, legs: {type: integer}}
      required: [name, legs]
"""
)


def test_structured_reply_is_parsed_and_pruned(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: 'Sure:\n```json\n{"name": "cat", "legs": 4, "extra": true}\n```'
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert list(output.values) == [{"name": "cat", "legs": 4}]


def test_structured_reply_without_fence_is_parsed_whole(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: '{"name": "cat", "legs": 4}'
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert list(output.values) == [{"name": "cat", "legs": 4}]


def test_structured_reply_failing_the_schema_is_restarted(openai_server: OpenAIServer) -> None:
    replies = iter(['```json\n{"name": "cat"}\n```', '```json\n{"name": "cat", "legs": 4}\n```'])
    openai_server.chat_reply = lambda r: next(replies)
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert (list(output.values), len(openai_server.requests)) == ([{"name": "cat", "legs": 4}], 2)


def test_structured_prompt_embeds_the_schema(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: '{"name": "cat", "legs": 4}'
    run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert '<response_schema>\n{"type": "object"' in openai_server.requests[0].user_text


JUDGE = (
    TOPIC
    + """
  - name: grade
    column_type: llm-judge
    model_alias: text
    prompt: "Judge {{ topic }}"
    scores:
      - name: quality
        description: How good
        options: {1: bad, 2: good}
"""
)


def test_judge_score_is_coerced_to_an_option_key(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: '```json\n{"quality": {"reasoning": "fine", "score": 2.0}}\n```'
    output, _ = run_column(spec_text(openai_server.base_url, JUDGE), "grade", {"topic": ["cats"]})
    assert list(output.values) == [{"quality": {"reasoning": "fine", "score": "2"}}]


def test_judge_boolean_score_is_refused(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: '{"quality": {"reasoning": "fine", "score": true}}'
    output, _ = run_column(spec_text(openai_server.base_url, JUDGE), "grade", {"topic": ["cats"]})
    assert output.errors[0].startswith("parse:")


EMBED = (
    TOPIC
    + """
  - name: vec
    column_type: embedding
    model_alias: embed
    target_column: topic
"""
)


def test_embeddings_of_several_rows_share_one_request(openai_server: OpenAIServer) -> None:
    output, _ = run_column(spec_text(openai_server.base_url, EMBED), "vec", {"topic": ["a", '["b", "c",]', "d"]})
    assert len(openai_server.requests) == 1 and [v["num_embeddings"] for v in output.values] == [1, 2, 1]


def test_embedding_request_has_the_official_fields(openai_server: OpenAIServer) -> None:
    run_column(spec_text(openai_server.base_url, EMBED), "vec", {"topic": ["a"]})
    assert openai_server.requests[0].body == {"model": "mock-embed", "input": ["a"], "encoding_format": "float"}


IMAGE = (
    TOPIC
    + """
  - name: picture
    column_type: image
    model_alias: image
    prompt: "A drawing of {{ topic }}"
"""
)


def test_generated_images_are_saved_under_the_artifacts(openai_server: OpenAIServer, tmp_path: Path) -> None:
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, artifacts_dir=tmp_path)
    output, _ = run_column(spec_text(openai_server.base_url, IMAGE), "picture", {"topic": ["cats"]}, options=options)
    (path,) = output.values[0]
    assert path.startswith("images/picture/") and (tmp_path / path).read_bytes().startswith(b"\x89PNG")


def test_base64_context_image_is_sent_as_an_image_block(openai_server: OpenAIServer) -> None:
    columns = (
        TOPIC
        + """
  - name: caption
    column_type: llm-text
    model_alias: text
    prompt: "Describe the picture"
    multi_modal_context: [{modality: image, column_name: topic, data_type: base64, image_format: png}]
"""
    )
    picture = base64.b64encode(tiny_png()).decode()
    run_column(spec_text(openai_server.base_url, columns), "caption", {"topic": [picture]})
    block = openai_server.requests[0].body["messages"][0]["content"][0]
    assert block == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{picture}"}}


def test_cached_rerun_sends_no_request(openai_server: OpenAIServer, tmp_path: Path) -> None:
    options = LLMOptions(cache_path=tmp_path / "cache.sqlite3", retry=FAST_RETRY)
    spec = spec_text(openai_server.base_url, text_column())
    run_column(spec, "essay", {"topic": ["a", "b"]}, options=options)
    _, usage = run_column(spec, "essay", {"topic": ["a", "b"]}, options=options)
    assert (len(openai_server.requests), usage["text"]["cache_hits"]) == (2, 2)


def test_failure_rate_above_the_threshold_stops_sending(openai_server: OpenAIServer) -> None:
    openai_server.fault_policy = lambda request, number: Fault.http(400)
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, error_window=4)
    spec = spec_text(openai_server.base_url, text_column()).replace(
        "max_parallel_requests: 8", "max_parallel_requests: 1"
    )
    output, _ = run_column(spec, "essay", {"topic": ["a"] * 10}, options=options)
    kinds = [e.split(":")[0] for _, e in sorted(output.errors.items())]
    assert kinds == ["bad_request"] * 4 + ["early_shutdown"] * 6 and len(openai_server.requests) == 4


def test_failure_rate_of_one_never_stops_the_run(openai_server: OpenAIServer) -> None:
    openai_server.fault_policy = lambda request, number: Fault.http(400)
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, error_window=4)
    spec = spec_text(openai_server.base_url, text_column(), extra="run: {max_error_rate: 1.0}")
    output, _ = run_column(spec, "essay", {"topic": ["a"] * 10}, options=options)
    assert len(output.errors) == 10


def test_python_validation_reports_lint_fields(openai_server: OpenAIServer) -> None:
    columns = (
        TOPIC
        + """
  - name: check
    column_type: validation
    validator_type: code
    target_columns: [topic]
    validator_params: {code_lang: python}
"""
    )
    output, _ = run_column(spec_text(openai_server.base_url, columns), "check", {"topic": ["x = 1\n", "def f(:\n"]})
    assert [(v["is_valid"], v["python_linter_severity"]) for v in output.values] == [(True, "none"), (False, "fatal")]


def test_sql_validation_parses_the_dialect(openai_server: OpenAIServer) -> None:
    columns = (
        TOPIC
        + """
  - name: check
    column_type: validation
    validator_type: code
    target_columns: [topic]
    validator_params: {code_lang: "sql:tsql"}
"""
    )
    output, _ = run_column(spec_text(openai_server.base_url, columns), "check",
                           {"topic": ["SELECT TOP 3 * FROM t", "SELECT FROM WHERE"]})  # fmt: skip
    assert [v["is_valid"] for v in output.values] == [True, False]


def test_remote_validator_posts_batches_of_rows(openai_server: OpenAIServer) -> None:
    def validate(request: RecordedRequest) -> tuple[int, object]:
        return 200, {"data": [{"is_valid": row["topic"] == "ok"} for row in request.body["data"]]}

    openai_server.routes["/validate"] = validate
    columns = (
        TOPIC
        + f"""
  - name: check
    column_type: validation
    validator_type: remote
    target_columns: [topic]
    batch_size: 2
    validator_params: {{endpoint_url: "{openai_server.base_url}/validate"}}
"""
    )
    output, _ = run_column(spec_text(openai_server.base_url, columns), "check", {"topic": ["ok", "bad", "ok"]})
    assert ([v["is_valid"] for v in output.values], len(openai_server.requests)) == ([True, False, True], 2)


def test_reasoning_content_goes_to_its_side_column(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: {"role": "assistant", "content": "A", "reasoning_content": " thought "}
    output, _ = run_column(spec_text(openai_server.base_url, text_column(extract_reasoning_content="true")),
                           "essay", {"topic": ["cats"]})  # fmt: skip
    assert list(output.side_columns["essay__reasoning_content"]) == ["thought"]


def test_usage_counts_tokens_from_the_usage_fields(openai_server: OpenAIServer) -> None:
    _, usage = run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["cats"]})
    body = json.dumps(openai_server.requests[0].body["messages"][0]["content"])
    assert usage["text"]["input_tokens"] == len(body) // 4


def test_rows_with_the_same_prompt_are_separate_samples(openai_server: OpenAIServer, tmp_path: Path) -> None:
    options = LLMOptions(cache_path=tmp_path / "cache.sqlite3", retry=FAST_RETRY)
    run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["a", "a"]}, options=options)
    assert len(openai_server.requests) == 2


def test_context_image_file_is_sent_inline(openai_server: OpenAIServer, tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(tiny_png(7))
    columns = (
        TOPIC
        + """
  - name: caption
    column_type: llm-text
    model_alias: text
    prompt: "Describe the picture"
    multi_modal_context: [{modality: image, column_name: topic}]
"""
    )
    run_column(spec_text(openai_server.base_url, columns), "caption", {"topic": ["cat.png"]}, tmp_path=tmp_path)
    url = openai_server.requests[0].body["messages"][0]["content"][0]["image_url"]["url"]
    assert url == "data:image/png;base64," + base64.b64encode(tiny_png(7)).decode()


def test_context_image_url_is_passed_through(openai_server: OpenAIServer) -> None:
    columns = (
        TOPIC
        + """
  - name: caption
    column_type: llm-text
    model_alias: text
    prompt: "Describe the pictures"
    multi_modal_context: [{modality: image, column_name: topic}]
"""
    )
    urls = '["https://example.com/a.png", "https://example.com/b.png"]'
    run_column(spec_text(openai_server.base_url, columns), "caption", {"topic": [urls]})
    blocks = openai_server.requests[0].body["messages"][0]["content"]
    assert [b.get("image_url", {}).get("url") for b in blocks[:2]] == json.loads(urls)


def test_trace_holds_the_whole_conversation(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: "Done."
    output, _ = run_column(spec_text(openai_server.base_url, text_column(with_trace="all_messages")), "essay",
                           {"topic": ["cats"]})  # fmt: skip
    (trace,) = output.side_columns["essay__trace"]
    assert [(m["role"], m["content"][0]["text"]) for m in trace] == [
        ("user", "Write about cats"),
        ("assistant", "Done."),
    ]


def test_failing_remote_validator_lists_its_rows_as_errors(openai_server: OpenAIServer) -> None:
    openai_server.routes["/validate"] = lambda request: (503, {"error": "down"})
    columns = (
        TOPIC
        + f"""
  - name: check
    column_type: validation
    validator_type: remote
    target_columns: [topic]
    validator_params: {{endpoint_url: "{openai_server.base_url}/validate", max_retries: 1, retry_backoff: 1.5}}
"""
    )
    output, _ = run_column(spec_text(openai_server.base_url, columns), "check", {"topic": ["a", "b"]})
    assert sorted(output.errors) == [0, 1] and len(openai_server.requests) == 2


def test_json_number_strings_are_numbers_in_prompts(openai_server: OpenAIServer) -> None:
    run_column(spec_text(openai_server.base_url, text_column("{{ topic + 1 }}")), "essay", {"topic": ["1"]})
    assert openai_server.requests[0].user_text == "2"


def test_dates_render_as_iso_strings_in_prompts(openai_server: OpenAIServer) -> None:
    import datetime

    run_column(spec_text(openai_server.base_url, text_column("On {{ topic }}")), "essay",
               {"topic": [datetime.datetime(2024, 1, 2, 3, 4, 5)]})  # fmt: skip
    assert openai_server.requests[0].user_text == "On 2024-01-02T03:04:05"


def test_chat_image_models_return_images_in_the_message(openai_server: OpenAIServer, tmp_path: Path) -> None:
    picture = base64.b64encode(tiny_png(3)).decode()
    openai_server.chat_reply = lambda r: {
        "role": "assistant", "content": "", "images": [{"image_url": {"url": f"data:image/png;base64,{picture}"}}]
    }  # fmt: skip
    spec = spec_text(openai_server.base_url, IMAGE).replace("model: dall-e-mock", "model: vision-mock")
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, artifacts_dir=tmp_path)
    output, _ = run_column(spec, "picture", {"topic": ["cats"]}, options=options)
    (path,) = output.values[0]
    assert openai_server.requests[0].path.endswith("/chat/completions") and (tmp_path / path).read_bytes() == tiny_png(
        3
    )


def test_reply_without_content_is_a_parse_failure(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: {"role": "assistant", "content": None}
    output, _ = run_column(spec_text(openai_server.base_url, text_column()), "essay", {"topic": ["cats"]})
    assert output.errors[0] == "parse: no valid reply after 6 attempts: The response has no text content."


def test_a_repaired_reply_is_recorded_in_the_trace(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: "```json\n{'name': 'cat', 'legs': 4}\n```"
    traced = STRUCTURED + "    with_trace: last_message\n"
    output, _ = run_column(spec_text(openai_server.base_url, traced), "info", {"topic": ["cats"]})
    (last,) = output.side_columns["info__trace"][0]
    assert list(output.values) == [{"name": "cat", "legs": 4}] and last["ddc_repair"].startswith("json_repair: ")
