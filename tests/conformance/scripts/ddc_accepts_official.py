"""Run with the conformance python: configs written by the official builder load in ddc unchanged.

argv: a scratch directory. Builds official configs from Python objects, writes them with write_config
(.yaml and .json, plus a legacy form without constraint_type), loads each with ddc.api.load, and prints
one JSON line per file: {"file", "status", "detail"}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import data_designer.config as dd

from ddc.api import load
from ddc.compile.canonical import dd_config


def official_builder() -> dd.DataDesignerConfigBuilder:
    Path("people.csv").write_text("name,city\nAda,London\nLin,Taipei\n", encoding="utf-8")
    models = [
        dd.ModelConfig(
            alias="chat",
            model="meta/llama-3.1-8b-instruct",
            provider="nvidia",
            inference_parameters=dd.ChatCompletionInferenceParams(
                temperature=dd.UniformDistribution(params=dd.UniformDistributionParams(low=0.2, high=0.8)),
                top_p=dd.ManualDistribution(params=dd.ManualDistributionParams(values=[0.9, 0.95], weights=[1, 1])),
                max_tokens=256,
                max_parallel_requests=2,
            ),
        ),
        dd.ModelConfig(
            alias="embed",
            model="nvidia/nv-embed",
            provider="nvidia",
            inference_parameters=dd.EmbeddingInferenceParams(encoding_format="float", dimensions=128),
        ),
    ]
    models.append(
        dd.ModelConfig(
            alias="painter",
            model="some/image-model",
            provider="openai",
            inference_parameters=dd.ImageInferenceParams(extra_body={"size": "512x512"}),
            skip_health_check=True,
        )
    )
    tools = [dd.ToolConfig(tool_alias="search", providers=["web"], allow_tools=["find"], timeout_sec=5.0)]
    b = dd.DataDesignerConfigBuilder(model_configs=models, tool_configs=tools)
    b.with_seed_dataset(
        dd.LocalFileSeedSource(path="people.csv"),
        sampling_strategy="shuffle",
        selection_strategy=dd.IndexRange(start=0, end=1),
    )
    S = dd.SamplerColumnConfig
    b.add_column(
        S(name="region", sampler_type="category", params=dd.CategorySamplerParams(values=["EU", "US"], weights=[1, 2]))
    )
    b.add_column(
        S(
            name="country",
            sampler_type="subcategory",
            params=dd.SubcategorySamplerParams(category="region", values={"EU": ["FR", "DE"], "US": ["US"]}),
        )
    )
    b.add_column(
        S(
            name="score",
            sampler_type="uniform",
            params=dd.UniformSamplerParams(low=0, high=10, decimal_places=1),
            conditional_params={"region == 'US'": dd.UniformSamplerParams(low=5, high=10)},
        )
    )
    b.add_column(S(name="low", sampler_type="uniform", params=dd.UniformSamplerParams(low=0, high=5)))
    b.add_column(
        S(name="height", sampler_type="gaussian", params=dd.GaussianSamplerParams(mean=170, stddev=8), convert_to="int")
    )
    b.add_column(S(name="flag", sampler_type="bernoulli", params=dd.BernoulliSamplerParams(p=0.3)))
    b.add_column(
        S(
            name="spend",
            sampler_type="bernoulli_mixture",
            params=dd.BernoulliMixtureSamplerParams(p=0.5, dist_name="expon", dist_params={"scale": 3}),
        )
    )
    b.add_column(S(name="clicks", sampler_type="binomial", params=dd.BinomialSamplerParams(n=10, p=0.2)))
    b.add_column(S(name="visits", sampler_type="poisson", params=dd.PoissonSamplerParams(mean=3)))
    b.add_column(
        S(
            name="lat",
            sampler_type="scipy",
            params=dd.ScipySamplerParams(dist_name="norm", dist_params={"loc": 0, "scale": 1}),
        )
    )
    b.add_column(
        S(name="joined", sampler_type="datetime", params=dd.DatetimeSamplerParams(start="2020-01-01", end="2021-01-01"))
    )
    b.add_column(
        S(
            name="renewed",
            sampler_type="timedelta",
            params=dd.TimeDeltaSamplerParams(dt_min=1, dt_max=30, reference_column_name="joined"),
        )
    )
    b.add_column(S(name="uid", sampler_type="uuid", params=dd.UUIDSamplerParams(prefix="u-", short_form=True)))
    b.add_column(
        S(name="fake", sampler_type="person_from_faker", params=dd.PersonFromFakerSamplerParams(locale="en_US"))
    )
    b.add_column(dd.ExpressionColumnConfig(name="greeting", expr="Hi {{ name }} from {{ city }} ({{ country }})"))
    b.add_column(dd.ExpressionColumnConfig(name="tall", expr="{{ height > 180 }}", dtype="bool"))
    b.add_column(
        dd.LLMTextColumnConfig(
            name="story", prompt="A story about {{ name }}", model_alias="chat", system_prompt="Short."
        )
    )
    b.add_column(
        dd.LLMCodeColumnConfig(name="code", prompt="Code for {{ name }}", model_alias="chat", code_lang="python")
    )
    b.add_column(
        dd.LLMStructuredColumnConfig(
            name="facts",
            prompt="Facts about {{ city }}",
            model_alias="chat",
            output_format={"type": "object", "properties": {"fact": {"type": "string"}}},
        )
    )
    b.add_column(
        dd.LLMJudgeColumnConfig(
            name="judge",
            prompt="Judge {{ story }}",
            model_alias="chat",
            scores=[dd.Score(name="quality", description="Overall", options={1: "poor", 3: "fine", 5: "great"})],
        )
    )
    b.add_column(
        dd.ValidationColumnConfig(
            name="lint",
            target_columns=["code"],
            validator_type="code",
            validator_params=dd.CodeValidatorParams(code_lang="python"),
        )
    )
    b.add_column(dd.EmbeddingColumnConfig(name="vec", target_column="story", model_alias="embed"))
    b.add_column(
        S(name="persona", sampler_type="person", params=dd.PersonSamplerParams(locale="en_US", age_range=[30, 40]))
    )
    b.add_column(dd.ImageColumnConfig(name="picture", prompt="A postcard of {{ city }}", model_alias="painter"))
    b.add_column(
        dd.LLMTextColumnConfig(
            name="caption",
            prompt="Caption for {{ city }}",
            model_alias="chat",
            multi_modal_context=[dd.ImageContext(column_name="picture", data_type="url")],
            skip=dd.SkipConfig(when="{{ flag == 1 }}", value="skipped"),
            tool_alias="search",
            with_trace="last_message",
        )
    )
    b.add_column(
        dd.ValidationColumnConfig(
            name="remote_ok",
            target_columns=["story"],
            validator_type="remote",
            validator_params=dd.RemoteValidatorParams(endpoint_url="http://127.0.0.1:9/validate", max_retries=1),
        )
    )
    b.add_constraint(dd.ScalarInequalityConstraint(target_column="height", operator="gt", rhs=150))
    b.add_constraint(dd.ColumnInequalityConstraint(target_column="score", operator="gt", rhs="low"))
    b.add_processor(dd.DropColumnsProcessorConfig(name="drop_uid", column_names=["uid"]))
    b.add_processor(
        dd.SchemaTransformProcessorConfig(
            name="chat", template={"messages": [{"role": "user", "content": "{{ story }}"}]}
        )
    )
    b.add_profiler(dd.JudgeScoreProfilerConfig(model_alias="chat"))
    return b


def compare(path: Path, expected: dict) -> dict:
    loaded = load(path)
    got = dd_config(loaded.spec)
    if got != expected:
        diffs = [k for k in expected if got.get(k) != expected.get(k)]
        return {"status": "fail", "detail": f"differs in {diffs}: " + json.dumps([got, expected])[:3000]}
    return {"status": "ok", "detail": ""}


def main() -> None:
    os.chdir(sys.argv[1])
    builder = official_builder()
    expected = builder.build().model_dump(mode="json")
    files = []
    for name in ("official.yaml", "official.json"):
        builder.write_config(name)
        files.append((Path(name), expected))
    # Legacy constraints (older configs have no constraint_type): the official loader infers it.
    data = json.loads(Path("official.json").read_text(encoding="utf-8"))
    for constraint in data["data_designer"]["constraints"]:
        constraint.pop("constraint_type")
    Path("legacy.json").write_text(json.dumps(data), encoding="utf-8")
    legacy = dd.DataDesignerConfigBuilder.from_config("legacy.json").build().model_dump(mode="json")
    files.append((Path("legacy.json"), legacy))
    # The bare form (the inner config only) is accepted as well.
    Path("bare.json").write_text(json.dumps(data["data_designer"]), encoding="utf-8")
    files.append((Path("bare.json"), legacy))
    for path, want in files:
        try:
            result = compare(path, want)
        except Exception as exc:
            result = {"status": "fail", "detail": f"{type(exc).__name__}: {exc}"[:3000]}
        print(json.dumps({"file": path.name, **result}), flush=True)


if __name__ == "__main__":
    main()
