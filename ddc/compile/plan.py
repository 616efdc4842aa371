"""Spec -> Plan: the resolved, ordered, frozen intermediate form that build, run and submit share.

``plan_spec`` never mutates the spec. Column order is topological with declaration order breaking
ties, so the plan (and everything emitted from it) is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddc.errors import Diagnostic, SpecError, TemplateProblem
from ddc.spec.document import LocalProvider, RunSettings, Spec, SubmitSettings
from ddc.spec.load import LoadedSpec

DEFAULT_NUM_RECORDS = 10


@dataclass(frozen=True)
class PlannedColumn:
    """One column with its resolved dependencies."""

    name: str
    column_type: str
    config: Any  # the column's spec model (a pydantic model from ddc.spec.columns / samplers)
    index: int  # position in the spec's `columns`
    depends_on: tuple[str, ...] = ()  # producer columns this one reads (side-effect names resolved)
    side_effects: tuple[str, ...] = ()

    @property
    def is_sampler(self) -> bool:
        return self.column_type == "sampler"

    @property
    def sampler_type(self) -> str | None:
        return getattr(self.config, "sampler_type", None)


@dataclass(frozen=True)
class Plan:
    """Everything needed to build, run or submit a spec."""

    spec: Spec
    source_name: str
    source_sha256: str
    base_dir: Path
    samplers: tuple[PlannedColumn, ...]  # sampler DAG order
    columns: tuple[PlannedColumn, ...]  # non-sampler columns in DAG order (seed columns are implicit)
    seed_columns: tuple[str, ...] | None = None  # known once the seed was described
    library_version: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def num_records(self) -> int:
        return self.spec.num_records or DEFAULT_NUM_RECORDS

    @property
    def random_seed(self) -> int | None:
        return self.spec.random_seed

    @property
    def run(self) -> RunSettings:
        return self.spec.run or RunSettings()

    @property
    def submit(self) -> SubmitSettings:
        return self.spec.submit or SubmitSettings()

    @property
    def providers(self) -> tuple[LocalProvider, ...]:
        return tuple(self.spec.providers or ())

    @property
    def all_columns(self) -> tuple[PlannedColumn, ...]:
        """Samplers first, then the DAG columns: the order generation runs in."""
        return self.samplers + self.columns

    def column(self, name: str) -> PlannedColumn:
        for col in self.all_columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def output_columns(self) -> tuple[str, ...]:
        """Columns written to the dataset, in spec order (seed columns first, when known)."""
        dropped = dropped_columns(self.spec)
        seed = tuple(c for c in (self.seed_columns or ()) if c not in dropped)
        ordered = sorted(self.all_columns, key=lambda c: c.index)
        return seed + tuple(c.name for c in ordered if c.name not in dropped)


def side_effect_names(column: Any) -> tuple[str, ...]:
    names: list[str] = []
    if getattr(column, "with_trace", "none") != "none":
        names.append(f"{column.name}__trace")
    if getattr(column, "extract_reasoning_content", False):
        names.append(f"{column.name}__reasoning_content")
    return tuple(names)


def column_references(column: Any) -> set[str]:
    """Names a non-sampler column reads: template variables, context columns, validation/embedding targets."""
    refs: set[str] = set()
    texts = [t for attr in ("prompt", "system_prompt", "expr") if isinstance(t := getattr(column, attr, None), str)]
    skip = getattr(column, "skip", None)
    if skip is not None:
        texts.append(skip.when)
    if texts:  # imported here: a spec without templates never imports jinja2 (40 ms)
        from ddc.templating import template_references

        for text in texts:
            refs |= template_references(text)
    for ctx in getattr(column, "multi_modal_context", None) or ():
        refs.add(ctx.column_name)
    refs.update(getattr(column, "target_columns", None) or ())
    target = getattr(column, "target_column", None)
    if target:
        refs.add(target)
    refs.discard(column.name)
    return refs


def sampler_references(column: Any, constraints: Iterable[Any]) -> set[str]:
    """Sampler DAG edges: conditions, subcategory parent, timedelta reference, column inequalities."""
    refs: set[str] = set()
    for condition in column.conditional_params:
        from ddc.templating import expression_references

        refs |= expression_references(condition)
    params = column.params
    if column.sampler_type == "subcategory":
        refs.add(params.category)
    if column.sampler_type == "timedelta":
        refs.add(params.reference_column_name)
    for constraint in constraints:
        if constraint.target_column == column.name and constraint.constraint_type == "column_inequality":
            refs.add(constraint.rhs)
    refs.discard(column.name)
    return refs


def dropped_columns(spec: Spec) -> set[str]:
    """Columns with ``drop: true`` plus those named (or globbed) by drop_columns processors."""
    import fnmatch

    names = [c.name for c in spec.columns]
    dropped = {c.name for c in spec.columns if c.drop}
    for proc in spec.processors or ():
        if proc.processor_type == "drop_columns":
            for pattern in proc.column_names:
                dropped.update(fnmatch.filter(names, pattern) if "*" in pattern else [pattern])
    return dropped


def plan_spec(loaded: LoadedSpec, *, seed_columns: Iterable[str] | None = None) -> Plan:
    """Resolve dependencies and order columns. Raises SpecError on a cycle or a bad template."""
    spec = loaded.spec
    constraints = list(spec.constraints or ())
    producers: dict[str, str] = {}
    for col in spec.columns:
        producers[col.name] = col.name
        for extra in side_effect_names(col):
            producers[extra] = col.name

    samplers: list[PlannedColumn] = []
    others: list[PlannedColumn] = []
    problems: list[Diagnostic] = []
    for index, col in enumerate(spec.columns):
        try:
            refs = sampler_references(col, constraints) if col.column_type == "sampler" else column_references(col)
        except TemplateProblem as exc:
            problems.append(
                Diagnostic(str(exc), loaded.source.map.span(("columns", index)), f"columns[{index}]", code="template")
            )
            continue
        deps = tuple(sorted({producers[r] for r in refs if r in producers and producers[r] != col.name}))
        planned = PlannedColumn(col.name, col.column_type, col, index, deps, side_effect_names(col))
        (samplers if col.column_type == "sampler" else others).append(planned)
    if problems:
        raise SpecError(problems)

    sampler_names = {c.name for c in samplers}
    ordered_samplers = _toposort(samplers, loaded, restrict=sampler_names)
    ordered_others = _toposort(others, loaded, restrict={c.name for c in others})
    return Plan(
        spec=spec,
        source_name=loaded.source.name,
        source_sha256=loaded.source.sha256,
        base_dir=loaded.base_dir,
        samplers=tuple(ordered_samplers),
        columns=tuple(ordered_others),
        seed_columns=tuple(seed_columns) if seed_columns is not None else None,
        library_version=loaded.library_version,
    )


def _toposort(columns: list[PlannedColumn], loaded: LoadedSpec, restrict: set[str]) -> list[PlannedColumn]:
    """Kahn's algorithm with a heap on declaration index: deterministic, declaration order breaks ties."""
    by_name = {c.name: c for c in columns}
    indegree = {c.name: 0 for c in columns}
    children: dict[str, list[str]] = {c.name: [] for c in columns}
    for col in columns:
        for dep in col.depends_on:
            if dep in restrict:
                indegree[col.name] += 1
                children[dep].append(col.name)
    heap = [(c.index, c.name) for c in columns if indegree[c.name] == 0]
    heapq.heapify(heap)
    out: list[PlannedColumn] = []
    while heap:
        _, name = heapq.heappop(heap)
        out.append(by_name[name])
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(heap, (by_name[child].index, child))
    if len(out) != len(columns):
        remaining = {n for n, d in indegree.items() if d > 0}
        cycle = _find_cycle(by_name, remaining)
        first = by_name[cycle[0]]
        raise SpecError(
            Diagnostic(
                "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
                loaded.source.map.span(("columns", first.index)),
                f"columns[{first.index}]",
                hint="a column cannot depend on itself through other columns; break one of the references",
                code="cycle",
            )
        )
    return out


def _find_cycle(by_name: dict[str, PlannedColumn], remaining: set[str]) -> list[str]:
    start = min(remaining, key=lambda n: by_name[n].index)
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        inside = [d for d in by_name[node].depends_on if d in remaining]  # deps outside this DAG are done
        node = min(inside, key=lambda n: by_name[n].index)
    return path[seen[node] :]
