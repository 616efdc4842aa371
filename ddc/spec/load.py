"""Load a spec from a file or text: YAML with positions -> validated ``Spec`` -> semantic checks.

Accepts the bare form (``columns:`` at the root) and the official wrapped form written by
``write_config`` (``data_designer:`` plus ``library_version``). Every error names file:line:column.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from ddc.errors import Diagnostic, SpecError
from ddc.spec.document import CONFIG_FIELDS, Spec
from ddc.spec.source import PathKey, Source, SourceMap, format_path, read_source

#: Tags that name something real but not declarative; each gets its own explanation.
_NOT_DECLARATIVE = {
    ("column_type", "custom"): (
        "custom columns run a Python function, which ddc does not run (nor can YAML declare one)",
        "generate the value with an expression or LLM column, or run this config with the official library",
    ),
    ("validator_type", "local_callable"): (
        "local_callable validators run a Python function, which ddc does not run (nor can YAML declare one)",
        "use validator_type: code or remote",
    ),
    ("seed_type", "df"): (
        "DataFrame seeds live in memory and cannot be declared in YAML",
        "write the DataFrame to Parquet and use seed_type: local",
    ),
}


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from."""

    spec: Spec
    source: Source
    library_version: str | None = None
    #: in-memory seed rows (a pandas or polars DataFrame, a pyarrow Table) given from Python
    seed_data: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def base_dir(self) -> Path:
        """Directory relative paths in the spec resolve against."""
        return self.source.path.parent if self.source.path is not None else Path.cwd()

    @property
    def name(self) -> str:
        return self.source.name


def load_spec(source: str | Path, *, name: str | None = None, check: bool = True) -> LoadedSpec:
    """Load a spec file (``Path`` or path string ending in .yaml/.yml/.json) or YAML text."""
    if isinstance(source, Path) or (isinstance(source, str) and looks_like_path(source)):
        path = Path(source)
        src = read_source(read_spec_file(path), name or str(path), path.resolve())
    else:
        src = read_source(source, name or "<string>")
    loaded = validate_source(src)
    if check:
        from ddc.spec.checks import check_spec

        diagnostics = check_spec(loaded)
        errors = [d for d in diagnostics if d.severity == "error"]
        if errors:
            raise SpecError(diagnostics)
    return loaded


#: A spec larger than this is refused before it is read (no spec comes near; /dev/zero would never end).
MAX_SPEC_BYTES = 16 << 20


def read_spec_file(path: Path) -> bytes:
    """The bytes of a spec file: a regular file (not a FIFO or a device, which could block or never
    end) of at most MAX_SPEC_BYTES."""
    import stat

    try:
        info = path.stat()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SpecError(f"{path}: is a directory, not a spec file")
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"{path}: not a regular file", hint="a spec is a YAML or JSON file")
    if info.st_size > MAX_SPEC_BYTES:
        raise SpecError(
            f"{path}: {info.st_size:,} bytes is more than a spec may hold ({MAX_SPEC_BYTES:,})",
            hint="keep data in seed files, not in the spec",
        )
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_SPEC_BYTES:  # it grew since stat
        raise SpecError(f"{path}: more than {MAX_SPEC_BYTES:,} bytes, more than a spec may hold")
    return raw


def looks_like_path(text: str) -> bool:
    """A path when a file of that name exists (even with a newline or ': ' in its name), or when it is one
    line ending in .yaml/.yml/.json; YAML text otherwise. A spec's text (one-line JSON, say) is never
    tested as a path beyond what the OS accepts."""
    if len(text) <= 4096 and not text.lstrip().startswith(("{", "[")):
        try:
            if Path(text).exists():
                return True
        except (OSError, ValueError):  # too long for a file name, or a NUL byte: text
            return False
    return "\n" not in text and text.endswith((".yaml", ".yml", ".json"))


