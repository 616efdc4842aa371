"""The ``ddc`` executable's entry point (``python -m ddc`` too).

It imports nothing but ``sys`` before the CLI's modules (click, the command tree: tens of milliseconds),
so a Ctrl-C while they load ends the process as Ctrl-C does later: "interrupted" and exit 130, not a
``KeyboardInterrupt`` traceback.
"""

from __future__ import annotations

import sys


def entry() -> None:
    try:
        from ddc.cli import entry as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    run_cli()
