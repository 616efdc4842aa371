"""`ddc run`'s progress as a person sees it: in a real pty of 40, 80 and 200 columns, read back through a
terminal emulator (pyte); and the plain lines a log gets."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.cli.progress_view import PlainProgress
from tests.cli.terminal import ddc_env, run_in_terminal
from tests.llm.runner import TOPIC_ESSAY, spec_text
from tests.servers.openai_server import OpenAIServer

#: A whole line of the live view: spinner, what, then (bar, counts, rate, ETA, elapsed time) ending in
#: a digit, a unit or the ellipsis of a cut line — never in the remains of a longer earlier line.
LIVE_LINE = re.compile(
    r"^(\S )?\s*(loading|seed data|generation|statistics|writing|done|stopped|records|essay)…?"
    r"( .*(\d| s|/s|…))?$"
)
#: A line cut at the right edge of the terminal (within the last two columns, which the cut may leave
#: blank: there is no room for stale characters) starts like one.
LIVE_HEAD = re.compile(r"^(\S )?\s*(generation|statistics|writing|records|essay)\b")
ESSAY_CELLS = re.compile(r"^\S?\s+essay\b.*\b([1-9][\d,]*)/200\b")


@pytest.fixture
def slow_server() -> Iterator[OpenAIServer]:
    """An OpenAI-compatible endpoint answering every request after 0.1 s."""
    with OpenAIServer(latency=0.1) as server:
        yield server


def llm_spec(tmp_path: Path, server: OpenAIServer) -> Path:
    spec = tmp_path / "essays.yaml"
    spec.write_text(spec_text(server.base_url, TOPIC_ESSAY) + "name: essays\nnum_records: 200\n")
    return spec


def test_model_column_cells_show_within_three_seconds(slow_server: OpenAIServer, tmp_path: Path) -> None:
    """Counted from the start of generation (the records bar appears): before it, the interpreter starts
    and loads the spec and the model stack, which on a loaded 2-core CI machine is not the view's to
    answer for. The engine reports a column's cells when the column of a batch is done (the 8-row batches
    here: 4 rows); a per-cell report only makes this sooner."""
    spec = llm_spec(tmp_path, slow_server)
    run = run_in_terminal(
        ["run", str(spec), "-o", "out", "--batch-size", "4"],
        width=100,
        cwd=tmp_path,
        env=ddc_env(tmp_path / "home"),
        until=lambda lines: any(ESSAY_CELLS.match(line) for line in lines),
    )
    started = next(s.at for s in run.screens if any(line.strip() for line in s.lines))
    generating = next(s.at for s in run.screens if any(" records " in line for line in s.lines))
    first = next(s.at for s in run.screens if any(ESSAY_CELLS.match(line) for line in s.lines))
    timeline = f"view at {started:.2f} s, generation at {generating:.2f} s, cells at {first:.2f} s"
    assert first - generating < 3.0, timeline


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_live_view_leaves_no_stale_characters(width: int, slow_server: OpenAIServer, tmp_path: Path) -> None:
    spec = llm_spec(tmp_path, slow_server)
    run = run_in_terminal(
        ["run", str(spec), "-o", "out", "--batch-size", "50", "-n", "120"],
        width=width,
        cwd=tmp_path,
        env=ddc_env(tmp_path / "home"),
    )
    assert run.returncode == 0, "\n".join(run.final)
    during = [s.lines for s in run.screens if not any(line.startswith("wrote ") for line in s.lines)]
    for lines in during:  # every line on screen, at every moment, is one whole line of the view
        drawn = [line.rstrip() for line in lines if line.strip()]
        whole = [LIVE_LINE.match(line) or (len(line) >= width - 2 and LIVE_HEAD.match(line)) for line in drawn]
        assert len(drawn) <= 3 and all(whole), "\n".join(drawn)
    final = [line.rstrip() for line in run.final if line.strip()]
    view = final[: final.index(next(line for line in final if line.startswith("wrote ")))]
    assert [line.split()[0] for line in view] == ["done", "records", "essay"], "\n".join(final)


def test_no_color_turns_colours_off(tmp_path: Path) -> None:
    spec = tmp_path / "people.yaml"
    spec.write_text("name: p\nnum_records: 5\ncolumns:\n  - {name: x, column_type: sampler, sampler_type: uuid}\n")
    coloured = run_in_terminal(["run", str(spec), "-o", "a"], width=80, cwd=tmp_path, env=ddc_env(tmp_path))
    plain = run_in_terminal(["run", str(spec), "-o", "b"], width=80, cwd=tmp_path, env=ddc_env(tmp_path, NO_COLOR="1"))
    colour_codes = re.compile(rb"\x1b\[[0-9;]*(3\d|9\d)[0-9;]*m")
    assert colour_codes.search(coloured.raw) and not colour_codes.search(plain.raw)


def test_off_a_terminal_progress_is_plain_lines(tmp_path: Path) -> None:
    spec = tmp_path / "people.yaml"
    spec.write_text("name: p\nnum_records: 5\ncolumns:\n  - {name: x, column_type: sampler, sampler_type: uuid}\n")
    result = subprocess.run(
        [sys.executable, "-m", "ddc", "run", str(spec), "-o", "out"],
        cwd=tmp_path, env=ddc_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    lines = result.stderr.splitlines()
    assert (lines[0], lines[2:]) == ("generation...", ["statistics...", "writing..."])
    assert re.fullmatch(r"records: 5/5, [\d,.]+ records/s", lines[1])


def test_plain_lines_come_every_interval_with_each_model_column() -> None:
    clock = iter([0.0, 1.0, 6.0, 7.0]).__next__
    out = io.StringIO()
    progress = PlainProgress(out, interval=5.0, clock=clock)
    progress.start(0, 100, {"essay": 100})  # t=0
    progress.cells("essay", 10, 0)  # t=1: too soon
    progress.cells("essay", 60, 2)  # t=6: a line for records and one for the column
    assert out.getvalue().splitlines() == [
        "records: 0/100, 0.0 records/s, ETA -",
        "  essay: 60/100 cells, 2 failed, 10.0 req/s, ETA 4 s",
    ]


def test_an_error_prints_on_its_own_line_below_the_view(tmp_path: Path) -> None:
    """Nothing listens on the endpoint: the start-up health check fails while the view is drawn."""
    spec = tmp_path / "essays.yaml"
    spec.write_text(spec_text("http://127.0.0.1:9/v1", TOPIC_ESSAY) + "name: essays\nnum_records: 20\n")
    run = run_in_terminal(["run", str(spec), "-o", "out"], width=80, cwd=tmp_path, env=ddc_env(tmp_path / "home"))
    lines = [line.rstrip() for line in run.final if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert run.returncode == 1 and errors, "\n".join(lines)
    assert all(LIVE_LINE.match(line) for line in lines[: errors[0]]), "\n".join(lines)


def test_runs_that_do_not_draw_never_import_rich(tmp_path: Path) -> None:
    spec = tmp_path / "people.yaml"
    spec.write_text("name: p\nnum_records: 5\ncolumns:\n  - {name: x, column_type: sampler, sampler_type: uuid}\n")
    for options, out in ((["--quiet"], "q"), ([], "plain")):  # quiet, and plain lines into a pipe
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "ddc", "run", str(spec), "-o", out, *options],
            cwd=tmp_path, env=ddc_env(tmp_path), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "import time:" in line]
        assert result.returncode == 0 and "ddc.engine.runner" in imported
        assert not [name for name in imported if name.split(".")[0] == "rich"]
