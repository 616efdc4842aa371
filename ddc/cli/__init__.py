"""Command-line interface: a thin skin over the library API.

The only package that prints or exits. Commands are imported lazily so that ``ddc --help`` stays fast;
each command module is named for its command group. A ``DdcError`` prints its message and exits with its
code (1 by default); anything else is our bug: "internal error, please report" with the traceback, exit 70.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ddc.redaction import RedactingStream

#: command name -> "module:attribute"; each module imports only what its commands need.
COMMANDS: dict[str, str] = {
    "validate": "ddc.cli.spec_commands:validate",
    "schema": "ddc.cli.schema_commands:schema",
    "init": "ddc.cli.init_commands:init",
    "build": "ddc.cli.spec_commands:build",
    "fingerprint": "ddc.cli.spec_commands:fingerprint",
    "run": "ddc.cli.run_commands:run",
    "submit": "ddc.cli.submit_commands:submit",
    "jobs": "ddc.cli.submit_commands:jobs",
    "preview": "ddc.cli.submit_commands:preview",
    "personas": "ddc.cli.personas_commands:personas",
    "migrate": "ddc.cli.migrate_commands:migrate",
    "models": "ddc.cli.model_commands:models",
    "cache": "ddc.cli.model_commands:cache",
    "show": "ddc.cli.show_commands:show",
    "report": "ddc.cli.report_commands:report",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMAND_SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


#: One-line summaries shown by ``ddc --help`` without importing every command module.
COMMAND_SUMMARIES: dict[str, str] = {
    "validate": "Check a spec (schema, references, templates, seeds) for run and/or submit.",
    "schema": "Print the JSON Schema of specs (for editors and CI).",
    "init": "Write a commented starter spec (samplers, seed-join, llm, submit).",
    "build": "Compile a spec into a Python module exposing load_config_builder().",
    "fingerprint": "Print the sha256 fingerprint of a spec's data-relevant config.",
    "run": "Generate a dataset locally (samplers, expressions, seed data; LLM columns when configured).",
    "submit": "Submit a spec as a Data Designer job to NeMo Services (--wait, --download, --dry-run).",
    "jobs": "List, inspect, cancel and download NeMo Services jobs.",
    "preview": "Preview a spec on NeMo Services (--remote; at most 10 records).",
    "personas": "Install and list local persona datasets for the person sampler.",
    "migrate": "Write a copy of a spec moved to local execution or NeMo Services.",
    "models": "List model aliases and providers (and where each comes from); check a spec's endpoints.",
    "cache": "Clear the local cache of model responses.",
    "show": "Print records of a dataset (or a spec's preview) in full, one panel per record.",
    "report": "Write a dataset's self-contained HTML report: a chart and figures per column.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ddc", prog_name="ddc")
@click.option("--debug", is_flag=True, help="Show tracebacks for user errors too.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ddc: YAML-first compiler and local runner for NeMo Data Designer configs.

    \b
    Examples:
      ddc validate examples/people.ddc.yaml
      ddc build examples/people.ddc.yaml -o people.py
      ddc run examples/people.ddc.yaml -n 1000
      ddc show out/people --record 3

    \b
    Exit codes: 0 success, 1 user error (spec, data, model endpoint), 2 usage error, 3 NeMo job failed,
    4 NeMo Services unreachable or refusing (HTTP, auth), 5 --wait-timeout passed, 70 internal error
    (please report), 130 interrupted.
    """
    ctx.obj = {"debug": debug}


def entry() -> None:
    """The ``ddc`` executable: ``main()`` plus tuning that only a whole process may do (not a library
    or a test session calling ``main``).

    A CLI process builds a large long-lived heap (pydantic validators, numpy, pyarrow) and makes little
    cyclic garbage, so the collector runs young-generation passes every 20,000 allocations instead of
    700 (the generations still fill, so long runs stay bounded). At exit the heap is frozen: the
    interpreter's final collection over everything still alive only delays the exit. atexit handlers
    still run. Together ~70 ms of a 0.45 s sampler run (benchmarks/bench_engine.py (a)).

    Not when DuckDB was loaded: its nanobind types hold import-time cycles that must be collected, or
    nanobind reports them as leaks on stderr at exit.

    Runs skip imports that pyarrow and httpx make for callers other than ddc (pandas, httpx's own
    command-line client): 0.3-0.6 s; every command that loads a spec skips pydantic's plugin scan, ~50 ms
    (``ddc.engine.process_tuning``)."""
    import gc

    from ddc.engine.process_tuning import own_process, skip_pydantic_plugins

    own_process()
    skip_pydantic_plugins()
    gc.set_threshold(20_000, 20, 20)
    try:
        main()
    finally:
        if "duckdb" not in sys.modules:
            gc.freeze()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn errors into messages and exit codes. Everything it prints
    passes through ``ddc.redaction``: no secret ddc resolved reaches the terminal or a log."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(stdout), RedactingStream(stderr, messages=True)  # type: ignore[assignment]
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:  # a Ctrl-C outside _main's handlers: its imports, or while they report
        click.echo("interrupted", err=True)
        sys.exit(getattr(exc, "exit_code", 130))
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: list[str] | None) -> Any:
    from ddc.errors import DdcError, ExitCode, RunInterrupted

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, prog_name="ddc", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, RunInterrupted):  # click turns a KeyboardInterrupt into Abort
            click.echo(_interrupted(exc.__context__, argv if argv is not None else sys.argv[1:]), err=True)
            sys.exit(exc.__context__.exit_code)
        click.echo("aborted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except DdcError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {exc}" if "\n" not in str(exc) else str(exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception:
        import traceback

        traceback.print_exc()
        click.echo("internal error, please report it with the traceback above", err=True)
        sys.exit(ExitCode.INTERNAL)


def _interrupted(exc: Any, argv: list[str]) -> str:
    """One line for a run stopped by a signal: what is kept and the command that continues it."""
    import shlex

    if exc.dataset_dir is None or not exc.dataset_dir.is_dir():
        return f"interrupted ({exc.signal_name}): nothing was written"
    command = shlex.join(["ddc", *argv, *([] if "--resume" in argv else ["--resume"])])
    return (
        f"interrupted ({exc.signal_name}): the complete batches are kept in {exc.dataset_dir}; continue with: {command}"
    )