def validate_source(src: Source) -> LoadedSpec:
    """Validate parsed data against the Spec models, translating every error to a positioned Diagnostic."""
    data, smap, library_version = _unwrap(src)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(
            Diagnostic(
                f"a spec must be a mapping with a 'columns' key, but this document is {kind}",
                smap.span(()),
                code="not-a-mapping",
            )
        )
    if "columns" not in data:
        raise SpecError(
            Diagnostic("missing required key 'columns'", smap.span(()), hint="add a `columns:` list", code="missing")
        )
    not_finite = [
        Diagnostic(
            f"{value} is not a finite number",
            smap.span(path),
            format_path(path),
            hint="use a finite number (YAML reads .inf and .nan as infinity and not-a-number)",
            code="type",
        )
        for path, value in _non_finite(data, ())
    ]
    if not_finite:
        raise SpecError(not_finite)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        schema = translate_validation_error(exc, data, smap)
        raise SpecError(schema + _checks_beside_schema_errors(exc, data, src, smap)) from None
    return LoadedSpec(
        spec=spec, source=Source(data, smap, src.name, src.path, src.sha256, src.text), library_version=library_version
    )


def _checks_beside_schema_errors(
    exc: ValidationError, data: dict[str, Any], src: Source, smap: SourceMap
) -> list[Diagnostic]:
    """The reference and template findings of the rest of the spec, so one pass reports them with the
    schema errors. Only when every schema error lies inside a column: each such column is replaced by
    a stand-in of the same name (others may reference it) whose own findings are dropped."""
    broken: set[int] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        if len(loc) < 2 or loc[0] != "columns" or not isinstance(loc[1], int):
            return []
        broken.add(loc[1])
    columns = data.get("columns")
    if not isinstance(columns, list):
        return []
    patched = list(columns)
    for i in broken:
        name = columns[i].get("name") if isinstance(columns[i], dict) else None
        stand_in = name if isinstance(name, str) and name.strip() else f"__ddc_invalid_column_{i}"
        patched[i] = {"name": stand_in, "column_type": "sampler", "sampler_type": "uuid"}
    try:
        spec = Spec.model_validate({**data, "columns": patched})
    except ValidationError:
        return []
    from ddc.spec.checks import check_spec

    partial = LoadedSpec(spec=spec, source=Source(data, smap, src.name, src.path, src.sha256, src.text))
    stand_ins = {format_path(("columns", i)) for i in broken}
    return [
        d
        for d in check_spec(partial, describe=False)
        if d.severity == "error" and not any(d.path == p or d.path.startswith((p + ".", p + "[")) for p in stand_ins)
    ]


