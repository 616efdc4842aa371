"""Which endpoint, key and parameters each model alias uses for ``ddc run``.

Providers are looked up by name, first match wins:

1. the spec's ``providers`` (``ddc.spec.document.LocalProvider``);
2. the user providers file, ``$DDC_HOME/providers.yaml`` (``DDC_HOME`` defaults to ``~/.config/ddc``),
   a YAML mapping ``providers: [{name, endpoint, provider_type?, api_key?, extra_body?, extra_headers?}]``
   (a bare list is accepted too), with the same fields and rules as the spec's ``providers``;
3. the official default providers ``nvidia``, ``openai`` and ``openrouter``; ``OPENAI_BASE_URL``
   replaces the endpoint of ``openai`` (as the OpenAI SDK does).

``api_key`` is always the *name* of an environment variable, read when a request is made and never
stored in any object's repr, message, log or cache key. A spec without ``model_configs`` gets the
official default aliases (``nvidia-text``, ``openai-embedding`` ...; data-designer 0.9.6 values).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import Field

from ddc.errors import ModelEndpointError, SpecError
from ddc.spec.base import SpecModel
from ddc.spec.document import LocalProvider, Spec
from ddc.spec.inference import ChatCompletionParams, EmbeddingParams, ImageParams, ModelConfig

InferenceParameters = ChatCompletionParams | EmbeddingParams | ImageParams

DEFAULT_PROVIDERS: tuple[dict[str, str], ...] = (
    {"name": "nvidia", "endpoint": "https://integrate.api.nvidia.com/v1", "api_key": "NVIDIA_API_KEY"},
    {"name": "openai", "endpoint": "https://api.openai.com/v1", "api_key": "OPENAI_API_KEY"},
    {"name": "openrouter", "endpoint": "https://openrouter.ai/api/v1", "api_key": "OPENROUTER_API_KEY"},
)

_TEXT = {"temperature": 0.85, "top_p": 0.95}
_REASONING = {"temperature": 0.35, "top_p": 0.95}
_EMBED = {"encoding_format": "float"}
_NANO = {"temperature": 1.0, "top_p": 1.0}
_OMNI = {"temperature": 0.60, "top_p": 0.95}
_GPT5 = {"extra_body": {"reasoning_effort": "medium"}}

#: alias -> (provider, model, inference parameters); data-designer-config 0.9.6 defaults.
DEFAULT_MODEL_ALIASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "nvidia-text": (
        "nvidia",
        "nvidia/nemotron-3.5-lightning-30b-a3b",
        {
            "temperature": 1.0,
            "top_p": 0.95,
            "extra_body": {"chat_template_kwargs": {"enable_thinking": False}},
        },
    ),
    "nvidia-reasoning": (
        "nvidia",
        "nvidia/nemotron-3-super-120b-a12b",
        {"temperature": 1.0, "top_p": 0.95, "extra_body": {"reasoning_effort": "medium"}},
    ),
    "nvidia-vision": ("nvidia", "nvidia/nemotron-3-nano-omni-30b-a3b-reasoning", _OMNI),
    "nvidia-embedding": (
        "nvidia",
        "nvidia/nemotron-3-embed-1b",
        {**_EMBED, "extra_body": {"input_type": "query"}},
    ),
    "openai-text": ("openai", "gpt-4.1", _TEXT),
    "openai-reasoning": ("openai", "gpt-5", _GPT5),
    "openai-vision": ("openai", "gpt-5", _GPT5),
    "openai-embedding": ("openai", "text-embedding-3-large", _EMBED),
    "openrouter-text": ("openrouter", "nvidia/nemotron-3-nano-30b-a3b", _NANO),
    "openrouter-reasoning": ("openrouter", "openai/gpt-oss-20b", _REASONING),
    "openrouter-vision": ("openrouter", "nvidia/nemotron-3-nano-omni-30b-a3b-reasoning:free", _OMNI),
    "openrouter-embedding": ("openrouter", "openai/text-embedding-3-large", _EMBED),
}


def ddc_home() -> Path:
    """``$DDC_HOME``, default ``~/.config/ddc``: the providers file lives here."""
    value = os.environ.get("DDC_HOME")
    return Path(value).expanduser() if value else Path.home() / ".config" / "ddc"


def providers_file() -> Path:
    return ddc_home() / "providers.yaml"


@dataclass(frozen=True)
class Provider:
    """An OpenAI-compatible endpoint. Holds the key's variable name, never the key."""

    name: str
    endpoint: str  # without a trailing slash
    provider_type: str = "openai"
    api_key_env: str | None = None
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    origin: str = "spec"  # "spec" | the providers file path | "default" | "nemo"
    #: a key fetched from the NeMo Secrets API at run start (never shown, compared or logged)
    secret: str | None = field(default=None, repr=False, compare=False)

    def api_key(self) -> str | None:
        """The key, read from the environment now (or fetched from the Secrets API); None when absent."""
        from ddc.redaction import register

        if self.secret is not None:
            register(self.secret)
            return self.secret
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env) or None
        register(key)  # whatever the endpoint echoes back of it is redacted (ddc.redaction)
        return key

    def headers(self) -> dict[str, str]:
        """Request headers: JSON, bearer auth when a key resolves, then the provider's extra headers."""
        headers = {"Content-Type": "application/json"}
        key = self.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        headers.update(self.extra_headers)
        return headers

    def url(self, route: str) -> str:
        return f"{self.endpoint}/{route.lstrip('/')}"


