"""`plan_spec`: dependencies resolved, columns in a deterministic topological order, nothing mutated."""

from __future__ import annotations

import pytest

from ddc.compile.plan import Plan, dropped_columns, plan_spec
from ddc.errors import SpecError
from ddc.spec.load import load_spec

SPEC = """
columns:
  - {name: summary, column_type: expression, expr: "{{ story }} / {{ story__trace }}"}
  - name: story
    column_type: llm-text
    model_alias: nvidia-text
    prompt: "{{ topic }} {{ age }}"
    with_trace: all_messages
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 1, high: 9}}
  - {name: topic, column_type: sampler, sampler_type: category, params: {values: [a, b]}}
  - name: sub
    column_type: sampler
    sampler_type: subcategory
    params: {category: topic, values: {a: [x], b: [y]}}
  - {name: lower, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 5}}
  - {name: hidden, column_type: expression, expr: "{{ age }}", drop: true}
constraints:
  - {target_column: age, operator: gt, rhs: lower}
processors:
  - {name: d, processor_type: drop_columns, column_names: ["sum*"]}
"""


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_spec(load_spec(SPEC))


def test_samplers_are_ordered_by_their_own_dag(plan: Plan) -> None:
    assert [c.name for c in plan.samplers] == ["topic", "sub", "lower", "age"]


def test_other_columns_follow_their_references(plan: Plan) -> None:
    assert [c.name for c in plan.columns] == ["story", "summary", "hidden"]


def test_side_effect_references_resolve_to_their_producer(plan: Plan) -> None:
    summary = plan.column("summary")
    assert summary.depends_on == ("story",)
    assert plan.column("story").side_effects == ("story__trace",)


def test_column_inequalities_are_sampler_edges(plan: Plan) -> None:
    assert plan.column("age").depends_on == ("lower",)


def test_output_columns_keep_spec_order_without_dropped_ones(plan: Plan) -> None:
    assert plan.output_columns == ("story", "age", "topic", "sub", "lower")
    assert dropped_columns(plan.spec) == {"summary", "hidden"}


def test_defaults_for_run_settings(plan: Plan) -> None:
    assert (plan.num_records, plan.random_seed, plan.run.format) == (10, None, "parquet")


def test_planning_does_not_mutate_the_spec() -> None:
    loaded = load_spec(SPEC)
    before = loaded.spec.model_dump(mode="json")
    plan_spec(loaded)
    assert loaded.spec.model_dump(mode="json") == before


def test_order_is_the_same_every_time() -> None:
    orders = {tuple(c.name for c in plan_spec(load_spec(SPEC)).all_columns) for _ in range(5)}
    assert len(orders) == 1


def test_a_cycle_names_its_path() -> None:
    text = (
        "columns:\n  - {name: a, column_type: expression, expr: '{{ c }}'}\n"
        "  - {name: b, column_type: expression, expr: '{{ a }}'}\n"
        "  - {name: c, column_type: expression, expr: '{{ b }}'}\n"
    )
    with pytest.raises(SpecError) as info:
        plan_spec(load_spec(text, check=False))
    diag = info.value.diagnostics[0]
    assert diag.message == "dependency cycle: a -> c -> b -> a"
    assert (diag.code, diag.span.line) == ("cycle", 2)


def test_a_sampler_cycle_through_constraints_is_reported() -> None:
    text = (
        "columns:\n  - {name: a, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
        "  - {name: b, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}\n"
        "constraints:\n  - {target_column: a, operator: lt, rhs: b}\n  - {target_column: b, operator: lt, rhs: a}\n"
    )
    with pytest.raises(SpecError, match="dependency cycle: a -> b -> a"):
        plan_spec(load_spec(text, check=False))
