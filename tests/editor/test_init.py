"""`ddc init`: commented starter specs that validate, point editors at the schema, and never clobber files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.api import build, validate
from ddc.compile.modes import Mode
from ddc.spec.load import load_spec
from ddc.spec.schema import schema_text
from ddc.templates import TEMPLATES
from tests.conftest import Run

MODELINE = "# yaml-language-server: $schema="
#: The mode each template is made for; `llm` is also mapped for submit.
MODES: dict[str, tuple[Mode, ...]] = {
    "samplers": ("run",),
    "seed-join": ("run",),
    "llm": ("run", "submit"),
    "submit": ("submit",),
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_writes_a_spec_that_validates_with_all_checks(workspace: Path, run: Run, template: str) -> None:
    code, out, _ = run("init", "demo", "--template", template)
    assert code == 0
    assert "wrote demo.ddc.yaml" in out
    load_spec(workspace / "demo.ddc.yaml")


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_is_valid_for_the_mode_it_is_made_for(workspace: Path, run: Run, template: str) -> None:
    run("init", "demo", "--template", template)
    report = validate(workspace / "demo.ddc.yaml", modes=MODES[template])
    assert [d.format() for d in report.diagnostics if d.severity == "error"] == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_compiles(workspace: Path, run: Run, template: str) -> None:
    run("init", "demo", "--template", template)
    assert "def load_config_builder" in build(workspace / "demo.ddc.yaml", write=False).text


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_starts_with_a_modeline_to_a_schema_that_exists(workspace: Path, run: Run, template: str) -> None:
    run("init", "demo", "--template", template)
    first = (workspace / "demo.ddc.yaml").read_text(encoding="utf-8").split("\n")[0]
    assert first == MODELINE + "schemas/ddc.schema.json"
    assert (workspace / "schemas" / "ddc.schema.json").read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_is_commented_and_named(workspace: Path, run: Run, template: str) -> None:
    run("init", "orders", "--template", template)
    text = (workspace / "orders.ddc.yaml").read_text(encoding="utf-8")
    comments = [line for line in text.split("\n") if line.lstrip().startswith("#") or "  # " in line]
    assert len(comments) >= 5
    assert "\nname: orders\n" in text
    assert "__" not in text


def test_seed_join_writes_the_csv_pair_beside_the_spec(workspace: Path, run: Run) -> None:
    _, out, _ = run("init", "specs/orders", "--template", "seed-join")
    assert (workspace / "specs" / "data" / "customers.csv").read_text(encoding="utf-8").startswith("customer_id,")
    assert (workspace / "specs" / "data" / "orders.csv").read_text(encoding="utf-8").startswith("order_id,")
    assert "wrote specs/data/orders.csv" in out
    load_spec(workspace / "specs" / "orders.ddc.yaml")


def test_init_refuses_to_overwrite_an_existing_spec(workspace: Path, run: Run) -> None:
    (workspace / "demo.ddc.yaml").write_text("mine\n", encoding="utf-8")
    code, _, err = run("init", "demo")
    assert code == 2
    assert "demo.ddc.yaml already exists; pass --force to overwrite" in err
    assert (workspace / "demo.ddc.yaml").read_text(encoding="utf-8") == "mine\n"


def test_init_refuses_to_overwrite_existing_seed_data(workspace: Path, run: Run) -> None:
    (workspace / "data").mkdir()
    (workspace / "data" / "orders.csv").write_text("mine\n", encoding="utf-8")
    code, _, err = run("init", "demo", "--template", "seed-join")
    assert code == 2
    assert "orders.csv already exists" in err
    assert not (workspace / "demo.ddc.yaml").exists()


def test_init_force_overwrites(workspace: Path, run: Run) -> None:
    (workspace / "demo.ddc.yaml").write_text("mine\n", encoding="utf-8")
    code, _, _ = run("init", "demo", "--force")
    assert code == 0
    load_spec(workspace / "demo.ddc.yaml")


def test_init_without_name_writes_my_dataset(workspace: Path, run: Run) -> None:
    run("init")
    assert (workspace / "my-dataset.ddc.yaml").is_file()


def test_init_accepts_a_file_name(workspace: Path, run: Run) -> None:
    run("init", "people.ddc.yaml")
    assert "\nname: people\n" in (workspace / "people.ddc.yaml").read_text(encoding="utf-8")


def test_init_points_at_the_nearest_existing_schema_and_leaves_it_alone(workspace: Path, run: Run) -> None:
    (workspace / ".git").mkdir()
    (workspace / "schemas").mkdir()
    (workspace / "schemas" / "ddc.schema.json").write_text("{}", encoding="utf-8")
    _, out, _ = run("init", "specs/demo")
    first = (workspace / "specs" / "demo.ddc.yaml").read_text(encoding="utf-8").split("\n")[0]
    assert first == MODELINE + "../schemas/ddc.schema.json"
    assert (workspace / "schemas" / "ddc.schema.json").read_text(encoding="utf-8") == "{}"
    assert "schema" not in out.replace("demo.ddc.yaml", "")


def test_init_refuses_a_name_with_spaces(workspace: Path, run: Run) -> None:
    code, _, err = run("init", "my data")
    assert code == 2
    assert "invalid name 'my data'" in err


def test_init_ignores_a_schema_above_the_project_root(workspace: Path, run: Run) -> None:
    (workspace / "schemas").mkdir()
    (workspace / "schemas" / "ddc.schema.json").write_text("{}", encoding="utf-8")
    (workspace / "project" / ".git").mkdir(parents=True)
    run("init", "project/specs/demo")
    first = (workspace / "project" / "specs" / "demo.ddc.yaml").read_text(encoding="utf-8").split("\n")[0]
    assert first == MODELINE + "schemas/ddc.schema.json"
    assert (workspace / "project" / "specs" / "schemas" / "ddc.schema.json").is_file()


def test_init_outside_a_project_looks_only_beside_the_spec(workspace: Path, run: Run) -> None:
    (workspace / "schemas").mkdir()
    (workspace / "schemas" / "ddc.schema.json").write_text("{}", encoding="utf-8")
    run("init", "specs/demo")
    first = (workspace / "specs" / "demo.ddc.yaml").read_text(encoding="utf-8").split("\n")[0]
    assert first == MODELINE + "schemas/ddc.schema.json"
