"""`ddc preview --remote` against the real NeMo Platform: the streamed preview runs the official engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.nemo.client import NemoClient
from ddc.submission.errors import ConfigRejectedError
from tests.conftest import Run
from tests.nemo_platform.helpers import SAMPLER_SPEC, write_spec
from tests.nemo_platform.platform import NemoPlatform


def test_preview_remote_prints_one_panel_per_record(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    code, out, err = run("preview", "--remote", str(write_spec(tmp_path, SAMPLER_SPEC)), "-n", "2", "--base-url",
                         nemo_platform.base_url)  # fmt: skip
    assert code == 0, err
    rows = [line.strip("│ ").split() for line in out.splitlines() if line.startswith("│")]
    topics = [row[1] for row in rows if row and row[0] == "topic"]
    assert len(topics) == 2 and set(topics) <= {"lamps", "chairs"}
    assert "2 record(s)" in err
    assert "log: info: " in err  # the engine's log lines, unwrapped


def test_the_service_refuses_more_than_ten_preview_records_with_422(nemo_platform: NemoPlatform) -> None:
    body = {"config": {"columns": [{"name": "a", "column_type": "sampler", "sampler_type": "uuid", "params": {}}]},
            "num_records": 11}  # fmt: skip
    with NemoClient(nemo_platform.base_url) as client, pytest.raises(ConfigRejectedError, match="Max num records"):
        list(client.preview(body))
