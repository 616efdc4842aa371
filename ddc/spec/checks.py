"""Semantic validation beyond the schema: names, references, templates, models, seeds.

Each check returns Diagnostics with the position of the offending value; all problems are reported at
once, in source order. Dependency cycles are found by ``compile.plan`` (which orders the columns).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Iterator
from typing import Any

from ddc.errors import Diagnostic, RunError, TemplateProblem
from ddc.spec.load import LoadedSpec
from ddc.spec.official_models import default_model_aliases
from ddc.spec.seed_files import SeedFileError, SeedQueryRefused, describe_seed, seed_relation
from ddc.spec.seeds import LocalFileSeedSource, QuerySeedSource
from ddc.spec.source import PathKey, format_path

_SINGLE_BRACE = re.compile(r"(?<!\{)\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}(?!\})")


class _Checker:
    def __init__(self, loaded: LoadedSpec, seed_columns: list[str] | None) -> None:
        self.loaded = loaded
        self.spec = loaded.spec
        self.smap = loaded.source.map
        self.out: list[Diagnostic] = []
        self.seed_columns = seed_columns
        self.columns = {c.name: c for c in self.spec.columns}
        self.side_effects: dict[str, str] = {}
        for col in self.spec.columns:
            for suffix, on in (
                ("__trace", getattr(col, "with_trace", "none") != "none"),
                ("__reasoning_content", getattr(col, "extract_reasoning_content", False)),
            ):
                if on:
                    self.side_effects[col.name + suffix] = col.name

    def error(self, path: PathKey, message: str, hint: str = "", code: str = "invalid", *, key: bool = False) -> None:
        self.out.append(Diagnostic(message, self.smap.span(path, key=key), format_path(path), hint, "error", code))

    def warn(self, path: PathKey, message: str, hint: str = "", code: str = "warning") -> None:
        self.out.append(Diagnostic(message, self.smap.span(path), format_path(path), hint, "warning", code))

    @property
    def known_names(self) -> set[str]:
        return set(self.columns) | set(self.side_effects) | set(self.seed_columns or ())

    def suggest(self, name: str, among: Collection[str] | None = None) -> str:
        """The nearest of ``among`` (every known column by default), else a few of them."""
        import difflib

        names = sorted(self.known_names if among is None else among)
        match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if match:
            return f"did you mean {match[0]!r}?"
        return "known columns: " + ", ".join(names[:12]) if names else ""

    def references(self, path: PathKey, refs: set[str], what: str) -> None:
        unknown = sorted(r for r in refs if r not in self.known_names)
        if not unknown:
            return
        if self.seed_columns is None and self.spec.seed_config is not None:
            return  # columns of a remote seed are unknown until it is read
        for name in unknown:
            self.error(path, f"{what} references unknown column {name!r}", self.suggest(name), "unknown-reference")

    def template(self, path: PathKey, text: str, what: str) -> set[str] | None:
        from ddc.templating import size_problem, template_references  # jinja2 only for specs with templates

        try:
            refs = template_references(text)
        except TemplateProblem as exc:
            where = f" (template line {exc.lineno})" if exc.lineno and "\n" in text else ""
            self.error(path, f"{exc}{where}", code="template")
            return None
        too_large = size_problem(text)
        if too_large:
            self.error(
                path,
                f"{what} cannot render: {too_large}",
                "templates may build at most 10 million characters",
                "template",
            )
        self.references(path, refs, what)
        return refs


def check_spec(loaded: LoadedSpec, *, seed_columns: list[str] | None = None, describe: bool = True) -> list[Diagnostic]:
    """All semantic findings for a validated spec (errors and warnings)."""
    checker = _Checker(loaded, seed_columns)
    if seed_columns is None and describe:
        checker.seed_columns = _seed_columns(checker)
    for check in (
        _names,
        _templates,
        _models,
        _samplers,
        _constraints,
        _processors,
        _validators,
        _seed_collisions,
        _yaml11_booleans,
    ):
        check(checker)
    return sorted(checker.out, key=lambda d: (d.span.line if d.span else 0, d.span.column if d.span else 0))


def _seed_columns(c: _Checker) -> list[str] | None:
    seed = c.spec.seed_config
    if seed is None:
        return []
    if seed.source.seed_type == "df":
        if c.loaded.seed_data is None:
            c.error(
                ("seed_config", "source", "seed_type"),
                "DataFrame seeds live in memory and cannot be declared in a file",
                "write the DataFrame to Parquet and use seed_type: local, or pass it as seed_data= from Python",
                "not-declarative",
            )
            return None
        from ddc.spec.memory_seed import seed_data_columns

        return seed_data_columns(c.loaded.seed_data)
    if not isinstance(seed.source, (LocalFileSeedSource, QuerySeedSource)):
        return None
    try:
        relation = seed_relation(seed.source, c.loaded.base_dir)
    except SeedQueryRefused as exc:
        c.error(("seed_config", "source", "query"), str(exc), exc.hint, "seed-sql")
        return None
    except SeedFileError as exc:
        field = "path" if isinstance(seed.source, LocalFileSeedSource) else "tables"
        path: PathKey = ("seed_config", "source", field)
        if isinstance(seed.source, QuerySeedSource):
            missing = next((n for n, p in seed.source.tables.items() if repr(p) in str(exc)), None)
            path = (*path, missing) if missing else path
        c.error(path, str(exc), "paths are relative to the spec file", "missing-seed")
        return None
    try:
        return [name for name, _ in describe_seed(relation)]
    except RunError as exc:
        field = "query" if isinstance(seed.source, QuerySeedSource) else "path"
        c.error(("seed_config", "source", field), f"seed does not compile in DuckDB: {exc}", code="seed-sql")
        return None


def _names(c: _Checker) -> None:
    if not c.spec.columns:
        c.warn(("columns",), "the spec has no columns: every record would be empty", "add a column", "no-columns")
    seen: dict[str, int] = {}
    for i, col in enumerate(c.spec.columns):
        if col.name in seen:
            c.error(
                ("columns", i, "name"),
                f"duplicate column name {col.name!r} (also columns[{seen[col.name]}])",
                "column names must be unique",
                "duplicate-name",
            )
        else:
            seen[col.name] = i
        if col.name in c.side_effects and c.side_effects[col.name] != col.name:
            c.error(
                ("columns", i, "name"),
                f"{col.name!r} collides with a side-effect column of {c.side_effects[col.name]!r}",
                code="duplicate-name",
            )
        if not col.name.strip():
            c.error(("columns", i, "name"), "column name must not be blank", code="invalid")


def _templates(c: _Checker) -> None:
    for i, col in enumerate(c.spec.columns):
        refs_total: set[str] = set()
        for field in ("prompt", "system_prompt", "expr"):
            text = getattr(col, field, None)
            if isinstance(text, str):
                refs = c.template(("columns", i, field), text, field)
                if refs is not None:
                    refs_total |= refs
                    if col.name in refs or any(c.side_effects.get(r) == col.name for r in refs):
                        c.error(
                            ("columns", i, field),
                            f"{field} references its own column {col.name!r}",
                            "a column cannot read the value it is producing; reference the columns it depends on",
                            "self-reference",
                        )
                single = _SINGLE_BRACE.search(text) if field == "prompt" and "{{" not in text else None
                if single is not None:
                    name = single.group(1)
                    refs_total.add(name)  # one warning is enough for this prompt
                    c.warn(
                        ("columns", i, field),
                        f"'{{{name}}}' is literal text; Jinja needs double braces",
                        f"write {{{{ {name} }}}} to insert the column",
                    )
        if col.skip is not None:
            refs = c.template(("columns", i, "skip", "when"), col.skip.when, "skip.when")
            if refs is not None:
                if not refs:
                    c.error(("columns", i, "skip", "when"), "skip.when must reference at least one column")
                if col.name in refs or any(c.side_effects.get(r) == col.name for r in refs):
                    c.error(("columns", i, "skip", "when"), "skip.when cannot reference its own column")
        for j, ctx in enumerate(getattr(col, "multi_modal_context", None) or ()):
            c.references(("columns", i, "multi_modal_context", j, "column_name"), {ctx.column_name}, "context")
        target = getattr(col, "target_column", None)
        if target:
            c.references(("columns", i, "target_column"), {target}, "target_column")
        if (
            col.column_type in {"llm-text", "llm-code", "llm-structured", "llm-judge"}
            and not refs_total
            and not getattr(col, "multi_modal_context", None)
        ):
            c.warn(
                ("columns", i, "prompt"),
                "prompt references no column, so every row gets the same request",
                "insert a column with {{ name }} for varied output",
                "prompt-without-references",
            )


def _models(c: _Checker) -> None:
    aliases = [m.alias for m in c.spec.model_configs or ()]
    for i, model in enumerate(c.spec.model_configs or ()):
        if aliases.index(model.alias) != i:
            c.error(("model_configs", i, "alias"), f"duplicate model alias {model.alias!r}", code="duplicate-name")
    for i, col in enumerate(c.spec.columns):
        tool = getattr(col, "tool_alias", None)
        if tool is not None and tool not in {t.tool_alias for t in c.spec.tool_configs or ()}:
            c.error(
                ("columns", i, "tool_alias"),
                f"unknown tool alias {tool!r}",
                "define it in tool_configs",
                "unknown-tool",
            )
    used: list[tuple[PathKey, str]] = [
        (("columns", i, "model_alias"), alias)
        for i, col in enumerate(c.spec.columns)
        if (alias := getattr(col, "model_alias", None)) is not None
    ]
    used += [(("profilers", i, "model_alias"), prof.model_alias) for i, prof in enumerate(c.spec.profilers or ())]
    if used:
        _model_aliases(c, used, set(aliases) if c.spec.model_configs else set(default_model_aliases()))
    names = [p.name for p in c.spec.providers or ()]
    for i, name in enumerate(names):
        if names.index(name) != i:
            c.error(("providers", i, "name"), f"duplicate provider name {name!r}", code="duplicate-name")
    _tools(c)


def _model_aliases(c: _Checker, used: list[tuple[PathKey, str]], available: set[str]) -> None:
    """Each alias used must be defined: by model_configs, else by the defaults a run resolves (the
    official models file, read only when some column uses a model, then the built-in aliases)."""
    import difflib

    for path, alias in used:
        if alias in available:
            continue
        match = difflib.get_close_matches(alias, sorted(available), n=1)
        hint = (
            f"did you mean {match[0]!r}?"
            if match
            else (
                "define it in model_configs"
                if c.spec.model_configs
                else "add model_configs (or define it in $DATA_DESIGNER_HOME/model_configs.yaml), "
                "or use a default alias such as nvidia-text"
            )
        )
        c.error(path, f"unknown model alias {alias!r}", hint, "unknown-model")


def _tools(c: _Checker) -> None:
    """Tool configs: unique aliases, allow_tools without repeats or blanks, unique MCP provider names
    (whether each allowed tool exists is known only to the server: ``ddc run`` checks it at start-up)."""
    aliases = [t.tool_alias for t in c.spec.tool_configs or ()]
    for i, tool in enumerate(c.spec.tool_configs or ()):
        if aliases.index(tool.tool_alias) != i:
            c.error(("tool_configs", i, "tool_alias"), f"duplicate tool alias {tool.tool_alias!r}",
                    code="duplicate-name")  # fmt: skip
        allowed = list(tool.allow_tools or ())
        for j, name in enumerate(allowed):
            if not name.strip():
                c.error(("tool_configs", i, "allow_tools", j), "empty tool name", "name an MCP tool",
                        "bad-tool-name")  # fmt: skip
            elif allowed.index(name) != j:
                c.error(("tool_configs", i, "allow_tools", j), f"tool {name!r} is listed twice",
                        "list each tool once", "duplicate-name")  # fmt: skip
    mcp_names = [p.name for p in c.spec.mcp_providers or ()]
    for i, name in enumerate(mcp_names):
        if mcp_names.index(name) != i:
            c.error(("mcp_providers", i, "name"), f"duplicate MCP provider name {name!r}", code="duplicate-name")


def _sampler_columns(c: _Checker) -> Iterator[tuple[int, Any]]:
    for i, col in enumerate(c.spec.columns):
        if col.column_type == "sampler":
            yield i, col


def _samplers(c: _Checker) -> None:
    samplers = {col.name: col for _, col in _sampler_columns(c)}
    for i, col in _sampler_columns(c):
        for condition in col.conditional_params:
            path: PathKey = ("columns", i, "conditional_params", condition)
            from ddc.templating import condition_problem, expression_references

            try:
                refs = expression_references(condition)
            except TemplateProblem as exc:
                c.error(path, f"condition {condition!r}: {exc}", code="template", key=True)
                continue
            problem = condition_problem(condition)
            if problem:
                c.error(
                    path,
                    f"condition {condition!r} cannot be evaluated: {problem}",
                    "a condition that fails would fail every row it is evaluated on",
                    "template",
                    key=True,
                )
            if col.name in refs:
                c.error(
                    path,
                    f"condition {condition!r} references its own column {col.name!r}",
                    "a condition chooses this column's parameters, so it can only read other sampler columns",
                    "self-reference",
                    key=True,
                )
            for ref in sorted(refs - set(samplers)):
                hint = "conditions can only use sampler columns" if ref in c.known_names else c.suggest(ref)
                c.error(
                    path,
                    f"condition references {ref!r}, which is not a sampler column",
                    hint,
                    "unknown-reference",
                    key=True,
                )
        if col.sampler_type == "subcategory":
            parent = samplers.get(col.params.category)
            path = ("columns", i, "params", "category")
            if parent is None:
                c.error(
                    path,
                    f"parent column {col.params.category!r} is not a sampler column",
                    c.suggest(col.params.category),
                    "unknown-reference",
                )
            elif parent.sampler_type != "category":
                c.error(path, f"parent column {parent.name!r} must be a category sampler, not {parent.sampler_type}")
            else:
                expected = {str(v) for v in parent.params.values}
                for p in parent.conditional_params.values():
                    expected |= {str(v) for v in p.values}
                for params_path, params in [(("columns", i, "params", "values"), col.params)] + [
                    (("columns", i, "conditional_params", k, "values"), v) for k, v in col.conditional_params.items()
                ]:
                    keys = set(params.values)
                    if keys != expected:
                        missing = sorted(expected - keys)
                        extra = sorted(keys - expected)
                        detail = "; ".join(
                            part
                            for part in (
                                f"missing {missing}" if missing else "",
                                f"unexpected {extra}" if extra else "",
                            )
                            if part
                        )
                        c.error(
                            params_path,
                            f"keys must be exactly the values of {parent.name!r}: {detail}",
                            code="subcategory-keys",
                        )
        if col.sampler_type == "timedelta":
            ref = col.params.reference_column_name
            ref_col = samplers.get(ref)
            path = ("columns", i, "params", "reference_column_name")
            if ref == col.name:
                c.error(path, f"a timedelta cannot be measured from its own column {ref!r}", code="self-reference")
            elif ref_col is None:
                c.error(path, f"reference column {ref!r} is not a sampler column", c.suggest(ref), "unknown-reference")
            elif ref_col.sampler_type not in {"datetime", "timedelta"}:
                c.error(path, f"reference column {ref!r} must be a datetime sampler, not {ref_col.sampler_type}")


def _constraints(c: _Checker) -> None:
    samplers = {col.name: col for _, col in _sampler_columns(c)}
    for i, con in enumerate(c.spec.constraints or ()):
        if con.target_column not in samplers:
            hint = (
                "constraints apply to sampler columns only"
                if con.target_column in c.known_names
                else c.suggest(con.target_column)
            )
            c.error(
                ("constraints", i, "target_column"),
                f"constraint target {con.target_column!r} is not a sampler column",
                hint,
                "bad-constraint",
            )
        if con.constraint_type == "column_inequality" and con.rhs == con.target_column:
            c.error(
                ("constraints", i, "rhs"),
                f"constraint compares {con.rhs!r} with itself",
                "compare two different sampler columns",
                "bad-constraint",
            )
        elif con.constraint_type == "column_inequality" and con.rhs not in samplers:
            hint = "constraints compare sampler columns only" if con.rhs in c.known_names else c.suggest(con.rhs)
            c.error(
                ("constraints", i, "rhs"), f"constraint rhs {con.rhs!r} is not a sampler column", hint, "bad-constraint"
            )


def _processors(c: _Checker) -> None:
    names = [p.name for p in c.spec.processors or ()]
    declared = set(c.columns) | set(c.side_effects) | set(c.seed_columns or ())
    for i, proc in enumerate(c.spec.processors or ()):
        if names.index(proc.name) != i:
            c.error(("processors", i, "name"), f"duplicate processor name {proc.name!r}", code="duplicate-name")
        if proc.processor_type == "drop_columns":
            for j, pattern in enumerate(proc.column_names):
                path: PathKey = ("processors", i, "column_names", j)
                if "*" in pattern:
                    if not fnmatch.filter(sorted(declared), pattern):
                        c.warn(path, f"pattern {pattern!r} matches no column")
                elif pattern not in declared and not (c.seed_columns is None and c.spec.seed_config is not None):
                    c.error(
                        path, f"drop_columns names unknown column {pattern!r}", c.suggest(pattern), "unknown-reference"
                    )
        else:
            for key_path, text in _template_leaves(proc.template, ("processors", i, "template")):
                if isinstance(text, str) and "{" in text:
                    refs = c.template(key_path, text, "schema_transform template")
                    if refs:
                        bad = sorted(r for r in refs if r in c.side_effects)
                        for name in bad:
                            c.error(key_path, f"schema_transform cannot reference side-effect column {name!r}")
    kept = [col for col in c.spec.columns if col.column_type != "seed-dataset"]
    dropped = {col.name for col in kept if col.drop}
    for proc in c.spec.processors or ():
        if proc.processor_type == "drop_columns":
            for pattern in proc.column_names:
                dropped.update(fnmatch.filter([k.name for k in kept], pattern))
    if kept and all(col.name in dropped for col in kept) and not c.seed_columns:
        c.error(
            ("columns",),
            "every column is dropped, so the dataset would be empty",
            "keep at least one column (drop: false)",
            "all-columns-dropped",
        )


def _template_leaves(value: Any, path: PathKey) -> Iterator[tuple[PathKey, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _template_leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _template_leaves(v, (*path, i))
    else:
        yield path, value


def _validators(c: _Checker) -> None:
    for i, col in enumerate(c.spec.columns):
        if col.column_type != "validation":
            continue
        for j, target in enumerate(col.target_columns):
            path: PathKey = ("columns", i, "target_columns", j)
            c.references(path, {target}, "validation")
            target_col = c.columns.get(target)
            if col.validator_type == "code" and target_col is not None:
                lang = col.validator_params.code_lang
                if target_col.column_type == "llm-code" and target_col.code_lang != lang:
                    c.error(
                        path,
                        f"validator code_lang {lang!r} does not match {target!r} ({target_col.code_lang})",
                        code="code-lang-mismatch",
                    )
                elif target_col.column_type != "llm-code":
                    c.warn(path, f"validating {target!r}, which is not an llm-code column")


def _seed_collisions(c: _Checker) -> None:
    for index, declared in enumerate(c.spec.columns):
        if declared.column_type != "seed-dataset":
            continue
        if c.spec.seed_config is None:
            c.error(
                ("columns", index, "column_type"),
                f"{declared.name!r} is a seed-dataset column but the spec has no seed_config",
                "add a seed_config whose data has this column, or give the column another type",
                "unknown-reference",
            )
        elif c.seed_columns is not None and declared.name not in c.seed_columns:
            c.error(
                ("columns", index, "name"),
                f"the seed dataset has no column {declared.name!r}",
                c.suggest(declared.name, among=c.seed_columns),
                "unknown-reference",
            )
    for name in c.seed_columns or ():
        col = c.columns.get(name)
        if col is not None and col.column_type != "seed-dataset":
            index = list(c.columns).index(name)
            c.error(
                ("columns", index, "name"),
                f"column {name!r} collides with a seed dataset column",
                "rename the column, or select the seed column under another name",
                "seed-collision",
            )


def _yaml11_booleans(c: _Checker) -> None:
    """An unquoted ``NO``, ``yes``, ``on`` or ``off`` in a list (country codes, answers, switches) is read
    as a boolean, by ddc as by the official library (both read YAML 1.1): the data then holds true/false,
    or "1"/"0" once mixed with text. Said once per list, where the first one stands."""
    lists: dict[PathKey, tuple[PathKey, str]] = {}
    for path, text in c.smap.yaml11_booleans.items():
        if path and isinstance(path[-1], int):
            lists.setdefault(path[:-1], (path, text))
    for path, text in lists.values():
        value = "true" if text.lower() in ("yes", "on") else "false"
        c.warn(
            path,
            f"{text} is read as the boolean {value} (YAML reads unquoted yes/no/on/off as booleans)",
            f"quote it, '{text}', if it is meant as text",
            "yaml-boolean",
        )
