"""Request bodies for OpenAI-compatible servers, and per-request sampled parameters and seeds.

Chat: ``{"model", "messages", temperature?, top_p?, max_tokens?, seed?, response_format?, **extra_body}``.
A text-only message's ``content`` is a plain string, which every mainstream server accepts (vLLM,
llama.cpp's llama-server, llama-cpp-python's server, Ollama, NIM, OpenAI); a list of typed blocks is
sent only with images, since some servers reject list content outside the user message
(llama-cpp-python's answers HTTP 500 to a list-valued system message). The system message is present
only when it renders non-empty, and ``extra_body`` keys are merged at the top level (the provider's win
over the model's, and over everything ddc sets). Sampled parameters and the request ``seed`` are a pure
function of (run seed, column, row, attempt), so a rerun sends identical bodies (and hits the response
cache) whatever the order requests complete in.
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
    """``[system?, user]``; the user content is the prompt string, or ``[*media_blocks, text]`` with media."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": [*media, text_block(prompt)] if media else prompt})
    return messages


def as_blocks(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its content as a list of typed blocks (the official trace format)."""
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": [text_block(content)]}
    return message


#: request seeds stay below 2**31: llama.cpp reads them as uint32 (with 0xFFFFFFFF meaning "random"),
#: other servers as signed 32- or 64-bit integers
SEED_RANGE = 2**31 - 1


def request_seed(seed: int, *key: object) -> int:
    """The ``seed`` of one request: a function of (run seed, column, row, restart, correction) only, so
    batch size, shards, resume points and completion order never change it."""
    return int(unit_draw(seed, "request-seed", *key) * SEED_RANGE)


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
    model: ResolvedModel,
    messages: list[dict[str, Any]],
    *,
    seed: int = 0,
    key: Sequence[object] = (),
    send_seed: bool = False,
    response_format: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The chat-completions body; ``key`` (column, row, attempt) picks the sampled temperature/top_p and,
    with ``send_seed``, the request ``seed``."""
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
    if send_seed:
        body["seed"] = request_seed(seed, *key)
    if response_format is not None:
        body["response_format"] = response_format
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
