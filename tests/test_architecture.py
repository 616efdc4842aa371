"""Dependencies point one way, and start-up stays cheap.

    cli -> {api, migrate} -> {engine, submission} -> nemo -> compile -> spec/builder
        -> {errors, templating, fsutil} -> redaction

``api`` is the library face the CLI calls (validate, build, load, submit); ``engine`` and ``submission``
never import each other; ``nemo`` (the NeMo Services client) sits below both; ``templates`` (``ddc init``)
only reads the spec schema; nothing imports ``cli`` except ``python -m ddc``. Imports inside functions and
under ``TYPE_CHECKING`` count too: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ddc"
_BASE = {"root", "errors", "templating", "fsutil", "redaction"}
_CORE = _BASE | {"spec", "builder", "compile"}
ALLOWED: dict[str, set[str]] = {
    "root": set(),
    "redaction": {"redaction"},
    "errors": {"errors", "redaction"},
    "templating": {"errors", "redaction", "templating"},
    "fsutil": {"errors", "redaction", "fsutil"},
    "spec": _BASE | {"spec"},
    "builder": _BASE | {"spec", "builder"},
    "templates": _BASE | {"spec", "templates"},
    "compile": _BASE | {"spec", "compile"},
    "nemo": _CORE | {"nemo"},
    "engine": _CORE | {"nemo", "engine"},
    "submission": _CORE | {"nemo", "submission"},
    "migrate": _CORE | {"nemo", "engine", "submission", "migrate"},
    "report": _CORE | {"engine", "report"},
    "api": _CORE | {"nemo", "engine", "submission", "migrate", "report", "api"},
    "cli": _CORE | {"nemo", "engine", "submission", "migrate", "api", "templates", "report", "cli"},
    "launch": {"cli", "launch"},
    "__main__": {"launch"},
}
#: Documented exceptions (importer module -> imported module); keep this list short and explained.
EXCEPTIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return "root" if len(parts) == 1 else parts[1]


def _is_submodule(module: str) -> bool:
    rel = Path(*module.split("."))
    return (PACKAGE.parent / rel).is_dir() or (PACKAGE.parent / rel).with_suffix(".py").is_file()


def _imports(source: str) -> list[tuple[int, str]]:
    """(line, imported ddc module) for every import in the source, at any depth."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "ddc"]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"line {node.lineno}: relative import (use absolute imports)"
            if node.module and node.module.split(".")[0] == "ddc":
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    out.append((node.lineno, candidate if _is_submodule(candidate) else node.module))
    return out


MODULES = sorted(PACKAGE.rglob("*.py"))


def _violations(importer: str, source: str) -> list[str]:
    layer = _layer(importer)
    assert layer in ALLOWED, f"{importer}: new top-level module; give it a layer in ALLOWED"
    return [
        f"{importer}:{line}: {layer} must not import {target}"
        for line, target in _imports(source)
        if _layer(target) not in ALLOWED[layer] and (importer, target) not in EXCEPTIONS
    ]


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_imports_point_down_the_layers(path: Path) -> None:
    wrong = _violations(_module_name(path), path.read_text(encoding="utf-8"))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("ddc.spec.document", "from ddc.compile.plan import Plan"),
        ("ddc.engine.runner", "def f():\n    from ddc.submission import jobs"),
        ("ddc.submission.jobs", "import ddc.engine.runner"),
        ("ddc.nemo.client", "from ddc.submission.jobs import submit_spec"),
        ("ddc.compile.emit", "from ddc import cli"),
        ("ddc.errors", "from ddc.spec import load"),
    ],
)
def test_wrong_way_imports_are_reported(importer: str, source: str) -> None:
    assert _violations(importer, source)


def test_nothing_but_the_executables_entry_point_imports_the_cli() -> None:
    importers = {
        _module_name(p)
        for p in MODULES
        for _, target in _imports(p.read_text(encoding="utf-8"))
        if _layer(target) == "cli"
    } - {m for m in map(_module_name, MODULES) if _layer(m) == "cli"}
    assert importers == {"ddc.launch"}


