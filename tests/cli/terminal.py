"""Run ``ddc`` in a real pseudo-terminal of a given size and read the screen through pyte, a terminal
emulator: what a person would see, after every cursor move and line erase the program sent."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Screenful:
    """The screen at one moment (``at`` seconds after the start)."""

    at: float
    lines: list[str]


@dataclass
class TerminalRun:
    returncode: int
    raw: bytes
    screens: list[Screenful] = field(default_factory=list)

    @property
    def final(self) -> list[str]:
        return self.screens[-1].lines if self.screens else []


def ddc_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", DDC_HOME=str(home), PYTHONPATH=str(ROOT), **extra)
    return env


def run_in_terminal(
    args: list[str],
    *,
    width: int,
    height: int = 40,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 60.0,
    until: Callable[[list[str]], bool] | None = None,
) -> TerminalRun:
    """Run ``python -m ddc ARGS`` with stdout and stderr on a pty of ``width`` x ``height``; keep a
    screenful after every chunk of output. With ``until``, stop (SIGTERM) once a screen satisfies it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    screen = pyte.Screen(width, height)
    stream = pyte.ByteStream(screen)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ddc", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    run = TerminalRun(returncode=-1, raw=b"")
    chunks: list[bytes] = []
    try:
        while time.monotonic() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    break
                chunks.append(data)
                stream.feed(data)
                run.screens.append(Screenful(time.monotonic() - start, list(screen.display)))
                if until is not None and until(run.screens[-1].lines):
                    break
            elif proc.poll() is not None:
                break
        else:
            raise AssertionError(f"ddc {' '.join(args)} did not finish in {timeout} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        run.returncode = proc.wait(timeout=10)
        os.close(master)
    run.raw = b"".join(chunks)
    return run
