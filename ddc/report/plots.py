"""Charts as inline SVG, drawn with matplotlib (the ``report`` extra): no script, no CDN, works offline.

Output is reproducible: a fixed hash salt for element ids and no date in the metadata.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any

_WIDTH, _HEIGHT = 7.0, 2.6
_COLOUR = "#4C72B0"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ModuleNotFoundError:
        from ddc.errors import RunError

        raise RunError(
            "ddc report draws its charts with matplotlib, which is not installed",
            hint="pip install 'ddc[report]'",
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "ddc-report", "svg.fonttype": "none", "font.size": 9})
    return plt


def _svg(fig: Any) -> str:
    plt = _pyplot()
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "ddc"})
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog or doctype


def _short(label: str, size: int = 40) -> str:
    label = label.replace("\n", " ")
    return label if len(label) <= size else label[: size - 1] + "…"


def bars(labels: Sequence[str], counts: Sequence[int], xlabel: str = "rows") -> str:
    """Horizontal bars, largest first at the top."""
    plt = _pyplot()
    height = max(1.2, 0.28 * len(labels) + 0.6)
    fig, ax = plt.subplots(figsize=(_WIDTH, height))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, counts, color=_COLOUR)
    ax.set_yticks(positions, [_short(str(label)) for label in labels])
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def histogram(edges: Sequence[float], counts: Sequence[int], xlabel: str, *, dates: bool = False) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(_WIDTH, _HEIGHT))
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=_COLOUR, edgecolor="white", linewidth=0.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    if dates:
        import datetime

        ticks = ax.get_xticks()
        ax.set_xticks(ticks, [str(datetime.date(1970, 1, 1) + datetime.timedelta(days=float(t))) for t in ticks])
        ax.set_xlim(edges[0], edges[-1])
        fig.autofmt_xdate()
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def score_panels(criteria: dict[str, list[tuple[str, int]]]) -> str:
    """One bar chart per judge criterion: how often each score was given."""
    plt = _pyplot()
    names = list(criteria)
    fig, axes = plt.subplots(1, len(names), figsize=(max(_WIDTH, 2.6 * len(names)), _HEIGHT), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        pairs = sorted(criteria[name], key=lambda p: p[0])
        ax.bar([_short(s, 12) for s, _ in pairs], [n for _, n in pairs], color=_COLOUR)
        ax.set_title(_short(name, 30))
        ax.set_ylabel("rows")
        ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
