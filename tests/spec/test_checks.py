"""Semantic checks beyond the schema: references, templates, models, samplers, processors, seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.errors import SpecError
from ddc.spec.checks import check_spec
from ddc.spec.load import load_spec

X = "  - {name: x, column_type: sampler, sampler_type: category, params: {values: [a, b]}}\n"


def findings(text: str, base: Path | None = None) -> list[tuple[str, str, str]]:
    """(severity, code, path) of every finding, in source order."""
    if base is not None:
        path = base / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_spec(path, check=False)
    else:
        loaded = load_spec(text, check=False)
    return [(d.severity, d.code, d.path) for d in check_spec(loaded)]


def errors(text: str, base: Path | None = None) -> list[tuple[str, str]]:
    return [(code, path) for severity, code, path in findings(text, base) if severity == "error"]


def llm(name: str, prompt: str, extra: str = "") -> str:
    return f"  - {{name: {name}, column_type: llm-text, model_alias: nvidia-text, prompt: '{prompt}'{extra}}}\n"


def test_a_valid_spec_has_no_findings() -> None:
    assert findings("columns:\n" + X + llm("y", "About {{ x }}")) == []


def test_single_braces_in_a_prompt_are_a_warning() -> None:
    found = findings("columns:\n" + X + llm("y", "About {x}"))
    assert ("warning", "warning", "columns[1].prompt") in found


def test_single_braces_beside_jinja_are_literal_text() -> None:
    assert findings("columns:\n" + X + llm("y", "Set {a} of {{ x }}")) == []


def test_prompt_without_references_is_a_warning() -> None:
    assert findings("columns:\n" + X + llm("y", "Say hi")) == [
        ("warning", "prompt-without-references", "columns[1].prompt")
    ]


def test_side_effect_columns_can_be_referenced() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}", ", with_trace: all_messages") + llm("z", "{{ y__trace }}")
    assert errors(text) == []


def test_a_column_named_like_a_side_effect_collides() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}", ", extract_reasoning_content: true")
    text += "  - {name: y__reasoning_content, column_type: expression, expr: '{{ x }}'}\n"
    assert errors(text) == [("duplicate-name", "columns[2].name")]


def test_skip_when_cannot_reference_its_own_column() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}", ", skip: {when: '{{ y == 1 }}'}")
    assert errors(text) == [("invalid", "columns[1].skip.when")]


def test_skip_when_may_be_a_jinja_statement_that_reads_a_column() -> None:
    """As the official: any Jinja that references a column, not only an expression in {{ }}."""
    text = "columns:\n" + X + llm("y", "{{ x }}", ", skip: {when: \"{% if x == 'a' %}true{% endif %}\"}")
    assert errors(text) == []


def test_skip_when_that_reads_no_column_is_refused() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}", ", skip: {when: '{% if 1 > 0 %}true{% endif %}'}")
    assert errors(text) == [("invalid", "columns[1].skip.when")]


def test_skip_when_without_jinja_delimiters_is_refused_at_its_line_with_the_braced_form() -> None:
    with pytest.raises(SpecError) as info:
        load_spec("columns:\n" + X + llm("y", "{{ x }}", ", skip: {when: 'x > 1'}"))
    assert str(info.value).startswith("<string>:3:")
    assert "e.g. '{{ x > 1 }}'" in str(info.value)


def test_conditions_may_only_use_sampler_columns() -> None:
    text = (
        "columns:\n" + X + "  - {name: e, column_type: expression, expr: '{{ x }}'}\n"
        "  - name: u\n    column_type: sampler\n    sampler_type: uniform\n    params: {low: 0, high: 1}\n"
        "    conditional_params:\n      \"e == 'a'\": {low: 1, high: 2}\n"
    )
    assert errors(text) == [("unknown-reference", "columns[2].conditional_params.e == 'a'")]


def test_default_model_aliases_apply_only_without_model_configs() -> None:
    assert errors("columns:\n" + X + llm("y", "{{ x }}")) == []
    with_models = "model_configs: [{alias: mine, model: a/b, provider: nvidia}]\ncolumns:\n" + X + llm("y", "{{ x }}")
    assert errors(with_models) == [("unknown-model", "columns[1].model_alias")]


def official_models_file(home: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    home.mkdir(exist_ok=True)
    (home / "model_configs.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DATA_DESIGNER_HOME", str(home))


def test_aliases_of_the_official_models_file_are_known_without_model_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``ddc run`` resolves them: $DATA_DESIGNER_HOME/model_configs.yaml, then the built-in aliases."""
    official_models_file(
        tmp_path / "home", monkeypatch, "model_configs:\n  - {alias: my-llama, model: a/b, provider: nvidia}\n"
    )
    text = "columns:\n" + X + llm("y", "{{ x }}").replace("nvidia-text", "my-llama") + llm("z", "{{ x }}")
    assert errors(text) == []


