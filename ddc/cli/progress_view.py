"""How `ddc run` shows a run going: the engine's ``RunObserver`` events drawn for a person.

On a terminal, a rich live view (redrawn in place, sized to the terminal, colours unless ``NO_COLOR``):
the phase with its elapsed time, one bar for records, and one line per model column with completed and
failed cells, requests/s and ETA. Elsewhere (a pipe, a CI log), a plain line per phase and every few
seconds a line for records and each model column. Warnings print at once on their own line.

rich is imported only by ``LiveProgress``, so quiet and non-terminal runs never load it.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import click

from ddc.engine.progress import Phase, RunObserver

#: How a phase is named on screen.
PHASE_LABELS: dict[str, str] = {
    "seed": "seed data",
    "generation": "generation",
    "statistics": "statistics",
    "writing": "writing",
}


@dataclass
class _Count:
    """Cells (or rows) of one line: done and failed of total, counted from the start of generation."""

    total: int
    done: int = 0
    failed: int = 0


class RunTracker(RunObserver):
    """Remembers what the run reported, for the summary: whether anything was left to do, which warnings
    were already shown. Draws nothing (``--quiet``)."""

    def __init__(self) -> None:
        self.resumed_rows: int | None = None
        self.total: int | None = None
        self.warned: list[str] = []
        self.phase_seconds: dict[str, float] = {}
        self._phase: str | None = None
        self._phase_started = 0.0

    @property
    def nothing_left(self) -> bool:
        """A resumed run whose rows were all written before it started."""
        return self.resumed_rows is not None and self.total is not None and self.resumed_rows >= self.total

    def phase(self, name: Phase) -> None:
        self._end_phase()
        self._phase, self._phase_started = name, time.monotonic()

    def _end_phase(self) -> None:
        if self._phase is not None:
            self.phase_seconds[self._phase] = time.monotonic() - self._phase_started
            self._phase = None

    def start(self, done: int, total: int, cell_columns: Mapping[str, int]) -> None:
        self.resumed_rows, self.total = done, total

    def warning(self, message: str) -> None:
        self.warned.append(message)

    def close(self, *, ok: bool = True) -> None:
        """The run has ended (``ok``) or failed: stop drawing, so what follows prints on clean lines."""
        self._end_phase()


class PlainProgress(RunTracker):
    """Plain lines for a log: one per phase, then records and each model column every ``interval`` s."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        interval: float = 5.0,
        verbose: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.verbose = verbose
        self.clock = clock
        self.rows_line = _Count(0)
        self.columns: dict[str, _Count] = {}
        self.started: float | None = None
        self.last = 0.0

    def _echo(self, line: str) -> None:
        click.echo(line, file=self.stream or sys.stderr)

    def phase(self, name: Phase) -> None:
        previous = self._phase
        super().phase(name)
        if self.verbose and previous is not None:
            self._echo(f"{PHASE_LABELS[previous]}: {self.phase_seconds[previous]:.2f} s")
        self._echo(f"{PHASE_LABELS[name]}...")

    def start(self, done: int, total: int, cell_columns: Mapping[str, int]) -> None:
        super().start(done, total, cell_columns)
        self.rows_line = _Count(total - done)
        self.columns = {name: _Count(cells) for name, cells in cell_columns.items()}
        self.started = self.last = self.clock()

    def rows(self, done: int, total: int) -> None:
        self.rows_line.done = done - (self.resumed_rows or 0)
        self._tick(final=done >= total)

    def cells(self, column: str, done: int, failed: int) -> None:
        line = self.columns.setdefault(column, _Count(0))
        line.done, line.failed = done, failed
        self._tick()

    def warning(self, message: str) -> None:
        super().warning(message)
        self._echo(f"warning: {message}")

    def close(self, *, ok: bool = True) -> None:
        name = self._phase
        super().close(ok=ok)
        if self.verbose and name is not None:
            self._echo(f"{PHASE_LABELS[name]}: {self.phase_seconds[name]:.2f} s")

    def _tick(self, final: bool = False) -> None:
        now = self.clock()
        if self.started is None or (not final and now - self.last < self.interval):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        done_before = self.resumed_rows or 0
        self._echo(
            f"records: {self.rows_line.done + done_before:,}/{(self.total or 0):,}"
            + _rate_eta(self.rows_line, elapsed, "records")
        )
        for name, line in self.columns.items():
            failed = f", {line.failed:,} failed" if line.failed else ""
            self._echo(f"  {name}: {line.done:,}/{line.total:,} cells{failed}" + _rate_eta(line, elapsed, "req"))


