"""Downloaded job artifacts: safe extraction of the ``artifacts.tar.gz`` and a check of the dataset in it.

The archive comes from a server, so it is treated as hostile: absolute names, ``..`` segments, links
pointing outside the target, and device or FIFO entries are refused before anything is written, and
extraction then also goes through tarfile's ``data`` filter where Python has it. So are archives past
``ArchiveLimits`` (total bytes, entry count, and a compression ratio that only a decompression bomb
reaches), found while the entries are listed, before any is written, and stopping the listing there
(a bomb is never inflated past the limit). Files are extracted into a temporary directory beside the
target and moved into place once complete: a refused or failed extraction leaves nothing behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ddc.errors import SubmitError

DATASET_GLOB = "dataset/parquet-files/*.parquet"
_GIB = 1 << 30


@dataclass(frozen=True)
class ArchiveLimits:
    """What an artifacts archive may hold. Parquet is compressed already, so a real dataset's archive
    inflates a few times at most; ``max_ratio`` applies past ``ratio_floor`` bytes, so a small job whose
    archive is mostly JSON is never refused for it."""

    max_bytes: int = 64 * _GIB  # the extracted files together
    max_entries: int = 20_000  # files, directories and links (a dataset of 1000-row batches: 20M rows)
    max_ratio: float = 100.0  # extracted bytes per byte of archive
    ratio_floor: int = 64 << 20


class UnsafeArchiveError(SubmitError):
    """The artifacts archive tries to write outside its target, holds special files, or is too large."""


def _member_problem(member: tarfile.TarInfo) -> str | None:
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "contains '..'"
    if member.isdev() or member.isfifo():
        return "is a device or FIFO"
    if member.issym() or member.islnk():
        target = member.linkname
        if target.startswith(("/", "\\")):
            return f"links to the absolute path {target!r}"
        base = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved == ".." or resolved.startswith("../"):
            return f"links outside the target ({target!r})"
    return None


def check_archive(
    archive: tarfile.TarFile, archive_size: int | None = None, limits: ArchiveLimits = ArchiveLimits()
) -> list[tarfile.TarInfo]:
    """The archive's entries, once none would land outside the extraction directory and together they
    stay within ``limits`` (the ratio against ``archive_size``, the archive file's size, when given).

    Entries are read one by one and the first past a limit stops the reading."""
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in archive:
        problem = _member_problem(member)
        if problem is not None:
            raise UnsafeArchiveError(
                f"refusing to extract the artifacts: entry {member.name!r} {problem}",
                hint="the archive may be corrupt or malicious; nothing was extracted",
            )
        members.append(member)
        total += member.size if member.isfile() else 0
        if len(members) > limits.max_entries:
            _too_large(f"it holds more than {limits.max_entries:,} entries")
        if total > limits.max_bytes:
            _too_large(f"its files hold more than {_size(limits.max_bytes)}")
        if archive_size is not None and total > max(limits.ratio_floor, limits.max_ratio * archive_size):
            _too_large(
                f"its {_size(archive_size)} inflate to more than {_size(total)}, over {limits.max_ratio:g} times "
                "its size (a decompression bomb)"
            )
    return members


def _too_large(why: str) -> None:
    raise UnsafeArchiveError(
        f"refusing to extract the artifacts: {why}",
        hint="the archive may be corrupt or malicious; nothing was extracted",
    )


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def extract_artifacts(archive_path: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """Extract ``archive_path`` (tar.gz) into ``dest``; returns ``dest/artifacts``.

    A previous ``dest/artifacts`` is replaced only once the new one is complete."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ddc-extract-", dir=dest))
    try:
        try:
            with tarfile.open(archive_path, mode="r:*") as archive:
                members = check_archive(archive, archive_path.stat().st_size, limits)
                _check_free_space(dest, members)
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(staging, members=members, filter="data")
                else:  # pragma: no cover - Python without extraction filters; check_archive has vetted it
                    archive.extractall(staging, members=members)
        except tarfile.ReadError as exc:
            if "could not be opened successfully" not in str(exc):  # opened, then found broken
                raise _damaged(exc) from exc
            raise SubmitError(
                "the downloaded artifacts are not a tar archive (plain, gzip, bz2 or xz)",
                hint="the service sent something else; download them again with `ddc jobs download`",
            ) from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, tarfile.FilterError):
                raise UnsafeArchiveError(f"refusing to extract the artifacts: {_one_line(exc)}") from exc
            raise _damaged(exc) from exc
        extracted = staging / "artifacts"
        if not extracted.is_dir():
            raise SubmitError("the downloaded archive has no top-level artifacts/ directory")
        target = dest / "artifacts"
        if target.exists():
            old = staging / ".previous"
            os.replace(target, old)
        os.replace(extracted, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _damaged(exc: BaseException) -> SubmitError:
    return SubmitError(
        f"the downloaded artifacts archive is damaged: {_one_line(exc)}",
        hint="download it again with `ddc jobs download`",
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_free_space(dest: Path, members: list[tarfile.TarInfo]) -> None:
    needed = sum(m.size for m in members if m.isfile())
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise SubmitError(
            f"the artifacts need {_size(needed)} but {dest} has {_size(free)} free",
            hint="free some space or download them elsewhere with `ddc jobs download -o DIR`",
        )


@dataclass(frozen=True)
class DatasetCheck:
    files: tuple[Path, ...]
    num_records: int
    columns: tuple[str, ...]


def check_dataset(artifacts: Path, expected_records: int | None) -> DatasetCheck:
    """Read the Parquet files of a downloaded dataset and compare the record count with the request."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = tuple(sorted(artifacts.glob(DATASET_GLOB)))
    if not files:
        raise SubmitError(f"no dataset in the artifacts: {artifacts / DATASET_GLOB} matches no file")
    total = 0
    columns: tuple[str, ...] = ()
    for path in files:
        try:
            meta = pq.read_metadata(path)
            pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise SubmitError(f"{path}: not a readable Parquet file ({exc})") from exc
        total += meta.num_rows
        columns = columns or tuple(meta.schema.names)
    if expected_records is not None and total != expected_records:
        raise SubmitError(
            f"the downloaded dataset holds {total} records, but {expected_records} were requested",
            hint="the job may have dropped failed records; see `ddc jobs logs`",
        )
    return DatasetCheck(files, total, columns)
