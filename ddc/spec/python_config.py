"""Specs written in Python: a module exposing ``load_config_builder()``, or a builder/config object.

Accepted objects: ddc's ``ConfigBuilder``, the official ``DataDesignerConfigBuilder``,
``DataDesignerConfig`` or ``BuilderConfig``, and a plain config dict (bare or wrapped). Each becomes the
same plain data a YAML spec holds; diagnostics point at the module file, at the line where the column
(or model alias) is named, so ``module.py:12:5: columns[2] 'greeting'.prompt: ...`` reads like a
YAML error. The official package is only imported by the user's module, never by ddc.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import traceback
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from ddc.errors import Diagnostic, SpecError
from ddc.spec.source import PathKey, Source, SourceMap, read_source

#: How to get the official package, in every message about it.
OFFICIAL_FIX = "pip install data-designer-config, or pip install 'ddc[official]'"


@dataclass(frozen=True)
class PythonConfig:
    """A Python config as plain data, with the in-memory seed rows it carried (an official
    ``DataFrameSeedSource``'s DataFrame), if any."""

    data: dict[str, Any]
    seed_data: Any = None
    base_dir: Path | None = None


def is_config_object(value: Any) -> bool:
    """Whether ``value`` is a builder or config object this module converts (not a path or text)."""
    return isinstance(value, dict) or _kind(value) is not None


def _kind(value: Any) -> str | None:
    if hasattr(value, "to_dict") and hasattr(value, "base_dir") and hasattr(value, "add_column"):
        return "ddc-builder"
    if hasattr(value, "build") and hasattr(value, "add_column"):
        return "official-builder"
    if hasattr(value, "model_dump") and hasattr(value, "data_designer"):
        return "builder-config"
    if hasattr(value, "model_dump") and hasattr(value, "columns"):
        return "config"
    return None


def config_of(value: Any, where: str) -> PythonConfig:
    """Plain config data of a builder, config object or dict; SpecError naming ``where`` otherwise."""
    kind = _kind(value)
    if isinstance(value, dict):
        return PythonConfig(plain_data(value))
    if kind == "ddc-builder":
        return PythonConfig(value.to_dict(), getattr(value, "seed_data", None), value.base_dir)
    if kind == "official-builder":
        try:
            config = value.build()
        except Exception as exc:  # the official builder's own errors: user code, reported in one line
            raise SpecError(f"{where}: the official builder's build() failed: {_one_line(exc)}") from exc
        return _official(config, where)
    if kind == "builder-config":
        return _official(value.data_designer, where)
    if kind == "config":
        return _official(value, where)
    raise SpecError(
        f"{where}: expected a ConfigBuilder, DataDesignerConfigBuilder, DataDesignerConfig or a config dict, "
        f"got {type(value).__name__}",
        hint="return the builder (or config) from load_config_builder()",
    )


def _official(config: Any, where: str) -> PythonConfig:
    data = model_data(config)
    seed = getattr(getattr(config, "seed_config", None), "source", None)
    frame = getattr(seed, "df", None) if getattr(seed, "seed_type", None) == "df" else None
    return PythonConfig({"data_designer": data}, frame)


def model_data(model: Any, *, exclude_unset: bool = False) -> Any:
    """``model_dump(mode="json")`` with the int, float and bool mapping keys the model holds: JSON mode
    makes every key a string, and the official ``Score.options`` is keyed by score (``{1: "bad"}``)."""
    data = model.model_dump(mode="json", exclude_unset=exclude_unset)
    return _with_keys_of(model.model_dump(exclude_unset=exclude_unset), data)


def _with_keys_of(python: Any, data: Any) -> Any:
    """``data`` with the keys of ``python``, the same dump in Python mode (same order, same sizes)."""
    if isinstance(data, dict) and isinstance(python, dict) and len(data) == len(python):
        return {
            (pk if type(pk) in (int, float, bool) else dk): _with_keys_of(pv, dv)
            for (pk, pv), (dk, dv) in zip(python.items(), data.items(), strict=True)
        }
    if isinstance(data, list) and isinstance(python, (list, tuple)) and len(data) == len(python):
        return [_with_keys_of(pv, dv) for pv, dv in zip(python, data, strict=True)]
    return data


def plain_data(value: Any) -> Any:
    """The data ``json.dumps(value, default=str)`` would write, but with int, float and bool mapping keys
    kept (YAML has them and the official models take them) and enums as their values."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, dict):
        return {_plain_key(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):  # subclasses (IntEnum, str enums) as the plain value, as JSON does
        if isinstance(value, kind):
            return kind(value) if kind is not str else str.__str__(value)
    return str(value)


def _plain_key(key: Any) -> Any:
    key = plain_data(key)
    return key if isinstance(key, (str, int, float, bool)) else str(key)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# --- modules --------------------------------------------------------------------------------------------


def load_module(path: Path) -> Any:
    """Import ``path`` and return what its ``load_config_builder()`` returns. Every failure is one line
    naming the module (and the line in it); a missing official package says how to install it."""
    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    module_name = f"_ddc_config_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: cannot import this file as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    # Registered while it runs, as the official loader does: dataclasses and pydantic models resolve
    # postponed annotations (``from __future__ import annotations``) through sys.modules[__module__].
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        factory = getattr(module, "load_config_builder", None)
        if not callable(factory):
            raise SpecError(f"{path}: the module does not define load_config_builder()", hint="add it")
        return _call_factory(factory, path)
    except SyntaxError as exc:
        raise SpecError(f"{path}:{exc.lineno}:{exc.offset}: Python syntax error: {exc.msg}") from exc
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing.split(".")[0] == "data_designer":
            raise SpecError(
                f"{_line_of(path, exc)}: this module needs the official data-designer-config package",
                hint=OFFICIAL_FIX,
            ) from exc
        raise SpecError(
            f"{_line_of(path, exc)}: cannot import: {_one_line(exc)}", hint=f"pip install {missing or 'it'}"
        ) from exc
    except SpecError:
        raise
    except SystemExit as exc:  # a script's sys.exit() while ddc imports it: its exit code is not ddc's
        raise SpecError(
            f"{_line_of(path, exc)}: the module called sys.exit({exc.code!r}) while it was loaded",
            hint="keep script code under `if __name__ == '__main__':`",
        ) from exc
    except Exception as exc:  # the user's module raised: one line naming where, never a traceback
        where = _line_of(path, exc)
        raise SpecError(f"{where}: load_config_builder() raised {type(exc).__name__}: {_one_line(exc)}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
        sys.modules.pop(module_name, None)


@dataclass(frozen=True)
class _ScriptParams:
    """Stands in for the official ``DataDesignerScriptParams`` when the module did not import it: the
    same one attribute, ``argv``, empty because ddc passes no script arguments."""

    argv: tuple[str, ...] = ()


def _call_factory(factory: Any, path: Path) -> Any:
    """Call ``load_config_builder()`` as the official CLI does: with no arguments, or with default
    script params when it takes one parameter (the 0.9.7 signature ``(params: DataDesignerScriptParams)``)."""
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable without a signature: call it bare
        return factory()
    if not parameters:
        return factory()
    [first, *rest] = parameters
    if rest or first.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        raise SpecError(
            f"{path}: load_config_builder() takes no parameters or one (the script params)",
            hint="def load_config_builder(params: DataDesignerScriptParams)",
        )
    # The official class when the user's module imported it (ddc never imports the official package).
    official = getattr(sys.modules.get("data_designer.config.script_params"), "DataDesignerScriptParams", None)
    params = official() if official is not None else _ScriptParams()
    if first.kind == inspect.Parameter.KEYWORD_ONLY:
        return factory(**{first.name: params})
    return factory(params)


def _line_of(path: Path, exc: BaseException) -> str:
    """``path:line`` of the deepest traceback frame inside the module, else ``path``."""
    resolved = str(path.resolve())
    line = 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and Path(frame.filename).resolve() == Path(resolved):
            line = frame.lineno or 0
    return f"{path}:{line}" if line else str(path)


# --- positions ----------------------------------------------------------------------------------------


def python_source(config: PythonConfig, name: str, module: Path | None) -> Source:
    """The config as a ``Source``; with ``module``, positions point into the module's text where each
    column, model alias, tool alias or processor is named."""
    text = yaml_line(config.data)
    base = (config.base_dir / "builder.json") if config.base_dir else None
    path = base if base is not None else (module.resolve() if module is not None else None)
    src = read_source(text, name, path)
    if module is None:
        return src
    smap = _module_map(config.data, module, name)
    return Source(src.data, smap, name, path, src.sha256, src.text)


_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LINE_BREAK = re.compile("[\r\n\x85\u2028\u2029]")


class _OneLineDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Safe dumper whose strings with line breaks are double-quoted, so the break is written escaped."""


_OneLineDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if _LINE_BREAK.search(value) else None
    ),
)


