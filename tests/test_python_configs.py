"""Specs written in Python: modules exposing load_config_builder(), config objects and dicts, and
in-memory seed rows (pandas, pyarrow, polars). The official package is not installed here; the
conformance tests run the same paths with data-designer-config 0.9.6 and 0.9.7."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import ddc
from ddc.errors import SpecError
from tests.servers.nemo_services import NemoServices
from tests.submission.conftest import TOKEN

CONFIG = {
    "columns": [
        {"name": "region", "column_type": "sampler", "sampler_type": "category",
         "params": {"values": ["EU", "US"], "weights": [1, 2]}},
        {"name": "greeting", "column_type": "expression", "expr": "Hello from {{ region }}, " + "x" * 400},
    ]
}  # fmt: skip
GREETING = "{{ name }} from {{ city }}"
SEEDED = f"columns:\n  - {{name: greeting, column_type: expression, expr: '{GREETING}'}}\n"


def write_module(folder: Path, body: str, name: str = "config.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_one_line_json_text_is_a_spec_not_a_file_name() -> None:
    """A serialised config is longer than any file name: it was once tested as a path (ENAMETOOLONG)."""
    report = ddc.validate(json.dumps(CONFIG))
    assert report.ok, [d.format() for d in report.diagnostics]


def test_a_config_dict_validates_and_runs() -> None:
    table = ddc.preview(CONFIG, 3, seed=1).table
    assert table.column_names == ["region", "greeting"]


def test_a_module_returning_a_config_dict_builds_and_runs(tmp_path: Path) -> None:
    module = write_module(tmp_path, f"def load_config_builder():\n    return {CONFIG!r}\n")
    assert ddc.validate(module).ok
    assert "builder.add_column" in ddc.build(str(module), write=False).text
    assert ddc.preview(str(module), 2, seed=1).table.num_rows == 2


def test_a_module_returning_a_ddc_builder_runs(tmp_path: Path) -> None:
    module = write_module(
        tmp_path,
        """\
        from ddc import ConfigBuilder

        def load_config_builder():
            builder = ConfigBuilder()
            builder.add_column(name="n", column_type="sampler", sampler_type="uniform", params={"low": 0, "high": 1})
            return builder
        """,
    )
    result = ddc.run(module, num_records=4, output_dir=tmp_path / "out", seed=3, return_table=True)
    assert result.table.num_rows == 4


def test_a_diagnostic_points_at_the_module_line_and_names_the_column(tmp_path: Path) -> None:
    module = write_module(
        tmp_path,
        """\
        def load_config_builder():
            columns = [
                {"name": "region", "column_type": "sampler", "sampler_type": "category", "params": {"values": ["EU"]}},
                {"name": "greeting", "column_type": "expression", "expr": "Hi {{ regoin }}"},
            ]
            return {"columns": columns}
        """,
    )
    [diagnostic] = ddc.validate(module).diagnostics
    assert diagnostic.format() == (
        f"{module}:4:18: columns[1] 'greeting'.expr: expr references unknown column 'regoin' (did you mean 'region'?)"
    )


def test_a_module_needing_the_official_package_says_how_to_install_it(tmp_path: Path, ddc_cli) -> None:  # type: ignore[no-untyped-def]
    module = write_module(
        tmp_path,
        """\
        import data_designer.config as dd

        def load_config_builder():
            return dd.DataDesignerConfigBuilder()
        """,
    )
    result = ddc_cli("validate", str(module))
    assert result.exit_code == 1
    assert result.err.splitlines()[0] == (
        f"{module}:1: this module needs the official data-designer-config package "
        "(pip install data-designer-config, or pip install 'ddc[official]')"
    )
    assert "Traceback" not in result.err


def test_an_exception_in_load_config_builder_is_one_line_naming_the_module_line(tmp_path: Path) -> None:
    module = write_module(tmp_path, "def load_config_builder():\n    return {}['columns']\n")
    with pytest.raises(SpecError) as info:
        ddc.load(module)
    assert str(info.value) == f"{module}:2: load_config_builder() raised KeyError: 'columns'"


def test_a_module_with_postponed_annotations_can_define_dataclasses_and_pydantic_models(tmp_path: Path) -> None:
    """Both look their module up in sys.modules while it runs, as under the official loader."""
    module = write_module(
        tmp_path,
        """\
        from __future__ import annotations

        from dataclasses import dataclass
        from typing import Optional

        from pydantic import BaseModel

        @dataclass
        class Range:
            low: float = 0

        class Item(BaseModel):
            price: Optional[float] = None

        def load_config_builder():
            schema = Item.model_json_schema()
            params = {"low": Range().low, "high": 1}
            return {"columns": [
                {"name": "x", "column_type": "sampler", "sampler_type": "uniform", "params": params},
                {"name": "schema", "column_type": "expression", "expr": "%s" % sorted(schema["properties"])},
            ]}
        """,
    )
    assert ddc.preview(str(module), 1, seed=1).table.column("schema").to_pylist() == ["['price']"]


def test_the_module_is_not_left_in_sys_modules(tmp_path: Path) -> None:
    import sys

    module = write_module(tmp_path, f"def load_config_builder():\n    return {CONFIG!r}\n")
    before = set(sys.modules)
    ddc.load(module)
    assert set(sys.modules) - before == set()


@pytest.mark.parametrize("signature", ["params", "params: object", "*, params"])
def test_load_config_builder_may_take_the_script_params_of_0_9_7(tmp_path: Path, signature: str) -> None:
    """As the official CLI does, a one-parameter function gets the default params: no script arguments."""
    module = write_module(
        tmp_path,
        f"""\
        def load_config_builder({signature}):
            return {{"columns": [{{"name": "argv", "column_type": "expression", "expr": repr(params.argv)}}]}}
        """,
    )
    assert ddc.preview(str(module), 1).table.column("argv").to_pylist() == ["()"]


def test_load_config_builder_with_two_parameters_is_refused_in_one_line(tmp_path: Path) -> None:
    module = write_module(tmp_path, "def load_config_builder(params, more):\n    return {}\n")
    with pytest.raises(SpecError) as info:
        ddc.load(module)
    assert str(info.value) == (
        f"{module}: load_config_builder() takes no parameters or one (the script params) "
        "(def load_config_builder(params: DataDesignerScriptParams))"
    )


NOISE = {"name": "noise", "column_type": "sampler", "sampler_type": "scipy",
         "params": {"dist_name": "norm", "dist_params": {"loc": 0.0, "scale": 1e-05}}}  # fmt: skip
MODEL = {"alias": "chat", "model": "m", "provider": "nvidia",
         "inference_parameters": {"extra_body": {"min_p": 1e-05, "big": 1e16, "tiny": -2.5e-300}}}  # fmt: skip
JUDGE = {"name": "verdict", "column_type": "llm-judge", "prompt": "Rate {{ noise }}", "model_alias": "chat",
         "scores": [{"name": "quality", "description": "how good", "options": {1: "bad", 2: "ok"}}]}  # fmt: skip


def test_floats_in_exponent_form_stay_floats() -> None:
    """json.dumps writes 1e-05, which YAML reads as a string: Python data never goes through JSON text."""
    spec = ddc.load({"model_configs": [MODEL], "columns": [NOISE]}).spec
    assert spec.columns[0].params.dist_params == {"loc": 0.0, "scale": 1e-05}
    assert spec.model_configs[0].inference_parameters.extra_body == {"min_p": 1e-05, "big": 1e16, "tiny": -2.5e-300}


def test_a_module_built_from_a_spec_gives_back_its_exponent_floats(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "columns:\n  - {name: noise, column_type: sampler, sampler_type: scipy, params: "
        "{dist_name: norm, dist_params: {loc: 0.0, scale: 1.0e-05}}}\n",
        encoding="utf-8",
    )
    module = ddc.build(spec, out=tmp_path / "spec_ddc.py").path
    assert ddc.load(module).spec.columns[0].params.dist_params["scale"] == 1e-05


def test_the_data_designer_target_of_a_module_writes_exponent_floats_as_numbers(tmp_path: Path) -> None:
    module = write_module(tmp_path, f"def load_config_builder():\n    return {{'columns': [{NOISE!r}]}}\n")
    assert '"scale": 1e-05}' in ddc.build(str(module), target="data-designer", write=False).text


def test_judge_score_options_keep_their_int_keys() -> None:
    spec = ddc.load({"model_configs": [MODEL], "columns": [NOISE, JUDGE]}).spec
    assert spec.columns[1].scores[0].options == {1: "bad", 2: "ok"}


def test_a_pydantic_config_object_keeps_its_int_keys() -> None:
    """``model_dump(mode="json")`` makes every key a string; the official Score takes int keys."""
    from pydantic import BaseModel

    class Config(BaseModel):  # stands in for the official DataDesignerConfig (not installed here)
        model_configs: list[dict[str, Any]]
        columns: list[dict[str, Any]]

    spec = ddc.load(Config(model_configs=[MODEL], columns=[NOISE, JUDGE])).spec
    assert spec.columns[1].scores[0].options == {1: "bad", 2: "ok"}
    assert spec.columns[0].params.dist_params["scale"] == 1e-05


@pytest.mark.parametrize(
    "text", ["line\nbreak", "a\x85b\u2028c\u2029d", "\x7f\x9f\ufeff\ufffe", "2024-01-01", "1e-05", "null", "- x: y"]
)
def test_strings_yaml_would_misread_come_back_unchanged(text: str) -> None:
    loaded = ddc.load({"columns": [{"name": "x", "column_type": "expression", "expr": text}]}, check=False)
    assert loaded.source.data["columns"][0]["expr"] == text


def test_a_dict_diagnostic_is_on_line_1_after_a_multi_line_string() -> None:
    """The dict is read as one line of text, as before: a line break in a string is escaped."""
    columns = [
        {"name": "x", "column_type": "expression", "expr": "one\ntwo\nthree"},
        {"name": "y", "column_type": "expression", "expr": "{{ missing }}"},
    ]
    [diagnostic] = ddc.validate({"columns": columns}).diagnostics
    assert diagnostic.format().startswith("<dict>:1:")


def test_an_object_that_is_no_config_is_refused_in_one_line() -> None:
    with pytest.raises(SpecError, match="cannot read a spec from a int"):
        ddc.load(42)


# --- in-memory seeds ------------------------------------------------------------------------------------


def _frames() -> list[object]:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"name": ["Ada", "Lin"], "city": ["London", "Taipei"]})
    frames: list[object] = [frame, pa.Table.from_pandas(frame, preserve_index=False)]
    try:
        import polars as pl
    except ImportError:  # polars is optional
        return frames
    return [*frames, pl.from_pandas(frame)]


@pytest.mark.parametrize("kind", ["pandas", "pyarrow", "polars"])
def test_a_dataframe_or_arrow_table_is_seed_data_for_preview(kind: str) -> None:
    frames = {type(f).__module__.split(".")[0]: f for f in _frames()}
    if kind not in frames:
        pytest.skip(f"{kind} is not installed")
    table = ddc.preview(SEEDED, 2, seed_data=frames[kind]).table
    assert table.column("greeting").to_pylist() == ["Ada from London", "Lin from Taipei"]


def test_a_pandas_seed_runs_through_ddc_run_without_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB scans the DataFrame in place: no CSV (or any file) is written outside the dataset folder."""
    [frame, *_] = _frames()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(name, str(scratch))
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    monkeypatch.chdir(tmp_path)
    result = ddc.run(SEEDED, seed_data=frame, num_records=4, output_dir="out", seed=1, return_table=True)
    assert result.table.column("greeting").to_pylist()[:2] == ["Ada from London", "Lin from Taipei"]
    assert list(scratch.iterdir()) == []
    written = {p.name for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert not [name for name in written if name.endswith(".csv")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tmp"]


def test_seed_type_df_in_a_file_says_it_needs_python(tmp_path: Path) -> None:
    spec = "seed_config: {source: {seed_type: df}}\n" + SEEDED
    [diagnostic] = [d for d in ddc.validate(spec).diagnostics if d.severity == "error"]
    assert diagnostic.code == "not-declarative"
    assert "pass it as seed_data= from Python" in diagnostic.hint


def test_seed_data_with_a_spec_reading_a_seed_file_is_refused() -> None:
    spec = "seed_config: {source: {seed_type: local, path: people.csv}}\n" + SEEDED
    with pytest.raises(SpecError, match="already reads its seed from seed_type 'local'"):
        ddc.preview(spec, 2, seed_data=_frames()[0])


def test_submit_uploads_a_dataframe_seed_to_a_fileset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMP_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    with NemoServices(token=TOKEN) as nemo:
        outcome = ddc.submit(SEEDED, seed_data=_frames()[0], base_url=nemo.base_url, num_records=2)
        source = outcome.body["spec"]["config"]["seed_config"]["source"]
        assert source["seed_type"] == "nmp"
        workspace_fileset, remote = source["path"].split("#")
        workspace, fileset = workspace_fileset.split("/")
        assert remote in nemo.filesets[(workspace, fileset)]


def test_a_dataframe_seed_cannot_be_compiled_into_a_module() -> None:
    from ddc.errors import CompileError

    with pytest.raises(CompileError, match="DataFrame seed lives in memory"):
        ddc.build(ddc.load(SEEDED, seed_data=_frames()[0]), write=False)


@pytest.fixture
def ddc_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    from tests.submission.conftest import CliResult

    def run(*args: str) -> CliResult:
        from ddc.cli import main

        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


# --- official configs on the plain install ---------------------------------------------------------------

CORPUS = Path(__file__).parent / "spec" / "corpus" / "valid"


@pytest.mark.parametrize("name", ["sampler-person-faker.yaml", "sampler-scipy.yaml"])
def test_official_configs_using_faker_or_scipy_run_on_the_plain_install(name: str) -> None:
    """Faker and SciPy are default dependencies: what validates for run also runs."""
    spec = CORPUS / name
    assert ddc.validate(spec, modes=("run",)).ok
    assert ddc.preview(spec, 3, seed=1).table.num_rows == 3


def test_faker_and_scipy_are_default_dependencies() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]}
    assert {"faker", "scipy"} <= names
    assert project["optional-dependencies"]["official"] == ["data-designer-config>=0.9.1"]


def test_a_module_that_calls_sys_exit_while_loaded_is_a_spec_error_at_its_line(tmp_path: Path) -> None:
    path = write_module(tmp_path, "import sys\nsys.exit(3)\n")
    with pytest.raises(SpecError) as info:
        ddc.load(path)
    assert str(info.value).startswith(f"{path}:2: the module called sys.exit(3) while it was loaded")
