"""Tool use (MCP) in `ddc run`: a scripted model on the loopback OpenAI server asks for tool calls, a real
MCP server process (the SDK's FastMCP, tests/servers/mcp_server.py) answers them over stdio or streamable
HTTP, and the results reach the model, the cell and its trace."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ddc.engine import runner
from ddc.errors import RunError
from tests.llm.runner import spec_text
from tests.servers.openai_server import OpenAIServer, RecordedRequest, tool_calling_reply

SERVER = Path(__file__).resolve().parent.parent / "servers" / "mcp_server.py"

COUNTRY_QUESTION = """
  - name: country
    column_type: sampler
    sampler_type: category
    params: {values: [France, Japan, Kenya]}
  - name: answer
    column_type: llm-text
    model_alias: text
    prompt: "What is the capital of {{ country }}?"
    tool_alias: geo
    with_trace: all_messages
"""


def stdio_provider(name: str = "tools") -> str:
    return f"""
  - name: {name}
    command: {json.dumps(sys.executable)}
    args: [{json.dumps(str(SERVER))}, stdio]
"""


def tools_extra(providers: str, *, allow: str = "", turns: int = 5, timeout: str = "") -> str:
    return f"""
mcp_providers:
{providers}
tool_configs:
  - tool_alias: geo
    providers: [tools]
    max_tool_call_turns: {turns}
{allow}
{timeout}
"""


def ask_capital(request: RecordedRequest) -> list[tuple[str, dict[str, Any]]]:
    country = request.user_text.removeprefix("What is the capital of ").rstrip("?")
    return [("capital", {"country": country})]


TOKEN = "mcp-test-token-7f3a"


@pytest.fixture
def http_mcp_server() -> Iterator[str]:
    """The test MCP server over streamable HTTP, as a process on 127.0.0.1; yields its URL."""
    yield from _http_server()


@pytest.fixture
def gated_mcp_server() -> Iterator[str]:
    """The same server, answering only requests that carry ``Authorization: Bearer TOKEN``."""
    yield from _http_server("--require-token", TOKEN)


def _http_server(*options: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "http", *options], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def run_tools_spec(server: OpenAIServer, tmp_path: Path, extra: str, columns: str = COUNTRY_QUESTION) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(server.base_url, columns, extra=extra) + "num_records: 3\n")
    return runner.run(spec, output_dir=tmp_path / "out").path  # type: ignore[return-value]


def rows(dataset: Path) -> list[dict[str, Any]]:
    return pq.read_table(dataset / "parquet-files").to_pylist()


def test_a_stdio_tool_answers_the_model(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider())))
    capitals = {"France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi"}
    assert [r["answer"] for r in table] == [f"answer: {capitals[r['country']]}" for r in table]


def test_a_streamable_http_tool_answers_the_model(
    openai_server: OpenAIServer, http_mcp_server: str, tmp_path: Path
) -> None:
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    provider = f"  - {{name: tools, provider_type: streamable_http, endpoint: {http_mcp_server}}}\n"
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(provider)))
    assert {r["answer"] for r in table} <= {"answer: Paris", "answer: Tokyo", "answer: Nairobi"}


def test_the_bearer_token_is_read_from_the_named_variable(
    openai_server: OpenAIServer, gated_mcp_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEO_TOKEN", TOKEN)
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    provider = (
        f"  - {{name: tools, provider_type: streamable_http, endpoint: {gated_mcp_server}, api_key: GEO_TOKEN}}\n"
    )
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(provider)))
    assert all(r["answer"] != "answer: unknown" and r["answer"].startswith("answer: ") for r in table)


def test_an_unset_token_variable_is_one_line_error(
    openai_server: OpenAIServer, gated_mcp_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEO_TOKEN", raising=False)
    provider = (
        f"  - {{name: tools, provider_type: streamable_http, endpoint: {gated_mcp_server}, api_key: GEO_TOKEN}}\n"
    )
    with pytest.raises(
        RunError, match=r"^MCP provider 'tools' \(streamable_http: .*\): environment variable GEO_TOKEN"
    ):
        run_tools_spec(openai_server, tmp_path, tools_extra(provider))


def test_the_trace_holds_the_tool_call_and_its_result(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    row = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider())))[0]
    trace = row["answer__trace"]
    call, result, final = trace[-3:]
    assert call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == "capital"
    assert {k: v for k, v in result.items() if v is not None} == {
        "role": "tool",
        "content": [{"type": "text", "text": row["answer"].removeprefix("answer: ")}],
        "tool_call_id": call["tool_calls"][0]["id"],
    }
    assert final["role"] == "assistant" and final["content"][0]["text"] == row["answer"]


def test_the_model_is_sent_the_tool_schemas(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider(), allow="    allow_tools: [capital, add]"))
    tools = openai_server.cell_requests[0].body["tools"]
    assert [t["function"]["name"] for t in tools] == ["add", "capital"]
    assert tools[1]["function"]["parameters"]["required"] == ["country"]


def test_a_tool_outside_allow_tools_fails_the_cell(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(lambda request: [("shout", {"text": "hi"})])
    dataset = run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider(), allow="    allow_tools: [capital]"))
    errors = [json.loads(line) for line in (dataset / "errors.jsonl").read_text().splitlines()]
    assert [r["answer"] for r in rows(dataset)] == [None, None, None]
    assert {(e["column"], e["message"]) for e in errors} == {
        ("answer", "tool: tool 'shout' is not in allow_tools of 'geo'")
    }


def test_an_allowed_tool_the_server_lacks_stops_the_run_at_start(openai_server: OpenAIServer, tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"allow_tools names 'weather', which no provider offers"):
        run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider(), allow="    allow_tools: [weather]"))


def test_a_tool_error_result_is_fed_back_to_the_model(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(lambda request: [("broken", {})])
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider())))
    assert "this tool always fails" in table[0]["answer"]


def test_a_slow_tool_fails_its_cell_after_timeout_sec(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(lambda request: [("slow", {"seconds": 5})])
    dataset = run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider(), timeout="    timeout_sec: 0.3"))
    message = json.loads((dataset / "errors.jsonl").read_text().splitlines()[0])["message"]
    assert message.startswith("tool: tool 'slow' on MCP provider 'tools'") and "no answer within 0.3s" in message


def test_tool_calls_beyond_max_turns_are_refused(openai_server: OpenAIServer, tmp_path: Path) -> None:
    def insistent(request: RecordedRequest) -> str | dict[str, Any]:
        last = request.body["messages"][-1]
        if last["role"] == "tool" and "refused" in last["content"][0]["text"]:
            return "giving up"
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}  # fmt: skip

    openai_server.chat_reply = insistent
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider(), turns=2)))
    tool_results = [m["content"][0]["text"] for m in table[0]["answer__trace"] if m["role"] == "tool"]
    assert table[0]["answer"] == "giving up" and tool_results[:2] == ["3", "3"] and "refused" in tool_results[2]


def test_one_session_per_provider_serves_every_cell_and_column(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(lambda request: [("pid", {})])
    second = COUNTRY_QUESTION + "\n".join(
        ["  - name: again", "    column_type: llm-text", "    model_alias: text", "    prompt: 'Again: {{ country }}'",
         "    tool_alias: geo", ""]
    )  # fmt: skip
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider()), columns=second))
    assert len({r[c] for r in table for c in ("answer", "again")}) == 1


def test_the_tool_usage_is_reported_in_metadata(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.chat_reply = tool_calling_reply(ask_capital)
    dataset = run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider()))
    reports = json.loads((dataset / "metadata.json").read_text())["reports"]
    assert reports["ddc.engine.llm.tools"] == {"geo": {"tool_calls": 3, "tool_errors": 0, "refused": 0}}


def test_an_undeclared_mcp_provider_is_one_line_error(openai_server: OpenAIServer, tmp_path: Path) -> None:
    extra = tools_extra(stdio_provider("other"))
    with pytest.raises(Exception, match=r"MCP provider 'tools' is not declared") as info:
        run_tools_spec(openai_server, tmp_path, extra)
    assert "\n" not in str(info.value)


def test_a_server_that_does_not_start_is_one_line_error(openai_server: OpenAIServer, tmp_path: Path) -> None:
    provider = f"  - {{name: tools, command: {json.dumps(sys.executable)}, args: [-c, 'raise SystemExit(3)']}}\n"
    with pytest.raises(RunError, match=r"MCP provider 'tools' \(stdio: .*\): could not start a session") as info:
        run_tools_spec(openai_server, tmp_path, tools_extra(provider))
    assert "\n" not in str(info.value)


def test_the_mcp_example_runs_against_its_tool_server(openai_server: OpenAIServer, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent.parent / "examples"
    text = (examples / "mcp-tools.ddc.yaml").read_text(encoding="utf-8")
    text = text.replace("http://127.0.0.1:8000/v1", openai_server.base_url).replace(
        "command: python", f"command: {json.dumps(sys.executable)}"
    )
    (tmp_path / "mcp").mkdir()
    (tmp_path / "mcp" / "geo_tools.py").write_text((examples / "mcp" / "geo_tools.py").read_text(encoding="utf-8"))
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    openai_server.chat_reply = tool_calling_reply(
        lambda request: [("capital", {"country": request.user_text.split(" about ")[1].split(",")[0]})]
    )
    dataset = runner.run(tmp_path / "spec.yaml", output_dir=tmp_path / "out", num_records=3).path
    assert dataset is not None
    table = rows(dataset)
    calls = [m for r in table for m in r["fact_sheet__trace"] if m["role"] == "tool"]
    assert len(calls) == 3 and all(r["fact_sheet"] != "answer: unknown" for r in table)


def run_findings(text: str) -> list[tuple[str, str]]:
    from ddc.api import validate

    report = validate(text, modes=("run",))
    return [(d.code, d.path) for d in report.diagnostics if d.severity == "error"]


TOOL_SPEC = """
tool_configs:
  - {tool_alias: geo, providers: [tools]}
