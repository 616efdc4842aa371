"""Structured output at the source: the JSON schema of a reply sent as ``response_format``.

``llm-structured``, ``llm-judge`` and ``llm-code`` columns ask the server to constrain decoding to their
schema, so even a weak model returns parseable JSON; the reply is still parsed and validated after
decoding. How an endpoint is asked depends on what it supports (its *mode*):

* ``json_schema``: ``{"type": "json_schema", "json_schema": {"name", "schema"}}`` (OpenAI, vLLM,
  llama.cpp's llama-server, NIM);
* ``json_object``: ``{"type": "json_object", "schema": ...}`` (llama-cpp-python's server, which accepts
  only this);
* ``prompt``: no ``response_format``; the schema is in the prompt only (the official engine's way).

The mode is the provider's ``structured_output`` when set. Otherwise the start-up health check probes
it once per model (a request with ``json_schema``, then ``json_object``, the first the server accepts
wins; ``prompt`` when it refuses both), and cells of that model wait for the answer. Where no probe
runs (health checks skipped), cells start with ``json_schema`` and step down to the next mode the first
time the server refuses a ``response_format`` (HTTP 400/422) and a probe in that mode is refused too;
when the probe passes, only that cell retries with the schema in the prompt alone (its schema may be one
the server's grammar compiler cannot handle).

A code column's schema is ``{"code": string}``: in the constrained modes its prompt asks for a JSON
object holding the code, and the parser takes the ``code`` field (or a fenced block as before).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ddc.engine.llm.parsing import Parsed, ParseProblem, Recipe

if TYPE_CHECKING:
    from ddc.engine.llm.client import ModelClient
    from ddc.engine.llm.providers import ResolvedModel

MODES = ("json_schema", "json_object", "prompt")
DEFAULT_MODE = "json_schema"
#: column types whose replies have a JSON schema
STRUCTURED_TYPES = frozenset({"llm-structured", "llm-judge", "llm-code"})
#: the schema of the capability probe (OpenAI's strict subset, so every server can compile it)
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}

CODE_JSON_SUFFIX = (
    "* Your response must be code written in {syntax}.\n"
    "* You will follow accepted and common syntax and best-practices.\n"
    '* Your response is a JSON object whose "code" field holds the code as a string, without markdown '
    "code fences."
)


def response_format(mode: str, schema: Mapping[str, Any] | None, name: str = "response") -> dict[str, Any] | None:
    """The ``response_format`` of ``mode`` for ``schema`` (None in prompt mode or without a schema)."""
    if schema is None or mode == "prompt":
        return None
    if mode == "json_object":
        return {"type": "json_object", "schema": dict(schema)}
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": safe, "schema": dict(schema)}}


def code_schema(code_lang: str) -> dict[str, Any]:
    syntax = code_lang.split(":", 1)[0]
    return {
        "type": "object",
        "properties": {"code": {"type": "string", "description": f"The {syntax} code, without markdown fences."}},
        "required": ["code"],
    }


def recipe_for_mode(column: Any, recipe: Recipe, mode: str) -> Recipe:
    """The column's recipe for ``mode``: unchanged in prompt mode and for JSON columns; a code column
    asks for (and accepts) ``{"code": ...}`` when decoding is constrained."""
    if column.column_type != "llm-code":
        return recipe
    if mode == "prompt":
        return recipe
    syntax = column.code_lang.split(":", 1)[0]

    def parse(reply: str) -> Parsed:
        try:
            value = json.loads(reply)
        except ValueError:
            return recipe.parse_reply(reply)
        if not isinstance(value, dict) or not isinstance(value.get("code"), str):
            raise ParseProblem('The JSON response must be an object with a string "code" field.')
        return Parsed(str(value["code"]).strip())

    return Recipe(CODE_JSON_SUFFIX.format(syntax=syntax), parse, code_schema(column.code_lang))


def schema_of(column: Any, recipe: Recipe) -> dict[str, Any] | None:
    """The schema sent for the column (None for text columns)."""
    if column.column_type == "llm-code":
        return code_schema(column.code_lang)
    return recipe.schema


def structured_aliases(columns: Iterable[Any]) -> set[str]:
    """Model aliases used by columns whose replies have a schema."""
    return {c.model_alias for c in columns if c.column_type in STRUCTURED_TYPES and getattr(c, "model_alias", None)}


def next_mode(mode: str) -> str:
    return MODES[min(MODES.index(mode) + 1, len(MODES) - 1)]


class StructuredSupport:
    """The structured-output mode of each model of a run: set by its provider, probed once, or learnt.

    ``probe_aliases`` are the models whose mode the health check probes; the first of the health check
    and the model's first structured cell starts that probe, the other waits for it."""

    def __init__(self, client: ModelClient, probe_aliases: Iterable[str] = ()) -> None:
        self.client = client
        self.modes: dict[str, str] = {
            alias: m.provider.structured_output for alias, m in client.models.items() if m.provider.structured_output
        }
        self._probe_aliases = {a for a in probe_aliases if a not in self.modes}
        self._probes: dict[str, asyncio.Future[str | None]] = {}
        self._checks: dict[tuple[str, str], asyncio.Future[bool | None]] = {}

    def wants(self, alias: str) -> bool:
        """Whether the mode of ``alias`` is shown by the health check (set, or to be probed)."""
        return alias in self.modes or alias in self._probe_aliases

    async def mode(self, alias: str) -> str:
        """The mode to use now for ``alias``."""
        if alias in self.modes:
            return self.modes[alias]
        if alias in self._probe_aliases:
            found = await self.probe(alias)
            if found is not None:
                return found
        return self.modes.get(alias, DEFAULT_MODE)

    async def probe(self, alias: str) -> str | None:
        """The probed mode (once per model; None when the server did not answer clearly)."""
        if alias in self.modes and alias not in self._probes:
            return self.modes[alias]
        if alias not in self._probes:
            self._probes[alias] = asyncio.ensure_future(self._probe(self.client.model(alias)))
        return await asyncio.shield(self._probes[alias])

    async def _probe(self, model: ResolvedModel) -> str | None:
        from ddc.engine.llm.health import probe_request

        route, base = probe_request(model)
        for mode in MODES[:-1]:
            body = {**base, "response_format": response_format(mode, PROBE_SCHEMA, "probe")}
            outcome = await self._try(model.alias, route, body)
            if outcome is None:
                return None  # unreachable or unauthorised: the health check itself reports that
            if outcome:
                self.modes.setdefault(model.alias, mode)
                return self.modes[model.alias]
        self.modes.setdefault(model.alias, "prompt")
        return self.modes[model.alias]

    async def _try(self, alias: str, route: str, body: dict[str, Any]) -> bool | None:
        """True when the server accepted the request, False when it refused it, None when unknown."""
        from ddc.engine.llm.client import ModelCallError
        from ddc.engine.llm.health import PROBE_RETRY

        try:
            await self.client.probe(alias, route, body, PROBE_RETRY)
        except ModelCallError as exc:
            if exc.status is not None and exc.status not in (401, 403, 404, 408, 429):
                return False
            return None
        return True

    async def refused(self, alias: str, mode: str) -> str | None:
        """A request in ``mode`` was refused (HTTP 400/422). When the probe in that mode is refused too,
        step the model down (once per mode) and return the mode to retry with; None when the server
        accepts the mode (the refused request had another fault)."""
        if self.modes.get(alias, DEFAULT_MODE) != mode:
            return self.modes[alias]
        key = (alias, mode)
        if key not in self._checks:
            self._checks[key] = asyncio.ensure_future(self._accepts(alias, mode))
        if await asyncio.shield(self._checks[key]) is not False:
            return None
        if self.modes.get(alias, DEFAULT_MODE) == mode:
            self.modes[alias] = next_mode(mode)
        return self.modes[alias]

    async def _accepts(self, alias: str, mode: str) -> bool | None:
        from ddc.engine.llm.health import probe_request

        route, base = probe_request(self.client.model(alias))
        return await self._try(alias, route, {**base, "response_format": response_format(mode, PROBE_SCHEMA, "probe")})
