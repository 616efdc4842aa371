"""What ddc sends: response_format by the endpoint's structured-output mode, per-cell seeds, and how
replies that are cut off or not valid Unicode come back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ddc.engine.llm.kinds import LLMOptions
from ddc.engine.llm.text import decode_payload
from ddc.engine.llm.wire import request_seed
from tests.llm.runner import FAST_RETRY, run_column, spec_text
from tests.servers.openai_server import Fault, OpenAIServer, RecordedRequest

STRUCTURED = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats]}
  - name: info
    column_type: llm-structured
    model_alias: text
    prompt: "Describe {{ topic }}"
    output_format:
      type: object
      properties: {name: {type: string}}
      required: [name]
"""
REPLY = '{"name": "cat"}'


def refuse(*types: str) -> Any:
    """A fault policy answering HTTP 400 to requests whose response_format has one of ``types``."""

    def policy(request: RecordedRequest, number: int) -> Fault | None:
        fmt = request.body.get("response_format") if isinstance(request.body, dict) else None
        return (
            Fault.http(400, body='{"error": {"message": "bad response_format"}}')
            if fmt and fmt["type"] in types
            else None
        )

    return policy


def formats(requests: list[RecordedRequest]) -> list[str | None]:
    return [(r.body.get("response_format") or {}).get("type") for r in requests]


def test_structured_cells_send_their_schema_as_json_schema_response_format(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: REPLY
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    fmt = openai_server.cell_requests[0].body["response_format"]
    assert (fmt["json_schema"]["schema"]["required"], list(output.values)) == (["name"], [{"name": "cat"}])


def test_an_endpoint_refusing_json_schema_gets_json_object_with_the_schema(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: REPLY
    openai_server.fault_policy = refuse("json_schema")
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats", "cats"]})
    assert (formats(openai_server.cell_requests), list(output.values)) == (["json_object"] * 2, [{"name": "cat"}] * 2)


def test_an_endpoint_refusing_both_formats_gets_the_schema_in_the_prompt_only(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: REPLY
    openai_server.fault_policy = refuse("json_schema", "json_object")
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert (formats(openai_server.cell_requests), list(output.values)) == ([None], [{"name": "cat"}])


def test_a_providers_structured_output_is_used_without_probing(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: REPLY
    spec = spec_text(openai_server.base_url, STRUCTURED, provider="    structured_output: json_object")
    run_column(spec, "info", {"topic": ["cats"]})
    assert [r.body["response_format"] for r in openai_server.requests] == [
        {"type": "json_object", "schema": {"type": "object", "properties": {"name": {"type": "string"}},
                                           "required": ["name"]}}
    ]  # fmt: skip


def test_a_chosen_seed_gives_each_request_a_seed_from_column_and_row(openai_server: OpenAIServer) -> None:
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, send_seed=True)
    spec = spec_text(openai_server.base_url, STRUCTURED, provider="    structured_output: prompt")
    openai_server.chat_reply = lambda r: REPLY
    run_column(spec, "info", {"topic": ["cats", "cats"]}, options=options)
    seeds = sorted(r.body["seed"] for r in openai_server.requests)
    assert seeds == sorted(request_seed(7, "info", row, 0, 0) for row in (0, 1))


def test_without_a_chosen_seed_requests_carry_no_seed(openai_server: OpenAIServer) -> None:
    spec = spec_text(openai_server.base_url, STRUCTURED, provider="    structured_output: prompt")
    openai_server.chat_reply = lambda r: REPLY
    run_column(spec, "info", {"topic": ["cats"]})
    assert "seed" not in openai_server.requests[0].body


def test_request_seeds_fit_every_servers_integer_type() -> None:
    seeds = [request_seed(seed, "c", row, 0, 0) for seed in (0, 2**63 - 1) for row in range(200)]
    assert min(seeds) >= 0 and max(seeds) < 2**31 - 1 and len(set(seeds)) == 400


def test_a_reply_cut_off_by_max_tokens_names_finish_reason_and_the_fix(openai_server: OpenAIServer) -> None:
    def cut_off(request: RecordedRequest) -> tuple[int, Any]:
        choice = {"index": 0, "message": {"role": "assistant", "content": '{"nam'}, "finish_reason": "length"}
        return 200, {"choices": [choice]}

    openai_server.routes["/chat/completions"] = cut_off
    spec = spec_text(openai_server.base_url, STRUCTURED, params="      max_tokens: 5")
    options = LLMOptions(use_cache=False, retry=FAST_RETRY, max_restarts=0)
    output, _ = run_column(spec, "info", {"topic": ["cats"]}, options=options)
    assert "cut off by max_tokens=5 (finish_reason: length), raise max_tokens of model 'text'" in output.errors[0]


def test_lone_surrogates_in_a_reply_become_replacement_characters(openai_server: OpenAIServer) -> None:
    openai_server.chat_reply = lambda r: "a\ud800b \ud83d\ude00"
    spec = spec_text(openai_server.base_url, "  - {name: t, column_type: llm-text, model_alias: text, prompt: hi}")
    output, _ = run_column(spec, "t", {})
    assert list(output.values) == ["a\ufffdb \U0001f600"]


def test_invalid_utf8_in_a_response_body_becomes_replacement_characters() -> None:
    assert decode_payload(b'{"content": "ok \xff\xfe end"}') == {"content": "ok \ufffd\ufffd end"}


CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\ufffd end"


def test_replies_with_every_control_character_are_written_exactly_by_each_writer(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from ddc import api

    openai_server.chat_reply = lambda r: CONTROL
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        spec_text(openai_server.base_url, "  - {name: t, column_type: llm-text, model_alias: text, prompt: hi}")
    )
    stored = []
    for fmt in ("parquet", "jsonl", "csv"):
        result = api.run(spec, num_records=2, output_dir=tmp_path / fmt, fmt=fmt, use_cache=False)
        stored.append(pq.read_table(result.path / "parquet-files").column("t").to_pylist())
    jsonl = (tmp_path / "jsonl" / "spec" / "spec.jsonl").read_text(encoding="utf-8").splitlines()
    assert stored == [[CONTROL.strip()] * 2] * 3 and [json.loads(line)["t"] for line in jsonl] == [CONTROL.strip()] * 2


def test_a_cell_whose_own_schema_is_refused_retries_with_the_schema_in_the_prompt(openai_server: OpenAIServer) -> None:
    def policy(request: RecordedRequest, number: int) -> Fault | None:
        fmt = request.body.get("response_format") if isinstance(request.body, dict) else None
        return Fault.http(400) if fmt and '"required": ["name"]' in json.dumps(fmt) else None  # not the probe's

    openai_server.chat_reply = lambda r: REPLY
    openai_server.fault_policy = policy
    output, _ = run_column(spec_text(openai_server.base_url, STRUCTURED), "info", {"topic": ["cats"]})
    assert (formats(openai_server.cell_requests), list(output.values)) == (["json_schema", None], [{"name": "cat"}])
