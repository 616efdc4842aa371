"""Which endpoint, key and parameters each model alias uses for ``ddc run``.

Providers are looked up by name, first match wins:

1. the spec's ``providers`` (``ddc.spec.document.LocalProvider``);
2. the user providers file, ``$DDC_HOME/providers.yaml`` (``DDC_HOME`` defaults to ``~/.config/ddc``),
   a YAML mapping ``providers: [{name, endpoint, provider_type?, api_key?, extra_body?, extra_headers?,
   structured_output?}]``
   (a bare list is accepted too), with the same fields and rules as the spec's ``providers``;
3. the official CLI's providers file, ``$DATA_DESIGNER_HOME/model_providers.yaml``
   (``DATA_DESIGNER_HOME`` defaults to ``~/.data-designer``, as in data-designer), so a user of the
   official CLI gets the providers it configured with no extra step;
4. the official default providers ``nvidia``, ``openai`` and ``openrouter``; ``OPENAI_BASE_URL``
   replaces the endpoint of ``openai`` (as the OpenAI SDK does).

``api_key`` is the *name* of an environment variable (or a Secrets API reference), read when a request
is made. In the two providers files it may also be the key itself, as the official CLI accepts: it is
then used for local runs with a warning, and held only in ``Provider.secret`` (never in a repr,
message, log, cache key or output). A spec's own ``providers`` never hold keys.

A spec without ``model_configs`` gets the official default aliases: those of
``$DATA_DESIGNER_HOME/model_configs.yaml`` first (as the official builder reads them), then the
built-in ones it lacks (``nvidia-text``, ``openai-embedding`` ...; data-designer 0.9.6/0.9.7 values).
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
from ddc.spec.official_models import official_home, official_models_file, read_official_models_file

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


def official_providers_file() -> Path:
    return official_home() / "model_providers.yaml"


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
    #: json_schema | json_object | prompt, or None to probe it (ddc.engine.llm.structured)
    structured_output: str | None = None
    #: the providers file wrote the key itself (used as written, with a warning)
    plaintext_key: bool = False
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
        structured_output=config.structured_output,
    )


class _ProvidersFile(SpecModel):
    providers: list[LocalProvider] = Field(default_factory=list)


def read_providers_file(path: Path, *, official: bool = False) -> list[Provider]:
    """Providers of a providers file (ddc's, or with ``official`` the official CLI's, whose other keys
    such as a legacy ``default:`` are ignored, as there); a missing file has none. Errors name
    file:line:column. An ``api_key`` that is neither a variable name nor a Secrets API reference is
    the key itself: kept in ``Provider.secret`` only."""
    from pydantic import ValidationError

    from ddc.spec.document import ENV_VAR, SECRET_REF
    from ddc.spec.load import translate_validation_error
    from ddc.spec.source import read_source

    if not path.is_file():
        return []
    source = read_source(path.read_bytes(), str(path), path)
    data = source.data if isinstance(source.data, dict) else {"providers": source.data or []}
    if official and isinstance(data, dict):
        data = {"providers": data.get("providers") or []}
    keys: list[str | None] = []
    entries = data.get("providers") if isinstance(data, dict) else None
    if isinstance(entries, list):  # keys are classified here, never passed to a model that could echo them
        checked = []
        for entry in entries:
            key = entry.get("api_key") if isinstance(entry, dict) else None
            plain = isinstance(key, str) and not (ENV_VAR.match(key) or SECRET_REF.match(key))
            keys.append(key if plain else None)
            checked.append({k: v for k, v in entry.items() if k != "api_key"} | ({} if plain else {"api_key": key})
                           if isinstance(entry, dict) else entry)  # fmt: skip
        data = {**data, "providers": checked}
    try:
        parsed = _ProvidersFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(translate_validation_error(exc, data, source.map)) from None
    out = []
    for i, config in enumerate(parsed.providers):
        provider = _provider_from(config, str(path))
        if i < len(keys) and keys[i]:
            provider = replace(provider, secret=keys[i], plaintext_key=True)
        out.append(provider)
    return out


def plaintext_key_warnings(models: Iterable[ResolvedModel]) -> list[str]:
    """One warning per provider whose key is written in a providers file (never the key)."""
    seen: dict[str, str] = {}
    for model in models:
        provider = model.provider
        if provider.plaintext_key and provider.name not in seen:
            seen[provider.name] = (
                f"provider {provider.name!r}: {provider.origin} holds a plaintext api_key; used for this local "
                "run only (name an environment variable instead: api_key: MY_API_KEY)"
            )
    return list(seen.values())


def default_providers() -> list[Provider]:
    providers = []
    for entry in DEFAULT_PROVIDERS:
        endpoint = entry["endpoint"]
        if entry["name"] == "openai" and os.environ.get("OPENAI_BASE_URL"):
            endpoint = os.environ["OPENAI_BASE_URL"]
        providers.append(Provider(entry["name"], endpoint.rstrip("/"), api_key_env=entry["api_key"], origin="default"))
    return providers


def provider_registry(spec: Spec | None, *, user_file: Path | None = None) -> dict[str, Provider]:
    """Name -> provider: the spec, ddc's providers file, the official CLI's, then the defaults."""
    registry: dict[str, Provider] = {}
    layers: list[Iterable[Provider]] = [
        (_provider_from(p, "spec") for p in (spec.providers if spec is not None else None) or ()),
        read_providers_file(user_file if user_file is not None else providers_file()),
        read_providers_file(official_providers_file(), official=True),
        default_providers(),
    ]
    for layer in layers:
        for provider in layer:
            registry.setdefault(provider.name, provider)
    return registry


def model_configs(spec: Spec) -> list[ModelConfig]:
    """The spec's model configs, or the official default aliases when it declares none (an empty list
    too, as the official builder reads ``model_configs: []``)."""
    if spec.model_configs:
        return list(spec.model_configs)
    return [config for config, _ in default_model_entries()]


def default_model_entries() -> list[tuple[ModelConfig, str]]:
    """The default aliases with where each comes from: the official CLI's ``model_configs.yaml`` (as the
    official builder reads it), then the built-in aliases it does not define ("default")."""
    entries = read_official_models_file(official_models_file())
    known = {config.alias for config, _ in entries}
    for alias, (provider, model, params) in DEFAULT_MODEL_ALIASES.items():
        if alias not in known:
            data = {"alias": alias, "model": model, "provider": provider, "inference_parameters": params}
            entries.append((ModelConfig.model_validate(data), "default"))
    return entries


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
    if provider.secret is not None or not ref or "/" not in ref or ref in os.environ:
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


def model_listing(spec: Spec | None, spec_label: str = "spec") -> tuple[list[list[str]], list[list[str]]]:
    """Rows for ``ddc models list``: providers (name, endpoint, key, from) and aliases (alias, model,
    provider, from), columns padded. Keys appear only as the variable's name or "plaintext key", and an
    endpoint without the credentials its URL may hold."""
    from ddc.redaction import hide_url_credentials

    providers = list(provider_registry(spec).values())
    provider_rows = [["name", "endpoint", "api key", "from"]] + [
        [
            p.name,
            hide_url_credentials(p.endpoint),
            "plaintext key" if p.plaintext_key else (p.api_key_env or "-"),
            p.origin,
        ]
        for p in providers
    ]
    if spec is not None and spec.model_configs:
        entries = [(config, spec_label) for config in spec.model_configs]
    else:
        entries = default_model_entries()
    alias_rows = [["alias", "model", "provider", "from"]] + [
        [config.alias, config.model, config.provider, origin] for config, origin in entries
    ]
    return _padded(provider_rows), _padded(alias_rows)


def _padded(rows: list[list[str]]) -> list[list[str]]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [[cell.ljust(width) for cell, width in zip(row, widths, strict=True)] for row in rows]
