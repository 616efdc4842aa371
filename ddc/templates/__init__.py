"""Starter specs for ``ddc init``, shipped as package data.

Each template starts with the ``# yaml-language-server: $schema=...`` modeline. It points to the
schema by a path relative to the spec, never a URL: a relative path works offline, moves with the
project, and names the schema of the ddc that wrote the spec. ``init_spec`` uses the nearest
``schemas/ddc.schema.json`` in the spec's directory or an ancestor up to the project root (a ddc
checkout, or a project wired with ``ddc schema --vscode``), and writes one beside the spec when there
is none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ddc.errors import UsageError
from ddc.fsutil import write_atomic

TEMPLATES: tuple[str, ...] = ("samplers", "seed-join", "llm", "submit")
#: Files written beside the spec, per template (paths relative to the spec's directory).
DATA_FILES: dict[str, tuple[str, ...]] = {"seed-join": ("data/customers.csv", "data/orders.csv")}
SCHEMA_RELPATH = Path("schemas") / "ddc.schema.json"
SPEC_SUFFIX = ".ddc.yaml"
PROJECT_MARKERS = (".git", "pyproject.toml", ".vscode")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class InitResult:
    """What ``init_spec`` wrote."""

    spec: Path
    data_files: tuple[Path, ...]
    schema: Path
    schema_written: bool


def spec_target(name: str, directory: Path) -> tuple[Path, str]:
    """``people`` -> (``people.ddc.yaml``, ``people``); a path ending in .yaml/.yml is used as given."""
    path = directory / name
    if path.name.endswith((".yaml", ".yml")):
        stem = path.name.removesuffix(".yaml").removesuffix(".yml").removesuffix(".ddc")
    else:
        stem, path = path.name, path.with_name(path.name + SPEC_SUFFIX)
    if not _NAME.match(stem):
        raise UsageError(
            f"invalid name {stem!r}: use letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return path, stem


def render_template(template: str, *, name: str, schema_ref: str, file_name: str) -> str:
    """The text of a template with its name, schema reference and file name filled in."""
    if template not in TEMPLATES:
        raise UsageError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    text = resources.files(__package__).joinpath(f"{template}.ddc.yaml").read_text(encoding="utf-8")
    return text.replace("__SCHEMA__", schema_ref).replace("__NAME__", name).replace("__FILE__", file_name)


def init_spec(name: str = "my-dataset", *, template: str = "samplers", directory: Path | None = None,
              force: bool = False) -> InitResult:  # fmt: skip
    """Write a commented starter spec (and the data files and schema it needs); never overwrite without force."""
    base = directory if directory is not None else Path(".")
    spec_path, stem = spec_target(name, base)
    if template not in TEMPLATES:
        raise UsageError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    data_paths = [(rel, spec_path.parent / rel) for rel in DATA_FILES.get(template, ())]
    existing = [p for p in (spec_path, *(p for _, p in data_paths)) if p.exists()]
    if existing and not force:
        listed = ", ".join(str(p) for p in existing)
        raise UsageError(f"{listed} already exists; pass --force to overwrite")

    schema_path = find_schema(spec_path.parent)
    schema_written = False
    if schema_path is None:
        from ddc.spec.schema import write_schema

        schema_path = spec_path.parent / SCHEMA_RELPATH
        schema_written = write_schema(schema_path)
    schema_ref = Path(os.path.relpath(schema_path, spec_path.parent)).as_posix()

    text = render_template(template, name=stem, schema_ref=schema_ref, file_name=spec_path.name)
    write_atomic(spec_path, text)
    for rel, path in data_paths:
        write_atomic(path, resources.files(__package__).joinpath(rel).read_bytes())
    return InitResult(spec_path, tuple(p for _, p in data_paths), schema_path, schema_written)


def find_schema(directory: Path) -> Path | None:
    """The nearest ``schemas/ddc.schema.json`` in ``directory`` or an ancestor within the same project.

    The search stops at the project root (the first folder with ``.git``, ``pyproject.toml`` or
    ``.vscode``); outside any project only ``directory`` itself is searched, so a stray schema in a
    parent folder (``/tmp``, a home directory) is never picked up."""
    start = directory.resolve()
    chain = [start]
    for folder in (start, *start.parents):
        if folder != start:
            chain.append(folder)
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            break
    else:
        chain = [start]
    for folder in chain:
        candidate = folder / SCHEMA_RELPATH
        if candidate.is_file():
            return candidate
    return None
