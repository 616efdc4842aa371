"""docs/cli.md is the current --help of every command."""

from __future__ import annotations

from pathlib import Path

from ddc.cli import COMMANDS
from ddc.cli.reference import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_reference(), (
        "docs/cli.md is stale: regenerate it with `python -m ddc.cli.reference > docs/cli.md`"
    )


def test_every_command_help_has_an_example() -> None:
    text = render_reference()
    for name in COMMANDS:
        section = text.split(f"## ddc {name}\n", 1)[1].split("\n## ", 1)[0]
        assert "Example" in section, f"ddc {name} --help has no example"
