"""`ddc report`: a dataset's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML file (default: DATASET/report.html).",
)
@click.option("--open", "open_it", is_flag=True, help="Open the report in the default web browser.")
def report(dataset: Path, output: Path | None, open_it: bool) -> None:
    """Write a dataset's report: one HTML file, a section and a chart per column, that works offline.

    DATASET is the directory of a generated dataset (ddc's or the official library's). Each column gets
    its figures (nulls, unique values, distribution), a chart chosen by its type (histograms of numbers,
    dates and text lengths, top values of categories, judge scores per criterion), and its model usage
    and failed cells; constraints are checked over every row; a few records are shown in full.

    \b
    Examples:
      ddc report out/people
      ddc report out/people -o people.html --open
    """
    from ddc.report import write_report

    path = write_report(dataset, output)
    click.echo(f"wrote {path}")
    if open_it:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
