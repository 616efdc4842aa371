"""``ConfigBuilder``: the Python face of a spec, with the official builder's method names.

Modules compiled with ``ddc build --target ddc`` return one, and Python users can build specs the
same way they would with ``data_designer.config.DataDesignerConfigBuilder``; ``build()`` returns a
validated ``Spec`` (the official config plus ddc's extensions).
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ddc.errors import Diagnostic, SpecError
from ddc.spec.base import SpecModel
from ddc.spec.document import CONFIG_FIELDS, Spec
from ddc.spec.python_config import model_data, yaml_line
from ddc.spec.source import SourceMap


def _plain(value: Any) -> Any:
    """Plain data of a config value. ddc's own models give what was set (a written spec stays as short
    as its author made it); any other model, the official package's, gives every field, as the official
    builder does -- its discriminators (``column_type``, ``seed_type``) are defaults nobody sets."""
    if isinstance(value, SpecModel):
        return _with_discriminators(value, model_data(value, exclude_unset=True))
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return model_data(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _with_discriminators(model: Any, data: Any) -> Any:
    """``data`` (``model`` dumped with ``exclude_unset``) with every one-value ``Literal`` field put
    back, in field order: ``EmbeddingParams()`` must not become ``{}``, which reads as chat-completion."""
    if isinstance(model, BaseModel) and isinstance(data, dict):
        out: dict[str, Any] = {}
        for name, field in type(model).model_fields.items():
            if name in data:
                out[name] = _with_discriminators(getattr(model, name), data[name])
            elif get_origin(field.annotation) is Literal and len(get_args(field.annotation)) == 1:
                out[name] = getattr(model, name)
        return out | {k: v for k, v in data.items() if k not in out}
    if isinstance(model, (list, tuple)) and isinstance(data, list) and len(model) == len(data):
        return [_with_discriminators(m, d) for m, d in zip(model, data, strict=True)]
    if isinstance(model, dict) and isinstance(data, dict) and len(model) == len(data):
        return {k: _with_discriminators(m, d) for m, (k, d) in zip(model.values(), data.items(), strict=True)}
    return data


class ConfigBuilder:
    """Collects columns, models, seeds, constraints and processors; ``build()`` validates them."""

    def __init__(
        self,
        model_configs: list[Any] | None = None,
        tool_configs: list[Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        num_records: int | None = None,
        random_seed: int | None = None,
        providers: list[Any] | None = None,
        mcp_providers: list[Any] | None = None,
        run: dict[str, Any] | None = None,
        submit: dict[str, Any] | None = None,
        base_dir: str | Path | None = None,
    ) -> None:
        self._models: list[dict[str, Any]] = [_plain(m) for m in model_configs or []]
        self._tools: list[dict[str, Any]] = [_plain(t) for t in tool_configs or []]
        #: lists given explicitly, kept even when empty (``tool_configs: []`` stays a list)
        self._explicit: set[str] = {"tool_configs"} if tool_configs is not None else set()
        self._columns: dict[str, dict[str, Any]] = {}
        self._constraints: list[dict[str, Any]] = []
        self._processors: list[dict[str, Any]] = []
        self._profilers: list[dict[str, Any]] = []
        self._seed: dict[str, Any] | None = None
        self._extensions: dict[str, Any] = {
            "name": name,
            "description": description,
            "num_records": num_records,
            "random_seed": random_seed,
            "providers": [_plain(p) for p in providers] if providers else None,
            "mcp_providers": [_plain(p) for p in mcp_providers] if mcp_providers else None,
            "run": _plain(run) or None,
            "submit": _plain(submit) or None,
        }
        self.base_dir = Path(base_dir) if base_dir is not None else None

    # --- the official builder's methods ------------------------------------------------------------

    def add_model_config(self, model_config: Any) -> ConfigBuilder:
        data = _plain(model_config)
        if any(m.get("alias") == data.get("alias") for m in self._models):
            raise SpecError(f"model alias {data.get('alias')!r} already exists; delete it first")
        self._models.append(data)
        return self

    def delete_model_config(self, alias: str) -> ConfigBuilder:
        self._models = [m for m in self._models if m.get("alias") != alias]
        return self

    def add_tool_config(self, tool_config: Any) -> ConfigBuilder:
        self._tools.append(_plain(tool_config))
        return self

    def add_column(
        self, column_config: Any = None, *, name: str | None = None, column_type: str | None = None, **kwargs: Any
    ) -> ConfigBuilder:
        """Add or replace a column; a replaced column keeps its first position, as in the official builder."""
        if column_config is None:
            if name is None or column_type is None:
                raise SpecError("add_column needs a column config, or name= and column_type= with its fields")
            data = {"name": name, "column_type": column_type, **_plain(kwargs)}
        else:
            data = dict(_plain(column_config))
        self._columns[str(data.get("name"))] = data
        return self

    def delete_column(self, name: str) -> ConfigBuilder:
        self._columns.pop(name, None)
        return self

    def add_constraint(
        self, constraint: Any = None, *, constraint_type: str | None = None, **kwargs: Any
    ) -> ConfigBuilder:
        data = dict(_plain(constraint)) if constraint is not None else _plain(kwargs)
        if constraint is None and constraint_type is not None:
            data["constraint_type"] = constraint_type
        self._constraints.append(data)
        return self

    def add_processor(
        self, processor_config: Any = None, *, processor_type: str | None = None, **kwargs: Any
    ) -> ConfigBuilder:
        """Add or replace (by name) a processor."""
        data = dict(_plain(processor_config)) if processor_config is not None else _plain(kwargs)
        if processor_config is None and processor_type is not None:
            data["processor_type"] = processor_type
        self._processors = [p for p in self._processors if p.get("name") != data.get("name")]
        self._processors.append(data)
        return self

    def add_profiler(self, profiler_config: Any) -> ConfigBuilder:
        self._profilers.append(_plain(profiler_config))
        return self

    def with_seed_dataset(
        self, source: Any, *, sampling_strategy: str | None = None, selection_strategy: Any = None
    ) -> ConfigBuilder:
        seed: dict[str, Any] = {"source": _plain(source)}
        if sampling_strategy is not None:
            seed["sampling_strategy"] = getattr(sampling_strategy, "value", sampling_strategy)
        if selection_strategy is not None:
            seed["selection_strategy"] = _plain(selection_strategy)
        self._seed = seed
        return self

    def get_column_config(self, name: str) -> dict[str, Any]:
        return dict(self._columns[name])

    def get_column_configs(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._columns.values()]

    @property
    def allowed_references(self) -> list[str]:
        return list(self._columns)

    # --- building ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (only what was set), bare form with extensions first."""
        data: dict[str, Any] = {k: v for k, v in self._extensions.items() if v is not None}
        data["columns"] = list(self._columns.values())
        for key, value in (
            ("model_configs", self._models),
            ("tool_configs", self._tools),
            ("seed_config", self._seed),
            ("constraints", self._constraints),
            ("profilers", self._profilers),
            ("processors", self._processors),
        ):
            if value or key in self._explicit:
                data[key] = value
        return data

    def build(self) -> Spec:
        """A validated Spec; raises SpecError naming the JSON path of every problem."""
        data = self.to_dict()
        try:
            return Spec.model_validate(data)
        except ValidationError as exc:
            from ddc.spec.load import translate_validation_error

            diags = translate_validation_error(exc, data, SourceMap("<builder>"))
            raise SpecError([Diagnostic(d.message, None, d.path, d.hint, d.severity, d.code) for d in diags]) from None

    def drop_column_names(self) -> list[str]:
        names = list(self._columns)
        out = [n for n, c in self._columns.items() if c.get("drop")]
        for proc in self._processors:
            if proc.get("processor_type") == "drop_columns":
                for pattern in proc.get("column_names", []):
                    out += fnmatch.filter(names, pattern) if "*" in pattern else [pattern]
        return list(dict.fromkeys(out))

    @classmethod
    def from_config(cls, config: dict[str, Any] | str | Path | Spec) -> ConfigBuilder:
        """From a spec file, YAML/JSON text, a dict (bare or wrapped form) or a Spec."""
        from ddc.spec.load import load_spec

        base_dir: Path | None = None
        if isinstance(config, Spec):
            spec = config
        elif isinstance(config, dict):
            spec = load_spec(yaml_line(config), name="<dict>", check=False).spec  # not JSON: 1e-05, int keys
        else:
            loaded = load_spec(config, check=False)
            spec, base_dir = loaded.spec, loaded.base_dir
        builder = cls(base_dir=base_dir)
        data = model_data(spec, exclude_unset=True)
        builder._extensions.update({k: data.get(k) for k in builder._extensions})
        builder._models = list(data.get("model_configs") or [])
        builder._tools = list(data.get("tool_configs") or [])
        builder._explicit = {k for k in ("tool_configs", "constraints", "profilers", "processors") if data.get(k) == []}
        for column in data.get("columns", []):
            builder.add_column(column)
        builder._constraints = list(data.get("constraints") or [])
        builder._processors = list(data.get("processors") or [])
        builder._profilers = list(data.get("profilers") or [])
        builder._seed = data.get("seed_config")
        return builder

    def write_config(self, path: str | Path) -> None:
        """Write the spec as YAML (.yaml/.yml) or JSON (.json), atomically."""
        from ddc.fsutil import write_atomic

        path = Path(path)
        data = model_data(self.build(), exclude_unset=True)
        ordered = {k: data[k] for k in data if k not in CONFIG_FIELDS} | {
            k: data[k] for k in CONFIG_FIELDS if k in data
        }
        if path.suffix in {".yaml", ".yml"}:
            import yaml

            text = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
        elif path.suffix == ".json":
            text = json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"  # int keys become strings
        else:
            raise SpecError(f"{path}: write_config writes .yaml, .yml or .json files")
        write_atomic(path, text)
