"""Canonical JSON and fingerprints: lossless, deterministic, and sensitive only to data-relevant values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from ddc.api import load, validate
from ddc.cli import main
from ddc.compile.canonical import canonical_json, dd_config, fingerprint
from ddc.spec.document import CONFIG_FIELDS, Spec
from ddc.spec.load import load_spec
from tests.compile.strategies import hostile_spec

ROOT = Path(__file__).resolve().parents[2]
VALID = sorted((ROOT / "examples").glob("*.ddc.yaml")) + sorted((Path(__file__).parent / "valid").glob("*.yaml"))
VALID_IDS = [p.name for p in VALID]

BASE = """
name: base
random_seed: 3
model_configs:
  - alias: m
    model: a/b
    provider: nvidia
    inference_parameters: {temperature: 0.5, max_parallel_requests: 4}
columns:
  - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}
  - {name: y, column_type: llm-text, model_alias: m, prompt: "About {{ x }}"}
"""


def _fp(text: str) -> str:
    return fingerprint(load_spec(text).spec)


def _has_int_judge_keys(spec: Spec) -> bool:
    return any(
        isinstance(key, int) for col in spec.columns for score in getattr(col, "scores", ()) for key in score.options
    )


@pytest.mark.parametrize("path", VALID, ids=VALID_IDS)
def test_canonical_json_round_trips_to_an_equal_spec(path: Path) -> None:
    spec = load(path).spec
    text = canonical_json(spec)
    again = Spec.model_validate_json(text)
    assert canonical_json(again) == text
    if not _has_int_judge_keys(spec):
        assert again == spec


@pytest.mark.parametrize("path", VALID, ids=VALID_IDS)
def test_canonical_json_has_sorted_keys_and_no_whitespace(path: Path) -> None:
    text = canonical_json(load(path).spec)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=40)
@given(hostile_spec())
def test_canonical_json_round_trips_arbitrary_strings(case: Any) -> None:
    spec = Spec.model_validate(case[0])
    text = canonical_json(spec)
    assert canonical_json(Spec.model_validate_json(text)) == text


def test_key_order_in_the_spec_does_not_change_canonical_json() -> None:
    a = "columns:\n  - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
    b = "columns:\n  - {params: {high: 1, low: 0}, sampler_type: uniform, column_type: sampler, name: x}\n"
    assert canonical_json(load_spec(a).spec) == canonical_json(load_spec(b).spec)


def test_judge_option_keys_are_strings_in_canonical_form() -> None:
    judge = (
        "columns:\n  - {name: x, column_type: sampler, sampler_type: uuid}\n"
        "  - name: j\n    column_type: llm-judge\n    model_alias: nvidia-text\n    prompt: '{{ x }}'\n"
        "    scores: [{name: s, description: d, options: OPTIONS}]\n"
    )
    int_keys = load_spec(judge.replace("OPTIONS", "{1: bad, 2: good}")).spec
    str_keys = load_spec(judge.replace("OPTIONS", "{'1': bad, '2': good}")).spec
    options = json.loads(canonical_json(int_keys))["columns"][1]["scores"][0]["options"]
    assert options == {"1": "bad", "2": "good"}
    assert canonical_json(int_keys) == canonical_json(str_keys)
    assert fingerprint(int_keys) == fingerprint(str_keys)
    assert dd_config(int_keys) == dd_config(str_keys)


@pytest.mark.parametrize("path", VALID, ids=VALID_IDS)
def test_dd_config_holds_exactly_the_official_fields(path: Path) -> None:
    assert list(dd_config(load(path).spec)) == list(CONFIG_FIELDS)


def test_dd_config_replaces_a_query_seed_with_its_compiled_source() -> None:
    spec = load(ROOT / "examples" / "reviews-seed-join.ddc.yaml").spec
    compiled = {"seed_type": "local", "path": "/tmp/seed.parquet"}
    config = dd_config(spec, seed_source=compiled)
    assert config["seed_config"]["source"] == compiled
    assert config["seed_config"]["sampling_strategy"] == "shuffle"


class TestFingerprint:
    def test_is_a_sha256(self) -> None:
        value = _fp(BASE)
        assert value.startswith("sha256:")
        assert len(value) == len("sha256:") + 64

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("high: 1}", "high: 2}"),
            ("random_seed: 3", "random_seed: 4"),
            ("About {{ x }}", "Tell me about {{ x }}"),
            ("temperature: 0.5", "temperature: 0.6"),
            ("model: a/b", "model: a/c"),
        ],
        ids=["sampler-param", "random-seed", "prompt", "temperature", "model"],
    )
    def test_changes_when_a_data_relevant_value_changes(self, old: str, new: str) -> None:
        assert old in BASE
        assert _fp(BASE.replace(old, new)) != _fp(BASE)

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("max_parallel_requests: 4", "max_parallel_requests: 32"),
            ("max_parallel_requests: 4", "max_parallel_requests: 4, timeout: 120"),
            ("name: base", "name: renamed\ndescription: other words"),
            ("random_seed: 3", "random_seed: 3\nrun: {batch_size: 7, format: csv}\nsubmit: {workspace: elsewhere}"),
            ("provider: nvidia", "provider: nvidia\n    skip_health_check: true"),
        ],
        ids=["max-parallel-requests", "timeout", "name-description", "run-submit", "skip-health-check"],
    )
    def test_ignores_runtime_only_values(self, old: str, new: str) -> None:
        assert old in BASE
        assert _fp(BASE.replace(old, new)) == _fp(BASE)

    def test_model_config_order_does_not_matter(self) -> None:
        two = BASE.replace("model_configs:\n", "model_configs:\n  - {alias: z, model: q/r, provider: openai}\n")
        swapped = two.replace("  - {alias: z, model: q/r, provider: openai}\n", "") + ""
        swapped = swapped.replace("columns:\n", "  - {alias: z, model: q/r, provider: openai}\ncolumns:\n")
        assert _fp(two) == _fp(swapped)

    def test_validate_reports_the_same_fingerprint(self) -> None:
        path = ROOT / "examples" / "people.ddc.yaml"
        assert validate(str(path)).fingerprint == fingerprint(load(path).spec)

    def test_cli_prints_it(self, capsys: pytest.CaptureFixture[str]) -> None:
        path = ROOT / "examples" / "people.ddc.yaml"
        main(["fingerprint", str(path)])
        assert capsys.readouterr().out.strip() == fingerprint(load(path).spec)

    def test_stable_across_processes_and_hash_seeds(self, subprocess_env: dict[str, str]) -> None:
        spec = str(ROOT / "examples" / "llm-reviews.ddc.yaml")
        outputs = {
            subprocess.run(
                [sys.executable, "-m", "ddc", "fingerprint", spec],
                env={**subprocess_env, "PYTHONHASHSEED": seed},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for seed in ("0", "99")
        }
        assert len(outputs) == 1


def test_yaml_and_json_forms_of_a_spec_share_canonical_json(tmp_path: Path) -> None:
    source = ROOT / "examples" / "people.ddc.yaml"
    as_json = tmp_path / "people.json"
    as_json.write_text(json.dumps(yaml.safe_load(source.read_text(encoding="utf-8"))), encoding="utf-8")
    assert canonical_json(load(as_json).spec) == canonical_json(load(source).spec)
