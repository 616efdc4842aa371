"""Cells of model-backed columns: render prompts, call the model, parse replies, never lose a failure.

Each function takes a column config and the rows (dicts of the columns produced so far) and returns one
``Cell`` per row: a value, or a ``CellError(kind, message)``. Prompt columns follow the official loop:
up to ``max_corrections`` correction turns (the parse error is sent back) inside each of up to
``1 + max_restarts`` fresh conversations; every request's sampled temperature/top_p depends only on
(run seed, column, row, restart, correction).

With ``tool_alias`` (``ddc.engine.llm.tools``) each request carries the tool schemas; a reply that asks
for tool calls is answered with their results and sent back, without counting as a correction, and a
restart goes back to the conversation as it stood after the last tool turn (the official checkpoint),
so tools are not called again. A reply repaired before it parsed (near-JSON) carries the repair in the
trace: ``"ddc_repair"`` on the final assistant message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.engine.llm.client import ModelCallError, ModelClient
from ddc.engine.llm.parsing import ParseProblem, Recipe, recipe_for
from ddc.engine.llm.wire import chat_body, chat_messages, embedding_body, text_block

if TYPE_CHECKING:
    from ddc.engine.llm.tools import ToolSet


MAX_REFUSALS = 3  # refused tool turns before a cell whose model never stops calling tools fails


@dataclass(frozen=True)
class CellError:
    """Why a cell has no value: a ``kind`` (template, parse, timeout ...) and a one-line message."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class Cell:
    value: Any = None
    error: CellError | None = None
    side: Mapping[str, Any] = field(default_factory=dict)
    usage: tuple[int, int] | None = None  # the server's prompt and completion tokens of the final reply


@dataclass
class GenerationContext:
    """What cell generation needs besides the rows: the client, the seed, the loop limits, the artifacts."""

    client: ModelClient
    seed: int = 0
    max_restarts: int = 5
    max_corrections: int = 0
    artifacts_dir: Path | None = None  # image files go under <artifacts_dir>/images/<column>/
    base_dir: Path = field(default_factory=Path.cwd)  # relative file paths in context columns
    embedding_batch: int = 32  # cells per /embeddings request


class TemplateFailure(ValueError):
    """A prompt that cannot be rendered for this row."""


def template_context(record: Mapping[str, Any]) -> dict[str, Any]:
    """The row as the official engine shows it to templates: JSON strings decoded (``"1"`` is 1,
    ``'{"a": 1}'`` a dict) and dates as ISO strings, exactly as expression columns see it; then JSON
    types only (the secure engine's round trip)."""
    from ddc.engine.expressions import decode_json_values

    decoded = {str(k): decode_json_values(v) for k, v in record.items()}
    return json.loads(json.dumps(decoded, default=str, allow_nan=True))


def render_prompt(text: str, context: Mapping[str, Any], what: str = "prompt") -> str:
    """Render in the secure sandbox; TemplateFailure names the cause (undefined names, sandbox refusals)."""
    from ddc.templating import RenderError, TemplateProblem, render_template

    try:
        rendered = render_template(text, dict(context))
    except (RenderError, TemplateProblem) as exc:
        raise TemplateFailure(f"{what}: {exc}") from exc
    return rendered


async def generate_prompt_cell(
    column: Any,
    record: Mapping[str, Any],
    row: int,
    ctx: GenerationContext,
    recipe: Recipe | None = None,
    tally: dict[str, float] | None = None,
    tools: ToolSet | None = None,
) -> Cell:
    """One llm-text / llm-code / llm-structured / llm-judge cell (with ``tools``, its tool-call turns)."""
    from ddc.engine.llm.media import MediaProblem, media_blocks

    recipe = recipe or recipe_for(column)
    context = template_context(record)
    try:
        prompt = render_prompt(column.prompt, context)
        system = render_prompt(column.system_prompt, context, "system_prompt") if column.system_prompt else None
        media = media_blocks(column.multi_modal_context or (), record, ctx)
    except (TemplateFailure, MediaProblem) as exc:
        return Cell(error=CellError("template" if isinstance(exc, TemplateFailure) else "media", str(exc)))
    if not prompt.strip():
        return Cell(error=CellError("template", "prompt: the template rendered an empty prompt"))
    user = f"{prompt}\n\n{recipe.suffix}" if recipe.suffix else prompt
    model = ctx.client.model(column.model_alias)
    tally = tally if tally is not None else {}
    problem = ""
    attempts = 0
    checkpoint, checkpoint_turns = chat_messages(user, system, media), 0
    for restart in range(ctx.max_restarts + 1):
        conversation, turns = list(checkpoint), checkpoint_turns
        correction = 0
        while correction <= ctx.max_corrections:
            attempts += 1
            body = chat_body(model, conversation, seed=ctx.seed, key=(column.name, row, restart, correction))
            if tools is not None:
                body["tools"] = tools.schemas
            try:
                payload = await ctx.client.post(
                    column.model_alias,
                    "chat/completions",
                    body,
                    sample=(column.name, row, restart, correction, *((turns,) if turns else ())),
                    tally=tally,
                )
            except ModelCallError as exc:
                return Cell(error=CellError(exc.kind, exc.message))
            message = _first_message(payload)
            if tools is not None and message.get("tool_calls"):
                from ddc.engine.llm.mcp_sessions import ToolCallError

                turns += 1
                if turns > tools.max_turns + MAX_REFUSALS:
                    return Cell(error=CellError("tool", f"the model kept calling tools after {MAX_REFUSALS} refusals"))
                try:
                    conversation = [*conversation, *await tools.respond(message, refuse=turns > tools.max_turns)]
                except ToolCallError as exc:
                    return Cell(error=CellError("tool", str(exc)))
                tally["tool_turns"] = tally.get("tool_turns", 0) + 1
                checkpoint, checkpoint_turns = list(conversation), turns
                continue
            content = message.get("content")
            reply = content if isinstance(content, str) else ""
            try:
                if not isinstance(content, str):
                    raise ParseProblem("The response has no text content.")
                parsed = recipe.parse_reply(reply)
            except ParseProblem as exc:
                problem = str(exc)
                conversation = [
                    *conversation,
                    {"role": "assistant", "content": [text_block(reply)]},
                    {"role": "user", "content": [text_block(problem)]},
                ]
                correction += 1
                continue
            if parsed.repair:
                tally["json_repairs"] = tally.get("json_repairs", 0) + 1
            side = _side_effects(column, conversation, message, parsed.repair)
            return Cell(parsed.value, side=side, usage=_usage(payload))
    return Cell(error=CellError("parse", f"no valid reply after {attempts} attempts: {problem}"))