columns:
  - {name: answer, column_type: llm-text, model_alias: nvidia-text, prompt: Hi, tool_alias: geo}
"""


def test_validate_for_run_accepts_a_declared_mcp_provider() -> None:
    assert run_findings("mcp_providers:\n  - {name: tools, command: python}\n" + TOOL_SPEC) == []


def test_validate_for_run_names_an_undeclared_mcp_provider() -> None:
    assert run_findings(TOOL_SPEC) == [("run-mcp", "tool_configs[0].providers[0]")]


def test_validate_for_run_names_the_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    assert ("run-mcp-missing", "tool_configs") in run_findings(
        "mcp_providers:\n  - {name: tools, command: python}\n" + TOOL_SPEC
    )


def test_run_without_the_mcp_package_is_one_line_error_naming_the_extra(
    openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(RunError, match=r"needs the mcp package") as info:
        run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider()))
    assert "ddc[mcp]" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ("{name: t}", "give either command"),
        ("{name: t, command: python, endpoint: 'http://127.0.0.1:1/mcp'}", "give either command"),
        ("{name: t, provider_type: stdio, endpoint: 'http://127.0.0.1:1/mcp'}", "needs command"),
        ("{name: t, endpoint: 'http://127.0.0.1:1/mcp', api_key: sk-123}", "must name an environment variable"),
    ],
    ids=["neither", "both", "stdio-without-command", "plaintext-key"],
)
def test_a_bad_mcp_provider_is_refused(provider: str, message: str) -> None:
    from ddc.errors import SpecError
    from ddc.spec.load import load_spec

    with pytest.raises(SpecError, match=message):
        load_spec(f"mcp_providers:\n  - {provider}\ncolumns:\n  - {{name: x, column_type: expression, expr: '1'}}\n")


STRUCTURED_QUESTION = """
  - name: country
    column_type: sampler
    sampler_type: category
    params: {values: [France, Japan, Kenya]}
  - name: answer
    column_type: llm-structured
    model_alias: text
    prompt: "What is the capital of {{ country }}?"
    tool_alias: geo
    output_format: {type: object, properties: {capital: {type: string}}, required: [capital]}
