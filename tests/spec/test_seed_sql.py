"""A seed query reads its declared tables and nothing else, whichever command reads it.

Every command that reads a spec (validate, build, fingerprint, run, run --preview, submit --dry-run
with and without --upload-seeds) ends a hostile query in exit 1 with a one-line error at the query's
line: no file is created or changed, no other file is read, no extension is installed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ddc.engine.seeds import SeedReader
from ddc.errors import RunError
from ddc.spec.seed_sql import SeedQueryError, read_only_statement
from ddc.spec.seeds import SeedConfig

Run = Callable[..., tuple[int, str, str]]  # the `run` fixture: (exit code, stdout, stderr)
SECRET = "TOPSECRET-7f3a"

COMMANDS = [
    ("validate",),
    ("build", "-o", "module.py"),
    ("fingerprint",),
    ("run", "-n", "2", "-o", "out"),
    ("run", "--preview", "2"),
    ("submit", "--dry-run", "--name", "job"),
    ("submit", "--dry-run", "--upload-seeds", "--name", "job"),
]

#: (query, what it tries); {victim} is a file that must never appear, {secret} a file never read
HOSTILE = [
    ("SELECT * FROM people; COPY (SELECT 1) TO '{victim}'", "a second statement writes a file"),
    ("COPY (SELECT * FROM people) TO '{victim}'", "COPY"),
    ("ATTACH '{victim}' AS v", "ATTACH creates a database file"),
    ("INSTALL httpfs", "INSTALL"),
    ("PRAGMA version", "PRAGMA"),
    ("SELECT * FROM read_csv('{secret}')", "read_csv of an undeclared file"),
    ("SELECT content AS name FROM read_text('{secret}')", "read_text"),
    ("SELECT file AS name FROM glob('/*')", "glob"),
    ("SELECT * FROM people WHERE name IN (SELECT column0 FROM '{secret}')", "a replacement scan in a subquery"),
    ("SELECT * FROM 'http://127.0.0.1:9/x.csv'", "an http table (httpfs auto-install)"),
    ("SELECT * FROM query('COPY (SELECT 1) TO ''{victim}''')", "query() around a COPY"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME for DuckDB's extension directory: it must stay empty (nothing installed)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def write_spec(directory: Path, query: str) -> Path:
    (directory / "data").mkdir(exist_ok=True)
    (directory / "data" / "people.csv").write_text("name,age\nann,3\nbob,4\n", encoding="utf-8")
    (directory / "secret.csv").write_text(f"{SECRET}\n", encoding="utf-8")
    query = query.format(victim=directory / "victim.csv", secret=directory / "secret.csv")
    spec = directory / "spec.yaml"
    spec.write_text(
        "name: people\n"
        "seed_config:\n"
        "  source:\n"
        "    seed_type: query\n"
        "    tables: {people: data/people.csv}\n"
        f"    query: {_yaml_string(query)}\n"
        "columns:\n"
        "  - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n",
        encoding="utf-8",
    )
    return spec


def error_lines(err: str, spec: Path) -> list[int]:
    """The spec lines the error messages point at (a summary line names no line)."""
    found = re.findall(rf"^(?:error: )?{re.escape(str(spec))}:(\d+):\d+: ", err, flags=re.MULTILINE)
    return [int(line) for line in found]


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("query", [q for q, _ in HOSTILE], ids=[what for _, what in HOSTILE])
def test_a_hostile_query_is_refused_at_its_line_without_side_effects(
    command: tuple[str, ...], query: str, workspace: Path, home: Path, run: Run
) -> None:
    spec = write_spec(workspace, query)
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    code, out, err = run(command[0], str(spec), *command[1:])
    assert code == 1
    assert "Traceback" not in err
    assert error_lines(err, spec) == [6]
    assert SECRET not in out + err
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before
    assert not (Path(home) / ".duckdb").exists()


LOCAL = [c for c in COMMANDS if c[0] != "submit" or "--upload-seeds" in c]  # the service cannot read a local seed


@pytest.mark.parametrize("command", LOCAL, ids=[" ".join(c) for c in LOCAL])
def test_a_read_only_join_of_the_declared_tables_still_works(
    command: tuple[str, ...], workspace: Path, home: Path, run: Run
) -> None:
    spec = write_spec(workspace, "SELECT p.name, q.age FROM people p JOIN people q USING (name) ORDER BY 1 -- last;")
    code, _out, err = run(command[0], str(spec), *command[1:])
    assert (code, err if code else "") == (0, "")
    assert not (Path(home) / ".duckdb").exists()


def test_the_engine_refuses_an_unchecked_hostile_query(tmp_path: Path, home: Path) -> None:
    """The engine's own connection is locked down too, for configs that never went through validate."""
    write_spec(tmp_path, "")
    config = SeedConfig.model_validate(
        {
            "source": {
                "seed_type": "query",
                "tables": {"people": "data/people.csv"},
                "query": f"SELECT * FROM people, read_csv('{tmp_path / 'secret.csv'}')",
            }
        }
    )
    with pytest.raises(RunError, match="Permission Error"):
        SeedReader(config, tmp_path, 1)


@pytest.mark.parametrize(
    ("query", "statement"),
    [
        ("SELECT 1;", "SELECT 1\n"),
        ("WITH a AS (SELECT 1) SELECT * FROM a ;; ", "WITH a AS (SELECT 1) SELECT * FROM a\n"),
        ("FROM people -- trailing; comment", "FROM people -- trailing; comment\n"),
        ("SELECT 1; -- done", "SELECT 1\n"),
    ],
)
def test_a_read_only_statement_is_kept_whole_and_wrappable(query: str, statement: str) -> None:
    assert read_only_statement(query) == statement


@pytest.mark.parametrize("query", ["", " ; ", "SELECT 1; SELECT 2", "EXPLAIN SELECT 1", "PIVOT people ON name"])
def test_anything_but_one_select_is_refused(query: str) -> None:
    with pytest.raises(SeedQueryError):
        read_only_statement(query)
