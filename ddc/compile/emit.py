"""Plan -> Python module text exposing ``load_config_builder()``.

A pure function of the plan: no clock, no environment, no I/O. Two targets:

* ``ddc``: needs only ddc; returns a ``ddc.ConfigBuilder`` carrying the extensions too, so
  ``ddc run module.py`` and ``ddc submit module.py`` behave exactly like the spec.
* ``data-designer``: returns the official ``DataDesignerConfigBuilder`` (runs under
  ``data-designer validate|create`` and the NeMo platform CLI); a ddc ``query`` seed is
  materialised to Parquet with DuckDB (an official dependency) when the module is loaded.

User values reach the text only through ``ddc.compile.literals``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ddc import __version__
from ddc.compile.canonical import fingerprint
from ddc.compile.literals import INDENT, LINE_LENGTH, literal, string_literal, text_width
from ddc.compile.plan import Plan
from ddc.errors import CompileError

Target = Literal["ddc", "data-designer"]
TARGETS: tuple[str, ...] = ("ddc", "data-designer")

_DD_SEED_CLASSES = {
    "local": "LocalFileSeedSource",
    "hf": "HuggingFaceSeedSource",
    "directory": "DirectorySeedSource",
    "file_contents": "FileContentsSeedSource",
    "agent_rollout": "AgentRolloutSeedSource",
}


_COLUMN_KEYS_FIRST = ("name", "column_type", "sampler_type", "validator_type")


class _Writer:
    """Lines at an indent level; the output is already formatted."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str = "") -> None:
        self.lines.append(f"{INDENT * self.level}{text}" if text else "")

    def block(self, text: str) -> None:
        self.lines.extend(text.split("\n"))

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


@dataclass(frozen=True)
class EmitOptions:
    target: Target = "ddc"
    #: The spec as it should be named in the header (a relative path keeps the output machine-independent).
    source_label: str = "spec.yaml"
    #: Path from the module's directory to the spec's directory (relative paths in the spec resolve there).
    spec_dir_from_module: str = "."
    #: Seed path as written -> the path from the spec's directory to where validate and run find it, for the
    #: data-designer target (``seed_paths``); a path not listed is written as it is.
    seed_paths: Mapping[str, str] = field(default_factory=dict)


def emit_module(plan: Plan, options: EmitOptions | None = None) -> str:
    """The Python source of the compiled module."""
    options = options or EmitOptions()
    if options.target not in TARGETS:
        raise CompileError(f"unknown target {options.target!r}; use one of {', '.join(TARGETS)}")
    spec = plan.spec
    w = _Writer()
    _header(w, plan, options)
    if options.target == "ddc":
        w.line("from pathlib import Path")
        w.line()
        w.line("from ddc import ConfigBuilder")
    else:
        w.line("from pathlib import Path")
        w.line()
        w.line("import data_designer.config as dd")
    w.line()
    _constants(w, plan, options)
    if options.target == "data-designer" and _seed_type(plan) == "query":
        _query_seed_helper(w)
    if options.target == "data-designer" and not spec.model_configs:
        _default_models_helper(w)
    w.line()
    w.line()
    returns = "ConfigBuilder" if options.target == "ddc" else "dd.DataDesignerConfigBuilder"
    w.line(f"def load_config_builder() -> {returns}:")
    w.level = 1
    w.line('"""The configured builder; call build() for the validated config."""')
    if options.target == "ddc":
        w.line("builder = ConfigBuilder(")
        w.level = 2
        for key in ("name", "description", "num_records", "random_seed"):
            w.line(f"{key}={key.upper()},")
        w.line("providers=PROVIDERS,")
        if spec.mcp_providers:
            w.line("mcp_providers=MCP_PROVIDERS,")
        w.line("run=RUN,")
        w.line("submit=SUBMIT,")
        w.line("base_dir=SPEC_DIR,")
        if spec.tool_configs == []:
            w.line("tool_configs=[],")
        w.level = 1
        w.line(")")
        for model in spec.model_configs or ():
            w.block(literal(_dump(model), 1, "builder.add_model_config(", ")"))
    else:
        if spec.model_configs:
            w.line("builder = dd.DataDesignerConfigBuilder(")
            w.level = 2
            w.line("model_configs=[")
            for model in spec.model_configs:
                w.block(literal(_dump(model), 3, "dd.ModelConfig.model_validate(", "),"))
            w.line("],")
            w.level = 1
            w.line(")")
        else:
            w.line("builder = _default_models_builder()")
    for tool in spec.tool_configs or ():
        wrap = (
            "builder.add_tool_config("
            if options.target == "ddc"
            else "builder.add_tool_config(dd.ToolConfig.model_validate("
        )
        w.block(literal(_dump(tool), 1, wrap, ")" if options.target == "ddc" else "))"))
    if spec.seed_config is not None:
        _seed(w, plan, options)
    for column in spec.columns:
        _call(w, "builder.add_column", _dump(column), first=_COLUMN_KEYS_FIRST)
    for constraint in spec.constraints or ():
        data = _dump(constraint)
        data.setdefault("constraint_type", constraint.constraint_type)
        _call(w, "builder.add_constraint", data, first=("constraint_type",))
    for processor in spec.processors or ():
        _call(w, "builder.add_processor", _dump(processor), first=("processor_type", "name"))
    for profiler in spec.profilers or ():
        if options.target == "ddc":
            w.block(literal(_dump(profiler), 1, "builder.add_profiler(", ")"))
        else:
            w.block(
                literal(_dump(profiler), 1, "builder.add_profiler(dd.JudgeScoreProfilerConfig.model_validate(", "))")
            )
    w.line("return builder")
    return w.text()