def test_aliases_of_the_official_models_file_do_not_apply_beside_model_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    official_models_file(
        tmp_path / "home", monkeypatch, "model_configs:\n  - {alias: my-llama, model: a/b, provider: nvidia}\n"
    )
    text = "model_configs: [{alias: mine, model: a/b, provider: nvidia}]\ncolumns:\n" + X
    assert errors(text + llm("y", "{{ x }}").replace("nvidia-text", "my-llama")) == [
        ("unknown-model", "columns[1].model_alias")
    ]


def test_a_malformed_official_models_file_is_one_error_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    official_models_file(tmp_path / "home", monkeypatch, "model_configs:\n  - {alias: my-llama}\n")
    with pytest.raises(SpecError) as info:
        errors("columns:\n" + X + llm("y", "{{ x }}").replace("nvidia-text", "my-llama"))
    assert str(info.value).startswith(f"{tmp_path / 'home' / 'model_configs.yaml'}:2:")


def test_validate_knows_the_same_built_in_aliases_a_run_resolves() -> None:
    from ddc.engine.llm.providers import DEFAULT_MODEL_ALIASES
    from ddc.spec.official_models import BUILTIN_MODEL_ALIASES

    assert tuple(DEFAULT_MODEL_ALIASES) == BUILTIN_MODEL_ALIASES


def test_unknown_tool_alias() -> None:
    assert errors("columns:\n" + X + llm("y", "{{ x }}", ", tool_alias: search")) == [
        ("unknown-tool", "columns[1].tool_alias")
    ]


def test_duplicate_provider_names() -> None:
    providers = "providers:\n" + "  - {name: p, endpoint: 'http://127.0.0.1:1/v1'}\n" * 2
    assert errors(providers + "columns:\n" + X) == [("duplicate-name", "providers[1].name")]


def test_drop_pattern_matching_nothing_is_a_warning() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}")
    text += "processors: [{name: d, processor_type: drop_columns, column_names: ['tmp_*']}]\n"
    assert findings(text) == [("warning", "warning", "processors[0].column_names[0]")]


def test_dropping_every_column_is_an_error() -> None:
    text = "columns:\n" + X + "processors: [{name: d, processor_type: drop_columns, column_names: ['*']}]\n"
    assert errors(text) == [("all-columns-dropped", "columns")]


def test_schema_transform_cannot_read_side_effect_columns() -> None:
    text = "columns:\n" + X + llm("y", "{{ x }}", ", with_trace: last_message")
    text += "processors: [{name: t, processor_type: schema_transform, template: {a: '{{ y__trace }}'}}]\n"
    assert errors(text) == [("invalid", "processors[0].template.a")]


def test_code_validator_language_must_match_the_code_column() -> None:
    text = (
        "columns:\n" + X + "  - {name: c, column_type: llm-code, model_alias: nvidia-text, prompt: '{{ x }}',"
        " code_lang: 'sql:postgres'}\n"
        "  - {name: v, column_type: validation, validator_type: code, target_columns: [c],"
        " validator_params: {code_lang: python}}\n"
    )
    assert errors(text) == [("code-lang-mismatch", "columns[2].target_columns[0]")]


def test_validating_a_non_code_column_is_a_warning() -> None:
    text = (
        "columns:\n" + X + "  - {name: v, column_type: validation, validator_type: code, target_columns: [x],"
        " validator_params: {code_lang: python}}\n"
    )
    assert findings(text) == [("warning", "warning", "columns[1].target_columns[0]")]


