"""Atomic writes and the cache directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.fsutil import atomic_writer, cache_root, write_atomic


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
