"""The seed inputs a run read, stamped in ``metadata.json`` so that ``--resume`` can tell they changed.

A resumed seeded run is byte-identical to an uninterrupted one only if it reads the same seed data.
At run start the runner records ``seed_inputs``: the seed's row count and one entry per file read,
sorted by path (relative to the spec's directory when inside it):

* local files (``local``, ``query`` tables, ``file_contents``, a fileset seed's cached copies): the
  size, and the sha256 of the content while the files hashed so far stay within ``HASH_BUDGET``
  (64 MiB, about 60 ms), else the modification time (``mtime_ns``). Small seeds thus survive a
  ``touch`` or a copy that keeps the bytes; a large file is never read whole (a 10-million-row
  Parquet seed costs one ``stat``), and a touched large file counts as changed;
* ``hf`` files: the content identity the Hub cache keeps (the ETag: git blob id or LFS sha256);
* ``directory`` seeds: the file names only (their contents are not read).

``--resume`` compares the stamp with the previous one (``seed_changes``) and refuses on any
difference; metadata without ``seed_inputs`` (older runs) resumes as before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError

if TYPE_CHECKING:
    from ddc.engine.hfhub import HubSeed
    from ddc.spec.seeds import SeedConfig

#: Bytes of seed files hashed per run; files past it are compared by size and mtime.
HASH_BUDGET = 64 << 20
_CHUNK = 1 << 20
_SHOWN = 3


def stamp_seed(
    config: SeedConfig,
    base_dir: Path,
    num_rows: int | None,
    *,
    hub: HubSeed | None = None,
    hub_files: Sequence[Path] = (),
) -> dict[str, Any]:
    """``seed_inputs`` for a seed as the runner opened it (a fileset seed already as its local copy;
    an ``hf`` seed with ``hub`` and the local files ``fetch_hf_seed`` returned)."""
    source = config.source
    files: list[dict[str, Any]]
    if hub is not None:
        from ddc.engine.hfhub import cached_key

        files = []
        for path in hub_files:
            name, key = cached_key(hub, path)
            files.append({"path": hub.label_of(name), "size": path.stat().st_size, "etag": key})
    elif source.seed_type == "df":
        files = []  # in-memory rows from Python: nothing on disk to stamp beyond the row count
    elif source.seed_type in ("directory", "file_contents"):
        from ddc.engine.seeds import directory_files

        _, paths = directory_files(source, base_dir)
        if source.seed_type == "directory":
            files = [{"path": _label(p, base_dir)} for p in paths]
        else:
            files = _stamp_local(paths, base_dir)
    else:
        from ddc.spec.seed_files import SeedFileError, expand_seed_path, seed_relation

        try:
            relation = seed_relation(source, base_dir)
        except SeedFileError as exc:  # removed since the reader opened it
            raise RunError(f"seed data: {exc}") from exc
        paths = sorted({Path(f) for pattern in relation.tables.values() for f in expand_seed_path(pattern)})
        files = _stamp_local(paths, base_dir)
    return {"num_rows": num_rows, "files": sorted(files, key=lambda f: f["path"])}


def _label(path: Path, base_dir: Path) -> str:
    """The path relative to the spec's directory when inside it (the run may move with it), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(base_dir)).as_posix()
    except ValueError:
        return absolute.as_posix()


def _stamp_local(paths: Sequence[Path], base_dir: Path) -> list[dict[str, Any]]:
    """Size plus sha256 for files within the hash budget (in path order), size plus mtime_ns after it."""
    hashed = 0
    out = []
    for path in sorted(paths, key=lambda p: _label(p, base_dir)):
        try:
            info = path.stat()
            entry: dict[str, Any] = {"path": _label(path, base_dir), "size": info.st_size}
            if hashed + info.st_size <= HASH_BUDGET:
                entry["sha256"] = _sha256(path)
                hashed += info.st_size
            else:
                entry["mtime_ns"] = info.st_mtime_ns
        except OSError as exc:
            raise RunError(f"seed data: cannot read {path}: {exc.strerror or exc}") from exc
        out.append(entry)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def seed_changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between two stamps, one phrase per file (then the row count); [] when nothing does."""
    before = {f["path"]: f for f in previous.get("files", ())}
    after = {f["path"]: f for f in current.get("files", ())}
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if new is None:
            changes.append(f"{path}: missing")
        elif old is None:
            changes.append(f"{path}: new match")
        elif old.get("size") != new.get("size"):
            changes.append(f"{path}: size {old.get('size')} -> {new.get('size')} bytes")
        elif "etag" in old or "etag" in new:
            if old.get("etag") != new.get("etag"):
                changes.append(f"{path}: ETag {old.get('etag')} -> {new.get('etag')}")
        elif "sha256" in old and "sha256" in new:
            if old["sha256"] != new["sha256"]:
                changes.append(f"{path}: content changed")
        elif "mtime_ns" in old and "mtime_ns" in new and old["mtime_ns"] != new["mtime_ns"]:
            changes.append(f"{path}: modified (large seed files are compared by size and mtime)")
        # one hashed, one not: the hash budget moved, which only another file's change can do (reported)
    if not changes and previous.get("num_rows") != current.get("num_rows"):
        changes.append(f"row count {previous.get('num_rows')} -> {current.get('num_rows')}")
    return changes


def check_unchanged(previous_meta: Mapping[str, Any], current: Mapping[str, Any] | None, dataset_dir: Path) -> None:
    """Raise RunError when the seed data differs from the one ``previous_meta``'s run started with."""
    previous = previous_meta.get("seed_inputs")
    if not isinstance(previous, Mapping) or current is None:
        return  # an older run (no stamp), or no seed (a changed spec is caught by its fingerprint)
    changes = seed_changes(previous, current)
    if changes:
        more = f" (and {len(changes) - _SHOWN} more)" if len(changes) > _SHOWN else ""
        raise RunError(
            f"cannot resume {dataset_dir}: the seed data changed since it was started: "
            f"{'; '.join(changes[:_SHOWN])}{more}",
            hint="restore the seed data the run started with, or start a new run in another directory",
        )
