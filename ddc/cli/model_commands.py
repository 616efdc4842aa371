"""`ddc models list|check` and `ddc cache clear`: each one library call plus rendering."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def models() -> None:
    """Model endpoints used by `ddc run`."""


@models.command("check")
@click.argument("spec", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
def check(spec: Path) -> None:
    """Ping every model alias SPEC's columns use, once, and report per alias.

    Providers resolve from the spec's `providers`, then $DDC_HOME/providers.yaml (default
    ~/.config/ddc/providers.yaml), then the official CLI's $DATA_DESIGNER_HOME/model_providers.yaml
    (default ~/.data-designer), then the default providers nvidia / openai / openrouter
    (OPENAI_BASE_URL overrides the openai endpoint). Exit code 1 when any model fails.

    \b
    Examples:
      ddc models check examples/reviews.ddc.yaml
      NVIDIA_API_KEY=... ddc models check spec.yaml
    """
    from ddc.api import load
    from ddc.engine.llm.health import check_models

    results = check_models(load(spec).spec)
    if not results:
        click.echo(f"{spec}: no column uses a model")
        return
    for result in results:
        click.echo(result.line(), err=not result.ok)
    failed = sum(not r.ok for r in results)
    click.echo(f"{len(results) - failed} of {len(results)} model(s) answered", err=bool(failed))
    sys.exit(1 if failed else 0)


@models.command("list")
@click.argument("spec", metavar="[SPEC]", required=False, type=click.Path(dir_okay=False, path_type=Path))
def list_models(spec: Path | None) -> None:
    """List the providers and model aliases `ddc run` would use, and where each comes from.

    Without SPEC: the default aliases (the official CLI's $DATA_DESIGNER_HOME/model_configs.yaml, then
    the built-in ones) and every provider. With SPEC: its model_configs, or the defaults when it has
    none. Providers come from the spec, $DDC_HOME/providers.yaml, the official CLI's
    $DATA_DESIGNER_HOME/model_providers.yaml (default ~/.data-designer), then the built-in ones.
    API keys are never shown: only the variable that holds one, or "plaintext key".

    \b
    Examples:
      ddc models list
      ddc models list examples/reviews.ddc.yaml
    """
    from ddc.api import load
    from ddc.engine.llm.providers import model_listing

    providers, aliases = model_listing(load(spec).spec if spec else None, str(spec or "spec"))
    click.echo("providers:")
    for row in providers:
        click.echo(("  " + "  ".join(row)).rstrip())
    click.echo("model aliases:")
    for row in aliases:
        click.echo(("  " + "  ".join(row)).rstrip())


@click.group()
def cache() -> None:
    """The local response cache of `ddc run` (content-addressed model replies)."""


@cache.command("clear")
@click.option(
    "--path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Cache file (default: $DDC_HOME/cache/responses.sqlite3, else ./.ddc-cache/responses.sqlite3).",
)
def clear(path: str | None) -> None:
    """Delete every cached model response.

    \b
    Examples:
      ddc cache clear
      ddc cache clear --path .ddc-cache/responses.sqlite3
    """

    from ddc.engine.llm.cache import clear_cache, default_cache_path

    target = Path(path) if path else default_cache_path()
    removed = clear_cache(target)
    click.echo(f"removed {removed} cached response(s) from {target}")