def test_local_seed_columns_are_known_to_templates(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("first,city\nAda,London\n", encoding="utf-8")
    text = "seed_config: {source: {seed_type: local, path: people.csv}}\ncolumns:\n"
    text += "  - {name: hello, column_type: expression, expr: '{{ first }} of {{ city }}'}\n"
    assert errors(text, tmp_path) == []
    assert errors(text.replace("{{ city }}", "{{ town }}"), tmp_path) == [("unknown-reference", "columns[0].expr")]


def test_remote_seed_columns_are_not_guessed() -> None:
    text = "seed_config: {source: {seed_type: hf, path: datasets/a/b/c.parquet}}\ncolumns:\n"
    text += "  - {name: q, column_type: expression, expr: '{{ question }}'}\n"
    assert errors(text) == []


def test_query_seed_columns_come_from_the_query(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,x\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": 1, "score": 3}\n', encoding="utf-8")
    text = (
        "seed_config:\n  source:\n    seed_type: query\n    tables: {a: a.csv, b: b.jsonl}\n"
        "    query: SELECT name, score FROM a JOIN b USING (id)\ncolumns:\n"
        "  - {name: s, column_type: expression, expr: '{{ name }} {{ score }}'}\n"
    )
    assert errors(text, tmp_path) == []
    assert errors(text.replace("{{ score }}", "{{ id }}"), tmp_path) == [("unknown-reference", "columns[0].expr")]


TOOLS = "tool_configs:\n  - {tool_alias: geo, providers: [geo], allow_tools: [capital, capital]}\n"


def test_a_tool_listed_twice_in_allow_tools() -> None:
    assert errors(TOOLS + "columns:\n" + X + llm("y", "{{ x }}", ", tool_alias: geo")) == [
        ("duplicate-name", "tool_configs[0].allow_tools[1]")
    ]


def test_duplicate_mcp_provider_names() -> None:
    providers = (
        "mcp_providers:\n  - {name: geo, command: python}\n  - {name: geo, endpoint: 'http://127.0.0.1:1/mcp'}\n"
    )
    assert errors(providers + "columns:\n" + X) == [("duplicate-name", "mcp_providers[1].name")]


@pytest.mark.parametrize(
    ("column", "path"),
    [
        ('{name: e, column_type: expression, expr: "{{ e }} and {{ x }}"}', "columns[1].expr"),
        ("{name: r, column_type: llm-text, model_alias: nvidia-text, prompt: 'Say {{ r }}'}", "columns[1].prompt"),
    ],
    ids=["expression", "prompt"],
)
def test_a_template_reading_its_own_column_is_an_error(column: str, path: str) -> None:
    assert ("self-reference", path) in errors("columns:\n" + X + f"  - {column}\n")


def test_a_condition_on_its_own_column_is_an_error() -> None:
    column = (
        "  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 1, high: 9},"
        ' conditional_params: {"n > 5": {low: 1, high: 2}}}\n'
    )
    assert ("self-reference", "columns[1].conditional_params.n > 5") in errors("columns:\n" + X + column)


def test_a_timedelta_measured_from_itself_is_an_error() -> None:
    column = (
        "  - {name: t, column_type: sampler, sampler_type: timedelta,"
        " params: {dt_min: 1, dt_max: 3, reference_column_name: t}}\n"
    )
    assert errors("columns:\n" + column) == [("self-reference", "columns[0].params.reference_column_name")]


def test_a_column_constraint_comparing_a_column_with_itself_is_an_error() -> None:
    text = "columns:\n" + X.replace("category, params: {values: [a, b]}", "uniform, params: {low: 0, high: 1}")
    text += "constraints:\n  - {target_column: x, operator: lt, rhs: x, constraint_type: column_inequality}\n"
    assert errors(text) == [("bad-constraint", "constraints[0].rhs")]


def test_an_unquoted_no_in_a_list_is_a_warning_once_per_list() -> None:
    column = "  - {name: c, column_type: sampler, sampler_type: category, params: {values: [SE, NO, DK, off]}}\n"
    assert findings("columns:\n" + column) == [("warning", "yaml-boolean", "columns[0].params.values[1]")]


def test_quoted_words_and_true_false_are_not_warned_about() -> None:
    column = "  - {name: c, column_type: sampler, sampler_type: category, params: {values: ['NO', \"on\", true]}}\n"
    assert findings("columns:\n" + column) == []


def test_a_seed_dataset_column_without_a_seed_is_an_error() -> None:
    text = "columns:\n" + X + "  - {name: b, column_type: seed-dataset}\n"
    assert errors(text) == [("unknown-reference", "columns[1].column_type")]


def test_a_seed_dataset_column_the_seed_lacks_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "guests.csv").write_text("name,city\nann,oslo\n", encoding="utf-8")
    text = "seed_config: {source: {seed_type: local, path: guests.csv}}\ncolumns:\n"
    text += "  - {name: nme, column_type: seed-dataset}\n  - {name: city, column_type: seed-dataset}\n"
    assert errors(text, tmp_path) == [("unknown-reference", "columns[0].name")]


def test_a_spec_without_columns_is_a_warning() -> None:
    assert findings("columns: []\n") == [("warning", "no-columns", "columns")]
