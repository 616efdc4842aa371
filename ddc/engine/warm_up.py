"""Start-up work moved off the critical path: imports run in a thread while the run waits elsewhere.

A run that calls models waits on the network for most of its time; one that reads a seed waits on DuckDB,
which releases the GIL. Modules needed only later (the batch writer, statistics, pandas for pyarrow) can
be imported then, on the second core or in the gaps, instead of before the first request.

An import holds the GIL for long stretches; an event loop woken by an answer would wait up to the
switch interval (5 ms) for it each time. While any warm-up runs the interval is 0.5 ms, and the
previous value comes back when the last one ends.

A failure is swallowed: the module is imported again where it is used, and fails there as it would
have. A module the main thread needs while a warm-up imports it waits on Python's import lock for the
rest of that import, never longer.

SIGINT and SIGTERM are blocked in these threads (``block_stop_signals``): Python runs signal handlers in the
main thread only, and the kernel may deliver a process-directed signal to any thread that does not block
it; taken by a helper thread, it would interrupt none of the main thread's waits, and the run would stop
only when that wait ended by itself.

The threads are not daemons: a process that ends while one is still inside an extension's C++ code
(DuckDB, pyarrow) would abort ("terminate called ..."), as the interpreter stops daemon threads where
they stand. Exit waits for the rest of the warm-up instead (at most a few tenths of a second).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable

_SHORT_INTERVAL = 0.0005

_lock = threading.Lock()
_running = 0
_saved_interval = 0.005


def in_background(name: str, work: Callable[[], object]) -> threading.Thread:
    """Run ``work`` in a started thread called ``name``; join it where its result is needed."""

    def run() -> None:
        block_stop_signals()
        _enter()
        try:
            with contextlib.suppress(Exception):
                work()
        finally:
            _leave()

    thread = threading.Thread(target=run, name=name, daemon=False)
    thread.start()
    return thread


def block_stop_signals() -> None:
    """Leave SIGINT and SIGTERM to the main thread: call first thing in a helper thread (its own threads
    inherit the mask)."""
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, where signals reach the main thread anyway
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _enter() -> None:
    global _running, _saved_interval
    with _lock:
        if not _running:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, _SHORT_INTERVAL))
        _running += 1


def _leave() -> None:
    global _running
    with _lock:
        _running -= 1
        if not _running:
            sys.setswitchinterval(_saved_interval)