@dataclass(frozen=True)
class ResolvedModel:
    """A model alias with its provider: everything needed to send it requests."""

    alias: str
    model: str
    params: InferenceParameters
    provider: Provider
    skip_health_check: bool = False

    @property
    def generation_type(self) -> str:
        return self.params.generation_type

    @property
    def max_parallel_requests(self) -> int:
        return self.params.max_parallel_requests

    @property
    def timeout(self) -> float:
        """Seconds; the official engine's effective default is 60."""
        return float(self.params.timeout or 60)


def _provider_from(config: LocalProvider, origin: str) -> Provider:
    return Provider(
        name=config.name,
        endpoint=config.endpoint.rstrip("/"),
        provider_type=config.provider_type,
        api_key_env=config.api_key,
        extra_body=dict(config.extra_body or {}),
        extra_headers=dict(config.extra_headers or {}),
        origin=origin,
    )


class _ProvidersFile(SpecModel):
    providers: list[LocalProvider] = Field(default_factory=list)


def read_providers_file(path: Path) -> list[Provider]:
    """Providers of a user providers file; a missing file has none. Errors name file:line:column."""
    from pydantic import ValidationError

    from ddc.spec.load import translate_validation_error
    from ddc.spec.source import read_source

    if not path.is_file():
        return []
    source = read_source(path.read_bytes(), str(path), path)
    data = source.data if isinstance(source.data, dict) else {"providers": source.data or []}
    try:
        parsed = _ProvidersFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(translate_validation_error(exc, data, source.map)) from exc
    return [_provider_from(config, str(path)) for config in parsed.providers]


def default_providers() -> list[Provider]:
    providers = []
    for entry in DEFAULT_PROVIDERS:
        endpoint = entry["endpoint"]
        if entry["name"] == "openai" and os.environ.get("OPENAI_BASE_URL"):
            endpoint = os.environ["OPENAI_BASE_URL"]
        providers.append(Provider(entry["name"], endpoint.rstrip("/"), api_key_env=entry["api_key"], origin="default"))
    return providers


def provider_registry(spec: Spec, *, user_file: Path | None = None) -> dict[str, Provider]:
    """Name -> provider, spec first, then the user file, then the defaults."""
    registry: dict[str, Provider] = {}
    layers: list[Iterable[Provider]] = [
        (_provider_from(p, "spec") for p in spec.providers or ()),
        read_providers_file(user_file if user_file is not None else providers_file()),
        default_providers(),
    ]
    for layer in layers:
        for provider in layer:
            registry.setdefault(provider.name, provider)
    return registry


def model_configs(spec: Spec) -> list[ModelConfig]:
    """The spec's model configs, or the official default aliases when it declares none."""
    if spec.model_configs is not None:
        return list(spec.model_configs)
    return [
        ModelConfig.model_validate(
            {"alias": alias, "model": model, "provider": provider, "inference_parameters": params}
        )
        for alias, (provider, model, params) in DEFAULT_MODEL_ALIASES.items()
    ]


