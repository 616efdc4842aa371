"""``ddc models check``: one probe per referenced model alias, as the official startup health check.

Chat models get ``[system "You are a helpful assistant.", user "Hello!"]``, embedding models
``["Hello!"]``, image models "Generate a simple illustration of a thumbs up sign." No cache, one
retry; every alias is probed at the same time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ddc.engine.llm.client import ModelCallError, ModelClient, RetryPolicy
from ddc.engine.llm.providers import ResolvedModel, missing_api_keys, resolve_models
from ddc.engine.llm.wire import chat_body, chat_messages, embedding_body, image_body
from ddc.spec.document import Spec


@dataclass(frozen=True)
class ModelCheck:
    alias: str
    model: str
    endpoint: str
    ok: bool
    seconds: float
    message: str  # "ok", or why not (never containing a key)

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.alias}: {self.model} at {self.endpoint} ({self.seconds:.2f}s) {self.message}".rstrip()


def _probe_request(model: ResolvedModel) -> tuple[str, dict[str, object]]:
    if model.generation_type == "embedding":
        return "embeddings", embedding_body(model, ["Hello!"])
    if model.generation_type == "image":
        return "images/generations", image_body(model, "Generate a simple illustration of a thumbs up sign.")
    return "chat/completions", chat_body(model, chat_messages("Hello!", "You are a helpful assistant."))


async def _check_all(models: dict[str, ResolvedModel]) -> list[ModelCheck]:
    client = ModelClient(models, retry=RetryPolicy(max_retries=1, base_delay=0.2, max_delay=1.0))
    missing = missing_api_keys(models.values())

    async def probe(model: ResolvedModel) -> ModelCheck:
        started = time.monotonic()
        route, body = _probe_request(model)
        try:
            await client.post(model.alias, route, body)
        except ModelCallError as exc:
            hint = f"; {missing[model.provider.name]}" if model.provider.name in missing else ""
            return ModelCheck(model.alias, model.model, model.provider.endpoint, False,
                              time.monotonic() - started, f"{exc.kind}: {exc.message}{hint}")  # fmt: skip
        return ModelCheck(model.alias, model.model, model.provider.endpoint, True, time.monotonic() - started, "")

    try:
        return list(await asyncio.gather(*(probe(m) for m in models.values())))
    finally:
        await client.aclose()


def check_models(spec: Spec) -> list[ModelCheck]:
    """Probe every alias the spec's columns use; ModelEndpointError when one cannot even be resolved."""
    models = resolve_models(spec)
    if not models:
        return []
    return asyncio.run(_check_all(models))
