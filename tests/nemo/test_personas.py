"""Installing a local persona dataset for the `person` sampler."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddc.errors import RunError
from ddc.nemo.personas import install_personas, installed_persona_path
from ddc.nemo.resources import NemoAccess
from tests.servers.nemo_services import NemoServices


def _personas_parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"first_name": ["Ada", "Alan"], "age": [36, 41], "sex": ["Female", "Male"]}), buffer)
    return buffer.getvalue()


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "assets"
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(root))
    return root


@pytest.fixture
def nemo() -> Iterator[NemoServices]:
    with NemoServices() as server:
        yield server


def test_install_from_a_local_file_puts_it_where_run_looks(assets: Path, tmp_path: Path) -> None:
    source = tmp_path / "en_US.parquet"
    source.write_bytes(_personas_parquet())
    path = install_personas("en_US", source=source)
    assert path == assets / "datasets" / "en_US.parquet"
    assert installed_persona_path("en_US") == path


def test_install_from_the_locale_fileset(assets: Path, nemo: NemoServices) -> None:
    nemo.add_fileset("system", "nemotron-personas-dataset-fr_fr", {"fr_FR.parquet": _personas_parquet()})
    path = install_personas("fr_FR", access=NemoAccess(nemo.base_url, None))
    assert path.read_bytes() == _personas_parquet()


def test_an_unknown_locale_is_refused_with_the_valid_ones(assets: Path) -> None:
    with pytest.raises(RunError, match="no persona dataset exists for locale 'xx_XX'"):
        install_personas("xx_XX")


def test_a_file_that_is_not_parquet_is_refused(assets: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.parquet"
    source.write_text("not parquet")
    with pytest.raises(RunError, match="not a readable Parquet file"):
        install_personas("en_US", source=source)


def test_without_a_source_or_nemo_access_the_message_names_the_fileset(assets: Path) -> None:
    with pytest.raises(RunError, match="system/nemotron-personas-dataset-ja_jp"):
        install_personas("ja_JP")