def _usage(payload: Any) -> tuple[int, int] | None:
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion
    return None


def _first_message(payload: Any) -> dict[str, Any]:
    message = payload["choices"][0].get("message") if isinstance(payload["choices"][0], dict) else None
    return message if isinstance(message, dict) else {}


def _reasoning(message: Mapping[str, Any]) -> str | None:
    value = message.get("reasoning") or message.get("reasoning_content")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _side_effects(
    column: Any, conversation: list[dict[str, Any]], message: Mapping[str, Any], repair: str | None = None
) -> dict[str, Any]:
    side: dict[str, Any] = {}
    if getattr(column, "extract_reasoning_content", False):
        side[f"{column.name}__reasoning_content"] = _reasoning(message)
    trace = getattr(column, "with_trace", "none")
    if trace != "none":
        reply: dict[str, Any] = {
            "role": "assistant",
            "content": [text_block(str(message.get("content") or ""))],
        }
        if _reasoning(message):
            reply["reasoning_content"] = _reasoning(message)
        if repair:
            reply["ddc_repair"] = repair
        side[f"{column.name}__trace"] = [*conversation, reply] if trace == "all_messages" else [reply]
    return side


async def generate_prompt_column(
    column: Any, records: Sequence[Mapping[str, Any]], rows: Sequence[int], ctx: GenerationContext
) -> list[Cell]:
    """All cells of a prompt column for these rows, concurrently (the model's limit applies)."""
    recipe = recipe_for(column)
    return list(
        await asyncio.gather(
            *(generate_prompt_cell(column, r, row, ctx, recipe) for r, row in zip(records, rows, strict=True))
        )
    )


def embedding_inputs(value: Any) -> list[str]:
    """A JSON array or Python list literal (trailing commas allowed) gives its items; else [text]."""
    import ast

    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = "" if value is None else str(value)
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        for attempt in (stripped, _drop_trailing_commas(stripped)):
            try:
                parsed = json.loads(attempt)
            except ValueError:
                try:
                    parsed = ast.literal_eval(attempt)
                except (ValueError, SyntaxError):
                    continue
            if isinstance(parsed, list):
                return [str(v) for v in parsed]
    return [text]


def _drop_trailing_commas(text: str) -> str:
    import re

    return re.sub(r",\s*([\]}])", r"\1", text)


def _decode_vector(item: Any) -> list[float]:
    vector = item.get("embedding") if isinstance(item, dict) else None
    if isinstance(vector, str):  # encoding_format: base64 (little-endian float32)
        import base64
        import struct

        raw = base64.b64decode(vector)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if not isinstance(vector, list):
        raise ModelCallError("malformed_response", "an embedding in the response is not a list of numbers")
    return [float(v) for v in vector]


async def generate_embedding_column(
    column: Any, records: Sequence[Mapping[str, Any]], ctx: GenerationContext, tally: dict[str, float] | None = None
) -> list[Cell]:
    """Embeddings of ``target_column``, several cells per /embeddings request."""
    model = ctx.client.model(column.model_alias)
    inputs = [embedding_inputs(r.get(column.target_column)) for r in records]
    cells: list[Cell] = [Cell()] * len(records)
    size = max(1, ctx.embedding_batch)

    async def run(start: int) -> None:
        chunk = inputs[start : start + size]
        flat = [text for texts in chunk for text in texts]
        if not flat:
            for i in range(len(chunk)):
                cells[start + i] = Cell({"embeddings": [], "num_embeddings": 0, "dimension": 0})
            return
        try:
            payload = await ctx.client.post(column.model_alias, "embeddings", embedding_body(model, flat), tally=tally)
            data = sorted(payload["data"], key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0)
            if len(data) != len(flat):
                raise ModelCallError("malformed_response", f"asked for {len(flat)} embeddings, got {len(data)}")
            vectors = [_decode_vector(d) for d in data]
        except ModelCallError as exc:
            for i in range(len(chunk)):
                cells[start + i] = Cell(error=CellError(exc.kind, exc.message))
            return
        offset = 0
        for i, texts in enumerate(chunk):
            mine = vectors[offset : offset + len(texts)]
            offset += len(texts)
            cells[start + i] = Cell(
                {"embeddings": mine, "num_embeddings": len(mine), "dimension": len(mine[0]) if mine else 0}
            )

    await asyncio.gather(*(run(start) for start in range(0, len(records), size)))
    return cells
