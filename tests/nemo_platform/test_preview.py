"""`ddc preview --remote` against the real NeMo Platform: the streamed preview runs the official engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddc.nemo.client import NemoClient
from ddc.submission.errors import ConfigRejectedError
from tests.conftest import Run
from tests.nemo_platform.helpers import SAMPLER_SPEC, write_spec
from tests.nemo_platform.platform import NemoPlatform


def test_preview_remote_prints_the_records_as_a_table(nemo_platform: NemoPlatform, run: Run, tmp_path: Path) -> None:
    code, out, err = run("preview", "--remote", str(write_spec(tmp_path, SAMPLER_SPEC)), "-n", "2", "--base-url",
                         nemo_platform.base_url)  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["topic", "id"]
    assert [line.split()[0] for line in lines[2:4]] in (["lamps", "lamps"], ["lamps", "chairs"],
                                                        ["chairs", "lamps"], ["chairs", "chairs"])  # fmt: skip
    assert lines[-1] == "2 record(s)"
    assert "log: info: " in err  # the engine's log lines, unwrapped


def test_the_service_refuses_more_than_ten_preview_records_with_422(nemo_platform: NemoPlatform) -> None:
    body = {"config": {"columns": [{"name": "a", "column_type": "sampler", "sampler_type": "uuid", "params": {}}]},
            "num_records": 11}  # fmt: skip
    with NemoClient(nemo_platform.base_url) as client, pytest.raises(ConfigRejectedError, match="Max num records"):
        list(client.preview(body))