"""


def test_a_restart_after_an_unparsable_answer_does_not_call_the_tools_again(
    openai_server: OpenAIServer, tmp_path: Path
) -> None:
    answered: set[str] = set()

    def answer(results: list[str]) -> str:
        if not results:  # the start-up health probe
            return "hello"
        if results[0] not in answered:  # the first answer after the tool result does not parse
            answered.add(results[0])
            return "no JSON here"
        return json.dumps({"capital": results[0]})

    openai_server.chat_reply = tool_calling_reply(
        lambda request: [("capital", {"country": request.user_text.split("capital of ")[1].split("?")[0]})], answer
    )
    dataset = run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider()), columns=STRUCTURED_QUESTION)
    reports = json.loads((dataset / "metadata.json").read_text())["reports"]["ddc.engine.llm.tools"]
    assert {r["answer"]["capital"] for r in rows(dataset)} <= {"Paris", "Tokyo", "Nairobi"}
    assert reports["geo"]["tool_calls"] == 3


def test_the_stdio_server_is_stopped_when_the_run_ends(openai_server: OpenAIServer, tmp_path: Path) -> None:
    import os

    openai_server.chat_reply = tool_calling_reply(lambda request: [("pid", {})])
    table = rows(run_tools_spec(openai_server, tmp_path, tools_extra(stdio_provider())))
    server_pid = int(table[0]["answer"].removeprefix("answer: "))
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
