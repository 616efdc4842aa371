"""`ddc migrate`: move a spec between local execution and NeMo Services."""

from __future__ import annotations

from pathlib import Path

import click


def _ask(step: str) -> bool:
    return click.confirm(f"  {step}?", default=False, err=True)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    from ddc.errors import UsageError

    out: dict[str, str] = {}
    for value in values:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise UsageError(f"{option} takes FROM=TO (got {value!r})")
        out[key] = target
    return out


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, exists=True))
@click.option("--to", "to", type=click.Choice(["local", "submit"]), required=True, help="Target execution mode.")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the migrated spec (the original is never changed).",
)
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="FROM=TO",
    help="Provider mapping: local name=workspace/name (to submit) or workspace/name=local name (to local).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="FROM=TO",
    help="Secret mapping: ENV_VAR=workspace/name (to submit) or workspace/name=ENV_VAR (to local).",
)
@click.option("--seed-fileset", default="ddc-seeds", show_default=True, help="Fileset receiving uploaded seeds.")
@click.option("--base-url", default=None, help="NeMo Services base URL (default: submit.base_url, $NMP_BASE_URL).")
@click.option("--workspace", default=None, help="NeMo workspace (default: submit.workspace or default).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option(
    "--apply",
    is_flag=True,
    help="To submit: also create what the spec needs on NeMo Services (secrets from the environment "
    "variables it names, a gateway provider per local provider, the seed upload, persona filesets), each "
    "step shown and confirmed first.",
)
@click.option("-y", "--yes", is_flag=True, help="With --apply: do every step without asking.")
def migrate(spec: str, to: str, out: Path, providers: tuple[str, ...], secrets: tuple[str, ...],
            seed_fileset: str, base_url: str | None, workspace: str | None, force: bool, apply: bool,
            yes: bool) -> None:  # fmt: skip
    """Write a copy of SPEC that runs in the other mode, keeping comments and key order.

    \b
    To submit: local providers -> gateway providers, env-var secrets -> Secrets API references,
               local/query seeds -> uploaded fileset references.
    To local:  gateway providers -> local provider entries, Secrets API -> env vars,
               fileset seeds -> downloaded files, persona filesets -> installed datasets.

    \b
    Examples:
      ddc migrate --to submit spec.yaml -o spec.submit.yaml --secret HF_TOKEN=default/hf-token
      ddc migrate --to local spec.yaml -o spec.local.yaml
      ddc migrate --to submit spec.yaml -o spec.submit.yaml --apply    # creates secrets, providers ...
    """
    from ddc.api import load
    from ddc.errors import UsageError
    from ddc.fsutil import write_atomic
    from ddc.migrate import MigrationOptions, migrate_spec

    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    if apply and to != "submit":
        raise UsageError("--apply creates resources on NeMo Services: use it with --to submit")
    options = MigrationOptions(
        to=to,  # type: ignore[arg-type]
        out=out,
        providers=_pairs(providers, "--provider"),
        secrets=_pairs(secrets, "--secret"),
        seed_fileset=seed_fileset,
        workspace=workspace,
        base_url=base_url,
        apply=apply,
        confirm=None if yes else _ask,
    )
    result = migrate_spec(load(spec, check=False), options)
    write_atomic(out, result.text)
    for action in result.actions or ["nothing to change"]:
        click.echo(f"  {action}")
    click.echo(f"{out}: written; check it with: ddc validate {out} --for {'run' if to == 'local' else 'submit'}")
