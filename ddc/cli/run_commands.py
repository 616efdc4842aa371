"""`ddc run`: generate a dataset locally (a thin skin over ``ddc.engine.run``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

_CELL = 28


@click.command("run")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--num-records", type=click.IntRange(min=1), help="Records to generate (default: the spec's).")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Parent directory.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl", "csv"]), help="Also write one jsonl/csv file.")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (overrides the spec's random_seed).")
@click.option("--preview", type=click.IntRange(min=1), metavar="N", help="Print N rows as a table; write nothing.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run in the same output directory (refused if spec, options or seed data changed).",
)
@click.option("--partition", metavar="I/N", help="Generate only shard I of N (0-based), e.g. 0/4.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Records per batch and per output file.")
@click.option("--no-cache", is_flag=True, help="Send every model request, ignoring the local response cache.")
@click.option(
    "--adaptive-concurrency",
    is_flag=True,
    help="Lower each model's requests in flight on 429s and rising latency (AIMD, up to max_parallel_requests).",
)
@click.option(
    "--dry-run", type=click.IntRange(min=1), metavar="N", help="Render the prompts of N rows and estimate the run."
)
def run(
    spec: Path,
    num_records: int | None,
    output_dir: Path | None,
    fmt: str | None,
    seed: int | None,
    preview: int | None,
    resume: bool,
    partition: str | None,
    batch_size: int | None,
    no_cache: bool,
    adaptive_concurrency: bool,
    dry_run: int | None,
) -> None:
    """Generate the dataset of SPEC (a YAML spec, or a module built by `ddc build`) locally.

    \b
    Examples:
      ddc run examples/people.ddc.yaml -n 1000
      ddc run spec.yaml --preview 5
      ddc run spec.yaml -n 1000000 --partition 0/4 -o /data/shards
      ddc run spec.yaml -n 100000 --resume
    """
    from ddc.engine import runner

    source: Any = spec
    if spec.suffix == ".py":  # a module compiled by `ddc build`: its load_config_builder() gives the spec
        from ddc.api import load

        source = load(spec)
    if dry_run is not None:
        from ddc.engine.llm.dryrun import dry_run_spec

        for line in dry_run_spec(source, dry_run, num_records=num_records, seed=seed).lines():
            click.echo(line)
        return
    if preview is not None:
        result = runner.preview(source, preview, seed=seed, batch_size=batch_size)
        _print_rows(result.table)
        return
    shard = runner.parse_partition(partition) if partition else None
    reporter = _Progress(sys.stderr.isatty())
    result = runner.run(
        source,
        num_records=num_records,
        output_dir=output_dir,
        fmt=fmt,
        seed=seed,
        resume=resume,
        partition=shard,
        batch_size=batch_size,
        progress=reporter,
        use_cache=not no_cache,
        adaptive_concurrency=adaptive_concurrency,
    )
    reporter.close()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    meta = result.metadata
    click.echo(
        f"wrote {meta['actual_num_records']} records to {result.path} "
        f"(seed {meta['random_seed']}, {meta['timings']['seconds']} s)"
    )
    _print_summary(result.column_statistics)
    if meta.get("model_usage"):
        from ddc.engine.llm.usage import format_usage

        for line in format_usage(meta["model_usage"]):
            click.echo(line, err=True)


class _Progress:
    """A live line with rows/s and ETA on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, tty: bool, interval: float = 5.0) -> None:
        self.tty = tty
        self.interval = interval
        self.start: float | None = None
        self.base = 0
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.start is None:  # the engine's first call marks the start of generation (after loading,
            self.start, self.base, self.last = now, done, now  # and after the rows of a resumed run)
            if not self.tty:
                return
        if not self.tty and now - self.last < self.interval and done < total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = (done - self.base) / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        if self.tty:
            bar = "#" * filled + "-" * (width - filled)
            click.echo(f"\r[{bar}] {done}/{total} rows  {rate:,.0f} rows/s  ETA {eta:,.1f} s", nl=False, err=True)
            self.drawn = True
        else:
            click.echo(f"progress: {done}/{total} rows, {rate:,.0f} rows/s, ETA {eta:,.1f} s", err=True)

    def close(self) -> None:
        if self.drawn:
            click.echo("", err=True)


def _cell(value: Any) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(lines)


def _print_rows(table: Any) -> None:
    headers = list(table.column_names)
    rows = [[_cell(record[h]) for h in headers] for record in table.to_pylist()]
    click.echo(_table(headers, rows))


def _print_summary(stats: list[dict[str, Any]]) -> None:
    if not stats:
        return
    rows = []
    for s in stats:
        dist = s.get("distribution")
        dist = dist if isinstance(dist, dict) else {}
        if "min" in dist:
            shown = f"{_num(dist['min'])} .. {_num(dist['max'])}"
        else:
            hist = dist.get("histogram") or {"categories": [], "counts": []}
            pairs = zip(hist["categories"][:3], hist["counts"][:3], strict=True)
            shown = ", ".join(f"{_cell(v)} ({n})" for v, n in pairs)
        kind = s.get("sampler_type") or s.get("ddc_column_type") or s["column_type"]
        rows.append(
            [
                s["column_name"],
                kind,
                s["simple_dtype"],
                str(s["num_null"]),
                str(s["num_unique"]),
                _cell(shown)[:60],
            ]
        )
    click.echo(_table(["column", "type", "dtype", "nulls", "unique", "min .. max / top values"], rows))


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
