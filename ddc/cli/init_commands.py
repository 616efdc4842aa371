"""`ddc init`: write a commented starter spec that validates (and, for `samplers`, runs offline)."""

from __future__ import annotations

from pathlib import Path

import click

TEMPLATE_CHOICES = ("samplers", "seed-join", "llm", "submit")


@click.command("init")
@click.argument("name", default="my-dataset", metavar="[NAME]")
@click.option(
    "-t", "--template", type=click.Choice(TEMPLATE_CHOICES), default="samplers", show_default=True,
    help="samplers: offline samplers and expressions; seed-join: a DuckDB join of two CSV files; "
    "llm: text, structured and judge columns on a local endpoint; submit: ready for NeMo Services.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(name: str, template: str, force: bool) -> None:
    """Write NAME.ddc.yaml from a template (NAME may be a path; default my-dataset).

    The spec starts with a `# yaml-language-server: $schema=...` line pointing to
    schemas/ddc.schema.json (the nearest one in the project, else written beside the spec), so editors
    complete and check it. Existing files are never overwritten without --force.

    \b
    Examples:
      ddc init people
      ddc init reviews --template llm
      ddc init specs/orders --template seed-join
    """
    from ddc.templates import init_spec

    result = init_spec(name, template=template, force=force)
    for path in (result.spec, *result.data_files):
        click.echo(f"wrote {_show(path)}")
    if result.schema_written:
        click.echo(f"wrote {_show(result.schema)}")
    click.echo(f"next: ddc validate {_show(result.spec)}")


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
