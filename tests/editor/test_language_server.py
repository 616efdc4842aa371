"""ddc's schema in the real yaml-language-server (npm, pinned in tests/editor/package.json), over LSP stdio.

Install the server with `npm ci --prefix tests/editor`; without node or the server these tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from editor_checks import CHECKS, SERVER_SETTINGS, Session, run_checks
from lsp_client import LspClient, server_command

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "ddc.schema.json"
OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official.schema.json"
COMMAND = server_command()

pytestmark = [
    pytest.mark.editor,
    pytest.mark.skipif(
        COMMAND is None,
        reason="node or yaml-language-server is not installed; run `npm ci --prefix tests/editor`",
    ),
]


def start(workdir: Path, settings: dict[str, object] | None = None) -> LspClient:
    assert COMMAND is not None
    return LspClient(COMMAND, {**SERVER_SETTINGS, **(settings or {})}, workdir)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    workdir = tmp_path_factory.mktemp("lsp")
    with start(workdir) as client:
        yield Session(client, SCHEMA, workdir)


@pytest.mark.parametrize("name", list(CHECKS))
def test_ddc_schema_in_the_language_server(session: Session, name: str) -> None:
    passed, detail = CHECKS[name](session)
    assert passed, detail


def test_ddc_schema_beats_the_schema_generated_from_the_official_models(tmp_path: Path) -> None:
    with start(tmp_path) as client:
        official = run_checks(client, OFFICIAL, tmp_path)
        ours = run_checks(client, SCHEMA, tmp_path)
    official_passed = sorted(name for name, (ok, _) in official.items() if ok)
    assert all(ok for ok, _ in ours.values())
    # Recorded baseline: the official models' schema passes 7 of 12 (benchmarks/editor_baseline.py).
    assert len(official_passed) < len(ours), official_passed


def test_settings_glob_maps_ddc_yaml_files_to_the_schema_without_a_modeline(tmp_path: Path) -> None:
    settings = {"schemas": {SCHEMA.as_uri(): ["*.ddc.yaml", "*.ddc.yml"]}}
    with start(tmp_path, settings) as client:
        uri = (tmp_path / "people.ddc.yaml").as_uri()
        client.open(uri, "columns:\n  - name: a\n    column_type: expression\n    expr: x\n    colour: red\n")
        messages = [d["message"] for d in client.diagnostics(uri)]
    assert messages == ["Property colour is not allowed."]


def test_settings_glob_leaves_other_yaml_files_alone(tmp_path: Path) -> None:
    settings = {"schemas": {SCHEMA.as_uri(): ["*.ddc.yaml", "*.ddc.yml"]}}
    with start(tmp_path, settings) as client:
        uri = (tmp_path / "docker-compose.yaml").as_uri()
        client.open(uri, "services:\n  web: {image: nginx}\n")
        assert client.diagnostics(uri) == []
