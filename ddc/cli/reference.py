"""The CLI reference in docs/cli.md, generated from each command's --help (a test keeps it current).

python -m ddc.cli.reference > docs/cli.md
"""

from __future__ import annotations

import click

from ddc.cli import COMMANDS, cli


def _context(command: click.Command, name: str, parent: click.Context | None = None) -> click.Context:
    """The context ``ddc ... --help`` builds (the command's context_settings, e.g. ``-h``), at a fixed
    width; a bare ``click.Context`` would miss them, and click caches the help option it first makes."""
    return command.make_context(name, [], parent=parent, resilient_parsing=True, terminal_width=100)


def render_reference() -> str:
    ctx = _context(cli, "ddc")
    out = [
        "# ddc command reference",
        "",
        "Generated from `--help` by `python -m ddc.cli.reference > docs/cli.md`; a test checks it is current.",
        "",
        "```text",
        cli.get_help(ctx),
        "```",
    ]
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None
        sub_ctx = _context(command, name, ctx)
        out += ["", f"## ddc {name}", "", "```text", command.get_help(sub_ctx), "```"]
        if isinstance(command, click.Group):
            for sub in command.list_commands(sub_ctx):
                subcommand = command.get_command(sub_ctx, sub)
                assert subcommand is not None
                help_text = subcommand.get_help(_context(subcommand, sub, sub_ctx))
                out += ["", f"### ddc {name} {sub}", "", "```text", help_text, "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    click.echo(render_reference(), nl=False)
