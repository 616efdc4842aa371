"""`ddc schema`: print, write, and wire the schema into VS Code without clobbering settings."""

from __future__ import annotations

import json
from pathlib import Path

from ddc.spec.schema import schema_text
from tests.conftest import Run


def settings(workspace: Path) -> dict[str, object]:
    return json.loads((workspace / ".vscode" / "settings.json").read_text(encoding="utf-8"))


def test_schema_prints_the_schema(run: Run) -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert out == schema_text()


def test_schema_output_writes_the_file(workspace: Path, run: Run) -> None:
    code, _, err = run("schema", "-o", "out/ddc.schema.json")
    assert code == 0
    assert (workspace / "out" / "ddc.schema.json").read_text(encoding="utf-8") == schema_text()
    assert "wrote out/ddc.schema.json" in err


def test_schema_output_reports_an_unchanged_file(workspace: Path, run: Run) -> None:
    run("schema", "-o", "ddc.schema.json")
    _, _, err = run("schema", "-o", "ddc.schema.json")
    assert "up to date" in err


def test_vscode_writes_schema_and_maps_it_to_ddc_yaml_files(workspace: Path, run: Run) -> None:
    code, _, _ = run("schema", "--vscode")
    assert code == 0
    assert (workspace / "schemas" / "ddc.schema.json").is_file()
    assert settings(workspace) == {"yaml.schemas": {"./schemas/ddc.schema.json": ["*.ddc.yaml", "*.ddc.yml"]}}


def test_vscode_keeps_other_settings_and_other_schemas(workspace: Path, run: Run) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps({"editor.tabSize": 2, "yaml.schemas": {"k8s.json": "deploy/*.yaml"}}), encoding="utf-8"
    )
    run("schema", "--vscode")
    assert settings(workspace) == {
        "editor.tabSize": 2,
        "yaml.schemas": {
            "k8s.json": "deploy/*.yaml",
            "./schemas/ddc.schema.json": ["*.ddc.yaml", "*.ddc.yml"],
        },
    }


def test_vscode_extends_an_existing_glob_for_the_schema(workspace: Path, run: Run) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps({"yaml.schemas": {"./schemas/ddc.schema.json": "specs/*.yaml"}}), encoding="utf-8"
    )
    run("schema", "--vscode")
    assert settings(workspace)["yaml.schemas"] == {
        "./schemas/ddc.schema.json": ["specs/*.yaml", "*.ddc.yaml", "*.ddc.yml"]
    }


def test_vscode_twice_changes_nothing_the_second_time(workspace: Path, run: Run) -> None:
    run("schema", "--vscode")
    before = (workspace / ".vscode" / "settings.json").read_bytes()
    code, _, err = run("schema", "--vscode")
    assert code == 0
    assert "already maps" in err
    assert (workspace / ".vscode" / "settings.json").read_bytes() == before


def test_vscode_uses_the_output_path_given(workspace: Path, run: Run) -> None:
    run("schema", "--vscode", "-o", "tools/spec.schema.json")
    assert settings(workspace)["yaml.schemas"] == {"./tools/spec.schema.json": ["*.ddc.yaml", "*.ddc.yml"]}


def test_vscode_refuses_to_rewrite_settings_with_comments_and_says_what_to_add(workspace: Path, run: Run) -> None:
    (workspace / ".vscode").mkdir()
    original = '{\n  // my font\n  "editor.fontSize": 14,\n}\n'
    (workspace / ".vscode" / "settings.json").write_text(original, encoding="utf-8")
    code, _, err = run("schema", "--vscode")
    assert code == 1
    assert "has comments" in err
    assert '"./schemas/ddc.schema.json": [ "*.ddc.yaml", "*.ddc.yml" ]' in err
    assert (workspace / ".vscode" / "settings.json").read_text(encoding="utf-8") == original


def test_vscode_accepts_settings_with_comments_that_already_map_the_schema(workspace: Path, run: Run) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(
        '{\n  // ddc\n  "yaml.schemas": {"./schemas/ddc.schema.json": ["*.ddc.yaml", "*.ddc.yml"]},\n}\n',
        encoding="utf-8",
    )
    code, _, err = run("schema", "--vscode")
    assert code == 0
    assert "already maps" in err


def test_vscode_reports_broken_settings_json_with_its_position(workspace: Path, run: Run) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text('{"a": }', encoding="utf-8")
    code, _, err = run("schema", "--vscode")
    assert code == 1
    assert "settings.json:1:7: not valid JSON" in err
    assert "Traceback" not in err
