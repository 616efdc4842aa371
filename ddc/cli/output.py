"""The output options `run`, `preview` and `submit` share: ``--quiet``, ``--verbose``, ``--json``.

Results go to stdout, progress and messages to stderr. ``--json`` replaces the human summary on stdout
by one JSON object (progress still draws on stderr unless ``--quiet``); ``--quiet`` draws no progress
and prints no summary (warnings and errors still go to stderr); ``--verbose`` adds each phase's time
and the per-column timings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class Output:
    quiet: bool = False
    verbose: bool = False
    json: bool = False


def output_options(
    json_help: str = "Print a machine-readable JSON summary on stdout.",
    *,
    verbose_help: str = "Also print phase and per-column timings.",
) -> Callable[..., Any]:
    """Add ``-q/--quiet``, ``-v/--verbose`` and ``--json`` (parameters ``quiet``, ``verbose``, ``as_json``;
    ``make_output`` checks them)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option("--json", "as_json", is_flag=True, help=json_help)(func)
        func = click.option("-v", "--verbose", is_flag=True, help=verbose_help)(func)
        func = click.option(
            "-q", "--quiet", is_flag=True, help="No progress and no summary; only warnings and errors (stderr)."
        )(func)
        return func

    return decorate


def make_output(quiet: bool, verbose: bool, as_json: bool) -> Output:
    if quiet and verbose:
        from ddc.errors import UsageError

        raise UsageError("--quiet and --verbose exclude each other")
    return Output(quiet=quiet, verbose=verbose, json=as_json)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str))
