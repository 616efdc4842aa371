"""Images in and out: multi-modal context blocks, and image columns saved as files.

Context values may be one string, a JSON-list string or a list; each element becomes one block. An image
with ``data_type: null`` is a file (relative to the artifacts dir, then the spec dir) sent inline as
base64, else an http(s) URL passed through, else base64 whose format is detected from magic bytes.
Image columns use ``/images/generations`` for diffusion models (named like dall-e, stable-diffusion,
imagen, gpt-image) and chat completions otherwise; files go to ``images/<column>/<sha256>.<ext>`` under
the artifacts dir (content-addressed, so reruns are byte-identical) and the cell holds their relative
paths; without an artifacts dir the cell holds base64 strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.engine.llm.client import ModelCallError
from ddc.engine.llm.wire import chat_body, chat_messages, image_body

if TYPE_CHECKING:
    from ddc.engine.llm.generate import Cell, GenerationContext

DIFFUSION_MARKERS = ("dall-e-", "dalle", "stable-diffusion", "sd-", "sd_", "imagen", "gpt-image-")
_MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"), (b"RIFF", "webp"))


class MediaProblem(ValueError):
    """A context value that cannot be sent."""


def _elements(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return parsed if isinstance(parsed, list) else [value]
    return [value]


def image_format(data: bytes) -> str:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return "png"


def _local_file(text: str, ctx: GenerationContext) -> Path | None:
    if len(text) > 1024 or "\n" in text:
        return None
    for base in (ctx.artifacts_dir, ctx.base_dir):
        if base is None:
            continue
        candidate = (base / text).resolve() if not Path(text).is_absolute() else Path(text)
        if candidate.is_file():
            return candidate
    return None


def _image_url(value: str, context: Any, ctx: GenerationContext) -> str:
    if context.data_type == "url" or value.startswith(("http://", "https://", "data:")):
        return value
    if context.data_type is None:
        path = _local_file(value, ctx)
        if path is not None:
            data = path.read_bytes()
            return f"data:image/{image_format(data)};base64,{base64.b64encode(data).decode()}"
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaProblem(f"{context.column_name}: not a URL, an existing file or base64 image data") from exc
    fmt = context.image_format or image_format(raw)
    return f"data:image/{'jpeg' if fmt == 'jpg' else fmt};base64,{value}"


def media_blocks(contexts: Sequence[Any], record: Mapping[str, Any], ctx: GenerationContext) -> list[dict[str, Any]]:
    """OpenAI content blocks for every context of a row, in order."""
    blocks: list[dict[str, Any]] = []
    for context in contexts:
        for element in _elements(record.get(context.column_name)):
            value = str(element)
            if context.modality == "image":
                blocks.append({"type": "image_url", "image_url": {"url": _image_url(value, context, ctx)}})
            elif context.modality == "audio":
                if value.startswith(("http://", "https://")) or context.data_type == "url":
                    blocks.append({"type": "audio_url", "audio_url": {"url": value}})
                else:
                    blocks.append(
                        {
                            "type": "input_audio",
                            "input_audio": {"data": value, "format": context.audio_format},
                        }
                    )
            else:
                url = (
                    value
                    if value.startswith(("http://", "https://", "data:")) or context.data_type == "url"
                    else (f"data:video/{context.video_format};base64,{value}")
                )
                blocks.append({"type": "video_url", "video_url": {"url": url}})
    return blocks


def is_diffusion_model(model: str) -> bool:
    name = model.lower()
    return any(marker in name for marker in DIFFUSION_MARKERS)


async def _image_bytes(item: Any, ctx: GenerationContext) -> bytes:
    """Bytes of one returned image: ``b64_json``, a data URI or a URL (downloaded)."""
    if isinstance(item, dict):
        if item.get("b64_json"):
            return base64.b64decode(item["b64_json"])
        nested = item.get("image_url")
        item = nested.get("url") if isinstance(nested, dict) else nested or item.get("url")
    if isinstance(item, str):
        if item.startswith("data:"):
            return base64.b64decode(item.split(",", 1)[1])
        if item.startswith(("http://", "https://")):
            return await _download(item, ctx)
        try:
            return base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise ModelCallError("malformed_response", "the response holds no image data")


async def _download(url: str, ctx: GenerationContext) -> bytes:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.get(url)
    except httpx.HTTPError as exc:
        raise ModelCallError("connection", f"cannot download the generated image {url}") from exc
    if response.status_code >= 400:
        raise ModelCallError("server_error", f"downloading the generated image {url}: HTTP {response.status_code}")
    return response.content


def _save(column: str, data: bytes, ctx: GenerationContext) -> str:
    if ctx.artifacts_dir is None:
        return base64.b64encode(data).decode()
    ext = image_format(data)
    relative = Path("images") / column / f"{hashlib.sha256(data).hexdigest()[:32]}.{ext}"
    target = ctx.artifacts_dir / relative
    if not target.exists():
        from ddc.engine.writer import atomic_write

        # the dataset's own atomic write: a kill mid-write leaves a temporary --resume removes
        atomic_write(target, lambda handle: handle.write(data), sync_dir=False)
    return relative.as_posix()


async def generate_image_cell(
    column: Any, record: Mapping[str, Any], row: int, ctx: GenerationContext, tally: dict[str, float] | None = None
) -> Cell:
    from ddc.engine.llm.generate import Cell, CellError, TemplateFailure, render_prompt, template_context

    try:
        prompt = render_prompt(column.prompt, template_context(record))
        model = ctx.client.model(column.model_alias)
        diffusion = is_diffusion_model(model.model)
        media = [] if diffusion else media_blocks(column.multi_modal_context or (), record, ctx)
    except (TemplateFailure, MediaProblem) as exc:
        return Cell(error=CellError("template", str(exc)))
    if not prompt.strip():
        return Cell(error=CellError("template", "prompt: the template rendered an empty prompt"))
    try:
        if diffusion:
            payload = await ctx.client.post(
                column.model_alias,
                "images/generations",
                image_body(model, prompt),
                sample=(column.name, row),
                tally=tally,
            )
            items: list[Any] = list(payload["data"])
        else:
            key = (column.name, row, 0, 0)
            body = chat_body(model, chat_messages(prompt, None, media), seed=ctx.seed, key=key, send_seed=ctx.send_seed)
            payload = await ctx.client.post(
                column.model_alias, "chat/completions", body, sample=(column.name, row), tally=tally
            )
            message = payload["choices"][0].get("message") or {}
            items = list(message.get("images") or [])
            content = message.get("content")
            if not items and isinstance(content, str) and content.strip().startswith(("data:", "http")):
                items = [content.strip()]
        images = [await _image_bytes(item, ctx) for item in items]
    except ModelCallError as exc:
        return Cell(error=CellError(exc.kind, exc.message))
    if not images:
        return Cell(error=CellError("malformed_response", "the model returned no image"))
    return Cell([_save(column.name, data, ctx) for data in images])