def _dump(model: Any) -> dict[str, Any]:
    """The fields the user set (defaults are filled identically by either builder), as JSON data;
    weights as written (both builders normalise them: normalising twice can move a weight by an ulp)."""
    data = model.model_dump(mode="json", exclude_unset=True)
    _written_weights(model, data)
    params = data.get("params")
    if isinstance(params, dict) and params.get("sampler_type") == data.get("sampler_type"):
        params.pop("sampler_type")
    for cond in (data.get("conditional_params") or {}).values():
        if isinstance(cond, dict) and cond.get("sampler_type") == data.get("sampler_type"):
            cond.pop("sampler_type")
    vparams = data.get("validator_params")
    if isinstance(vparams, dict) and vparams.get("validator_type") == data.get("validator_type"):
        vparams.pop("validator_type")
    return data


def _written_weights(model: Any, data: Any) -> None:
    from pydantic import BaseModel

    if isinstance(model, BaseModel) and isinstance(data, dict):
        written = (model.__pydantic_private__ or {}).get("_written_weights")
        if written is not None and "weights" in data:
            data["weights"] = list(written)
        for key, value in data.items():
            _written_weights(getattr(model, key, None), value)
    elif isinstance(model, (list, tuple)) and isinstance(data, list):
        for item, value in zip(model, data, strict=False):
            _written_weights(item, value)
    elif isinstance(model, dict) and isinstance(data, dict):
        for key, value in data.items():
            _written_weights(model.get(key), value)


def _call(w: _Writer, function: str, kwargs: dict[str, Any], first: tuple[str, ...]) -> None:
    ordered = {k: kwargs[k] for k in first if k in kwargs} | {k: v for k, v in kwargs.items() if k not in first}
    one_line = f"{INDENT}{function}(" + ", ".join(f"{k}={literal(v)}" for k, v in ordered.items()) + ")"
    if text_width(one_line) <= LINE_LENGTH and "\n" not in one_line:
        w.line(one_line.strip())
        return
    w.line(f"{function}(")
    for key, value in ordered.items():
        if not key.isidentifier():
            raise CompileError(f"field name {key!r} cannot be a keyword argument")
        w.block(literal(value, 2, f"{key}=", ","))
    w.line(")")


def _seed_type(plan: Plan) -> str | None:
    seed = plan.spec.seed_config
    return None if seed is None else seed.source.seed_type


def _seed(w: _Writer, plan: Plan, options: EmitOptions) -> None:
    seed = plan.spec.seed_config
    assert seed is not None
    if seed.source.seed_type == "df":
        raise CompileError(
            "a DataFrame seed lives in memory and cannot be compiled into a module",
            hint="write it to Parquet and use seed_type: local",
        )
    source = _dump(seed.source)
    source["seed_type"] = seed.source.seed_type
    extra: dict[str, Any] = {}
    if "sampling_strategy" in seed.model_fields_set:
        extra["sampling_strategy"] = seed.sampling_strategy
    if seed.selection_strategy is not None:
        extra["selection_strategy"] = _dump(seed.selection_strategy)
    if options.target == "ddc":
        _call(w, "builder.with_seed_dataset", {"source": source, **extra}, first=("source",))
        return
    kind = seed.source.seed_type
    if kind == "nmp":
        raise CompileError(
            "fileset (nmp) seeds need the NeMo Data Designer plugin, which the data-designer target cannot import",
            hint="use --target ddc, or ddc submit",
        )
    if kind == "query":
        w.line("source = dd.LocalFileSeedSource(path=_materialise_query_seed())")
    elif isinstance(source.get("path"), str) and kind in _SPEC_RELATIVE_SEEDS:
        source["path"] = options.seed_paths.get(source["path"], source["path"])
        w.block(literal(source, 1, "seed_source = "))
        w.line('seed_source["path"] = str((SPEC_DIR / seed_source["path"]).resolve())  # against the spec, not the cwd')
        w.line(f"source = dd.{_DD_SEED_CLASSES[kind]}.model_validate(seed_source)")
    else:
        w.block(literal(source, 1, f"source = dd.{_DD_SEED_CLASSES[kind]}.model_validate(", ")"))
    w.line("builder.with_seed_dataset(")
    w.level = 2
    w.line("source,")
    if "sampling_strategy" in extra:
        w.line(f"sampling_strategy={string_literal(extra['sampling_strategy'])},")
    if "selection_strategy" in extra:
        cls = "IndexRange" if "start" in extra["selection_strategy"] else "PartitionBlock"
        w.block(literal(extra["selection_strategy"], 2, f"selection_strategy=dd.{cls}.model_validate(", "),"))
    w.level = 1
    w.line(")")


