"""Small builders shared by the LLM tests (specs and resolved models pointing at the loopback server)."""

from __future__ import annotations

from typing import Any

from ddc.engine.llm.providers import ResolvedModel, resolve_models
from ddc.spec.document import Spec


def spec_for(base_url: str, *, columns: list[dict[str, Any]] | None = None, **params: Any) -> Spec:
    """A spec with one provider `local` at ``base_url`` and models `text`, `embed`, `image`."""
    chat = {"max_parallel_requests": 4, "timeout": 5, **params}
    return Spec.model_validate(
        {
            "providers": [{"name": "local", "endpoint": base_url}],
            "model_configs": [
                {"alias": "text", "model": "mock-model", "provider": "local", "inference_parameters": chat},
                {"alias": "embed", "model": "mock-embed", "provider": "local",
                 "inference_parameters": {"generation_type": "embedding", "timeout": 5}},
                {"alias": "image", "model": "dall-e-mock", "provider": "local",
                 "inference_parameters": {"generation_type": "image", "timeout": 5}},
            ],
            "columns": columns or [{"name": "greeting", "column_type": "llm-text", "model_alias": "text",
                                    "prompt": "Say hello"}],
        }
    )  # fmt: skip


def models_for(base_url: str, **params: Any) -> dict[str, ResolvedModel]:
    return resolve_models(spec_for(base_url, **params), aliases=["text", "embed", "image"])
