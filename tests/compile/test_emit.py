"""`ddc build`: golden modules, determinism, formatting, staleness checks, and faithful loading."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ddc.api import build, load
from ddc.cli import main
from ddc.compile.canonical import canonical_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ddc.yaml"))
TARGETS = ("ddc", "data-designer")
CASES = [(spec, target) for spec in EXAMPLES for target in TARGETS]
IDS = [f"{spec.name.removesuffix('.ddc.yaml')}-{target}" for spec, target in CASES]


def _module_text(spec: Path, target: str) -> str:
    """The module as `ddc build SPEC -o examples/compiled.py` would write it (paths relative to examples/)."""
    return build(spec, target=target, out=spec.parent / "compiled.py", write=False).text


@pytest.mark.parametrize(("spec", "target"), CASES, ids=IDS)
def test_emitted_module_matches_golden(spec: Path, target: str, snapshot: object) -> None:
    assert _module_text(spec, target) == snapshot


def test_emission_is_byte_identical_under_different_hash_seeds(subprocess_env: dict[str, str]) -> None:
    script = (
        "import sys\nfrom pathlib import Path\nfrom ddc.api import build, load\n"
        "from ddc.compile.canonical import canonical_json\n"
        "for spec in sorted(Path('examples').glob('*.ddc.yaml')):\n"
        "    for target in ('ddc', 'data-designer'):\n"
        "        sys.stdout.write(build(spec, target=target, out=spec.parent / 'compiled.py', write=False).text)\n"
        "    sys.stdout.write(canonical_json(load(spec).spec))\n"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**subprocess_env, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "4242")
    ]
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 1000


def test_emitted_modules_pass_ruff_format_and_check(tmp_path: Path) -> None:
    for spec, target in CASES:
        (tmp_path / f"{spec.name.removesuffix('.ddc.yaml').replace('-', '_')}_{target[:2]}.py").write_text(
            _module_text(spec, target), encoding="utf-8"
        )
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", "--no-cache", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_modules_with_hostile_strings_pass_ruff_format(tmp_path: Path) -> None:
    """Quotes, escapes, wide (CJK, emoji) characters and multi-line text at every length near the limit."""
    from tests.compile.strategies import HOSTILE, LABELS, spec_with

    for i, fragment in enumerate(HOSTILE):
        for repeat in (1, 9, 23, 41):
            text = yaml.safe_dump(spec_with(dict.fromkeys(LABELS, fragment * repeat)), allow_unicode=False, width=10**6)
            for target in TARGETS:
                module = tmp_path / f"m{i}_{repeat}_{target[:2]}.py"
                module.write_text(build(text, target=target).text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--isolated", "--no-cache", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.name for s in EXAMPLES])
def test_module_header_names_source_and_its_sha256(spec: Path) -> None:
    import hashlib

    text = _module_text(spec, "ddc")
    assert f"from {spec.name}." in text.splitlines()[0]
    assert f'SOURCE_SHA256 = "{hashlib.sha256(spec.read_bytes()).hexdigest()}"' in text


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.name for s in EXAMPLES])
def test_ddc_module_loads_to_the_same_canonical_json_as_its_spec(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "compiled.py"
    out.parent.mkdir()
    out.write_text(build(spec, target="ddc", out=out, write=False).text, encoding="utf-8")
    assert canonical_json(load(out).spec) == canonical_json(load(spec).spec)


def test_compiled_module_resolves_seed_files_relative_to_the_spec(tmp_path: Path) -> None:
    spec = ROOT / "examples" / "reviews-seed-join.ddc.yaml"
    out = tmp_path / "compiled.py"
    build(spec, out=out)
    assert load(out).base_dir.resolve() == spec.parent.resolve()


def _assigned(text: str, name: str) -> object:
    """The literal a module assigns to ``name`` (a constant or a local)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned")


def _project_with_seed_beside_configs(root: Path, source: str) -> Path:
    """root/data/seed.csv and root/configs/c.yaml naming it as ``data/seed.csv`` (found from root only)."""
    (root / "data").mkdir()
    (root / "data" / "seed.csv").write_text("name\nAda\n", encoding="utf-8")
    (root / "configs").mkdir()
    spec = root / "configs" / "c.yaml"
    columns = "columns:\n  - {name: n, column_type: expression, expr: '{{ name }}'}\n"
    spec.write_text(f"{columns}seed_config:\n  source: {source}\n", encoding="utf-8")
    return spec


def test_data_designer_module_finds_a_seed_file_validate_found_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As validate and run (and the official) resolve it: beside the spec, else in the current directory;
    the module names it from the spec's folder, so it finds it from any directory."""
    spec = _project_with_seed_beside_configs(tmp_path, "{seed_type: local, path: data/seed.csv}")
    monkeypatch.chdir(tmp_path)
    text = build(spec, target="data-designer", out=tmp_path / "out" / "m.py", write=False).text
    seed_source = _assigned(text, "seed_source")
    assert isinstance(seed_source, dict)
    assert (spec.parent / seed_source["path"]).resolve() == (tmp_path / "data" / "seed.csv").resolve()


