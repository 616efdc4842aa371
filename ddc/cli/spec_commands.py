"""`ddc validate`, `ddc build`, `ddc fingerprint`: each one library call plus rendering."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

# a path, never spec text: a mistyped file name is "no such file", not a one-word YAML document
SPEC = click.argument("spec", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))


@click.command()
@SPEC
@click.option(
    "--for",
    "modes",
    type=click.Choice(["run", "submit", "both"]),
    default=None,
    help="Also report what would not work when running locally and/or submitting.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("--explain", is_flag=True, help="Show how each provider, secret, seed and persona resolves per mode.")
@click.option(
    "--online",
    is_flag=True,
    help="Also check that referenced providers, secrets and filesets (NeMo Services) and Hugging Face seed files "
    "exist.",
)
def validate(spec: str, modes: str | None, fmt: str, quiet: bool, explain: bool, online: bool) -> None:
    """Check SPEC: schema, references, templates, cycles, models and seed files.

    Exit code 0 when valid, 1 when not.

    \b
    Examples:
      ddc validate examples/people.ddc.yaml
      ddc validate spec.yaml --for both
      ddc validate spec.yaml --for run --explain
      NMP_BASE_URL=http://nemo:8080 ddc validate spec.yaml --for submit --online
      ddc validate spec.yaml --format json
    """
    from ddc.api import validate as validate_spec

    if (explain or online) and modes is None:
        modes = "both"
    chosen: tuple = () if modes is None else ("run", "submit") if modes == "both" else (modes,)  # type: ignore[assignment]
    report = validate_spec(spec, modes=chosen, online=online)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        if explain:
            for mode, lines in report.explanations.items():
                click.echo(
                    f"resolution for ddc {mode} (local first, then NeMo Services):"
                    if mode == "run"
                    else f"resolution for ddc {mode} (NeMo Services only):"
                )
                for line in lines or ["(no external references)"]:
                    click.echo(f"  {line}")
        shown = [d for d in report.diagnostics if not quiet or d.severity == "error"]
        for diag in shown:
            click.echo(diag.format(), err=not report.ok)
        errors = sum(d.severity == "error" for d in report.diagnostics)
        warnings = sum(d.severity == "warning" for d in report.diagnostics)
        if report.ok and not quiet:
            extra = f", {warnings} warning(s)" if warnings else ""
            click.echo(f"{report.source}: valid{extra} ({report.fingerprint})")
        elif not report.ok:
            click.echo(f"{report.source}: {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(0 if report.ok else 1)


@click.command()
@SPEC
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the module here (default: print it).",
)
@click.option(
    "--target",
    type=click.Choice(["ddc", "data-designer"]),
    default="ddc",
    show_default=True,
    help="ddc: needs only ddc. data-designer: returns the official DataDesignerConfigBuilder.",
)
@click.option("--check", is_flag=True, help="Exit 1 if OUTPUT is missing or stale; write nothing.")
def build(spec: str, out: str | None, target: str, check: bool) -> None:
    """Compile SPEC into a Python module exposing load_config_builder().

    The module is deterministic (same spec, same bytes) and runs under `ddc run module.py`, or, with
    --target data-designer, under `data-designer create module.py` and the NeMo platform CLI.

    \b
    Examples:
      ddc build examples/people.ddc.yaml -o people.py
      ddc build spec.yaml --target data-designer -o spec_dd.py
      ddc build spec.yaml -o spec.py --check
    """
    from ddc.api import build as build_module
    from ddc.errors import UsageError

    if check and out is None:
        raise UsageError("--check needs -o/--output: the file to compare with")
    result = build_module(spec, target=target, out=out, check=check)
    if check:
        if result.changed:
            click.echo(f"{out}: stale; rebuild with: ddc build {spec} --target {target} -o {out}", err=True)
            sys.exit(1)
        click.echo(f"{out}: up to date ({result.fingerprint})")
        return
    if out is None:
        click.echo(result.text, nl=False)
    else:
        state = "written" if result.changed else "unchanged"
        click.echo(f"{out}: {state} ({result.fingerprint})", err=True)


@click.command()
@SPEC
def fingerprint(spec: str) -> None:
    """Print the sha256 fingerprint of SPEC's data-relevant config.

    Two specs with the same fingerprint generate the same data (same random_seed included).

    \b
    Example:
      ddc fingerprint examples/people.ddc.yaml
    """
    from ddc.api import load
    from ddc.compile.canonical import fingerprint as spec_fingerprint

    click.echo(spec_fingerprint(load(spec).spec))
