"""The screenshots in docs/seeing-the-data.md are rendered here, from the real views (the live progress
of `ddc run`, and `ddc show`), as SVG by rich's own export — never drawn by hand.

The progress view is driven by a run's events on a controlled clock, so rates, ETAs, elapsed times and
the spinner frame are the same on every machine and the files compare byte for byte. After changing a
view, regenerate them: ``DDC_UPDATE_SCREENSHOTS=1 pytest tests/cli/test_screenshots.py``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from ddc.cli.progress_view import LiveProgress
from ddc.cli.record_view import print_records

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WIDTH = 100


def recording_console() -> Console:
    return Console(record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="truecolor")


def progress_svg() -> str:
    """The view 8 s into a 400-record run with two model columns, one of them with failed cells."""
    now = [0.0]
    view = LiveProgress(console=Console(file=io.StringIO(), width=WIDTH), clock=lambda: now[0])
    view.progress.stop()  # no refresh thread: frames are taken below, at chosen times
    view.phase("seed")
    view.phase("generation")
    view.start(0, 400, {"summary": 400, "sentiment": 400})
    for second in range(1, 9):
        now[0] = float(second)
        view.cells("summary", 40 * second, second // 3)
        view.cells("sentiment", 32 * second, 0)
        view.rows(min(400, 32 * second - 32 * (second % 2)), 400)
    shot = recording_console()
    shot.print(view.progress.get_renderable())
    return shot.export_svg(title="ddc run spec.yaml -n 400")


SHOW_RECORD = {
    "product": "trail running shoe",
    "price": 129.98999999999998,
    "review": {
        "summary": "Light and grippy, but the heel wears fast.",
        "scores": {"comfort": 4, "durability": 2},
        "tags": ["running", "trail"],
    },
    "query": "SELECT product, avg(rating) AS rating\nFROM reviews\nWHERE rating >= 4\nGROUP BY product;",
    "essay": (
        "I bought these for a 50 km race season. The first 300 km were excellent: the lugs bite on wet rock "
        "and the upper drains quickly after river crossings. After that the heel foam compressed noticeably "
        "and the outsole wore through at the lateral edge, so I would buy them again only for shorter races."
    ),
}


def show_svg() -> str:
    shot = recording_console()
    print_records([SHOW_RECORD], first_index=17, code_langs={"query": "sql:postgres"}, console=shot)
    return shot.export_svg(title="ddc show out/reviews --record 17")


@pytest.mark.parametrize(("name", "render"), [("progress.svg", progress_svg), ("show.svg", show_svg)])
def test_the_docs_screenshots_are_current(name: str, render: object) -> None:
    svg = render()  # type: ignore[operator]
    path = IMAGES / name
    if os.environ.get("DDC_UPDATE_SCREENSHOTS"):
        path.write_text(svg, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == svg, f"regenerate: DDC_UPDATE_SCREENSHOTS=1 pytest {__file__}"


def test_the_progress_screenshot_shows_records_and_each_model_column() -> None:
    text = recording_console()
    now = [0.0]
    view = LiveProgress(console=Console(file=io.StringIO(), width=WIDTH), clock=lambda: now[0])
    view.progress.stop()
    view.phase("generation")
    view.start(0, 400, {"summary": 400})
    now[0] = 2.0
    view.cells("summary", 100, 3)
    text.print(view.progress.get_renderable())
    lines = text.export_text().splitlines()
    assert [line.split()[1] for line in lines] == ["generation", "records", "summary"]
    assert "100/400 · 3 failed" in lines[2]