def test_data_designer_module_finds_query_seed_tables_validate_found_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _project_with_seed_beside_configs(
        tmp_path, "{seed_type: query, tables: {p: data/seed.csv}, query: SELECT name FROM p}"
    )
    monkeypatch.chdir(tmp_path)
    text = build(spec, target="data-designer", out=tmp_path / "out" / "m.py", write=False).text
    tables = _assigned(text, "SEED_TABLES")
    assert isinstance(tables, dict)
    assert (spec.parent / tables["p"]).resolve() == (tmp_path / "data" / "seed.csv").resolve()


def test_a_seed_file_beside_the_spec_is_named_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _project_with_seed_beside_configs(tmp_path, "{seed_type: local, path: data/seed.csv}")
    (spec.parent / "data").mkdir()
    (spec.parent / "data" / "seed.csv").write_text("name\nGrace\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    text = build(spec, target="data-designer", out=tmp_path / "out" / "m.py", write=False).text
    assert _assigned(text, "seed_source") == {"seed_type": "local", "path": "data/seed.csv"}


class TestCheck:
    SPEC = str(ROOT / "examples" / "people.ddc.yaml")

    def test_missing_output_is_stale(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["build", self.SPEC, "-o", str(tmp_path / "people.py"), "--check"])
        assert exit_info.value.code == 1
        assert "stale" in capsys.readouterr().err
        assert not (tmp_path / "people.py").exists()

    def test_fresh_output_passes(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = str(tmp_path / "people.py")
        main(["build", self.SPEC, "-o", out])
        main(["build", self.SPEC, "-o", out, "--check"])
        assert "up to date" in capsys.readouterr().out

    def test_edited_output_is_stale_and_left_alone(self, tmp_path: Path) -> None:
        out = tmp_path / "people.py"
        main(["build", self.SPEC, "-o", str(out)])
        edited = out.read_text(encoding="utf-8").replace("NUM_RECORDS = 1000", "NUM_RECORDS = 5")
        out.write_text(edited, encoding="utf-8")
        with pytest.raises(SystemExit) as exit_info:
            main(["build", self.SPEC, "-o", str(out), "--check"])
        assert exit_info.value.code == 1
        assert out.read_text(encoding="utf-8") == edited

    def test_other_target_is_stale(self, tmp_path: Path) -> None:
        out = str(tmp_path / "people.py")
        main(["build", self.SPEC, "-o", out])
        with pytest.raises(SystemExit) as exit_info:
            main(["build", self.SPEC, "-o", out, "--check", "--target", "data-designer"])
        assert exit_info.value.code == 1

    def test_check_without_output_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            main(["build", self.SPEC, "--check"])
        assert exit_info.value.code == 2
        assert "--check needs -o" in capsys.readouterr().err


def test_build_without_output_prints_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    main(["build", str(ROOT / "examples" / "people.ddc.yaml")])
    text = capsys.readouterr().out
    compile(text, "people.py", "exec")
    assert "def load_config_builder() -> ConfigBuilder:" in text


def test_rebuilding_an_unchanged_module_does_not_rewrite_it(tmp_path: Path) -> None:
    out = tmp_path / "people.py"
    build(ROOT / "examples" / "people.ddc.yaml", out=out)
    before = out.stat().st_mtime_ns
    result = build(ROOT / "examples" / "people.ddc.yaml", out=out)
    assert not result.changed
    assert out.stat().st_mtime_ns == before


@pytest.mark.parametrize("name", ['say """hi""".yaml', "back\\slash.yaml", "new\nline.yaml", "naïve ✓.yaml"])
def test_hostile_spec_file_names_cannot_break_the_header(name: str, tmp_path: Path) -> None:
    spec = tmp_path / name
    spec.write_text((ROOT / "examples" / "people.ddc.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    for target in TARGETS:
        text = build(spec, target=target, out=tmp_path / "out" / "m.py", write=False).text
        tree = ast.parse(text)
        assert isinstance(tree.body[0], ast.Expr)  # the docstring is still the first statement
        assert [type(n).__name__ for n in tree.body[1:3]] == ["ImportFrom", "ImportFrom"]


def test_data_designer_module_rereads_an_edited_query_seed(tmp_path: Path) -> None:
    """The module's materialised query seed is keyed by its files' size and mtime, not only their names."""
    (tmp_path / "people.csv").write_text("name\nAda\n")
    spec = tmp_path / "q.yaml"
    spec.write_text(
        "columns:\n  - {name: n, column_type: expression, expr: '{{ name }}'}\n"
        "seed_config:\n  source: {seed_type: query, tables: {p: people.csv}, query: SELECT name FROM p}\n"
    )
    text = build(spec, target="data-designer", out=tmp_path / "m.py", write=False).text
    helpers = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name.startswith("_")]
    scope: dict = {"SPEC_DIR": tmp_path, "SEED_TABLES": {"p": "people.csv"}, "SEED_QUERY": "SELECT name FROM p"}
    exec(compile(ast.Module(body=helpers, type_ignores=[]), "m.py", "exec"), scope)

    import pyarrow.parquet as pq

    first = scope["_materialise_query_seed"]()
    (tmp_path / "people.csv").write_text("name\nAda\nGrace\n")
    second = scope["_materialise_query_seed"]()
    assert pq.read_table(first).num_rows == 1
    assert pq.read_table(second).column("name").to_pylist() == ["Ada", "Grace"]
