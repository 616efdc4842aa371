"""Request bodies shaped exactly as the official engine sends them, and per-request sampled parameters.

Chat: ``{"model", "messages", temperature?, top_p?, max_tokens?, **extra_body}`` where every message's
``content`` is a list of typed blocks, the system message is present only when it renders non-empty,
and ``extra_body`` keys are merged at the top level (the provider's win over the model's). Sampled
parameters are a pure function of (run seed, column, row, attempt), so a rerun sends identical bodies
(and hits the response cache) whatever the order requests complete in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ddc.engine.llm.providers import ResolvedModel
from ddc.spec.inference import ChatCompletionParams, EmbeddingParams, ManualDistribution, UniformDistribution


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def chat_messages(
    prompt: str, system_prompt: str | None = None, media: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """``[system?, user]``; the user content is ``[*media_blocks, text]``."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": [text_block(system_prompt)]})
    messages.append({"role": "user", "content": [*media, text_block(prompt)]})
    return messages


def unit_draw(seed: int, *parts: object) -> float:
    """A float in [0, 1) that depends only on the seed and the parts (column, row, attempt, parameter)."""
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def sample_parameter(value: float | ManualDistribution | UniformDistribution | None, u: float) -> float | None:
    """A constant stays itself; a distribution is sampled with the uniform draw ``u``."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, UniformDistribution):
        return value.params.low + u * (value.params.high - value.params.low)
    values = value.params.values
    weights = value.params.weights or [1 / len(values)] * len(values)
    total = 0.0
    for candidate, weight in zip(values, weights, strict=True):
        total += weight
        if u < total:
            return candidate
    return values[-1]


def _sampled(value: Any, seed: int, key: Sequence[object], name: str) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    return sample_parameter(value, unit_draw(seed, *key, name))


def _merge_extra(body: dict[str, Any], model: ResolvedModel) -> dict[str, Any]:
    body.update(model.params.extra_body or {})
    body.update(model.provider.extra_body)
    return body


def chat_body(
    model: ResolvedModel, messages: list[dict[str, Any]], *, seed: int = 0, key: Sequence[object] = ()
) -> dict[str, Any]:
    """The chat-completions body; ``key`` (column, row, attempt) picks the sampled temperature/top_p."""
    params = model.params
    body: dict[str, Any] = {"model": model.model, "messages": messages}
    if isinstance(params, ChatCompletionParams):
        temperature = _sampled(params.temperature, seed, key, "temperature")
        top_p = _sampled(params.top_p, seed, key, "top_p")
        if temperature is not None:
            body["temperature"] = temperature
        if top_p is not None:
            body["top_p"] = top_p
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
    return _merge_extra(body, model)


def embedding_body(model: ResolvedModel, inputs: list[str]) -> dict[str, Any]:
    """``{model, input, encoding_format, dimensions?, **extra_body}``."""
    params = model.params
    body: dict[str, Any] = {"model": model.model, "input": inputs}
    if isinstance(params, EmbeddingParams):
        body["encoding_format"] = params.encoding_format
        if params.dimensions is not None:
            body["dimensions"] = params.dimensions
    else:
        body["encoding_format"] = "float"
    return _merge_extra(body, model)


def image_body(model: ResolvedModel, prompt: str) -> dict[str, Any]:
    """``{model, prompt, **extra_body}`` for the images endpoint."""
    return _merge_extra({"model": model.model, "prompt": prompt}, model)
