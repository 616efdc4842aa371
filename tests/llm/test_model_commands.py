"""`ddc models check` and `ddc cache clear` through the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ddc.cli import cli
from ddc.engine.llm.cache import ResponseCache
from tests.conftest import Run
from tests.llm.runner import spec_text
from tests.servers.openai_server import Fault, OpenAIServer

COLUMNS = """
  - name: essay
    column_type: llm-text
    model_alias: text
    prompt: "Write"
  - name: vec
    column_type: embedding
    model_alias: embed
    target_column: essay
"""


def write_spec(tmp_path: Path, server: OpenAIServer) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text(server.base_url, COLUMNS))
    return path


def test_models_check_pings_each_referenced_alias_once(openai_server: OpenAIServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "check", str(write_spec(tmp_path, openai_server))])
    assert (result.exit_code, sorted(r.path for r in openai_server.requests)) == (
        0,
        ["/v1/chat/completions", "/v1/embeddings"],
    )


def test_models_check_sends_the_official_probe(openai_server: OpenAIServer, tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["models", "check", str(write_spec(tmp_path, openai_server))])
    chat = openai_server.requests_to("/chat/completions")[0]
    assert (chat.system_text, chat.user_text) == ("You are a helpful assistant.", "Hello!")


def test_models_check_reports_a_failing_alias_and_exits_1(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.routes["/embeddings"] = lambda request: (404, {"error": {"message": "no such model"}})
    result = CliRunner().invoke(cli, ["models", "check", str(write_spec(tmp_path, openai_server))])
    assert result.exit_code == 1 and "FAIL embed" in result.output and "no such model" in result.output


def test_models_check_retries_once(openai_server: OpenAIServer, tmp_path: Path) -> None:
    openai_server.schedule(Fault.http(503), Fault.http(503))
    result = CliRunner().invoke(cli, ["models", "check", str(write_spec(tmp_path, openai_server))])
    assert result.exit_code == 0


def test_cache_clear_removes_every_response(ddc_home: Path) -> None:
    cache = ResponseCache(ddc_home / "cache" / "responses.sqlite3")
    cache.put("k", {"v": 1})
    cache.close()
    result = CliRunner().invoke(cli, ["cache", "clear"])
    assert "removed 1 cached response(s)" in result.output and not (ddc_home / "cache" / "responses.sqlite3").exists()


def test_cache_clear_refuses_a_file_that_is_not_a_cache_and_keeps_it(tmp_path: Path, run: Run) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("important data\n")
    code, _, err = run("cache", "clear", "--path", str(notes))
    assert (code, notes.read_text()) == (2, "important data\n")
    assert err == f"error: {notes} is not a ddc response cache (not an SQLite file); nothing was removed\n"


def test_cache_clear_refuses_another_programs_sqlite_database(tmp_path: Path, run: Run) -> None:
    import sqlite3

    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    code, _, err = run("cache", "clear", "--path", str(other))
    assert code == 2 and "not a ddc response cache (its tables: users)" in err
    assert other.exists()


def test_cache_clear_deletes_a_damaged_cache_of_ddcs(ddc_home: Path, run: Run) -> None:
    damaged = ddc_home / "cache" / "responses.sqlite3"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    code, _, _ = run("cache", "clear")
    assert (code, damaged.exists()) == (0, False)


def test_cache_clear_through_a_link_empties_the_cache_it_points_at(ddc_home: Path, tmp_path: Path, run: Run) -> None:
    shared = ResponseCache(tmp_path / "shared" / "responses.sqlite3")
    shared.put("k", {"v": 1})
    shared.close()
    (ddc_home / "cache").mkdir(parents=True)
    (ddc_home / "cache" / "responses.sqlite3").symlink_to(tmp_path / "shared" / "responses.sqlite3")
    code, out, _ = run("cache", "clear")
    assert code == 0 and "removed 1 cached response(s)" in out
    assert not (tmp_path / "shared" / "responses.sqlite3").exists()
