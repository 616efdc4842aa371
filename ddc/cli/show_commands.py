"""`ddc show`: read records in full — of a dataset a run wrote, or of a spec's in-memory preview."""

from __future__ import annotations

from pathlib import Path

import click

SPEC_SUFFIXES = (".yaml", ".yml", ".json", ".py")


@click.command()
@click.argument("target", metavar="DATASET|SPEC", type=click.Path(exists=True, path_type=Path))
@click.option("--record", type=click.IntRange(min=0), metavar="N", help="Only record N (0-based row number).")
@click.option(
    "--columns", metavar="A,B", help="Only these columns, in this order (comma-separated; repeatable).", multiple=True
)
@click.option("--where", metavar="SQL", help="A DuckDB filter over the columns, e.g. \"rating >= 4 AND lang = 'en'\".")
@click.option(
    "-n", "--limit", type=click.IntRange(min=0), default=5, show_default=True, help="At most N records (0: all)."
)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed of a spec's preview.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as one JSON array.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print the records as JSON lines.")
def show(
    target: Path,
    record: int | None,
    columns: tuple[str, ...],
    where: str | None,
    limit: int,
    seed: int | None,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Print records of DATASET (a directory `ddc run` wrote, or Parquet files) or SPEC in full.

    One panel per record: nested values as indented JSON, code highlighted, long text wrapped to the
    terminal, floats without binary noise. A SPEC is previewed in memory (-n records, nothing written).

    \b
    Examples:
      ddc show out/people
      ddc show out/people --record 42 --columns name,age
      ddc show out/reviews --where "rating <= 2" -n 3
      ddc show out/people --jsonl -n 0 > people.jsonl
      ddc show examples/people.ddc.yaml -n 2 --seed 1
    """
    from ddc.errors import UsageError

    if as_json and as_jsonl:
        raise UsageError("--json and --jsonl exclude each other")
    chosen = [c.strip() for group in columns for c in group.split(",") if c.strip()] or None
    if target.is_file() and target.suffix in SPEC_SUFFIXES:
        _show_spec(target, chosen, record, where, limit, seed, as_json, as_jsonl)
        return
    from ddc.cli.record_view import dump_records, print_records
    from ddc.engine.records import read_dataset

    records = read_dataset(target, where=where, record=record, columns=chosen, limit=limit or None)
    if as_json or as_jsonl:
        click.echo(dump_records(records.rows, lines=as_jsonl), nl=False)
        return
    if not records.rows:
        click.echo("no records match", err=True)
        return
    print_records(records.rows, indices=records.indices, code_langs=records.code_langs)


def _show_spec(
    spec: Path,
    columns: list[str] | None,
    record: int | None,
    where: str | None,
    limit: int,
    seed: int | None,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    from ddc.cli.run_commands import show_table, spec_code_langs
    from ddc.engine import runner
    from ddc.errors import UsageError

    source: object = spec
    if spec.suffix == ".py":
        from ddc.api import load

        source = load(spec)
    if limit == 0 and record is None:
        raise UsageError("-n 0 (all) needs a dataset; a spec is previewed: give -n N")
    count = max(limit, (record or 0) + 1)
    result = runner.preview(source, count, seed=seed)  # type: ignore[arg-type]
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    show_table(
        result.table,
        spec_code_langs(source),
        as_json=as_json,
        as_jsonl=as_jsonl,
        where=where,
        record=record,
        columns=columns,
        limit=limit or None,
    )
