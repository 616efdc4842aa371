"""Response cache: content-addressed on (endpoint URL, request body, sample), in one SQLite file.

The key is the sha256 of the canonical JSON of the route URL, the body (model, messages, parameters
including the sampled temperature) and the *sample* identity of stochastic calls (column, row,
restart, correction): two rows with the same prompt are two samples, as in the official engine, not
one reply shared, while a rerun finds every reply. Headers (and so API keys) never enter the key.
Location: ``$DDC_HOME/cache/responses.sqlite3`` when ``DDC_HOME`` is set, else ``.ddc-cache/`` in the
current directory. WAL mode, so concurrent readers never block the writer.

A run holds the cache (``hold``) while its start-up health check is in flight: replies still serve
the run, but none is written until the check passes (``release``); a run whose check fails, or that
ends before it answers, leaves the cache as it found it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FILE_NAME = "responses.sqlite3"


def default_cache_path() -> Path:
    home = os.environ.get("DDC_HOME")
    base = Path(home).expanduser() / "cache" if home else Path(".ddc-cache")
    return base / FILE_NAME


def cache_key(url: str, body: Any, sample: Sequence[object] = ()) -> str:
    payload = json.dumps([url, body, list(sample)], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    """Successful responses by key. Writes are batched and committed every ``commit_every`` puts."""

    def __init__(self, path: Path, *, commit_every: int = 64) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str]] = []
        self._commit_every = commit_every
        self._held = False
        self.hits = 0
        self.misses = 0
        if path.exists():  # an existing cache is opened now: a damaged one is reported before any request
            self._open()

    def _open(self) -> sqlite3.Connection:
        """The database, created when the first reply is stored: a run that stores none (a failed health
        check, a preview that stops early) creates no cache file or folder."""
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
            except (OSError, sqlite3.Error) as exc:
                from ddc.errors import RunError

                raise RunError(
                    f"cannot use the response cache {self.path}: {exc}",
                    hint="`ddc cache clear` removes a damaged cache; --no-cache runs without one",
                ) from exc
            self._db = db
        return self._db

    def get(self, key: str) -> Any | None:
        row = None
        if self._db is not None:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            for pending_key, text in self._pending:
                if pending_key == key:
                    self.hits += 1
                    return json.loads(text)
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, response: Any) -> None:
        from ddc.redaction import known, redact_data

        stored = redact_data(response) if known() else response  # a reply quoting a key (ddc.redaction)
        self._pending.append((key, json.dumps(stored, ensure_ascii=False)))
        if len(self._pending) >= self._commit_every:
            self.flush()

    def hold(self) -> None:
        """Write nothing new until ``release``; ``close`` before then drops what was held."""
        self.flush()
        self._held = True

    def release(self) -> None:
        self._held = False
        if len(self._pending) >= self._commit_every:
            self.flush()

    def flush(self) -> None:
        if not self._pending or self._held:
            return
        db = self._open()
        with db:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO responses (key, response) VALUES (?, ?)", self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._pending.clear()
        if self._db is not None:
            self._db.close()


def clear_cache(path: Path | None = None) -> int:
    """Delete the cache file (and its WAL files); return how many responses it held.

    Only a ddc response cache is deleted: any other file given as ``path`` (a typo, a dataset, another
    program's database) raises ``UsageError`` and stays as it is. An SQLite file named as ddc names its
    cache but damaged past reading its tables is deleted: clearing is how a user recovers from that."""
    from ddc.errors import UsageError

    path = path or default_cache_path()
    if not path.exists() and not path.is_symlink():
        return 0
    if path.is_symlink():  # a cache shared through a link: clearing empties the cache it points at
        path = Path(os.path.realpath(path))
    if not path.is_file():
        raise UsageError(f"{path} is not a ddc response cache (not a regular file); nothing was removed")
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise UsageError(f"{path} is not a ddc response cache (not an SQLite file); nothing was removed")
    count = 0
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables != {"responses"}:
            raise UsageError(
                f"{path} is an SQLite database but not a ddc response cache (its tables: "
                f"{', '.join(sorted(tables)) or 'none'}); nothing was removed"
            )
        count = int(db.execute("SELECT count(*) FROM responses").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if path.name != FILE_NAME:  # unreadable, and not named as ddc names its cache: not ours to judge
            raise UsageError(f"{path} cannot be read as a ddc response cache ({exc}); nothing was removed") from None
        # a damaged cache of ddc's: deleting it is what clearing is for
    finally:
        db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return count


_SQLITE_HEADER = b"SQLite format 3\x00"