def referenced_aliases(spec: Spec) -> dict[str, list[str]]:
    """model alias -> the columns using it, in spec order."""
    used: dict[str, list[str]] = {}
    for column in spec.columns:
        alias = getattr(column, "model_alias", None)
        if alias:
            used.setdefault(alias, []).append(column.name)
    return used


def resolve_models(
    spec: Spec, *, aliases: Iterable[str] | None = None, user_file: Path | None = None
) -> dict[str, ResolvedModel]:
    """Resolve the aliases the columns use (or ``aliases``); RunError naming what is missing."""
    configs = {m.alias: m for m in model_configs(spec)}
    wanted = list(aliases) if aliases is not None else list(referenced_aliases(spec))
    registry = provider_registry(spec, user_file=user_file)
    resolved: dict[str, ResolvedModel] = {}
    for alias in wanted:
        config = configs.get(alias)
        if config is None:
            users = referenced_aliases(spec).get(alias, [])
            where = f"column {users[0]!r}: " if users else ""
            known = ", ".join(sorted(configs)) or "none"
            raise ModelEndpointError(
                f"{where}model_alias {alias!r} is not defined (known aliases: {known})",
                hint="add it to model_configs or fix the alias",
            )
        provider = registry.get(config.provider) or _nemo_provider(spec, config.provider)
        if provider is None:
            hint = f"add it to the spec's providers or to {providers_file()} (known: {', '.join(sorted(registry))})"
            if config.provider.count("/") == 1:
                hint = "set NMP_BASE_URL (and NMP_ACCESS_TOKEN) to reach this NeMo Inference Gateway provider"
            raise ModelEndpointError(
                f"model {alias!r}: provider {config.provider!r} is not defined for local runs", hint=hint
            )
        provider = _with_secret(spec, provider)
        if provider.provider_type != "openai":
            raise ModelEndpointError(
                f"provider {provider.name!r}: provider_type {provider.provider_type!r} is not supported by ddc run",
                hint="use an OpenAI-compatible endpoint (provider_type: openai)",
            )
        resolved[alias] = ResolvedModel(
            alias, config.model, config.inference_parameters, provider, config.skip_health_check
        )
    return resolved


def _access(spec: Spec) -> Any:
    from ddc.nemo.resources import NemoAccess

    return NemoAccess.for_spec(spec)


def _nemo_provider(spec: Spec, reference: str) -> Provider | None:
    """A NeMo Inference Gateway provider (``workspace/name``, or a bare name no local layer defines),
    called on its gateway route with the NeMo bearer token, exactly as the service calls it."""
    parts = reference.split("/")
    if len(parts) > 2 or not all(parts):
        return None
    access = _access(spec)
    if access is None:
        return None
    endpoint = access.gateway_endpoint(reference, access.provider_host_url(reference))
    return Provider(reference, endpoint, api_key_env="NMP_ACCESS_TOKEN", origin="nemo")


def _with_secret(spec: Spec, provider: Provider) -> Provider:
    """A provider whose api_key is a Secrets API reference (``workspace/name``) gets the value now."""
    ref = provider.api_key_env
    if not ref or "/" not in ref or ref in os.environ:
        return provider
    from ddc.nemo.resources import resolve_secret

    access = _access(spec)
    if access is None:
        raise ModelEndpointError(
            f"provider {provider.name!r}: api_key {ref!r} is a Secrets API reference",
            hint="set NMP_BASE_URL (and NMP_ACCESS_TOKEN) so ddc run can read it, or name an environment variable",
        )
    return replace(provider, secret=resolve_secret(ref, access))


def missing_api_keys(models: Iterable[ResolvedModel]) -> dict[str, str]:
    """Provider name -> message, for providers whose key variable is named but unset (never values)."""
    seen: dict[str, str] = {}
    for model in models:
        env = model.provider.api_key_env
        if model.provider.secret is not None:
            continue
        if env and not os.environ.get(env) and model.provider.name not in seen:
            seen[model.provider.name] = (
                f"provider {model.provider.name!r} reads its API key from ${env}, which is not set"
            )
    return seen
