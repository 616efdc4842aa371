"""Files ddc writes: atomic writes (readers see the old file or the new one, never a torn one) and the
user cache directory that downloaded seed data (fileset and Hugging Face seeds) is kept in."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def cache_root() -> Path:
    """Where downloaded files are kept: ``$DDC_CACHE_DIR``, else ``$XDG_CACHE_HOME/ddc`` or ``~/.cache/ddc``."""
    root = os.environ.get("DDC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"), "ddc"
    )
    return Path(root)


def _current_umask() -> int:
    """The process umask. Linux reports it in /proc (read without changing it); elsewhere it is set and
    restored, which is safe here since ddc writes files from one thread."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    """The mode ``path`` should have once written: an existing file keeps its own, a new one gets what
    ``open()`` would give it (0666 less the umask), not the 0600 of a temporary file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_current_umask()


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file in ``path``'s directory; on a clean exit it is fsynced and
    renamed over ``path``, on an exception it is removed (so a failed download leaves no half file).
    The file ends with the mode a plain write would leave (``_final_mode``).

    A symbolic link is written through (the link stays, its target gets the new content), as a plain
    write would; a directory, device, pipe or socket is refused rather than replaced. A failure of the
    file system (a parent that is a file, no space, no permission) is an ``OutputError`` naming ``path``;
    what the caller's own code raises inside the block passes through as it is."""
    asked = Path(path)
    path = _target(asked)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _final_mode(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(asked, exc) from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise _cannot_write(asked, exc) from exc
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise _cannot_write(asked, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write to a temporary file in the same directory, fsync, then rename over ``path``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path) as handle:
        try:
            handle.write(payload)
        except OSError as exc:  # no space left
            raise _cannot_write(Path(path), exc) from exc
    return Path(path)


def _target(path: Path) -> Path:
    """The file a write to ``path`` changes: a link's target; refused when it is not a regular file."""
    from ddc.errors import OutputError

    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: it is a directory", hint="give a file path")
    if not stat.S_ISREG(mode):
        raise OutputError(f"cannot write {path}: it is not a regular file (a device, pipe or socket)")
    return path


def _cannot_write(path: Path, exc: OSError) -> Exception:
    from ddc.errors import OutputError

    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return OutputError(f"cannot write {path}: a parent of it is a file, not a directory")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")
