"""The dataset-directory lock: one ``run`` or ``--resume`` at a time per dataset directory.

Two runs into one directory would interleave their batches (each writes batches the other skips), and a
``--resume`` deletes the temporaries a running run is writing. So a run takes an exclusive OS lock
(``flock``) on ``<dataset>/.ddc-lock`` before it looks at the directory, and holds it to the end. The
kernel releases it when the process ends however it ends (``kill -9`` included), so a stale lock file
never blocks anyone: the next run simply locks it again. The file holds who has it (pid, host, start
time, command) for the message the second run prints.

A clean release deletes the file while still holding the lock; a run that locked a file deleted under it
(it opened the path just before that) sees that the path no longer names its file and tries again.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ddc.errors import RunError

#: The lock file inside the dataset directory (not a dataset file: ``resume`` ignores it).
LOCK_NAME = ".ddc-lock"


class DatasetLocked(RunError):
    """Another process holds the dataset directory's lock."""


@contextmanager
def dataset_lock(dataset_dir: Path, command: str | None = None) -> Iterator[None]:
    """Hold the lock of ``dataset_dir`` (created if missing; removed again if it stays empty).

    Raises ``DatasetLocked`` at once, naming the holder, when another process has it."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: run unlocked, as before
        yield
        return
    created = _missing_chain(dataset_dir)  # the directories this run creates, deepest first
    try:
        dataset_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the output directory {dataset_dir}: {exc.strerror or exc}") from exc
    path = dataset_dir / LOCK_NAME
    holder = {  # ready before the lock is taken: a contender reads them as soon as it is held
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": command or _command_line(),
    }
    details = (json.dumps(holder) + "\n").encode("utf-8")
    fd = _acquire(path, fcntl)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, details)
        except OSError as exc:  # a full disk: the lock is held, only who holds it goes unsaid
            if exc.errno != errno.ENOSPC:
                raise RunError(f"cannot write the lock file {path}: {exc.strerror or exc}") from exc
        yield
    finally:
        with suppress(OSError):
            path.unlink()  # still ours: a contender that opened it meanwhile re-checks the path
        os.close(fd)  # releases the lock
        for directory in created:  # only while empty: a run that wrote nothing leaves nothing behind
            try:
                directory.rmdir()
            except OSError:
                break


def _missing_chain(directory: Path) -> list[Path]:
    """``directory`` and its ancestors that do not exist yet, deepest first (``-o a/b/c`` with no ``a``
    creates three)."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing


def _acquire(path: Path, fcntl: Any) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DatasetLocked(
                f"{path.parent} is in use by another ddc run ({holder}; lock file {path})",
                hint="wait for that run to finish or stop it; a second run or --resume would mix their batches",
            ) from None
        except OSError as exc:
            os.close(fd)
            raise RunError(f"cannot lock {path}: {exc.strerror or exc}") from exc
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder released and deleted it between our open and our lock: try again


def _read_holder(fd: int, *, patience: float = 0.5) -> str:
    """The holder's details; a holder that has just taken the lock writes them within moments."""
    deadline = time.monotonic() + patience
    while True:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            return f"pid {info['pid']} on {info['host']}, started {info['started']}: {info['command']}"
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return "its details are not written yet"
            time.sleep(0.01)


def _command_line() -> str:
    import shlex

    args = sys.argv[1:] if sys.argv and sys.argv[0].endswith(("ddc", "__main__.py")) else None
    return "ddc " + shlex.join(args) if args is not None else shlex.join([sys.executable, *sys.argv])
