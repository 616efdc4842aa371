"""What a run reports while it goes. The engine calls a ``RunObserver``; the CLI renders it.

The engine never prints: it tells an observer which phase it is in, how many rows are final (written),
and, for columns whose cells are generated one by one (model columns), how many cells are done and
failed. Every method is a no-op here, so an observer implements only what it shows and new events
can be added without breaking observers written against older ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

#: Phases of a run, in order; a run without seed data or statistics skips theirs.
Phase = Literal["seed", "generation", "statistics", "writing"]


class RunObserver:
    """Receives a run's progress. Called from the run's thread; keep every method cheap."""

    def phase(self, name: Phase) -> None:
        """A phase starts (the previous one has ended)."""

    def start(self, done: int, total: int, cell_columns: Mapping[str, int]) -> None:
        """Generation starts: ``done`` rows of ``total`` were written by an earlier run (``--resume``);
        ``cell_columns`` maps each column generated cell by cell to the cells this run will attempt."""

    def rows(self, done: int, total: int) -> None:
        """``done`` rows of ``total`` are final (their batch is written)."""

    def cells(self, column: str, done: int, failed: int) -> None:
        """Column ``column`` has ``done`` cells finished in this run, ``failed`` of them failed."""

    def warning(self, message: str) -> None:
        """A warning worth showing now (it is also kept for metadata.json)."""


class _RowsCallback(RunObserver):
    """Adapts a plain ``progress(done, total)`` callable (the API before observers) to an observer."""

    def __init__(self, callback: Callable[[int, int], None]) -> None:
        self.callback = callback

    def start(self, done: int, total: int, cell_columns: Mapping[str, int]) -> None:
        self.callback(done, total)

    def rows(self, done: int, total: int) -> None:
        self.callback(done, total)


def as_observer(progress: RunObserver | Callable[[int, int], None] | None) -> RunObserver:
    """An observer for ``run(progress=...)``: an observer as is, a callable wrapped, None a no-op."""
    if progress is None:
        return RunObserver()
    if isinstance(progress, RunObserver):
        return progress
    return _RowsCallback(progress)