def _rate_eta(line: _Count, elapsed: float, unit: str) -> str:
    rate = line.done / elapsed
    if line.done >= line.total:
        return f", {rate:,.1f} {unit}/s"
    eta = f"ETA {_duration((line.total - line.done) / rate)}" if rate > 0 else "ETA -"
    return f", {rate:,.1f} {unit}/s, {eta}"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}:{whole:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{whole:02d}"


class LiveProgress(RunTracker):
    """The live view on a terminal, redrawn in place by rich (which clears what it drew before)."""

    def __init__(self, console: Any = None, *, verbose: bool = False, clock: Callable[[], float] | None = None) -> None:
        from rich.console import Console
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.table import Column

        super().__init__()
        self.verbose = verbose
        self.console = console or Console(stderr=True, highlight=False)
        self.progress = _rich_types()[0](
            SpinnerColumn(finished_text=" "),
            TextColumn(
                "{task.description}",
                table_column=Column(no_wrap=True, overflow="ellipsis", min_width=10, max_width=24),
            ),
            _rich_types()[1](bar_width=30),
            _rich_types()[2](table_column=Column(no_wrap=True, overflow="ellipsis")),
            TimeElapsedColumn(),
            console=self.console,
            get_time=clock,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.phase_task = self.progress.add_task("loading", total=None, unit="")
        self.rows_task: Any = None
        self.column_tasks: dict[str, Any] = {}
        self.progress.start()

    def phase(self, name: Phase) -> None:
        previous = self._phase
        super().phase(name)
        if self.verbose and previous is not None:
            self._print(f"{PHASE_LABELS[previous]}: {self.phase_seconds[previous]:.2f} s", style="dim")
        self.progress.reset(self.phase_task, total=None, description=PHASE_LABELS[name])

    def start(self, done: int, total: int, cell_columns: Mapping[str, int]) -> None:
        super().start(done, total, cell_columns)
        self.rows_task = self.progress.add_task("records", total=total, completed=done, unit="records", base=done)
        for name, cells in cell_columns.items():
            self.column_tasks[name] = self.progress.add_task(f"  {name}", total=cells, unit="req", failed=0)

    def rows(self, done: int, total: int) -> None:
        if self.rows_task is not None:
            self.progress.update(self.rows_task, completed=done, total=total)

    def cells(self, column: str, done: int, failed: int) -> None:
        task = self.column_tasks.get(column)
        if task is None:
            task = self.column_tasks[column] = self.progress.add_task(f"  {column}", total=None, unit="req")
        self.progress.update(task, completed=done, failed=failed)

    def warning(self, message: str) -> None:
        super().warning(message)
        self._print(f"warning: {message}", style="yellow")

    def _print(self, text: str, style: str) -> None:
        from rich.text import Text

        self.progress.console.print(Text(text, style=style), soft_wrap=False)

    def close(self, *, ok: bool = True) -> None:
        name = self._phase
        super().close(ok=ok)
        if self.verbose and name is not None:
            self._print(f"{PHASE_LABELS[name]}: {self.phase_seconds[name]:.2f} s", style="dim")
        label = "done" if ok else f"stopped ({PHASE_LABELS[name]})" if name else "stopped"
        self.progress.update(self.phase_task, total=1, completed=1, description=label)
        self.progress.stop()


#: Below this many columns the view drops the bars and the elapsed time: names and counts stay legible.
NARROW = 60


@functools.cache
def _rich_types() -> tuple[Any, Any, Any]:
    """rich classes of the view, made on first use so that rich is imported only when drawing."""
    from rich.progress import BarColumn, Progress, ProgressColumn, TimeElapsedColumn
    from rich.text import Text

    class FittedProgress(Progress):
        """On a narrow terminal (measured at every redraw, so a resize is followed) only the spinner,
        the name and the counts."""

        def make_tasks_table(self, tasks: Any) -> Any:
            if not hasattr(self, "live") or self.console.width >= NARROW:
                return super().make_tasks_table(tasks)
            wide = self.columns
            self.columns = tuple(c for c in wide if not isinstance(c, (BarColumn, TimeElapsedColumn)))
            try:
                return super().make_tasks_table(tasks)
            finally:
                self.columns = wide

    class PhaseFreeBar(BarColumn):
        """A bar for records and cells; none on the phase line (whose length is unknown)."""

        def render(self, task: Any) -> Any:
            return Text("") if not task.fields.get("unit") else super().render(task)

    class StatsColumn(ProgressColumn):
        """``done/total · N failed · rate/s · ETA`` of one line."""

        max_refresh = 0.5  # a steadier rate and ETA than every frame

        def render(self, task: Any) -> Text:
            unit = task.fields.get("unit", "")
            if not unit:
                return Text("")
            done = int(task.completed)
            text = Text(f"{done:,}/{int(task.total):,}" if task.total is not None else f"{done:,}")
            failed = task.fields.get("failed", 0)
            if failed:
                text.append(" · ")
                text.append(f"{failed:,} failed", style="red")
            # The average since generation started: cells finish in bursts (a batch's column at once),
            # and a rate over the last few updates would swing by orders of magnitude.
            elapsed = task.finished_time if task.finished else task.elapsed
            new = done - task.fields.get("base", 0)
            if elapsed and elapsed > 0.5 and new > 0:
                rate = new / elapsed
                text.append(f" · {rate:,.1f} {unit}/s")
                if not task.finished and task.total is not None:
                    text.append(f" · ETA {_duration((task.total - done) / rate)}")
            return text

    return FittedProgress, PhaseFreeBar, StatsColumn


def observer_for(*, quiet: bool, verbose: bool, stream: IO[str] | None = None) -> RunTracker:
    """The observer `ddc run` uses: nothing drawn with ``--quiet``, the live view on a terminal (stderr),
    plain periodic lines otherwise."""
    if quiet:
        return RunTracker()
    target = stream or sys.stderr
    if target.isatty() and not _dumb_terminal():
        return LiveProgress(verbose=verbose)
    return PlainProgress(stream, verbose=verbose)


def _dumb_terminal() -> bool:
    import os

    return os.environ.get("TERM") == "dumb"
