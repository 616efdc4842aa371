"""`ddc schema`: print or write the JSON Schema of specs, and wire it into VS Code."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_SCHEMA_PATH = Path("schemas") / "ddc.schema.json"


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to this file instead of printing it (default with --vscode: schemas/ddc.schema.json).",
)
@click.option(
    "--vscode",
    is_flag=True,
    help="Also map the written schema to *.ddc.yaml in .vscode/settings.json (yaml.schemas), keeping other settings.",
)
def schema(output: Path | None, vscode: bool) -> None:
    """Print the JSON Schema (draft-07) of ddc specs, for editors and CI.

    \b
    Examples:
      ddc schema > ddc.schema.json
      ddc schema -o schemas/ddc.schema.json
      ddc schema --vscode        # writes schemas/ddc.schema.json and .vscode/settings.json
    """
    from ddc.spec.schema import register_vscode, schema_text, write_schema

    if output is None and not vscode:
        click.echo(schema_text(), nl=False)
        return
    target = output or DEFAULT_SCHEMA_PATH
    changed = write_schema(target)
    click.echo(f"{'wrote' if changed else 'up to date:'} {target}", err=True)
    if vscode:
        if register_vscode(Path.cwd(), target):
            click.echo("updated .vscode/settings.json: yaml.schemas maps it to " + ", ".join(_globs()), err=True)
        else:
            click.echo(".vscode/settings.json already maps it to *.ddc.yaml", err=True)


def _globs() -> tuple[str, ...]:
    from ddc.spec.schema import SPEC_GLOBS

    return SPEC_GLOBS
