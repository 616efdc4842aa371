"""ddc's column_statistics in metadata.json are what the official profiler writes: its
``DatasetProfilerResults`` validates them for every column type and ``to_report()`` renders them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ddc.compile.plan import plan_spec
from ddc.engine.runner import run
from ddc.engine.stats import column_statistics
from ddc.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]

SAMPLERS = """
name: every-sampler
columns:
  - {name: region, column_type: sampler, sampler_type: category, params: {values: [EU, US], weights: [1, 3]}}
  - name: country
    column_type: sampler
    sampler_type: subcategory
    params: {category: region, values: {EU: [FR, DE], US: [CA, NY]}}
  - {name: score, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}}
  - {name: height, column_type: sampler, sampler_type: gaussian, params: {mean: 170, stddev: 8}, convert_to: int}
  - {name: churned, column_type: sampler, sampler_type: bernoulli, params: {p: 0.2}}
  - name: spend
    column_type: sampler
    sampler_type: bernoulli_mixture
    params: {p: 0.6, dist_name: expon, dist_params: {scale: 30}}
  - {name: clicks, column_type: sampler, sampler_type: binomial, params: {n: 10, p: 0.3}}
  - {name: visits, column_type: sampler, sampler_type: poisson, params: {mean: 2.5}}
  - name: latency
    column_type: sampler
    sampler_type: scipy
    params: {dist_name: lognorm, dist_params: {s: 0.5, scale: 100}, decimal_places: 2}
  - name: joined
    column_type: sampler
    sampler_type: datetime
    params: {start: "2020-01-01", end: "2024-12-31", unit: D}
  - name: renewed
    column_type: sampler
    sampler_type: timedelta
    params: {dt_min: 30, dt_max: 365, reference_column_name: joined, unit: D}
  - {name: id, column_type: sampler, sampler_type: uuid, params: {prefix: "u-", short_form: true}}
  - {name: fake, column_type: sampler, sampler_type: person_from_faker, params: {locale: en_US}}
  - {name: label, column_type: expression, expr: "{{ region }}-{{ country }}"}
seed_config:
  source: {seed_type: local, path: seed.csv}
"""


def _profile(run_script: Any, tmp_path: Path, stats: list[dict[str, Any]], n: int) -> dict[str, Any]:
    path = tmp_path / "stats.json"
    path.write_text(json.dumps({"num_records": n, "target_num_records": n, "column_statistics": stats}))
    (result,) = run_script("official_profiles_ddc.py", str(path), str(tmp_path))
    return result


def test_statistics_of_every_sampler_seed_and_expression_column_validate(run_script: Any, tmp_path: Path) -> None:
    (tmp_path / "seed.csv").write_text("city,stars\n" + "".join(f"c{i % 4},{i % 5}\n" for i in range(40)))
    (tmp_path / "spec.yaml").write_text(SAMPLERS)
    result = run(tmp_path / "spec.yaml", num_records=60, output_dir=tmp_path / "out", seed=3)
    outcome = _profile(run_script, tmp_path, result.metadata["column_statistics"], 60)
    assert outcome["status"] == "ok", outcome["detail"]
    assert set(outcome["types"]) >= {
        "SamplerColumnStatistics",
        "SeedDatasetColumnStatistics",
        "ExpressionColumnStatistics",
    }


def test_statistics_of_every_model_column_type_validate(run_script: Any, tmp_path: Path) -> None:
    plan = plan_spec(load_spec(ROOT / "tests" / "compile" / "valid" / "llm-everything.ddc.yaml"))
    n = 3
    table = pa.table(
        {
            "topic": ["cats", "dogs", "cats"],
            "essay": ["Cats purr.", "Dogs bark.", None],
            "snippet": ["print(1)", "x = 2", "pass"],
            "lint": [{"is_valid": True, "error_messages": ""}] * 2 + [{"is_valid": False, "error_messages": "E1"}],
            "remote_check": [{"is_valid": True}] * n,
            "facts": [{"facts": ["a", "b"]}, {"facts": []}, None],
            "rating": [{"clarity": {"score": 3, "reasoning": "clear"}, "tone": {"score": "low", "reasoning": "x"}}] * n,
            "vector": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]],
            "picture": ["http://127.0.0.1/a.png"] * n,
            "caption": ["A cat.", "no caption", "A cat."],
        }
    )
    stats = column_statistics(plan, table=table)
    outcome = _profile(run_script, tmp_path, stats, n)
    assert outcome["status"] == "ok", outcome["detail"]
    assert set(outcome["types"]) >= {
        "LLMTextColumnStatistics",
        "LLMCodeColumnStatistics",
        "LLMStructuredColumnStatistics",
        "LLMJudgedColumnStatistics",
        "ValidationColumnStatistics",
        "GeneralColumnStatistics",
    }


@pytest.mark.parametrize("column", ["vector", "picture"])
def test_types_the_official_profiler_does_not_know_are_general_and_keep_their_ddc_type(column: str) -> None:
    plan = plan_spec(load_spec(ROOT / "tests" / "compile" / "valid" / "llm-everything.ddc.yaml"))
    table = pa.table({"vector": [[0.1]], "picture": ["x"]})
    stats = {s["column_name"]: s for s in column_statistics(plan, table=table)}
    assert (stats[column]["column_type"], stats[column]["ddc_column_type"]) == (
        "general",
        {"vector": "embedding", "picture": "image"}[column],
    )
