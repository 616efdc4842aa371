"""`ddc report`: one self-contained HTML file per dataset, a chart per column, rendered by a real browser."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from ddc.report import write_report

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def report(mixed_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(mixed_dataset, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def page(browser: Any, report: Path) -> Any:
    """The report opened in Chromium with every request but the file itself refused."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    requested: list[str] = []
    page.route("**/*", lambda route: (requested.append(route.request.url), route.continue_()))
    page.goto(report.as_uri())
    page.requested = requested  # type: ignore[attr-defined]
    yield page
    context.close()


def test_the_report_has_one_chart_per_column(page: Any, mixed_dataset: Path) -> None:
    import pyarrow.parquet as pq

    columns = pq.read_schema(next((mixed_dataset / "parquet-files").glob("*.parquet"))).names
    charted = page.locator("figure[data-column]").evaluate_all("els => els.map(e => e.dataset.column)")
    assert charted == columns
    assert page.locator("figure[data-column] svg").count() == len(columns)


def test_the_page_renders_without_console_errors(page: Any) -> None:
    assert page.console_errors == []


def test_the_page_fetches_nothing_but_itself(page: Any, report: Path) -> None:
    assert page.requested == [report.as_uri()]


def test_the_html_holds_no_script_and_no_remote_reference(report: Path) -> None:
    text = report.read_text()
    assert "<script" not in text.lower() and not re.search(r"(src|href)=\"https?://", text)


def test_markup_in_the_data_is_shown_as_text(page: Any) -> None:
    assert page.locator("b", has_text="birds").count() == 0
    assert "<b>birds</b>" in page.locator("body").inner_text()


def test_judge_scores_are_charted_per_criterion(page: Any) -> None:
    figure = page.locator('figure[data-column="grade"]')
    assert "scores by criterion" in figure.inner_text()
    assert {"quality", "tone"} <= set(figure.locator("svg text").all_text_contents())


def test_dates_get_a_date_histogram_and_text_a_length_histogram(page: Any) -> None:
    assert "dates" in page.locator('figure[data-column="joined"] figcaption').inner_text()
    assert "text length" in page.locator('figure[data-column="essay"] figcaption').inner_text()


def test_model_columns_list_their_requests_and_failures(page: Any) -> None:
    text = page.locator("#col-essay").inner_text()
    assert "requests" in text and "failed cells" in text


def test_constraints_are_checked_over_every_row(page: Any) -> None:
    assert "age >= 18.0" in page.locator("body").inner_text() or "age >= 18" in page.locator("body").inner_text()
    assert "holds for every row" in page.locator("body").inner_text()


def test_a_screenshot_of_the_report(page: Any, tmp_path: Path) -> None:
    """The docs' screenshot comes from here (DDC_UPDATE_SCREENSHOTS=1 writes docs/images/report.png)."""
    import os

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("DDC_UPDATE_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / "report.png")


def test_the_report_is_the_same_bytes_twice(mixed_dataset: Path, tmp_path: Path) -> None:
    first = write_report(mixed_dataset, tmp_path / "a.html").read_bytes()
    assert write_report(mixed_dataset, tmp_path / "b.html").read_bytes() == first


def test_the_cli_writes_beside_the_dataset_by_default(mixed_dataset: Path, tmp_path: Path, run: Any) -> None:
    copy = tmp_path / "mixed"
    shutil.copytree(mixed_dataset, copy)
    code, out, err = run("report", str(copy))
    assert code == 0, err
    assert (copy / "report.html").is_file() and f"wrote {copy / 'report.html'}" in out


def test_a_directory_without_a_dataset_is_a_one_line_error(tmp_path: Path, run: Any) -> None:
    code, _, err = run("report", str(tmp_path))
    assert code == 1
    assert err.strip().count("\n") == 0 and "no metadata.json" in err
