"""The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

import html
import json
from typing import Any

from ddc.report.dataset import Dataset, quoted, sample_records
from ddc.report.sections import ColumnSection, number_text

_OPERATORS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 62rem;
       color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
.sub { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
td, th { border-bottom: 1px solid #d1d9e0; padding: .25rem .8rem .25rem 0; text-align: left; vertical-align: top; }
th { color: #59636e; font-weight: 600; }
section.column { border-top: 1px solid #d1d9e0; padding-top: .6rem; }
.badge { display: inline-block; font-size: .75rem; background: #ddf4ff; color: #0550ae; border-radius: 1rem;
         padding: .05rem .6rem; margin-left: .5rem; vertical-align: middle; }
.grid { display: grid; grid-template-columns: 16rem 1fr; gap: 1rem; align-items: start; }
figure { margin: 0; } figcaption { color: #59636e; font-size: .85rem; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap;
      word-break: break-word; }
.ok { color: #1a7f37; } .bad { color: #cf222e; }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; margin: 1rem 0; }
.card { border: 1px solid #d1d9e0; border-radius: .5rem; padding: .5rem .9rem; min-width: 6rem; }
.card .v { font-size: 1.15rem; font-weight: 600; } .card .k { color: #59636e; font-size: .8rem; }
nav { display: flex; flex-wrap: wrap; gap: .4rem; }
nav a { border: 1px solid #d1d9e0; border-radius: 1rem; padding: .1rem .7rem; text-decoration: none; color: #0969da; }
nav small { color: #59636e; }
"""


def render_page(ds: Dataset, sections: list[ColumnSection]) -> str:
    meta = ds.metadata
    name = str(meta.get("dataset_name") or ds.path.name)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(name)} — ddc report</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(name)}</h1>",
        f'<p class="sub">{_e(str(ds.path))}</p>',
        _overview(ds),
        "<h2>Columns</h2><nav>"
        + "".join(f'<a href="#{_anchor(s.name)}">{_e(s.name)} <small>{_e(s.column_type)}</small></a>' for s in sections)
        + "</nav>",
    ]
    parts += [_column(s) for s in sections]
    parts.append(_constraints(ds))
    parts.append(_samples(ds))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _overview(ds: Dataset) -> str:
    meta = ds.metadata
    actual = meta.get("actual_num_records")
    target = meta.get("target_num_records")
    rows = [
        ("records", number_text(actual)),
        ("requested", number_text(target)),
        ("complete", f"{100 * actual / target:.1f} %" if actual is not None and target else "—"),
        ("columns", number_text(len(ds.schema))),
        ("failed cells", number_text(len(ds.errors))),
    ]
    for key, label in (("random_seed", "seed"), ("ddc_version", "ddc version"), ("library_version", "library")):
        if key in meta:
            rows.append((label, str(meta[key])))
    seconds = (meta.get("timings") or {}).get("seconds")
    if seconds is not None:
        rows.append(("generation time", f"{seconds} s"))
    models = meta.get("model_usage") or {}
    body = (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="v">{_e(value)}</div><div class="k">{_e(label)}</div></div>'
            for label, value in rows
        )
        + "</div>"
    )
    if models:
        model_rows = [
            (alias, f"{number_text(u.get('requests'))} requests, {number_text(u.get('failures'))} failed, "
             f"{number_text(u.get('input_tokens'))} tokens in, {number_text(u.get('output_tokens'))} out")
            for alias, u in sorted(models.items())
        ]  # fmt: skip
        body += _table("Models", model_rows, ("model", "usage"))
    return body


def _column(s: ColumnSection) -> str:
    anchor = _anchor(s.name)
    usage = _table("", s.usage, ("model calls", "")) if s.usage else ""
    return (
        f'<section class="column" id="{anchor}"><h2>{_e(s.name)}<span class="badge">{_e(s.column_type)}</span></h2>'
        f'<div class="grid"><div>{_table("", s.figures)}{usage}</div>'
        f'<figure data-column="{_e(s.name)}">{s.chart}<figcaption>{_e(s.chart_title)}</figcaption></figure>'
        "</div></section>"
    )


def _constraints(ds: Dataset) -> str:
    constraints = list(getattr(ds.plan.spec, "constraints", None) or []) if ds.plan is not None else []
    if not constraints:
        return ""
    present = {f.name for f in ds.schema}
    rows = []
    for c in constraints:
        op = _OPERATORS.get(str(c.operator), str(c.operator))
        if c.target_column not in present or (c.constraint_type == "column_inequality" and c.rhs not in present):
            rows.append((f"{c.target_column} {op} {c.rhs}", "not in the dataset"))
            continue
        rhs = quoted(str(c.rhs)) if c.constraint_type == "column_inequality" else repr(float(c.rhs))
        target = quoted(c.target_column)
        broken = ds.sql(f"SELECT count(*) FROM data WHERE NOT ({target} {op} {rhs})")[0][0]
        verdict = (
            '<span class="ok">holds for every row</span>'
            if not broken
            else f'<span class="bad">{broken:,} rows break it</span>'
        )
        rows.append((f"{c.target_column} {op} {c.rhs}", verdict))
    return _table("Constraints", rows, ("constraint", "check"), raw_second=True)


def _samples(ds: Dataset) -> str:
    records = sample_records(ds)
    if not records:
        return ""
    blocks = [
        f"<h3>record {i}</h3><pre>{_e(json.dumps(r, indent=2, ensure_ascii=False, default=str))}</pre>"
        for i, r in enumerate(records)
    ]
    return "<h2>Sample records</h2>" + "".join(blocks)


def _table(
    title: str,
    rows: list[tuple[str, str]],
    header: tuple[str, str] | None = None,
    *,
    raw_second: bool = False,
) -> str:
    out = [f"<h2>{_e(title)}</h2>"] if title else []
    out.append("<table>")
    if header:
        out.append(f"<tr><th>{_e(header[0])}</th><th>{_e(header[1])}</th></tr>")
    for key, value in rows:
        second = value if raw_second else _e(value)
        out.append(f"<tr><td>{_e(key)}</td><td>{second}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _anchor(name: str) -> str:
    return "col-" + "".join(ch if ch.isalnum() else f"-{ord(ch):x}-" for ch in name)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
