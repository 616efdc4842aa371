"""Files ddc writes: atomic writes (readers see the old file or the new one, never a torn one) and the
user cache directory that downloaded seed data (fileset and Hugging Face seeds) is kept in."""

from __future__ import annotations

import os
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


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file in ``path``'s directory; on a clean exit it is fsynced and
    renamed over ``path``, on an exception it is removed (so a failed download leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write to a temporary file in the same directory, fsync, then rename over ``path``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path) as handle:
        handle.write(payload)
    return Path(path)