def yaml_line(data: Any) -> str:
    """Python data as one line of flow YAML, read back as the same data: never via JSON text, whose
    ``1e-05`` YAML reads as a string and whose keys are all strings. YAML writes floats as ``1.0e-05``,
    keeps int keys and quotes or escapes what it would misread; positions stay on line 1 as before."""
    return yaml.dump(
        plain_data(data),
        Dumper=_OneLineDumper,
        default_flow_style=True,
        allow_unicode=True,
        sort_keys=False,
        width=2**31 - 1,  # no folding: libyaml takes a C int
    )


_NAMED = {"columns": "name", "model_configs": "alias", "tool_configs": "tool_alias", "processors": "name"}


def _module_map(data: dict[str, Any], module: Path, name: str) -> SourceMap:
    """Every path under a named item maps to the first line of the module naming it (as a string
    literal); everything else to line 1."""
    try:
        lines = module.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    smap = SourceMap(name)
    wrapped = "data_designer" in data and isinstance(data["data_designer"], dict)
    inner = data["data_designer"] if wrapped else data
    prefix: PathKey = ("data_designer",) if wrapped else ()
    for section, key in _NAMED.items():
        for i, item in enumerate(inner.get(section) or ()):
            label = item.get(key) if isinstance(item, dict) else None
            position = _find_literal(lines, label) if isinstance(label, str) else None
            if position is None:
                continue
            for path in _paths(item, (*prefix, section, i)):
                smap.values[path] = position
                smap.keys[path] = position
    return smap


def _paths(value: Any, prefix: PathKey) -> list[PathKey]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _find_literal(lines: list[str], label: str) -> tuple[int, int] | None:
    for quote in ('"', "'"):
        needle = f"{quote}{label}{quote}"
        for number, line in enumerate(lines, 1):
            col = line.find(needle)
            if col >= 0:
                return number, col + 1
    return None


def name_columns(diagnostics: list[Diagnostic], data: dict[str, Any]) -> list[Diagnostic]:
    """``columns[2].prompt`` -> ``columns[2] 'greeting'.prompt``: a module has no YAML line to look at."""
    inner = data.get("data_designer", data) if isinstance(data.get("data_designer"), dict) else data
    names = [c.get("name") if isinstance(c, dict) else None for c in inner.get("columns") or ()]
    out = []
    for d in diagnostics:
        m = re.match(r"columns\[(\d+)\]", d.path)
        if m and int(m.group(1)) < len(names) and names[int(m.group(1))]:
            d = replace(d, path=f"{m.group(0)} {names[int(m.group(1))]!r}{d.path[m.end() :]}")
        out.append(d)
    return out
