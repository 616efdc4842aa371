"""Atomic writes and the cache directory."""

from __future__ import annotations

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
