"""SIGINT and SIGTERM during a run: stop promptly, keep what is complete, and say so.

``stop_on_signals`` holds the process's SIGINT/SIGTERM handlers for the length of a run (main thread
only; a signal the process inherited as ignored, as under ``nohup``, stays ignored, and so does one a
host application handles itself). On a signal:

* while the generation coroutine runs under an event loop (``cancellable``), its task is cancelled, as
  ``asyncio.run`` does for Ctrl-C: the cancellation unwinds the scheduler, which cancels the batches
  in flight and closes the clients;
* anywhere else (loading, the hand-driven coroutine of a sampler-only run, writing the statistics) a
  ``RunInterrupted`` is raised where the program is;
* a second signal raises at once, whatever is still unwinding.

When the run ends after a signal, whatever it ends with, ``RunInterrupted`` is raised (the CLI exits
128 + signal number and prints the ``--resume`` command).

The contract the scheduler keeps (``ddc.engine.scheduling``): a cancellation of the generation task
unwinds within a moment (no ``CancelledError`` swallowed, no uncancellable wait longer than a request's
own cleanup), and the batch files on disk are at every moment a prefix of complete batches, so the
dataset left behind resumes to the same bytes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from ddc.errors import RunInterrupted

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalGuard:
    """The signal seen during a run (if any), and the generation task to cancel on it."""

    def __init__(self, dataset_dir: Path | None = None) -> None:
        self.dataset_dir = dataset_dir
        self.signum: int | None = None
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        task, loop = self._task, self._loop
        if first and task is not None and loop is not None and not task.done():
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)  # wake the selector so the cancellation runs now
            return
        raise RunInterrupted(self.signum or signum, self.dataset_dir)

    async def cancellable(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` as the task a signal cancels (under a running event loop only)."""
        import asyncio

        if self.signum is not None:  # a signal came while the loop was starting
            coroutine.close()
            raise RunInterrupted(self.signum, self.dataset_dir)
        self._task, self._loop = asyncio.current_task(), asyncio.get_running_loop()
        try:
            return await coroutine
        finally:
            self._task = self._loop = None


@contextmanager
def stop_on_signals(dataset_dir: Path | None = None) -> Iterator[SignalGuard]:
    """Turn SIGINT/SIGTERM into a prompt, clean stop of the run inside (see the module docstring);
    the ``RunInterrupted`` raised names ``dataset_dir``, the dataset to resume."""
    guard = SignalGuard(dataset_dir)
    if threading.current_thread() is not threading.main_thread():
        yield guard  # signal handlers belong to the main thread; a run elsewhere keeps the host's
        return
    previous: dict[int, Any] = {}
    for signum in _SIGNALS:
        current = signal.getsignal(signum)
        ours = current is signal.default_int_handler if signum == signal.SIGINT else current == signal.SIG_DFL
        if ours:
            previous[signum] = current
            signal.signal(signum, guard.handle)
    try:
        yield guard
    except RunInterrupted:
        raise
    except BaseException as exc:
        if guard.signum is not None:  # the cancellation (or whatever it caused) ends here
            raise RunInterrupted(guard.signum, dataset_dir) from exc
        raise
    finally:
        for restored, handler in previous.items():
            signal.signal(restored, handler)
    if guard.signum is not None:  # the run finished its work before the signal could stop it
        raise RunInterrupted(guard.signum, dataset_dir)
