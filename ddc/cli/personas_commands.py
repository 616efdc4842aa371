"""`ddc personas install|list`: local persona datasets for the `person` sampler."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def personas() -> None:
    """Install and list local Nemotron-Personas datasets used by the `person` sampler.

    \b
    Examples:
      ddc personas install --locale en_US --from ./en_US.parquet
      NMP_BASE_URL=http://nemo:8080 ddc personas install --locale en_US --from-fileset
      ddc personas list
    """


@personas.command()
@click.option("--locale", required=True, help="Locale of the dataset, e.g. en_US.")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path), help="A local Parquet file.")
@click.option("--from-fileset", is_flag=True, help="Download system/nemotron-personas-dataset-<locale>.")
@click.option("--base-url", default=None, help="NeMo Services base URL (default: $NMP_BASE_URL).")
def install(locale: str, source: Path | None, from_fileset: bool, base_url: str | None) -> None:
    """Put a persona dataset where `ddc run` finds it."""
    from ddc.errors import UsageError
    from ddc.nemo.personas import install_personas
    from ddc.nemo.resources import NemoAccess

    if (source is None) == (not from_fileset):
        raise UsageError("give exactly one of --from FILE and --from-fileset")
    access = NemoAccess.from_settings(base_url) if from_fileset else None
    path = install_personas(locale, source=source, access=access)
    click.echo(f"installed {locale}: {path}")


@personas.command(name="list")
def list_() -> None:
    """Show which locales are installed locally."""
    from ddc.nemo.personas import installed_persona_path
    from ddc.spec.vocab import PERSONA_LOCALES

    for locale in PERSONA_LOCALES:
        path = installed_persona_path(locale)
        click.echo(f"{locale:<12} {path if path else '-'}")
