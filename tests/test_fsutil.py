"""Atomic writes and the cache directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.errors import OutputError
from ddc.fsutil import atomic_writer, cache_root, write_atomic
from tests.conftest import Run


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "data.csv", "old\n")
    with pytest.raises(ConnectionError), atomic_writer(target) as handle:
        handle.write(b"new, cut sh")
        raise ConnectionError("transfer broke")
    assert (target.read_text(), sorted(p.name for p in tmp_path.iterdir())) == ("old\n", ["data.csv"])


def test_a_finished_write_replaces_the_file(tmp_path: Path) -> None:
    with atomic_writer(tmp_path / "sub" / "data.csv") as handle:
        handle.write(b"new\n")
    assert (tmp_path / "sub" / "data.csv").read_bytes() == b"new\n"


def test_the_cache_lives_under_ddc_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DDC_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"


def test_the_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DDC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "ddc"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_file_gets_the_users_umask_not_0600(tmp_path: Path, umask_022: None) -> None:
    target = write_atomic(tmp_path / "spec.ddc.yaml", "name: x\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "settings.json"
    target.write_text("{}\n")
    target.chmod(0o664)
    write_atomic(target, '{"yaml.schemas": {}}\n')
    assert stat.S_IMODE(target.stat().st_mode) == 0o664


def test_a_symbolic_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "target.py").write_text("old")
    (tmp_path / "link.py").symlink_to("target.py")
    write_atomic(tmp_path / "link.py", "new")
    assert (tmp_path / "link.py").is_symlink() and (tmp_path / "target.py").read_text() == "new"


def test_a_pipe_is_refused_not_replaced(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OutputError, match="it is not a regular file"):
        write_atomic(tmp_path / "fifo", "x")
    assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="it is a directory"):
        write_atomic(tmp_path, "x")


def test_a_parent_that_is_a_file_is_an_output_error_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(OutputError, match="a parent of it is a file, not a directory"):
        write_atomic(tmp_path / "afile" / "x.py", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_build_into_a_path_under_a_file_is_one_line_and_exit_1(tmp_path: Path, run: Run) -> None:
    (tmp_path / "afile").write_text("keep")
    spec = Path(__file__).parent.parent / "examples" / "people.ddc.yaml"
    code, _, err = run("build", str(spec), "-o", str(tmp_path / "afile" / "x.py"))
    assert (code, err) == (
        1,
        f"error: cannot write {tmp_path / 'afile' / 'x.py'}: a parent of it is a file, not a directory\n",
    )
