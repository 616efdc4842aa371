"""`ddc run`: generate a dataset locally (a thin skin over ``ddc.engine.run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ddc.cli.output import echo_json, make_output, output_options
from ddc.cli.progress_view import observer_for

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
@output_options("Print a JSON summary of the run on stdout (with --preview: the records as a JSON array).")
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
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Generate the dataset of SPEC (a YAML spec, or a module built by `ddc build`) locally.

    On a terminal, a live view shows the phase, a bar for records and a line per model column (cells
    done and failed, requests/s, ETA); otherwise a plain progress line every few seconds (stderr).

    \b
    Examples:
      ddc run examples/people.ddc.yaml -n 1000
      ddc run spec.yaml --preview 5
      ddc run spec.yaml -n 1000000 --partition 0/4 -o /data/shards
      ddc run spec.yaml -n 100000 --resume
      ddc run spec.yaml -q --json > summary.json
    """
    from ddc.engine import runner

    output = make_output(quiet, verbose, as_json)
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
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        show_table(result.table, spec_code_langs(source), as_json=output.json)
        return
    shard = runner.parse_partition(partition) if partition else None
    observer = observer_for(quiet=output.quiet, verbose=output.verbose)
    try:
        result = runner.run(
            source,
            num_records=num_records,
            output_dir=output_dir,
            fmt=fmt,
            seed=seed,
            resume=resume,
            partition=shard,
            batch_size=batch_size,
            progress=observer,
            use_cache=not no_cache,
            adaptive_concurrency=adaptive_concurrency,
        )
    except BaseException:
        observer.close(ok=False)  # before the message: the view stops, the error prints on a line of its own
        raise
    observer.close()
    for warning in result.warnings:
        if warning not in observer.warned:
            click.echo(f"warning: {warning}", err=True)
    meta = result.metadata
    if output.json:
        echo_json(run_summary(result, nothing_left=observer.nothing_left))
        return
    if output.quiet:
        return
    if observer.nothing_left:
        click.echo(
            f"nothing left to do: {result.path} already holds all {meta['actual_num_records']} records "
            f"(seed {meta['random_seed']})"
        )
    else:
        click.echo(
            f"wrote {meta['actual_num_records']} records to {result.path} "
            f"(seed {meta['random_seed']}, {meta['timings']['seconds']} s)"
        )
    _print_summary(result.column_statistics)
    if output.verbose:
        for column, seconds in meta["timings"].get("column_seconds", {}).items():
            click.echo(f"column {column}: {seconds} s", err=True)
    if meta.get("model_usage"):
        from ddc.engine.llm.usage import format_usage

        for line in format_usage(meta["model_usage"]):
            click.echo(line, err=True)


def run_summary(result: Any, *, nothing_left: bool) -> dict[str, Any]:
    """The ``--json`` summary: where, how many, how long, what went wrong, and the statistics."""
    meta = result.metadata
    return {
        "path": str(result.path) if result.path is not None else None,
        "records": meta.get("actual_num_records"),
        "target_records": meta.get("target_num_records"),
        "random_seed": meta.get("random_seed"),
        "seconds": meta.get("timings", {}).get("seconds"),
        "nothing_left_to_do": nothing_left,
        "failed_cells": meta.get("num_failed_cells", 0),
        "warnings": list(result.warnings),
        "model_usage": meta.get("model_usage", {}),
        "column_statistics": result.column_statistics,
    }


def spec_code_langs(source: Any) -> dict[str, str]:
    """Code columns of a spec (path or loaded), for highlighting; {} when it cannot be read cheaply."""
    from ddc.engine.records import code_langs_of

    try:
        if isinstance(source, Path):
            from ddc.spec.load import load_spec

            source = load_spec(source)
        return code_langs_of([c.model_dump() for c in source.spec.columns])
    except Exception:  # highlighting is a nicety: a spec that loads for the run always loads here
        return {}


def show_table(
    table: Any,
    code_langs: dict[str, str],
    *,
    as_json: bool = False,
    as_jsonl: bool = False,
    where: str | None = None,
    record: int | None = None,
    columns: list[str] | None = None,
    limit: int | None = None,
) -> None:
    """Rows in memory (a preview) through ``ddc show``'s view."""
    from ddc.cli.record_view import dump_records, print_records
    from ddc.engine.records import filter_table

    records = filter_table(table, where=where, record=record, columns=columns, limit=limit, code_langs=code_langs)
    if as_json or as_jsonl:
        click.echo(dump_records(records.rows, lines=as_jsonl), nl=False)
        return
    print_records(records.rows, indices=records.indices, code_langs=records.code_langs)


def _cell(value: Any) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(lines)


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
