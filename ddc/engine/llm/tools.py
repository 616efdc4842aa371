"""Tool use (MCP) of LLM columns with ``tool_alias``, following the official engine.

The tools of a tool config are those its providers list (``mcp_providers`` of the spec), narrowed to
``allow_tools`` (null or empty: all); a tool name offered by two of its providers, or an allowed name
no provider offers, stops the run at start-up with one line. Their schemas go out as OpenAI ``tools``.
When a reply asks for tool calls, one *turn* is used: the calls run concurrently, each bounded by the
tool config's ``timeout_sec`` (default 60 s), and the assistant message (with its ``tool_calls``) plus
one ``role: tool`` message per call (the result's text blocks joined by newlines, or its image blocks)
are appended to the conversation, which goes back to the model. After ``max_tool_call_turns`` turns
further calls are refused with the official refusal message and the model must answer. A result the
server marks as an error is fed back like any other (the model may recover); a call that cannot be
made -- a tool outside ``allow_tools``, unknown, with arguments that are not a JSON object, timed out,
or a failed session -- fails the cell with kind ``tool`` (errors.jsonl). The whole exchange is part of
the ``__trace`` side column with ``with_trace: all_messages``.

``ToolRuntime`` is one per run (``context.shared``): it opens one session per provider on first use
(or in the start-up checks, ``ready``), shares them between every cell and column, and closes them at
the end of the run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddc.engine.llm.mcp_sessions import MCPSession, ToolCallError, require_mcp
from ddc.engine.llm.wire import text_block
from ddc.errors import RunError

if TYPE_CHECKING:
    from ddc.engine.kinds import RunContext
    from ddc.spec.processing import ToolConfig

TOOL_REFUSAL = (
    "Tool call refused: You have reached the maximum number of tool-calling turns. "
    "Please provide your final response without requesting additional tool calls."
)
DEFAULT_TOOL_TIMEOUT = 60.0
_RUNTIME_KEY = "ddc.engine.llm.tools"


@dataclass
class ToolSet:
    """The tools one tool config offers a column: their schemas and the session serving each."""

    config: ToolConfig
    schemas: list[dict[str, Any]]
    sessions: dict[str, MCPSession]  # tool name -> session
    usage: dict[str, int] = field(default_factory=lambda: {"tool_calls": 0, "tool_errors": 0, "refused": 0})

    @property
    def max_turns(self) -> int:
        return self.config.max_tool_call_turns

    @property
    def timeout(self) -> float:
        return self.config.timeout_sec or DEFAULT_TOOL_TIMEOUT

    async def respond(self, message: Mapping[str, Any], *, refuse: bool) -> list[dict[str, Any]]:
        """The assistant message with its tool calls and one tool message per call (refusals when
        ``refuse``); ToolCallError when a call cannot be made."""
        calls = [_parse_call(c) for c in message.get("tool_calls") or ()]
        assistant: dict[str, Any] = {
            "role": "assistant",
            "content": [text_block(str(message.get("content") or ""))],
            "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": raw}}
                for cid, name, raw, _ in calls
            ],
        }
        if refuse:
            self.usage["refused"] += len(calls)
            return [assistant, *(_tool_message(cid, [text_block(TOOL_REFUSAL)]) for cid, *_ in calls)]
        allowed = set(self.config.allow_tools or ()) or None
        for _, name, _, _ in calls:
            if allowed is not None and name not in allowed:
                raise ToolCallError(f"tool {name!r} is not in allow_tools of {self.config.tool_alias!r}")
            if name not in self.sessions:
                raise ToolCallError(f"tool {name!r} is not offered by tool config {self.config.tool_alias!r}")
        self.usage["tool_calls"] += len(calls)
        try:
            results = await asyncio.gather(
                *(self.sessions[name].call_tool(name, args, self.timeout) for _, name, _, args in calls)
            )
        except ToolCallError:
            self.usage["tool_errors"] += 1
            raise
        self.usage["tool_errors"] += sum(bool(getattr(r, "isError", False)) for r in results)
        return [assistant, *(_tool_message(cid, result_blocks(r)) for (cid, *_), r in zip(calls, results, strict=True))]


def _parse_call(call: Any) -> tuple[str, str, str, dict[str, Any]]:
    """(id, name, arguments as sent, arguments as a dict) of one OpenAI tool call."""
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ToolCallError("the model sent a tool call without a function name")
    name = function["name"]
    raw = function.get("arguments")
    if isinstance(raw, dict):
        raw = json.dumps(raw)
    raw = raw if isinstance(raw, str) else ""
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        raise ToolCallError(f"tool {name!r}: the arguments are not valid JSON: {raw[:200]!r}") from None
    if not isinstance(arguments, dict):
        raise ToolCallError(f"tool {name!r}: the arguments must be a JSON object, got {raw[:200]!r}")
    return str(call.get("id") or name), name, raw, arguments


def _tool_message(call_id: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "tool", "content": content, "tool_call_id": call_id}


def result_blocks(result: Any) -> list[dict[str, Any]]:
    """A CallToolResult as message blocks: its texts joined into one text block, unless it carries
    images (then one block per item, images as data URIs), as the official engine feeds them back."""
    blocks: list[dict[str, Any]] = []
    for item in getattr(result, "content", None) or ():
        kind = getattr(item, "type", None)
        if kind == "text":
            blocks.append(text_block(str(item.text)))
        elif kind == "image":
            blocks.append({"type": "image_url", "image_url": {"url": f"data:{item.mimeType};base64,{item.data}"}})
        else:
            dump = item.model_dump(mode="json", exclude_none=True) if hasattr(item, "model_dump") else str(item)
            blocks.append(text_block(json.dumps(dump, ensure_ascii=False, sort_keys=True)))
    if any(b["type"] == "image_url" for b in blocks):
        return blocks
    return [text_block("\n".join(b["text"] for b in blocks))]


class ToolRuntime:
    """The run's MCP sessions and tool sets; a shared resource of the run context."""

    def __init__(self, context: RunContext) -> None:
        require_mcp()
        spec = context.plan.spec
        self.base_dir = context.base_dir
        self.providers = {p.name: p for p in spec.mcp_providers or ()}
        self.configs = {t.tool_alias: t for t in spec.tool_configs or ()}
        self.used = sorted({c.config.tool_alias for c in context.plan.all_columns if _tool_alias(c.config)})
        self.sessions: dict[str, MCPSession] = {}
        self.toolsets: dict[str, ToolSet] = {}
        self._opening: asyncio.Task[None] | None = None

    async def ready(self) -> None:
        """Open every session the run's columns need and list their tools (a start-up check)."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opening)

    async def toolset(self, alias: str) -> ToolSet:
        await self.ready()
        return self.toolsets[alias]

    async def _open(self) -> None:
        for alias in self.used:
            for name in self.configs[alias].providers:
                if name not in self.providers:
                    raise RunError(
                        f"tool config {alias!r}: MCP provider {name!r} is not declared",
                        hint=f"add it under mcp_providers (name: {name}, with command or endpoint)",
                    )
        for name in sorted({p for alias in self.used for p in self.configs[alias].providers}):
            session = MCPSession(self.providers[name], self.base_dir)
            self.sessions[name] = session
        await asyncio.gather(*(s.open() for s in self.sessions.values()))
        listed = await asyncio.gather(*(s.list_tools() for s in self.sessions.values()))
        offered = dict(zip(self.sessions, listed, strict=True))
        for alias in self.used:
            config = self.configs[alias]
            self.toolsets[alias] = _toolset(config, {p: offered[p] for p in config.providers}, self.sessions)

    def report(self) -> dict[str, Any]:
        """Per tool config: tool calls made, calls that failed or returned an error, calls refused."""
        return {alias: dict(ts.usage) for alias, ts in sorted(self.toolsets.items())}

    async def aclose(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        await asyncio.gather(*(s.aclose() for s in self.sessions.values()), return_exceptions=True)
        self.sessions.clear()


def _toolset(config: ToolConfig, offered: Mapping[str, Sequence[Any]], sessions: Mapping[str, MCPSession]) -> ToolSet:
    owners: dict[str, list[str]] = {}
    tools: dict[str, Any] = {}
    for provider, listed in offered.items():
        for tool in listed:
            owners.setdefault(tool.name, []).append(provider)
            tools.setdefault(tool.name, tool)
    twice = {name: ps for name, ps in owners.items() if len(ps) > 1}
    if twice:
        name, ps = sorted(twice.items())[0]
        raise RunError(
            f"tool config {config.tool_alias!r}: tool {name!r} is offered by MCP providers {', '.join(ps)}",
            hint="give each tool config providers whose tool names do not overlap",
        )
    wanted = list(dict.fromkeys(config.allow_tools or ()))
    missing = [name for name in wanted if name not in tools]
    if missing:
        raise RunError(
            f"tool config {config.tool_alias!r}: allow_tools names {', '.join(map(repr, missing))}, which no "
            f"provider offers (offered: {', '.join(sorted(tools)) or 'none'})",
            hint="fix allow_tools or the providers of the tool config",
        )
    allowed = [name for name in tools if not wanted or name in wanted]
    schemas = [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": tools[name].description or "",
                "parameters": tools[name].inputSchema or {"type": "object", "properties": {}},
            },
        }
        for name in allowed
    ]
    return ToolSet(config, schemas, {name: sessions[owners[name][0]] for name in allowed})


def _tool_alias(config: Any) -> str | None:
    alias = getattr(config, "tool_alias", None)
    return alias if isinstance(alias, str) and alias else None


def tool_runtime(context: RunContext) -> ToolRuntime:
    return context.shared(_RUNTIME_KEY, lambda: ToolRuntime(context))
