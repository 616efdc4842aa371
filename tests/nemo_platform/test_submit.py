"""`ddc submit` and `ddc jobs` against the real NeMo Platform services (jobs run the official engine)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.conftest import Run
from tests.nemo_platform.platform import NemoPlatform

FAST = ("--poll-interval", "0.5")

SAMPLER_SPEC = """\
num_records: 3
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [lamps, chairs]}
  - name: id
    column_type: sampler
    sampler_type: uuid
"""


def write(directory: Path, text: str, name: str = "spec.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rows(directory: Path) -> int:
    import pyarrow.parquet as pq

    files = sorted((directory / "artifacts" / "dataset" / "parquet-files").glob("*.parquet"))
    return sum(pq.read_metadata(f).num_rows for f in files)


def test_a_sampler_spec_is_generated_waited_for_and_downloaded(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = nemo_platform.unique("sampler")
    spec = write(tmp_path, SAMPLER_SPEC)
    code, out, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name,
                         "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert rows(tmp_path / "out") == 3
    assert f"job: {name}\nstatus: completed\n" in out
