"""Providers come from the spec, the user providers file, or the environment; keys stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.engine.llm.providers import provider_registry, resolve_models
from ddc.errors import ModelEndpointError, SpecError
from ddc.spec.document import Spec


def _spec(**extra: object) -> Spec:
    return Spec.model_validate(
        {
            "columns": [{"name": "a", "column_type": "llm-text", "model_alias": "nvidia-text", "prompt": "hi"}],
            **extra,
        }
    )


def test_spec_without_model_configs_uses_default_aliases() -> None:
    model = resolve_models(_spec())["nvidia-text"]
    assert (model.model, model.provider.endpoint) == (
        "nvidia/nemotron-3.5-lightning-30b-a3b",
        "https://integrate.api.nvidia.com/v1",
    )


def test_an_empty_model_configs_list_uses_the_default_aliases_as_the_official_builder_does() -> None:
    assert resolve_models(_spec(model_configs=[]))["nvidia-text"].model == resolve_models(_spec())["nvidia-text"].model


def test_spec_provider_overrides_a_default_provider_of_the_same_name() -> None:
    spec = _spec(providers=[{"name": "nvidia", "endpoint": "http://127.0.0.1:9/v1/"}])
    assert resolve_models(spec)["nvidia-text"].provider.endpoint == "http://127.0.0.1:9/v1"


def test_user_providers_file_is_read_from_ddc_home(ddc_home: Path) -> None:
    ddc_home.mkdir(parents=True)
    (ddc_home / "providers.yaml").write_text("providers:\n  - name: nvidia\n    endpoint: http://127.0.0.1:8/v1\n")
    assert provider_registry(_spec())["nvidia"].origin == str(ddc_home / "providers.yaml")


def test_bad_providers_file_names_its_line(ddc_home: Path) -> None:
    ddc_home.mkdir(parents=True)
    (ddc_home / "providers.yaml").write_text("providers:\n  - name: x\n    endpoint: ftp://nope\n")
    with pytest.raises(SpecError, match=r"providers.yaml:3:\d+"):
        provider_registry(_spec())


def test_openai_base_url_replaces_the_openai_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7/v1")
    assert provider_registry(_spec())["openai"].endpoint == "http://127.0.0.1:7/v1"


def test_api_key_is_read_from_the_environment_at_request_time(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = resolve_models(_spec())["nvidia-text"].provider
    monkeypatch.setenv("NVIDIA_API_KEY", "sk-secret-value")
    assert provider.headers()["Authorization"] == "Bearer sk-secret-value"


def test_resolved_model_repr_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NVIDIA_API_KEY", "sk-secret-value")
    assert "sk-secret-value" not in repr(resolve_models(_spec())["nvidia-text"])


def test_unknown_alias_names_the_column() -> None:
    spec = Spec.model_validate(
        {
            "model_configs": [],
            "columns": [{"name": "a", "column_type": "llm-text", "model_alias": "x", "prompt": "hi"}],
        }
    )
    with pytest.raises(ModelEndpointError, match="column 'a': model_alias 'x' is not defined"):
        resolve_models(spec)


def test_unknown_provider_is_reported() -> None:
    spec = Spec.model_validate(
        {
            "model_configs": [{"alias": "m", "model": "x", "provider": "nowhere"}],
            "columns": [{"name": "a", "column_type": "llm-text", "model_alias": "m", "prompt": "hi"}],
        }
    )
    with pytest.raises(ModelEndpointError, match="provider 'nowhere' is not defined"):
        resolve_models(spec)
