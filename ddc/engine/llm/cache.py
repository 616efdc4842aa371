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
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
        self._pending: list[tuple[str, str]] = []
        self._commit_every = commit_every
        self._held = False
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
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
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO responses (key, response) VALUES (?, ?)", self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._pending.clear()
        self._db.close()


def clear_cache(path: Path | None = None) -> int:
    """Delete the cache file (and its WAL files); return how many responses it held."""
    path = path or default_cache_path()
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        count = int(db.execute("SELECT count(*) FROM responses").fetchone()[0])
    except sqlite3.DatabaseError:
        count = 0
    finally:
        db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return count
