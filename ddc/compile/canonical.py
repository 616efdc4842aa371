"""Canonical JSON of a spec, the official-shaped config, and the fingerprint.

* ``canonical_json(spec)``: the whole spec (extensions included), sorted keys, judge option keys as
  strings; ``Spec.model_validate_json(canonical_json(s))`` gives back an equal spec.
* ``dd_config(spec)``: exactly what the official ``DataDesignerConfig.model_dump(mode="json")`` gives
  (all fields, defaults filled in), with ddc-only seed sources replaced by their compiled form.
* ``fingerprint(spec)``: sha256 of the data-relevant part (what changes the rows).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ddc.spec.document import CONFIG_FIELDS, Spec

#: Values that change how a job runs but not what it generates (mirrors the official fingerprint).
_RUNTIME_ONLY_MODEL_KEYS = ("skip_health_check",)
_RUNTIME_ONLY_INFERENCE_KEYS = ("max_parallel_requests", "timeout")


def _normalise(value: Any) -> Any:
    """JSON-ready data with every mapping key a string (YAML allows int keys; JSON does not)."""
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def spec_data(spec: Spec) -> dict[str, Any]:
    """The spec as plain JSON data, every field present."""
    return _normalise(spec.model_dump(mode="json"))


def dumps(data: Any) -> str:
    """The one canonical serialisation: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(spec: Spec) -> str:
    return dumps(spec_data(spec))


def dd_config(spec: Spec, *, seed_source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The official ``DataDesignerConfig`` JSON for this spec.

    ``seed_source`` replaces the seed source (the query seed compiles to a materialised local file, or
    to an uploaded fileset when submitting)."""
    data = spec_data(spec)
    config = {key: data[key] for key in CONFIG_FIELDS}
    _mark_processor_drops(config)
    if config["seed_config"] is not None and seed_source is not None:
        config["seed_config"] = {**config["seed_config"], "source": seed_source}
    return config


def _mark_processor_drops(config: dict[str, Any]) -> None:
    """Columns a drop_columns processor names get ``drop: true``, as the official builder records them."""
    import fnmatch

    columns = config["columns"]
    names = [c["name"] for c in columns]
    dropped: set[str] = set()
    for proc in config.get("processors") or []:
        if proc["processor_type"] == "drop_columns":
            for pattern in proc["column_names"]:
                dropped.update(fnmatch.filter(names, pattern) if "*" in pattern else [pattern])
    for column in columns:
        if column["name"] in dropped:
            column["drop"] = True


def fingerprint(spec: Spec) -> str:
    """``sha256:<hex>`` of the data-relevant canonical config, plus the random seed."""
    config = dd_config(spec)
    config.pop("profilers", None)
    for model in config.get("model_configs") or []:
        for key in _RUNTIME_ONLY_MODEL_KEYS:
            model.pop(key, None)
        for key in _RUNTIME_ONLY_INFERENCE_KEYS:
            model.get("inference_parameters", {}).pop(key, None)
    if config.get("model_configs"):
        config["model_configs"] = sorted(config["model_configs"], key=lambda m: m["alias"])
    for tool in config.get("tool_configs") or []:
        tool.pop("timeout_sec", None)
    seed = (config.get("seed_config") or {}).get("source") or {}
    if seed.get("seed_type") == "hf":
        seed.pop("token", None)
        seed.pop("endpoint", None)
    for key in ("model_configs", "tool_configs", "constraints", "processors"):
        if config.get(key) == []:
            config[key] = None
    payload = {"config": config, "random_seed": spec.random_seed}
    return "sha256:" + hashlib.sha256(dumps(payload).encode("utf-8")).hexdigest()
