"""``ddc report``: a dataset as one self-contained HTML page, a section and a chart per column.

Reads what a run left on disk (ddc's or the official library's layout), so it works on any finished or
interrupted run; the charts need matplotlib (``pip install 'ddc[report]'``).
"""

from __future__ import annotations

from pathlib import Path


def write_report(dataset: str | Path, output: str | Path | None = None) -> Path:
    """Write the report of the dataset in ``dataset`` (default: ``DATASET/report.html``); returns its path."""
    from ddc.fsutil import write_atomic
    from ddc.report.dataset import open_dataset
    from ddc.report.page import render_page
    from ddc.report.sections import column_sections

    ds = open_dataset(Path(dataset))
    try:
        page = render_page(ds, column_sections(ds))
    finally:
        ds.close()
    target = Path(output) if output is not None else Path(dataset) / "report.html"
    write_atomic(target, page)
    return target