def _header(w: _Writer, plan: Plan, options: EmitOptions) -> None:
    label = options.source_label
    doc = [
        f"Data Designer config compiled by ddc {__version__} from {label}.",
        "",
        f"Source sha256: {plan.source_sha256}",
        f"Fingerprint: {fingerprint(plan.spec)}",
        f"Target: {options.target}",
        "",
        "Generated code: edit the spec and rebuild with",
        f"    ddc build {label} --target {options.target} -o <this file>",
    ]
    w.line('"""' + _safe_comment(doc[0]))
    for text in doc[1:]:
        w.line(_safe_comment(text))
    w.line('"""')
    w.line()
    w.line("from __future__ import annotations")
    w.line()


def _safe_comment(text: str) -> str:
    """Paths go into the docstring: keep them printable and unable to close it."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned.replace("\\", "/").replace('"' * 3, "'" * 3)


def _constants(w: _Writer, plan: Plan, options: EmitOptions) -> None:
    spec = plan.spec
    w.block(literal(spec.name, 0, "NAME = "))
    w.block(literal(spec.description, 0, "DESCRIPTION = "))
    w.block(literal(plan.num_records, 0, "NUM_RECORDS = "))
    w.block(literal(spec.random_seed, 0, "RANDOM_SEED = "))
    w.block(literal(plan.source_sha256, 0, "SOURCE_SHA256 = "))
    w.block(literal(fingerprint(spec), 0, "FINGERPRINT = "))
    spec_dir = PurePosixPath(options.spec_dir_from_module.replace(os.sep, "/"))
    _spec_dir(w, string_literal(str(spec_dir)))
    if options.target == "ddc":
        w.line("# Local providers for `ddc run`; api_key names an environment variable, never a key.")
        w.block(literal([_dump(p) for p in spec.providers or ()], 0, "PROVIDERS = "))
        if spec.mcp_providers:
            w.line("# MCP servers for `ddc run` (tool_configs); api_key names an environment variable.")
            w.block(literal([_dump(p) for p in spec.mcp_providers], 0, "MCP_PROVIDERS = "))
        w.block(literal(_dump(spec.run) if spec.run else {}, 0, "RUN = "))
        w.block(literal(_dump(spec.submit) if spec.submit else {}, 0, "SUBMIT = "))
    elif _seed_type(plan) == "query":
        source: Any = spec.seed_config.source  # type: ignore[union-attr]
        tables = {name: options.seed_paths.get(path, path) for name, path in source.tables.items()}
        w.block(literal(tables, 0, "SEED_TABLES = "))
        w.block(literal(source.query, 0, "SEED_QUERY = "))


def _spec_dir(w: _Writer, path: str) -> None:
    """``SPEC_DIR = Path(...) / "rel"``, split the way ruff splits a long binary expression."""
    base = "Path(__file__).resolve().parent"
    if text_width(f"SPEC_DIR = {base} / {path}") <= LINE_LENGTH:
        w.line(f"SPEC_DIR = {base} / {path}")
    elif text_width(f"{INDENT}{base} / {path}") <= LINE_LENGTH:
        w.block(f"SPEC_DIR = (\n{INDENT}{base} / {path}\n)")
    else:
        w.block(f"SPEC_DIR = (\n{INDENT}{base}\n{INDENT}/ {path}\n)")


#: Seed sources whose ``path`` is a local file or folder (resolved against the spec's directory).
_SPEC_RELATIVE_SEEDS = ("local", "directory", "file_contents", "agent_rollout")


def _default_models_helper(w: _Writer) -> None:
    w.line()
    w.line()
    w.block(
        "\n".join(
            [
                "def _default_models_builder() -> dd.DataDesignerConfigBuilder:",
                '    """The spec declares no model_configs: the official default aliases. With the engine installed',
                "    they come from ~/.data-designer/model_configs.yaml; the config-only package has none of its own,",
                '    so it gets the built-in defaults the official CLI writes there."""',
                "    from data_designer.config.errors import BuilderConfigurationError",
                "",
                "    try:",
                "        return dd.DataDesignerConfigBuilder()",
                "    except BuilderConfigurationError:",
                "        from data_designer.config import default_model_settings",
                "",
                "        defaults = default_model_settings.get_builtin_model_configs()",
                "        return dd.DataDesignerConfigBuilder(model_configs=defaults)",
            ]
        )
    )


