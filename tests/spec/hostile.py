"""A generated corpus of hostile specs, each with the line its one error must point at.

Families (issue 12): alias bombs, self-referencing aliases, deep nesting, names that escape ``-o``,
sampler parameters outside their domain, inf/nan, seed queries with side effects, conditions that
cannot evaluate, template bombs in conditions and expressions. Each family is varied in size and shifted down by a
few comment lines, so the expected line is known by construction.

Run as a script, it is the worker of ``test_hostile_corpus``: it validates every spec through the
real CLI entry point in this one process (under the memory limit the test sets) and writes one JSON
result per spec.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SAMPLER = "{name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}"
COMMANDS = (("validate",), ("fingerprint",), ("build", "-o", "{dir}/module.py"), ("run", "--preview", "2"))


@dataclass(frozen=True)
class Hostile:
    family: str
    text: str
    line: int  # 1-based line of the one error

    def shifted(self, comments: int) -> Hostile:
        return Hostile(self.family, "# hostile\n" * comments + self.text, self.line + comments)


def _alias_bombs() -> Iterator[Hostile]:
    """Billion laughs: level k lists ``width`` aliases of level k-1. The expected line is the first
    level whose aliases add more than MAX_ALIAS_NODES nodes in total (sizes count every node)."""
    from ddc.spec.source_limits import MAX_ALIAS_NODES

    for width in range(2, 10):
        for extra_levels in range(3):
            lines = ["columns: [" + SAMPLER + "]", 'l0: &l0 ["lol", "lol", "lol"]']
            size, total, level, crossing = 4, 0, 0, 0
            while crossing == 0 or level < crossing + extra_levels:
                level += 1
                lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
                total += width * size
                size = 1 + width * size
                if total > MAX_ALIAS_NODES and crossing == 0:
                    crossing = level
            yield Hostile("alias-bomb", "\n".join(lines) + "\n", crossing + 2)


def _recursive_aliases() -> Iterator[Hostile]:
    yield Hostile("recursive-alias", "a: &a [*a]\n", 1)
    yield Hostile("recursive-alias", "a: &a {b: *a}\n", 1)
    yield Hostile("recursive-alias", "columns:\n  - &c\n    name: x\n    inner: [1, *c]\n", 4)
    yield Hostile("recursive-alias", "x: &x\n  - 1\n  - - 2\n    - *x\ncolumns: []\n", 4)


def _deep_nesting() -> Iterator[Hostile]:
    from ddc.spec.source_limits import MAX_DEPTH

    for depth in (MAX_DEPTH + 1, 150, 1000, 5000, 100_000):
        yield Hostile("deep-flow", "columns: " + "[" * depth + "]" * depth + "\n", 1)
        yield Hostile("deep-flow-mapping", "columns: " + "{a: " * depth + "1" + "}" * depth + "\n", 1)
    for depth in (MAX_DEPTH + 1, 300, 1200):
        # "columns:" opens the root mapping (level 1); each "- " line opens one sequence level
        lines = ["columns:"] + ["  " * i + "-" for i in range(1, depth + 1)]
        yield Hostile("deep-block", "\n".join(lines) + "\n", MAX_DEPTH + 1)


_BAD_NAMES = ["../x", "/abs", "nonexist/../../victim", "..", ".", "a\\\\b", "a/b", " ", "a\\tb", "x\\u0000y"]


def _names() -> Iterator[Hostile]:
    for name in _BAD_NAMES:
        yield Hostile("name", f'name: "{name}"\ncolumns: [{SAMPLER}]\n', 1)


_BAD_PARAMS = [
    ("gaussian", "{mean: 0, stddev: -1}"),
    ("gaussian", "{mean: 1.0e300, stddev: 1}"),
    ("gaussian", "{mean: 0, stddev: 1.0e200}"),
    ("gaussian", "{mean: .nan, stddev: 1}"),
    ("gaussian", "{mean: 0, stddev: 1, decimal_places: 400}"),
    ("poisson", "{mean: -1}"),
    ("poisson", "{mean: 1.0e300}"),
    ("poisson", "{mean: .inf}"),
    ("binomial", "{n: -1, p: 0.5}"),
    ("binomial", "{n: 100000000000000000000, p: 0.5}"),
    ("binomial", "{n: 10, p: 1.5}"),
    ("bernoulli", "{p: -0.1}"),
    ("bernoulli", "{p: .nan}"),
    ("uniform", "{low: 0, high: 1.0e+308}"),
    ("uniform", "{low: 0, high: .inf}"),
    ("uniform", "{low: 0, high: 1, decimal_places: -400}"),
    ("uniform", "{low: 2, high: 1}"),
    ("category", "{values: [a, b], weights: [1.0e308, 1.0e308]}"),
    ("category", "{values: [a, b], weights: [1, -1]}"),
    ("category", "{values: [a, b], weights: [.inf, 1]}"),
    ("bernoulli_mixture", "{p: 2, dist_name: expon, dist_params: {}}"),
    ("datetime", "{start: '2024-01-01', end: '2023-01-01'}"),
    ("datetime", "{start: 'not a date', end: '2023-01-01'}"),
]


def _params() -> Iterator[Hostile]:
    for sampler, params in _BAD_PARAMS:
        yield Hostile(
            f"params-{sampler}",
            f"columns:\n  - name: x\n    column_type: sampler\n    sampler_type: {sampler}\n    params: {params}\n",
            5,
        )
    for unit, dt_max in (("D", 10**9), ("h", 10**11), ("s", 10**13)):
        yield Hostile(
            "params-timedelta",
            "columns:\n"
            "  - {name: d, column_type: sampler, sampler_type: datetime,\n"
            "     params: {start: '2024-01-01', end: '2025-01-01'}}\n"
            "  - name: t\n    column_type: sampler\n    sampler_type: timedelta\n"
            f"    params: {{dt_min: 0, dt_max: {dt_max}, unit: {unit}, reference_column_name: d}}\n",
            7,
        )
    yield Hostile(
        "params-convert-int",
        "columns:\n  - name: x\n    column_type: sampler\n    sampler_type: gaussian\n"
        "    params: {mean: 1.0e50, stddev: 1}\n    convert_to: int\n",
        6,  # at convert_to, the setting that cannot hold the values
    )


_NON_FINITE = [
    ("num_records: .inf\n", 1),
    ("random_seed: .nan\n", 1),
    ("description: ok\nextra: [1, .inf]\n", 2),
    (
        "model_configs:\n  - alias: m\n    model: x\n    inference_parameters: {temperature: .nan}\n",
        4,
    ),
]


def _non_finite() -> Iterator[Hostile]:
    for head, line in _NON_FINITE:
        yield Hostile("non-finite", head + f"columns: [{SAMPLER}]\n", line)


_QUERIES = [
    "SELECT * FROM people; COPY (SELECT 1) TO 'victim.csv'",
    "COPY (SELECT * FROM people) TO 'victim.csv'",
    "ATTACH 'victim.db' AS v",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA version",
    "SET threads = 1",
    "CREATE TABLE t AS SELECT 1",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM 'http://127.0.0.1:9/x.csv'",
    "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
    "SELECT * FROM people, read_blob('/etc/passwd')",
    "SELECT 1; SELECT 2",
    "SELECT * FROM query('COPY (SELECT 1) TO ''victim.csv''')",
]


def _queries() -> Iterator[Hostile]:
    for query in _QUERIES:
        quoted = query.replace("'", "''")
        yield Hostile(
            "seed-query",
            "seed_config:\n  source:\n    seed_type: query\n    tables: {people: people.csv}\n"
            f"    query: '{quoted}'\ncolumns: [{SAMPLER}]\n",
            5,
        )


_CONDITIONS = ["1 / 0", "x / 0 > 1", "x // 0", "x % 0 == 1", "[][3]", "'x' * 1000000000 == 'y'", "2 ** 100000000 > 1"]


def _conditions() -> Iterator[Hostile]:
    for condition in _CONDITIONS:
        yield Hostile(
            "condition",
            f"columns:\n  - {SAMPLER}\n  - name: y\n    column_type: sampler\n    sampler_type: uniform\n"
            f'    params: {{low: 0, high: 1}}\n    conditional_params:\n      "{condition}": {{low: 1, high: 2}}\n',
            8,
        )


_TEMPLATE_BOMBS = ["'x' * 1000000000", "[1] * 1000000000", "'%1000000000d' % 1", "2 ** 100000000"]


def _template_bombs() -> Iterator[Hostile]:
    for expression in _TEMPLATE_BOMBS:
        yield Hostile(
            "template-bomb",
            f'columns:\n  - {SAMPLER}\n  - name: e\n    column_type: expression\n    expr: "{{{{ {expression} }}}}"\n',
            5,
        )


def corpus() -> list[Hostile]:
    """Every hostile spec, each family shifted by 0..k comment lines to vary the expected line."""
    base: list[Hostile] = []
    for family in (
        _alias_bombs,
        _recursive_aliases,
        _deep_nesting,
        _names,
        _params,
        _non_finite,
        _queries,
        _conditions,
        _template_bombs,
    ):
        base.extend(family())
    return [spec.shifted(k) for k in (0, 1, 3, 7) for spec in base]


def _validate_all(directory: Path) -> list[dict[str, object]]:
    from ddc.cli import main

    (directory / "people.csv").write_text("name,age\nann,3\n", encoding="utf-8")
    for module in ("duckdb", "numpy", "pyarrow", "jinja2", "pydantic", "ddc.api", "ddc.engine.runner"):
        __import__(module)  # import time is not time spent refusing a spec
    results = []
    for i, spec in enumerate(corpus()):
        path = directory / f"hostile-{i:04d}.yaml"
        path.write_text(spec.text, encoding="utf-8")
        command = [part.format(dir=directory) for part in COMMANDS[i % len(COMMANDS)]]
        err = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                main([command[0], str(path), *command[1:]])
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
        results.append(
            {
                "index": i,
                "family": spec.family,
                "command": command[0],
                "path": str(path),
                "line": spec.line,
                "code": code,
                "stderr": err.getvalue(),
                "seconds": time.perf_counter() - start,
            }
        )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return [{**r, "maxrss": maxrss} for r in results]


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    print(json.dumps(_validate_all(out_dir)))
