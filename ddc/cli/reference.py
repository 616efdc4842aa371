"""The CLI reference in docs/cli.md, generated from each command's --help (a test keeps it current).

python -m ddc.cli.reference > docs/cli.md
"""

from __future__ import annotations

import click

from ddc.cli import COMMANDS, cli


def _help(command: click.Command, path: list[str]) -> str:
    parent = click.Context(cli, info_name="ddc", terminal_width=100, max_content_width=100)
    ctx = parent
    for name in path[:-1]:
        group = ctx.command
        assert isinstance(group, click.Group)
        sub = group.get_command(ctx, name)
        assert sub is not None
        ctx = click.Context(sub, info_name=name, parent=ctx)
    ctx = click.Context(command, info_name=path[-1], parent=ctx, terminal_width=100, max_content_width=100)
    return command.get_help(ctx)


def render_reference() -> str:
    ctx = click.Context(cli, info_name="ddc", terminal_width=100, max_content_width=100)
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
        out += ["", f"## ddc {name}", "", "```text", _help(command, [name]), "```"]
        if isinstance(command, click.Group):
            sub_ctx = click.Context(command, info_name=name, parent=ctx)
            for sub in command.list_commands(sub_ctx):
                subcommand = command.get_command(sub_ctx, sub)
                assert subcommand is not None
                out += ["", f"### ddc {name} {sub}", "", "```text", _help(subcommand, [name, sub]), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    click.echo(render_reference(), nl=False)