def _query_seed_helper(w: _Writer) -> None:
    w.line()
    w.line()
    for text in (
        "def _materialise_query_seed() -> str:",
        '    """Run the ddc query seed with DuckDB; cache its Parquet result beside the spec, keyed by the',
        '    tables, the query and the size and mtime of every file read (an edited seed file is re-read)."""',
        "    import glob",
        "    import hashlib",
        "    import os",
        "",
        "    import duckdb",
        "",
        "    patterns = [str(SPEC_DIR / path) for path in SEED_TABLES.values()]",
        "    files = sorted(f for pattern in patterns for f in glob.glob(pattern))",
        "    stamps = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]",
        "    state = repr((SEED_TABLES, SEED_QUERY, stamps)).encode()",
        "    key = hashlib.sha256(state).hexdigest()[:16]",
        '    out = SPEC_DIR / ".ddc" / "seeds" / f"{key}.parquet"',
        "    if not out.exists():",
        "        out.parent.mkdir(parents=True, exist_ok=True)",
        "        con = duckdb.connect()",
        "        for table, path in SEED_TABLES.items():",
        "            # DuckDB cannot prepare a parameter inside CREATE VIEW: quote the path as a literal.",
        '            source = str(SPEC_DIR / path).replace("\'", "\'\'")',
        "            con.execute(",
        "                f'CREATE VIEW \"{table}\" AS SELECT * FROM '",
        "                f\"read_{_reader(path)}('{source}', union_by_name = true)\"",
        "            )",
        '        tmp = out.with_suffix(".tmp")',
        '        query = SEED_QUERY.strip().rstrip(";")',
        '        target = str(tmp).replace("\'", "\'\'")',
        "        con.execute(f\"COPY ({query}) TO '{target}' (FORMAT parquet)\")",
        "        tmp.replace(out)",
        "    return str(out)",
        "",
        "",
        "def _reader(path: str) -> str:",
        '    if path.lower().endswith(".parquet"):',
        '        return "parquet"',
        '    return "csv" if path.lower().endswith(".csv") else "json_auto"',
    ):
        w.line(text)


def seed_paths(plan: Plan) -> dict[str, str]:
    """The relative local and query seed paths that validate and run find in the current directory, not
    beside the spec (``resolve_seed_path``), each as a path from the spec's directory: the official reads
    a relative path against its own current directory, so the module names the file validate found, from
    any directory, and stays machine-independent."""
    from ddc.spec.seed_files import SeedFileError, resolve_seed_path
    from ddc.spec.seeds import LocalFileSeedSource, QuerySeedSource

    seed = plan.spec.seed_config
    if seed is None:
        return {}
    if isinstance(seed.source, LocalFileSeedSource):
        patterns = [seed.source.path]
    elif isinstance(seed.source, QuerySeedSource):
        patterns = list(seed.source.tables.values())
    else:
        return {}
    found: dict[str, str] = {}
    for pattern in patterns:
        if Path(pattern).is_absolute():
            continue
        try:
            path = resolve_seed_path(pattern, plan.base_dir)
        except SeedFileError:
            continue  # validate reported it; the module names it as written
        if path != str(plan.base_dir / pattern):
            try:
                found[pattern] = os.path.relpath(path, plan.base_dir.absolute()).replace(os.sep, "/")
            except ValueError:  # on another drive (Windows): only an absolute path reaches it
                found[pattern] = path
    return found


def module_paths(spec_path: Path | None, out_path: Path | None) -> tuple[str, str]:
    """(source label, spec dir relative to the module) for the header and SPEC_DIR, machine-independent."""
    if spec_path is None:
        return "<string>", "."
    spec_path = spec_path.resolve()
    out_dir = out_path.resolve().parent if out_path is not None else Path.cwd()
    label = os.path.relpath(spec_path, out_dir)
    spec_dir = os.path.relpath(spec_path.parent, out_dir)
    return label.replace(os.sep, "/"), spec_dir.replace(os.sep, "/")
