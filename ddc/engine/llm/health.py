"""Model health probes: ``ddc models check``, and the start-up health check of ``ddc run``.

One probe per model alias, as the official engine sends them: chat models get ``[system "You are a
helpful assistant.", user "Hello!"]``, embedding models ``["Hello!"]``, image models "Generate a
simple illustration of a thumbs up sign." A probe skips the response cache, is retried once
(``PROBE_RETRY``), takes one of the model's concurrency slots ahead of any cell, and is not counted in
metadata.json's ``model_usage``: the official engine's probes skip usage tracking, so its usage
figures count generation only, and so do ours.

``ddc models check`` probes every alias the columns use (it is the explicit request, so
``skip_health_check`` is not consulted) and reports each. ``ddc run`` probes the same aliases except
those with ``skip_health_check: true``, and none when ``DATA_DESIGNER_SKIP_MODEL_HEALTH_CHECKS=1``.
Where the official engine probes before generating, ``ddc run`` sends the probes while it starts up
(``ddc.engine.llm.early_check``) and reads their outcome in ``LLMRuntime.ready`` (the runner writes no
batch until they pass), so a healthy run pays no extra round trip; the first probe that fails ends the
run with a one-line ``ModelEndpointError`` naming the alias, model, endpoint and cause.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddc.engine.llm.client import ModelCallError, ModelClient, RetryPolicy
from ddc.engine.llm.providers import ResolvedModel, missing_api_keys, resolve_models
from ddc.engine.llm.wire import chat_body, chat_messages, embedding_body, image_body
from ddc.errors import ModelEndpointError
from ddc.redaction import hide_url_credentials
from ddc.spec.document import Spec

if TYPE_CHECKING:
    from ddc.engine.llm.early_check import EarlyHealthCheck
    from ddc.engine.llm.structured import StructuredSupport

#: the official switch that turns the start-up health check off for every model
SKIP_ENV = "DATA_DESIGNER_SKIP_MODEL_HEALTH_CHECKS"
PROBE_RETRY = RetryPolicy(max_retries=1, base_delay=0.2, max_delay=1.0)


@dataclass(frozen=True)
class ModelCheck:
    alias: str
    model: str
    endpoint: str
    ok: bool
    seconds: float
    message: str  # "", or why not (never containing a key)
    structured_output: str | None = None  # the response_format mode, for models of structured columns

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        mode = f" structured output: {self.structured_output}" if self.structured_output else ""
        where = f"{self.alias}: {self.model} at {hide_url_credentials(self.endpoint)} ({self.seconds:.2f}s)"
        return f"{mark} {where}{mode} {self.message}".rstrip()

    def error(self) -> ModelEndpointError:
        """The start-up failure of ``ddc run``: one line, and how to fix or skip the check."""
        where = f"model {self.alias!r} ({self.model} at {self.endpoint})"
        return ModelEndpointError(
            f"{where} failed the start-up health check: {self.message}",
            hint=f"fix the provider, model name or API key, or set `skip_health_check: true` on model "
            f"{self.alias!r}, or {SKIP_ENV}=1 to skip the check",
        )


def probe_request(model: ResolvedModel) -> tuple[str, dict[str, object]]:
    """Route and body of the official probe for the model's generation type."""
    if model.generation_type == "embedding":
        return "embeddings", embedding_body(model, ["Hello!"])
    if model.generation_type == "image":
        return "images/generations", image_body(model, "Generate a simple illustration of a thumbs up sign.")
    return "chat/completions", chat_body(model, chat_messages("Hello!", "You are a helpful assistant."))


async def probe_model(
    client: ModelClient, model: ResolvedModel, structured: StructuredSupport | None = None
) -> ModelCheck:
    """One probe through ``client`` (no cache, no usage); a failure is returned, not raised. With
    ``structured``, a healthy chat model's response_format mode is probed next (when it needs one)."""
    started = time.monotonic()
    route, body = probe_request(model)
    try:
        await client.probe(model.alias, route, body, PROBE_RETRY)
    except ModelCallError as exc:
        missing = missing_api_keys([model]).get(model.provider.name)
        cause = f"{exc.kind}: {exc.cause}" + (f"; {missing}" if missing else "")
        return ModelCheck(model.alias, model.model, model.provider.endpoint, False, time.monotonic() - started, cause)
    mode = await _structured_mode(model, structured)
    return ModelCheck(model.alias, model.model, model.provider.endpoint, True, time.monotonic() - started, "", mode)


def health_check_skipped() -> bool:
    return os.environ.get(SKIP_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def models_to_probe(models: Iterable[ResolvedModel]) -> list[ResolvedModel]:
    """The models ``ddc run`` probes: none under the env switch, else those without skip_health_check."""
    if health_check_skipped():
        return []
    return [m for m in models if not m.skip_health_check]


async def run_health_check(
    client: ModelClient, models: Iterable[ResolvedModel], structured: StructuredSupport | None = None
) -> None:
    """Probe the models at once; the first failure cancels the other probes and is raised."""
    probes = [asyncio.ensure_future(probe_model(client, m, structured)) for m in models]
    try:
        for next_done in asyncio.as_completed(probes):
            check = await next_done
            if not check.ok:
                raise check.error()
    finally:
        for probe in probes:
            probe.cancel()
        await asyncio.gather(*probes, return_exceptions=True)


async def finish_early_check(
    early: EarlyHealthCheck, client: ModelClient, models: list[ResolvedModel], structured: StructuredSupport | None
) -> None:
    """The outcome of the probes sent at start-up (``ddc.engine.llm.early_check``): the first failure, in
    model order, is raised; then the response_format modes are probed as ``run_health_check`` does."""
    for check in await early.outcome(client):
        if not check.ok:
            raise check.error()
    await asyncio.gather(*(_structured_mode(m, structured) for m in models))


async def _structured_mode(model: ResolvedModel, structured: StructuredSupport | None) -> str | None:
    """A healthy chat model's response_format mode, probed when its structured columns need one."""
    if structured is None or model.generation_type != "chat-completion" or not structured.wants(model.alias):
        return None
    return await structured.probe(model.alias)


async def probe_all(models: dict[str, ResolvedModel], structured_aliases: Iterable[str] = ()) -> list[ModelCheck]:
    """One probe per model, at once, through a client of their own (and the response_format mode of the
    ``structured_aliases``); the checks in model order."""
    from ddc.engine.llm.structured import StructuredSupport

    client = ModelClient(models)
    structured = StructuredSupport(client, structured_aliases)
    try:
        return list(await asyncio.gather(*(probe_model(client, m, structured) for m in models.values())))
    finally:
        await client.aclose()


def check_models(spec: Spec) -> list[ModelCheck]:
    """``ddc models check``: probe every alias the spec's columns use (and the response_format mode of
    those that structured, judge and code columns use); ModelEndpointError when one cannot even be
    resolved."""
    from ddc.engine.llm.structured import structured_aliases

    models = resolve_models(spec)
    if not models:
        return []
    return asyncio.run(probe_all(models, structured_aliases(spec.columns)))
