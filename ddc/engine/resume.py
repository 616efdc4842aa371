"""Resume: whether an output directory may be written, and whether a run there can be continued.

The runner holds the directory's lock (``ddc.engine.lock``) before it asks: no other run can be
writing there, so the temporaries a killed run left are safe to delete.

``metadata.json`` is written (state "running") before the first batch; ``--resume`` checks the
fingerprint, seed, size, batch size and partition, and the seed data (``ddc.engine.seed_inputs``), and
continues after the last complete batch.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any, cast

from ddc.errors import RunError


def check_target(dataset_dir: Path, resume: bool) -> dict[str, Any] | None:
    import json

    meta_path = dataset_dir / "metadata.json"
    if not meta_path.exists():
        _clear_an_unstarted_run(dataset_dir)
    if resume:
        if not meta_path.is_file():
            if _holds_files(dataset_dir):
                raise RunError(f"{dataset_dir} has no metadata.json; it is not a ddc run that can be resumed")
            return None
        try:
            previous = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunError(f"cannot read {meta_path}: {exc}") from exc
        if problem := _metadata_problem(previous):
            raise RunError(
                f"{meta_path} {problem}: the run cannot be resumed",
                hint="restore the metadata.json the run wrote, or remove the directory and start the run again",
            )
        return cast(dict[str, Any], previous)
    if _holds_files(dataset_dir):
        raise RunError(
            f"{dataset_dir} already holds a dataset",
            hint="pass --resume to continue it, remove it, or choose another output directory with -o",
        )
    return None


#: What ``--resume`` reads from the earlier run's metadata.json, and the JSON types it must have.
_RESUMED_KEYS: dict[str, tuple[type, ...]] = {
    "config_hash": (str,),
    "random_seed": (int,),
    "original_target_num_records": (int,),
    "target_num_records": (int,),
    "buffer_size": (int,),
    "row_range": (list,),
    "partition": (dict, type(None)),
}


def _metadata_problem(data: object) -> str | None:
    """Why ``data`` (a parsed metadata.json) is not one a run can be resumed from, or None.

    Checked before any of it is used, so a damaged file is a one-line error and never a fresh run
    written over the directory."""
    if not isinstance(data, dict):
        kinds = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
        return f"holds {kinds.get(type(data), 'null')}, not a JSON object"
    for key, types in _RESUMED_KEYS.items():
        if key not in data:
            return f"has no {key!r}"
        value = data[key]
        if not isinstance(value, types) or isinstance(value, bool):
            return f"has an invalid {key!r} ({reprlib.repr(value)})"
    lo_hi = data["row_range"]
    if len(lo_hi) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in lo_hi):
        return f"has an invalid 'row_range' ({reprlib.repr(lo_hi)})"
    return None


def _clear_an_unstarted_run(dataset_dir: Path) -> None:
    """Remove the images a run wrote before its metadata.json (image cells are saved as they finish,
    while the start-up health check may still hold the metadata back) when it was stopped then: with no
    metadata.json no batch refers to them, and the directory would otherwise be neither resumable nor
    free for a fresh run."""
    import shutil

    images = dataset_dir / "images"
    if not images.is_dir() or images.is_symlink():
        return
    others = [p for p in _own_entries(dataset_dir) if p != images]
    if others or not all(_written_by_an_image_cell(p, images) for p in images.rglob("*")):
        return  # anything else, or files not named as ddc names images: not ours to remove
    shutil.rmtree(images)


def _written_by_an_image_cell(path: Path, images: Path) -> bool:
    """``images/<column>/<32 hex digits>.<ext>`` (``ddc.engine.llm.media``), its column folder, or a
    temporary of one."""
    import re

    parts = path.relative_to(images).parts
    if len(parts) == 1:
        return path.is_dir() and not path.is_symlink()
    from ddc.engine.writer import TMP_MARK

    return (
        len(parts) == 2
        and path.is_file()
        and (TMP_MARK in parts[1] or re.fullmatch(r"[0-9a-f]{32}\.[a-z0-9]+", parts[1]) is not None)
    )


def _holds_files(directory: Path) -> bool:
    """True when ``directory`` has anything but temporaries left by a killed write and the run's lock."""
    return directory.is_dir() and any(_own_entries(directory))


def _own_entries(directory: Path) -> list[Path]:
    """What ``directory`` holds besides temporaries left by a killed write and the run's lock."""
    from ddc.engine.lock import LOCK_NAME
    from ddc.engine.writer import TMP_MARK

    return [p for p in directory.iterdir() if TMP_MARK not in p.name and p.name != LOCK_NAME]


def check_compatible(previous: dict[str, Any], meta: dict[str, Any], dataset_dir: Path | None) -> None:
    for key, label in (
        ("config_hash", "the spec"),
        ("original_target_num_records", "the number of records"),  # a partition's rows may not change with it
        ("target_num_records", "the number of records"),
        ("buffer_size", "the batch size"),
        ("partition", "the partition"),
        ("row_range", "the partition"),
    ):
        if previous.get(key) != meta.get(key):
            raise RunError(
                f"cannot resume {dataset_dir}: {label} changed since it was started "
                f"({previous.get(key)!r} -> {meta.get(key)!r})",
                hint="resume with the same spec and options, or start a new run in another directory",
            )


def new_metadata(
    name: str,
    config_hash: str,
    random_seed: int,
    seed_source: str,
    num_records: int,
    row_range: tuple[int, int],
    partition: tuple[int, int] | None,
    batch_size: int,
    fmt: str,
) -> dict[str, Any]:
    """``metadata.json`` of a run in state "running": what ``--resume`` compares (``check_compatible``)."""
    from ddc.engine.artifacts import ddc_version

    lo, hi = row_range
    return {
        "dataset_name": name,
        "state": "running",
        "config_hash": config_hash,
        "config_hash_algo": "sha256",
        "random_seed": random_seed,
        "random_seed_source": seed_source,
        "original_target_num_records": num_records,
        "target_num_records": hi - lo,
        "row_range": [lo, hi],
        "partition": None if partition is None else {"index": partition[0], "count": partition[1]},
        "buffer_size": batch_size,
        "total_num_batches": (hi - lo + batch_size - 1) // batch_size,
        "preserve_dropped_columns": True,
        "format": fmt,
        "ddc_version": ddc_version(),
    }
