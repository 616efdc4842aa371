"""ddc: YAML-first compiler and local runner for NVIDIA NeMo Data Designer configurations.

The public API is flat and imported lazily (``import ddc`` stays cheap):

    load, load_spec, plan_spec, emit_module, build, validate, run, preview, submit, ConfigBuilder,
    DdcError, SpecError, CompileError, RunError, SubmitError
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "load_spec": "ddc.spec.load",
    "LoadedSpec": "ddc.spec.load",
    "Spec": "ddc.spec.document",
    "plan_spec": "ddc.compile.plan",
    "Plan": "ddc.compile.plan",
    "emit_module": "ddc.compile.emit",
    "build": "ddc.api",
    "validate": "ddc.api",
    "submit": "ddc.api",
    "run": "ddc.api",
    "preview": "ddc.api",
    "load": "ddc.api",
    "ConfigBuilder": "ddc.builder",
    "DdcError": "ddc.errors",
    "SpecError": "ddc.errors",
    "CompileError": "ddc.errors",
    "RunError": "ddc.errors",
    "SubmitError": "ddc.errors",
    "ServiceError": "ddc.errors",
    "Diagnostic": "ddc.errors",
    "SourceSpan": "ddc.errors",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ddc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
