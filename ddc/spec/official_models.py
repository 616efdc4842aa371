"""The official CLI's models file, ``$DATA_DESIGNER_HOME/model_configs.yaml``.

Read by ``ddc validate`` (``ddc.spec.checks``) and by ``ddc run`` (``ddc.engine.llm.providers``) alike, so
a spec without ``model_configs`` may use exactly the aliases a run resolves: this file's, then the
built-in ones it lacks.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from ddc.errors import SpecError
from ddc.spec.base import SpecModel
from ddc.spec.inference import ModelConfig

#: The built-in default aliases (data-designer 0.9.6/0.9.7); ``ddc.engine.llm.providers`` holds their models.
BUILTIN_MODEL_ALIASES: tuple[str, ...] = tuple(
    f"{provider}-{role}"
    for provider in ("nvidia", "openai", "openrouter")
    for role in ("text", "reasoning", "vision", "embedding")
)


def official_home() -> Path:
    """``$DATA_DESIGNER_HOME``, default ``~/.data-designer``: the official CLI's settings folder."""
    value = os.environ.get("DATA_DESIGNER_HOME")
    return Path(value).expanduser() if value else Path.home() / ".data-designer"


def official_models_file() -> Path:
    return official_home() / "model_configs.yaml"


class _ModelsFile(SpecModel):
    model_configs: list[ModelConfig] = Field(default_factory=list)


def read_official_models_file(path: Path) -> list[tuple[ModelConfig, str]]:
    """``model_configs`` of the official CLI's models file (other keys ignored); errors name file:line:col."""
    from pydantic import ValidationError

    from ddc.spec.load import translate_validation_error
    from ddc.spec.source import read_source

    if not path.is_file():
        return []
    source = read_source(path.read_bytes(), str(path), path)
    data = {"model_configs": source.data.get("model_configs") or []} if isinstance(source.data, dict) else {}
    try:
        parsed = _ModelsFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(translate_validation_error(exc, data, source.map)) from None
    return [(config, str(path)) for config in parsed.model_configs]


def default_model_aliases() -> list[str]:
    """The aliases a spec without ``model_configs`` may use: the official models file's, then the built-ins."""
    aliases = [config.alias for config, _ in read_official_models_file(official_models_file())]
    return aliases + [alias for alias in BUILTIN_MODEL_ALIASES if alias not in aliases]
