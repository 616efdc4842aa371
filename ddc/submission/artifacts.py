"""Downloaded job artifacts: safe extraction of the ``artifacts.tar.gz`` and a check of the dataset in it.

The archive comes from a server, so it is treated as hostile: absolute names, ``..`` segments, links
pointing outside the target, and device or FIFO entries are refused before anything is written, and
extraction then also goes through tarfile's ``data`` filter where Python has it. Files are extracted
into a temporary directory beside the target and moved into place once complete.
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


class UnsafeArchiveError(SubmitError):
    """The artifacts archive tries to write outside its target, or holds special files."""


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


def check_archive(archive: tarfile.TarFile) -> None:
    """Refuse an archive any of whose entries would land outside the extraction directory."""
    for member in archive.getmembers():
        problem = _member_problem(member)
        if problem is not None:
            raise UnsafeArchiveError(
                f"refusing to extract the artifacts: entry {member.name!r} {problem}",
                hint="the archive may be corrupt or malicious; nothing was extracted",
            )


def extract_artifacts(archive_path: Path, dest: Path) -> Path:
    """Extract ``archive_path`` (tar.gz) into ``dest``; returns ``dest/artifacts``.

    A previous ``dest/artifacts`` is replaced only once the new one is complete."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ddc-extract-", dir=dest))
    try:
        try:
            with tarfile.open(archive_path, mode="r:*") as archive:
                check_archive(archive)
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(staging, filter="data")
                else:  # pragma: no cover - Python without extraction filters; check_archive has vetted it
                    archive.extractall(staging)
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, tarfile.FilterError):
                raise UnsafeArchiveError(f"refusing to extract the artifacts: {exc}") from exc
            raise SubmitError(
                f"the downloaded artifacts archive is damaged: {exc}",
                hint="download it again with `ddc jobs download`",
            ) from exc
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
