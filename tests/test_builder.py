"""`ddc.ConfigBuilder`: the official builder's method names over ddc's spec models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel

from ddc import ConfigBuilder, SpecError
from ddc.api import load
from ddc.compile.canonical import canonical_json
from ddc.spec.columns import ExpressionColumn
from ddc.spec.inference import EmbeddingParams, ModelConfig
from ddc.spec.samplers import UniformParams

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ROOT / "examples" / "people.ddc.yaml"
UNIFORM = {"name": "x", "column_type": "sampler", "sampler_type": "uniform", "params": {"low": 0, "high": 1}}


def test_has_the_official_builder_methods() -> None:
    official = {
        "add_model_config", "delete_model_config", "add_tool_config", "add_column", "delete_column",
        "add_constraint", "add_processor", "add_profiler", "with_seed_dataset", "get_column_config",
        "get_column_configs", "build", "from_config", "write_config",
    }  # fmt: skip
    assert official <= set(dir(ConfigBuilder))


def test_columns_from_keywords_dicts_and_models_build_a_spec() -> None:
    builder = ConfigBuilder(name="demo", num_records=3)
    builder.add_column(name="x", column_type="sampler", sampler_type="uniform", params={"low": 0, "high": 1})
    builder.add_column({"name": "y", "column_type": "expression", "expr": "{{ x }}"})
    builder.add_column(ExpressionColumn(name="z", column_type="expression", expr="{{ y }}!"))
    spec = builder.build()
    assert [c.name for c in spec.columns] == ["x", "y", "z"]
    assert (spec.name, spec.num_records) == ("demo", 3)


def test_replacing_a_column_keeps_its_position() -> None:
    builder = ConfigBuilder().add_column(UNIFORM).add_column({"name": "y", "column_type": "expression", "expr": "1"})
    builder.add_column({**UNIFORM, "params": {"low": 5, "high": 6}})
    spec = builder.build()
    assert [c.name for c in spec.columns] == ["x", "y"]
    assert spec.columns[0].params.low == 5


def test_processors_are_replaced_by_name() -> None:
    builder = ConfigBuilder().add_column(UNIFORM).add_column({**UNIFORM, "name": "w"})
    builder.add_processor(processor_type="drop_columns", name="d", column_names=["x"])
    builder.add_processor(processor_type="drop_columns", name="d", column_names=["w"])
    assert [p.column_names for p in builder.build().processors] == [["w"]]
    assert builder.drop_column_names() == ["w"]


def test_constraints_accept_keywords_and_legacy_dicts() -> None:
    builder = ConfigBuilder().add_column(UNIFORM).add_column({**UNIFORM, "name": "w"})
    builder.add_constraint(constraint_type="scalar_inequality", target_column="x", operator="lt", rhs=0.5)
    builder.add_constraint({"target_column": "w", "operator": "gt", "rhs": "x"})
    kinds = [c.constraint_type for c in builder.build().constraints]
    assert kinds == ["scalar_inequality", "column_inequality"]


def test_duplicate_model_alias_is_refused() -> None:
    builder = ConfigBuilder().add_model_config({"alias": "m", "model": "a/b", "provider": "nvidia"})
    with pytest.raises(SpecError, match="model alias 'm' already exists"):
        builder.add_model_config({"alias": "m", "model": "a/c", "provider": "nvidia"})


def test_build_errors_name_the_json_path() -> None:
    builder = ConfigBuilder().add_column({**UNIFORM, "params": {"low": 2, "high": 1}})
    with pytest.raises(SpecError) as info:
        builder.build()
    assert info.value.diagnostics[0].path == "columns[0].params"
    assert "low must not be above high" in str(info.value)


def test_add_column_without_a_type_is_refused() -> None:
    with pytest.raises(SpecError, match="name= and column_type="):
        ConfigBuilder().add_column(name="x")


def test_seed_dataset_with_strategies() -> None:
    builder = ConfigBuilder().add_column(UNIFORM)
    builder.with_seed_dataset(
        {"seed_type": "hf", "path": "datasets/a/b/c.parquet"},
        sampling_strategy="shuffle",
        selection_strategy={"start": 0, "end": 9},
    )
    seed = builder.build().seed_config
    assert (seed.source.seed_type, seed.sampling_strategy, seed.selection_strategy.end) == ("hf", "shuffle", 9)


def test_from_config_of_a_spec_file_builds_the_same_spec() -> None:
    builder = ConfigBuilder.from_config(PEOPLE)
    assert canonical_json(builder.build()) == canonical_json(load(PEOPLE).spec)
    assert builder.base_dir == PEOPLE.parent


def test_from_config_accepts_the_wrapped_dict_form() -> None:
    wrapped = {"data_designer": {"columns": [UNIFORM]}, "library_version": "0.9.6"}
    assert [c.name for c in ConfigBuilder.from_config(wrapped).build().columns] == ["x"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_write_config_round_trips(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"people{suffix}"
    ConfigBuilder.from_config(PEOPLE).write_config(path)
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if suffix == ".yaml" else json.loads(text)
    assert list(data)[:2] == ["name", "description"]  # extensions first, then the official fields
    assert canonical_json(load(path).spec) == canonical_json(load(PEOPLE).spec)


def test_write_config_refuses_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"writes \.yaml, \.yml or \.json"):
        ConfigBuilder.from_config(PEOPLE).write_config(tmp_path / "people.toml")
    assert not (tmp_path / "people.toml").exists()


def test_api_load_accepts_a_builder_and_runs_semantic_checks() -> None:
    builder = ConfigBuilder().add_column({"name": "y", "column_type": "expression", "expr": "{{ missing }}"})
    with pytest.raises(SpecError, match="unknown column 'missing'"):
        load(builder)


# --- objects of the official package: stand-ins, as it is not installed here -------------------------


class OfficialUniformParams(BaseModel):
    low: float
    high: float


class OfficialSamplerColumnConfig(BaseModel):
    """Like every official config, its discriminator has a default, so its author never sets it."""

    name: str
    column_type: Literal["sampler"] = "sampler"
    sampler_type: str
    params: OfficialUniformParams


class OfficialLocalFileSeedSource(BaseModel):
    seed_type: Literal["local"] = "local"
    path: str


class OfficialEmbeddingInferenceParams(BaseModel):
    generation_type: Literal["embedding"] = "embedding"
    max_parallel_requests: int = 4


class OfficialModelConfig(BaseModel):
    alias: str
    model: str
    provider: str
    inference_parameters: OfficialEmbeddingInferenceParams


def test_an_official_column_keeps_the_discriminator_it_left_at_its_default() -> None:
    column = OfficialSamplerColumnConfig(name="a", sampler_type="uniform", params=OfficialUniformParams(low=0, high=1))
    assert ConfigBuilder().add_column(column).build().columns[0].column_type == "sampler"


def test_an_official_seed_source_keeps_its_seed_type() -> None:
    builder = ConfigBuilder().add_column(UNIFORM)
    builder.with_seed_dataset(OfficialLocalFileSeedSource(path="people.csv"))
    assert builder.build().seed_config.source.seed_type == "local"


def test_an_official_embedding_model_stays_an_embedding_model() -> None:
    model = OfficialModelConfig(
        alias="e", model="nv-embed", provider="nvidia", inference_parameters=OfficialEmbeddingInferenceParams()
    )
    spec = ConfigBuilder(model_configs=[model]).add_column(UNIFORM).build()
    assert spec.model_configs[0].inference_parameters.generation_type == "embedding"


def test_ddc_models_give_only_what_was_set_and_their_discriminators() -> None:
    model = ModelConfig(alias="e", model="nv-embed", provider="nvidia", inference_parameters=EmbeddingParams())
    builder = ConfigBuilder(model_configs=[model])
    assert builder.to_dict()["model_configs"] == [
        {
            "alias": "e",
            "model": "nv-embed",
            "inference_parameters": {"generation_type": "embedding"},
            "provider": "nvidia",
        }
    ]


@pytest.mark.parametrize("params", [OfficialUniformParams(low=0, high=1), UniformParams(low=0, high=1)])
def test_keyword_values_may_be_models(params: BaseModel) -> None:
    builder = ConfigBuilder().add_column(name="x", column_type="sampler", sampler_type="uniform", params=params)
    assert builder.build().columns[0].params.high == 1


JUDGE = {"name": "verdict", "column_type": "llm-judge", "prompt": "Rate {{ x }}", "model_alias": "chat",
         "scores": [{"name": "quality", "description": "how good", "options": {1: "bad", 2: "ok"}}]}  # fmt: skip
CHAT = {"alias": "chat", "model": "a/b", "provider": "nvidia"}


def test_judge_option_keys_stay_ints_through_from_config() -> None:
    spec = ConfigBuilder(model_configs=[CHAT]).add_column(UNIFORM).add_column(JUDGE).build()
    rebuilt = ConfigBuilder.from_config(spec).build()
    assert rebuilt.columns[1].scores[0].options == {1: "bad", 2: "ok"}


def test_write_config_to_yaml_keeps_judge_option_keys_ints(tmp_path: Path) -> None:
    ConfigBuilder(model_configs=[CHAT]).add_column(UNIFORM).add_column(JUDGE).write_config(tmp_path / "j.yaml")
    data = yaml.safe_load((tmp_path / "j.yaml").read_text(encoding="utf-8"))
    assert data["columns"][1]["scores"][0]["options"] == {1: "bad", 2: "ok"}


def test_from_config_of_a_dict_keeps_exponent_floats_and_int_keys() -> None:
    noise = {**UNIFORM, "sampler_type": "scipy", "params": {"dist_name": "norm", "dist_params": {"scale": 1e-05}}}
    spec = ConfigBuilder.from_config({"model_configs": [CHAT], "columns": [noise, JUDGE]}).build()
    assert spec.columns[0].params.dist_params == {"scale": 1e-05}
    assert spec.columns[1].scores[0].options == {1: "bad", 2: "ok"}
