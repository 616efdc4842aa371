"""`ddc run` with NeMo resources: fileset seeds and persona filesets from the NeMo Services test server."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import interrupt_after_first_batch

import ddc
from ddc.errors import RunError
from tests.servers.nemo_services import NemoServices

TOKEN = "nmp-engine-token-3d2e"

FILESET_SPEC = """\
num_records: 5
random_seed: 7
seed_config:
  source: {seed_type: nmp, path: "default/catalog#products/*.csv"}
columns:
  - {name: label, column_type: expression, expr: "{{ product | upper }}"}
"""

PERSON_SPEC = """\
num_records: 4
random_seed: 7
columns:
  - {name: customer, column_type: sampler, sampler_type: person, params: {locale: fr_FR}}
"""


def _parquet(table: dict[str, list[object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(table), buffer)
    return buffer.getvalue()


@pytest.fixture
def nemo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[NemoServices]:
    with NemoServices(token=TOKEN) as server:
        monkeypatch.setenv("NMP_BASE_URL", server.base_url)
        monkeypatch.setenv("NMP_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("DDC_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(tmp_path / "assets"))
        yield server


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_fileset_seed_is_downloaded_and_read_like_a_local_file(nemo: NemoServices, tmp_path: Path) -> None:
    nemo.add_fileset("default", "catalog", {"products/a.csv": b"product\nlamp\n", "products/b.csv": b"product\nmug\n"})
    result = ddc.preview(_spec(tmp_path, FILESET_SPEC), 4)
    assert sorted(set(result.table.column("label").to_pylist())) == ["LAMP", "MUG"]


def test_a_second_run_reads_the_fileset_from_the_cache(nemo: NemoServices, tmp_path: Path) -> None:
    nemo.add_fileset("default", "catalog", {"products/a.csv": b"product\nlamp\n"})
    spec = _spec(tmp_path, FILESET_SPEC)
    first = ddc.preview(spec, 3).table
    second = ddc.preview(spec, 3).table
    assert first.equals(second)
    assert len(nemo.requests_to("GET", r"/filesets/catalog/-/")) == 1


def test_without_nemo_access_a_fileset_seed_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    with pytest.raises(RunError, match="needs NeMo Services") as info:
        ddc.preview(_spec(tmp_path, FILESET_SPEC), 2)
    assert "NMP_BASE_URL" in (info.value.hint or "")


def test_the_person_sampler_falls_back_to_the_locale_persona_fileset(nemo: NemoServices, tmp_path: Path) -> None:
    people = {"first_name": ["Ada", "Louis"], "last_name": ["L", "P"], "age": [36, 52], "sex": ["Female", "Male"]}
    nemo.add_fileset("system", "nemotron-personas-dataset-fr_fr", {"fr_FR.parquet": _parquet(people)})
    table = ddc.preview(_spec(tmp_path, PERSON_SPEC), 4).table
    assert {p["first_name"] for p in table.column("customer").to_pylist()} <= {"Ada", "Louis"}
    assert (tmp_path / "assets" / "datasets" / "fr_FR.parquet").is_file()


def test_resume_after_the_fileset_gained_a_file_is_refused(nemo: NemoServices, tmp_path: Path) -> None:
    from ddc.engine.runner import run

    nemo.add_fileset("default", "catalog", {"products/a.csv": b"product\nlamp\n"})
    spec = _spec(tmp_path, FILESET_SPEC)
    interrupt_after_first_batch(spec, tmp_path / "out", batch_size=2)
    nemo.add_fileset("default", "catalog", {"products/a.csv": b"product\nlamp\n", "products/b.csv": b"product\nmug\n"})
    with pytest.raises(RunError, match=r"seed data changed since it was started: \S+/products/b.csv: new match"):
        run(spec, output_dir=tmp_path / "out", batch_size=2, resume=True)