def _loaded_modules(code: str, subprocess_env: dict[str, str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _modules_after_ddc(call: str, subprocess_env: dict[str, str]) -> set[str]:
    """Top-level packages a fresh process has imported after ``import ddc`` and ``call``."""
    code = f"import json, sys, ddc\n{call}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return _loaded_modules(code, subprocess_env)


HEAVY = ("pydantic", "duckdb", "numpy", "httpx", "jinja2", "pyarrow", "yaml", "faker", "scipy", "pandas", "polars")


def test_import_ddc_loads_no_heavy_library(subprocess_env: dict[str, str]) -> None:
    code = "import json, sys, ddc\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    assert _loaded_modules(code, subprocess_env).isdisjoint(HEAVY)


def test_help_loads_no_heavy_library(subprocess_env: dict[str, str]) -> None:
    code = (
        "import contextlib, io, json, sys\nfrom ddc.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = _loaded_modules(code, subprocess_env)
    assert loaded.isdisjoint(("duckdb", "numpy", "httpx", "pydantic", "pyarrow", "jinja2", "faker", "scipy"))
    assert "click" in loaded


def test_a_run_without_faker_or_scipy_columns_imports_neither(subprocess_env: dict[str, str]) -> None:
    """Faker and SciPy are default dependencies, paid for only by the columns that use them."""
    spec = PACKAGE.parent / "examples" / "people.ddc.yaml"
    loaded = _modules_after_ddc(f"ddc.preview({str(spec)!r}, 5)", subprocess_env)
    assert "duckdb" in loaded or "numpy" in loaded
    assert loaded.isdisjoint(("faker", "scipy"))


def test_a_run_without_templates_does_not_import_jinja2(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    """Jinja2 is paid for by specs with prompts, expressions or conditions, not by samplers and seeds."""
    spec = tmp_path / "plain.ddc.yaml"
    spec.write_text(
        "columns:\n"
        "  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
        "  - {name: id, column_type: sampler, sampler_type: uuid, params: {}}\n",
        encoding="utf-8",
    )
    loaded = _modules_after_ddc(f"ddc.preview({str(spec)!r}, 5)", subprocess_env)
    assert "pydantic" in loaded and "jinja2" not in loaded


def test_a_short_run_of_text_columns_does_not_import_duckdb(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    """Below HASH_TEXT_FROM_ROWS the statistics count text values instead of hashing them in DuckDB."""
    spec = tmp_path / "text.ddc.yaml"
    spec.write_text(
        "columns:\n"
        "  - {name: id, column_type: sampler, sampler_type: uuid, params: {}}\n"
        "  - {name: pet, column_type: sampler, sampler_type: category, params: {values: [cat, dog]}}\n",
        encoding="utf-8",
    )
    call = f"ddc.run({str(spec)!r}, num_records=2_000, output_dir={str(tmp_path / 'out')!r})"
    loaded = _modules_after_ddc(call, subprocess_env)
    assert "pyarrow" in loaded and "duckdb" not in loaded


def _pydantic_plugin_lookup(call: str, subprocess_env: dict[str, str]) -> list[str]:
    """What a fresh process that made ``call`` has of pydantic's plugin lookup: the loader module's origin
    ("stub" when ddc answered it) and the metadata modules only the real lookup imports."""
    code = (
        "import contextlib, io, json, sys\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        {call}\n    except SystemExit:\n        pass\n"
        "loader = sys.modules.get('pydantic.plugin._loader')\n"
        "origin = 'stub' if loader is not None and not hasattr(loader, '__file__') else 'pydantic'\n"
        "scan = sorted(m for m in sys.modules if m in ('importlib.metadata', 'email.message', 'zipfile'))\n"
        "print(json.dumps([origin, *scan]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_ddc_executable_skips_pydantic_plugin_discovery(subprocess_env: dict[str, str]) -> None:
    """The entry-point scan costs ~50 ms of every command that loads a spec; ddc's own models need no plugin."""
    spec = PACKAGE.parent / "examples" / "people.ddc.yaml"
    call = f"sys.argv = ['ddc', 'validate', {str(spec)!r}]; from ddc.cli import entry; entry()"
    assert _pydantic_plugin_lookup(call, subprocess_env) == ["stub"]


def test_a_library_caller_keeps_pydantic_plugins(subprocess_env: dict[str, str]) -> None:
    spec = PACKAGE.parent / "examples" / "people.ddc.yaml"
    lookup = _pydantic_plugin_lookup(f"import ddc; ddc.load({str(spec)!r})", subprocess_env)
    assert lookup[0] == "pydantic" and "importlib.metadata" in lookup


def test_only_templating_imports_jinja2() -> None:
    """One module owns the Jinja sandbox and translates its errors; everything else asks it."""
    importers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "jinja2" or n.startswith("jinja2.") for n in names):
                importers.append(_module_name(path))
    assert sorted(set(importers)) == ["ddc.templating"]
