"""Compilation is injection-proof: any string in a spec comes back exactly and never becomes code."""

from __future__ import annotations

import ast
from typing import Any

import yaml
from hypothesis import assume, given, settings

from ddc.api import build
from tests.compile.strategies import hostile_spec, strings_of

#: Top-level statements of a module compiled for the ddc target, in order.
DDC_MODULE_SHAPE = [
    ("Expr", "docstring"),
    ("ImportFrom", "__future__"),
    ("ImportFrom", "pathlib"),
    ("ImportFrom", "ddc"),
    ("Assign", "NAME"),
    ("Assign", "DESCRIPTION"),
    ("Assign", "NUM_RECORDS"),
    ("Assign", "RANDOM_SEED"),
    ("Assign", "SOURCE_SHA256"),
    ("Assign", "FINGERPRINT"),
    ("Assign", "SPEC_DIR"),
    ("Assign", "PROVIDERS"),
    ("Assign", "RUN"),
    ("Assign", "SUBMIT"),
    ("FunctionDef", "load_config_builder"),
]
DD_MODULE_SHAPE = [
    *DDC_MODULE_SHAPE[:3],
    ("Import", "data_designer.config"),
    *DDC_MODULE_SHAPE[4:11],
    ("FunctionDef", "load_config_builder"),
]
#: Every name and attribute compiled code may mention; a user string can only ever be a Constant.
ALLOWED_NAMES = {
    "annotations", "Path", "ConfigBuilder", "dd", "builder", "source", "__file__", "NAME", "DESCRIPTION",
    "NUM_RECORDS", "RANDOM_SEED", "SOURCE_SHA256", "FINGERPRINT", "SPEC_DIR", "PROVIDERS", "RUN", "SUBMIT",
    "_default_models_builder", "BuilderConfigurationError", "default_model_settings", "defaults", "seed_source",
    "str",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "resolve", "parent", "add_column", "add_model_config", "add_constraint", "add_processor", "add_profiler",
    "add_tool_config", "with_seed_dataset", "DataDesignerConfigBuilder", "ModelConfig", "model_validate",
    "get_builtin_model_configs",
}  # fmt: skip


def _shape(tree: ast.Module) -> list[tuple[str, str]]:
    out = []
    for node in tree.body:
        if isinstance(node, ast.Expr):
            out.append(("Expr", "docstring"))
        elif isinstance(node, ast.ImportFrom):
            out.append(("ImportFrom", node.module or ""))
        elif isinstance(node, ast.Import):
            out.append(("Import", node.names[0].name))
        elif isinstance(node, ast.Assign):
            out.append(("Assign", ast.unparse(node.targets[0])))
        elif isinstance(node, ast.FunctionDef):
            out.append(("FunctionDef", node.name))
        else:
            out.append((type(node).__name__, ""))
    return out


def _check_code(text: str, shape: list[tuple[str, str]]) -> ast.Module:
    tree = ast.parse(text)
    assert _shape(tree) == shape
    function = tree.body[-1]
    assert isinstance(function, ast.FunctionDef)
    for stmt in function.body:
        assert isinstance(stmt, (ast.Expr, ast.Assign, ast.Return)), ast.dump(stmt)
        if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, ast.Constant):
            assert isinstance(stmt.value, ast.Call)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert names <= ALLOWED_NAMES, names - ALLOWED_NAMES
    assert attributes <= ALLOWED_ATTRIBUTES, attributes - ALLOWED_ATTRIBUTES
    return tree


def _yaml_text(spec: dict[str, Any]) -> str:
    text = yaml.safe_dump(spec, allow_unicode=False, width=10**6, sort_keys=False)
    assume(yaml.safe_load(text) == spec)  # the YAML library itself must round-trip the input
    return text


@settings(max_examples=60)
@given(hostile_spec())
def test_ddc_module_returns_every_string_exactly_and_runs_no_injected_code(case: Any) -> None:
    spec, strings = case
    text = build(_yaml_text(spec), target="ddc").text
    _check_code(text, DDC_MODULE_SHAPE)
    namespace: dict[str, Any] = {"__file__": "/nonexistent/compiled.py", "__name__": "compiled"}
    exec(compile(text, "compiled.py", "exec"), namespace)
    built = namespace["load_config_builder"]().build()
    assert strings_of(built) == strings
    assert namespace["NAME"] == strings["name"]
    assert namespace["DESCRIPTION"] == strings["description"]


@settings(max_examples=30)
@given(hostile_spec())
def test_data_designer_module_holds_strings_only_as_constants(case: Any) -> None:
    spec, strings = case
    text = build(_yaml_text(spec), target="data-designer").text
    # a spec without model_configs gets the helper that supplies the official default aliases
    shape = DD_MODULE_SHAPE if spec.get("model_configs") else [*DD_MODULE_SHAPE[:-1], ("FunctionDef",
             "_default_models_builder"), DD_MODULE_SHAPE[-1]]  # fmt: skip
    tree = _check_code(text, shape)
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for key in ("name", "description", "value_a", "score_description", "option"):
        assert strings[key] in constants


@settings(max_examples=25)
@given(hostile_spec())
def test_compiled_module_loads_back_through_the_api_with_the_same_strings(case: Any) -> None:
    """`ddc run module.py` reads the module through ddc.api.load: the strings must survive that path too."""
    import tempfile
    from pathlib import Path

    from ddc.api import load

    spec, strings = case
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "compiled.py"
        module.write_text(build(_yaml_text(spec), target="ddc").text, encoding="utf-8")
        loaded = load(module)
    assert strings_of(loaded.spec) == strings


def test_c1_control_characters_survive_the_module_round_trip(tmp_path: Any) -> None:
    from ddc.api import load

    column = {"name": "a\x80b\x9f\ufffe", "column_type": "sampler", "sampler_type": "uuid"}
    module = tmp_path / "compiled.py"
    module.write_text(build(yaml.safe_dump({"columns": [column]}, allow_unicode=False), target="ddc").text)
    assert load(module).spec.columns[0].name == "a\x80b\x9f\ufffe"