def _non_finite(data: Any, path: PathKey) -> Iterator[tuple[PathKey, float]]:
    """Every inf and nan in the document: no parameter means them, and canonical JSON cannot hold them."""
    if isinstance(data, float) and not math.isfinite(data):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _non_finite(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _non_finite(value, (*path, index))


def _unwrap(src: Source) -> tuple[Any, SourceMap, str | None]:
    data = src.data
    if isinstance(data, dict) and "data_designer" in data:
        inner = data["data_designer"]
        extensions = set(Spec.model_fields) - set(CONFIG_FIELDS)
        extra = sorted(str(k) for k in set(data) - {"data_designer", "library_version"} - extensions)
        if extra or not isinstance(inner, dict):
            diags = [
                Diagnostic(
                    f"unknown key {k!r} beside data_designer",
                    src.map.span((k,), key=True),
                    format_path((k,)),
                    code="unknown-key",
                )
                for k in extra
            ]
            if not isinstance(inner, dict):
                diags.append(
                    Diagnostic(
                        "data_designer must be a mapping",
                        src.map.span(("data_designer",)),
                        "data_designer",
                        code="type",
                    )
                )
            raise SpecError(diags)
        clash = sorted(set(inner) & set(data) - {"data_designer"})
        if clash:
            raise SpecError(
                Diagnostic(
                    f"{clash[0]!r} is given both inside and beside data_designer",
                    src.map.span((clash[0],), key=True),
                    clash[0],
                    code="duplicate-key",
                )
            )
        merged = {k: v for k, v in data.items() if k not in {"data_designer", "library_version"}}
        merged.update(inner)
        version = data.get("library_version")
        return merged, src.map.rebased(("data_designer",)), None if version is None else str(version)
    return data, src.map, None


# --- pydantic error translation -----------------------------------------------------------------------


def translate_validation_error(exc: ValidationError, data: Any, smap: SourceMap) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        diag = _translate_one(dict(err), data, smap)
        key = (diag.path, diag.message)
        if key not in seen:
            seen.add(key)
            diagnostics.append(diag)
    return _drop_union_noise(diagnostics)


def _drop_union_noise(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Where pydantic tried several union members, keep the errors at the deepest path only."""
    paths = [d.path for d in diagnostics]
    return [
        d
        for d in diagnostics
        if not any((p != d.path and p.startswith(d.path + ".")) or p.startswith(d.path + "[") for p in paths if d.path)
    ] or diagnostics


def _real_path(loc: tuple[Any, ...], data: Any, *, last_is_key: bool = True) -> PathKey:
    """Strip pydantic's union-tag segments from ``loc`` by walking the input data."""
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part.isdigit() and int(part) in node:
            out.append(int(part))
            node = node[int(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif last and last_is_key:
            out.append(part)
        # else: a union tag such as 'sampler', 'uniform' or 'function-after[...]'
    return tuple(out)


def _translate_one(err: dict[str, Any], data: Any, smap: SourceMap) -> Diagnostic:
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    path = _real_path(loc, data)
    text = format_path(path)
    value = err.get("input")

    if kind == "extra_forbidden":
        key = path[-1] if path else ""
        allowed = _allowed_keys(loc[:-1])
        hint = _did_you_mean(str(key), allowed)
        if not hint and allowed:
            hint = "allowed keys: " + ", ".join(sorted(allowed))
        return Diagnostic(f"unknown key {key!r}", smap.span(path, key=True), text, hint, code="unknown-key")

    if kind == "missing":
        field = path[-1] if path else ""
        parent = path[:-1]
        return Diagnostic(
            f"missing required key {field!r}",
            smap.span(parent),
            format_path(parent) or "(root)",
            hint=f"add `{field}:`",
            code="missing",
        )

    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        path = _real_path(loc, data, last_is_key=False)
        text = format_path(path)
        discriminator = str(ctx.get("discriminator", "")).strip("'")
        tag = str(ctx.get("tag", "")).strip("'")
        expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        if discriminator == "seed_type":  # DataFrame seeds come from Python only
            expected = [t for t in expected if t != "df"]
        if kind == "union_tag_not_found":
            return Diagnostic(
                f"missing {discriminator!r}",
                smap.span(path),
                text,
                hint="one of: " + ", ".join(expected) if expected else "",
                code="missing",
            )
        span = smap.span((*path, discriminator))
        field_path = format_path((*path, discriminator))
        if (discriminator, tag) in _NOT_DECLARATIVE:
            message, hint = _NOT_DECLARATIVE[(discriminator, tag)]
            return Diagnostic(message, span, field_path, hint, code="not-declarative")
        hint = _did_you_mean(tag, expected) or ("one of: " + ", ".join(expected))
        return Diagnostic(f"unknown {discriminator} {_describe(tag)}", span, field_path, hint, code="bad-enum")

    if kind == "literal_error":
        expected = _literal_options(str(ctx.get("expected", "")))
        hint = _did_you_mean(str(value), expected) or ("one of: " + ", ".join(expected))
        return Diagnostic(f"{_describe(value)} is not allowed", smap.span(path), text, hint, code="bad-enum")

    if kind == "value_error":
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        culprit = getattr(ctx.get("error"), "field", None)  # ddc.spec.base.FieldProblem
        if isinstance(culprit, str):  # at the field, when it is written in the file
            model = _real_path(loc, data, last_is_key=False)  # without a trailing union tag
            if (*model, culprit) in smap.values:
                path = (*model, culprit)
                text = format_path(path)
        return Diagnostic(message, smap.span(path), text, code="invalid")

    if kind.endswith("_type") or kind.endswith("_parsing") or kind in {"model_attributes_type", "dict_type"}:
        expected = _TYPE_NAMES.get(kind.removesuffix("_parsing").removesuffix("_type"), kind.split("_")[0])
        return Diagnostic(f"expected {expected}, got {_describe(value)}", smap.span(path), text, code="type")

    bounds = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most")}
    bounds |= {"greater_than": ("gt", "above"), "less_than": ("lt", "below")}
    if kind in bounds and bounds[kind][0] in ctx:
        limit = ctx[bounds[kind][0]]
        shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
        message = f"must be {bounds[kind][1]} {shown} (got {_describe(value)})"
        return Diagnostic(message, smap.span(path), text, code=kind)

    message = str(err.get("msg", "invalid value"))
    return Diagnostic(message[0].lower() + message[1:], smap.span(path), text, code=kind or "invalid")


_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "string": "a string",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "model_attributes": "a mapping",
    "literal": "one of the allowed values",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _literal_options(expected: str) -> list[str]:
    parts = expected.replace(" or ", ", ").split(",")
    return [p.strip().strip("'\"") for p in parts if p.strip()]


def _did_you_mean(word: str, options: list[str] | set[str]) -> str:
    if len(word) > 200:  # no option is that long, and matching a huge value costs time for nothing
        return ""
    match = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else ""


# --- walking the models to find which keys are allowed at a location ------------------------------------


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    annotation: Any = Spec
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _as_model(annotation)
    if model is None:
        return []
    if model is Spec:
        return list(Spec.model_fields)
    return list(model.model_fields)


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _direct_members(annotation: Any) -> list[Any]:
    """Members of a union one level deep, keeping each member's Annotated wrapper."""
    stripped = _strip(annotation)
    origin = typing.get_origin(stripped)
    if origin is Union or origin is types.UnionType:
        return [m for m in typing.get_args(stripped) if m is not type(None)]
    return [annotation]


def _literal_values(model: type[BaseModel]) -> set[Any]:
    values: set[Any] = set()
    for field in model.model_fields.values():
        ann = _strip(field.annotation)
        if typing.get_origin(ann) is typing.Literal:
            values.update(typing.get_args(ann))
    return values


def _step(annotation: Any, part: Any) -> Any:
    members = _direct_members(annotation)
    for member in members:
        stripped = _strip(member)
        model = _as_model(stripped)
        if model is not None:
            if isinstance(part, str) and part in model.model_fields:
                return model.model_fields[part].annotation
            continue
        origin = typing.get_origin(stripped)
        if origin is list and isinstance(part, int):
            return typing.get_args(stripped)[0]
        if origin is dict and _tag_of(members, part) is None:
            return typing.get_args(stripped)[1]
    return _tag_of(members, part) if isinstance(part, str) else None


def _tag_of(members: list[Any], tag: Any) -> Any:
    """The union member a pydantic loc tag names (a discriminator value or a Tag())."""
    for member in members:
        if typing.get_origin(member) is typing.Annotated and any(
            getattr(meta, "tag", None) == tag for meta in typing.get_args(member)[1:]
        ):
            return _strip(member)
        stripped = _strip(member)
        model = _as_model(stripped)
        if model is not None and tag in _literal_values(model):
            return model
        if model is None and len(_direct_members(stripped)) > 1:
            inner = [_as_model(m) for m in _direct_members(stripped)]
            if inner and all(m is not None and tag in _literal_values(m) for m in inner):
                return member
    return None


def dd_config_of(spec: Spec) -> dict[str, Any]:
    """The canonical-field subset of a spec as plain data (no ddc extensions)."""
    return {k: getattr(spec, k) for k in CONFIG_FIELDS}
