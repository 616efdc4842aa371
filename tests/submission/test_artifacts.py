"""Safe extraction of downloaded artifacts: hostile archives write nothing; good ones land complete."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ddc.errors import SubmitError
from ddc.submission.artifacts import ArchiveLimits, UnsafeArchiveError, check_dataset, extract_artifacts


def parquet_bytes(rows: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(rows))}), buffer)
    return buffer.getvalue()


def make_archive(path: Path, *members: tarfile.TarInfo | tuple[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def link(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


GOOD = ("artifacts/dataset/parquet-files/batch_00000.parquet", parquet_bytes(3))


def test_a_good_archive_is_extracted_under_artifacts(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", GOOD)
    target = extract_artifacts(archive, tmp_path / "out")
    assert target == tmp_path / "out" / "artifacts"
    assert (target / "dataset" / "parquet-files" / "batch_00000.parquet").read_bytes() == GOOD[1]


def test_extraction_leaves_no_temporary_files(tmp_path: Path) -> None:
    extract_artifacts(make_archive(tmp_path / "a.tar.gz", GOOD), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["artifacts"]


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (("/etc/evil", b"x"), "has an absolute path"),
        (("artifacts/../../evil", b"x"), "contains '..'"),
        (link("artifacts/escape", "../../outside"), "links outside the target"),
        (link("artifacts/abs", "/etc/passwd"), "links to the absolute path"),
        (link("artifacts/hard", "../outside", hard=True), "links outside the target"),
    ],
    ids=["absolute", "dotdot", "symlink-escape", "symlink-absolute", "hardlink-escape"],
)
def test_a_hostile_entry_refuses_the_whole_archive(tmp_path: Path, member: object, problem: str) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", GOOD, member)  # type: ignore[arg-type]
    with pytest.raises(UnsafeArchiveError, match=problem):
        extract_artifacts(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_device_entry_is_refused(tmp_path: Path) -> None:
    device = tarfile.TarInfo("artifacts/dev")
    device.type = tarfile.CHRTYPE
    with pytest.raises(UnsafeArchiveError, match="device or FIFO"):
        extract_artifacts(make_archive(tmp_path / "a.tar.gz", GOOD, device), tmp_path / "out")


def test_a_link_inside_the_target_is_allowed(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", GOOD, link("artifacts/latest", "dataset/parquet-files"))
    target = extract_artifacts(archive, tmp_path / "out")
    assert (target / "latest").is_symlink()


def test_a_damaged_archive_is_a_submit_error(tmp_path: Path) -> None:
    data = make_archive(tmp_path / "a.tar.gz", GOOD).read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(SubmitError, match="damaged"):
        extract_artifacts(tmp_path / "cut.tar.gz", tmp_path / "out")


def test_an_archive_without_artifacts_directory_is_refused(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", ("dataset/x.parquet", parquet_bytes(1)))
    with pytest.raises(SubmitError, match="no top-level artifacts/ directory"):
        extract_artifacts(archive, tmp_path / "out")


def test_dataset_check_counts_records_across_files(tmp_path: Path) -> None:
    files = tmp_path / "artifacts" / "dataset" / "parquet-files"
    files.mkdir(parents=True)
    (files / "b0.parquet").write_bytes(parquet_bytes(3))
    (files / "b1.parquet").write_bytes(parquet_bytes(2))
    assert check_dataset(tmp_path / "artifacts", 5).num_records == 5


def test_dataset_check_refuses_a_short_dataset(tmp_path: Path) -> None:
    files = tmp_path / "artifacts" / "dataset" / "parquet-files"
    files.mkdir(parents=True)
    (files / "b0.parquet").write_bytes(parquet_bytes(3))
    with pytest.raises(SubmitError, match="holds 3 records, but 5 were requested"):
        check_dataset(tmp_path / "artifacts", 5)


def test_dataset_check_refuses_an_unreadable_parquet_file(tmp_path: Path) -> None:
    files = tmp_path / "artifacts" / "dataset" / "parquet-files"
    files.mkdir(parents=True)
    (files / "b0.parquet").write_bytes(b"not parquet")
    with pytest.raises(SubmitError, match="not a readable Parquet file"):
        check_dataset(tmp_path / "artifacts", None)


def zeros_archive(path: Path, size: int, name: str = "artifacts/dataset/zeros.bin") -> Path:
    """A gzip tar with one file of ``size`` zero bytes: a decompression bomb once ``size`` is large."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return path


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    archive = zeros_archive(tmp_path / "bomb.tar.gz", 100 << 20)  # ~450 KiB that inflate to 100 MiB
    with pytest.raises(UnsafeArchiveError, match=r"inflate to more than 100\.0 MiB, over 100 times its size"):
        extract_artifacts(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == [], "nothing half-written"


def test_a_small_job_whose_archive_compresses_well_is_extracted(tmp_path: Path) -> None:
    archive = zeros_archive(tmp_path / "a.tar.gz", 1 << 20, name="artifacts/metadata.json")
    assert (extract_artifacts(archive, tmp_path / "out") / "metadata.json").stat().st_size == 1 << 20


def test_an_archive_over_the_byte_limit_is_refused(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", GOOD, ("artifacts/big.bin", bytes(5000)))
    with pytest.raises(UnsafeArchiveError, match=r"its files hold more than 4\.0 KiB"):
        extract_artifacts(archive, tmp_path / "out", ArchiveLimits(max_bytes=4096))
    assert list((tmp_path / "out").iterdir()) == []


def test_an_archive_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    many = [(f"artifacts/f{i}", b"x") for i in range(30)]
    with pytest.raises(UnsafeArchiveError, match="more than 20 entries"):
        extract_artifacts(make_archive(tmp_path / "a.tar.gz", *many), tmp_path / "out", ArchiveLimits(max_entries=20))
    assert list((tmp_path / "out").iterdir()) == []


def test_a_download_that_is_not_a_tar_archive_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "a.tar.gz").write_text('{"detail": "Not Found"}')
    with pytest.raises(SubmitError) as info:
        extract_artifacts(tmp_path / "a.tar.gz", tmp_path / "out")
    assert str(info.value) == (
        "the downloaded artifacts are not a tar archive (plain, gzip, bz2 or xz) "
        "(the service sent something else; download them again with `ddc jobs download`)"
    )
    assert list((tmp_path / "out").iterdir()) == []
