"""`ddc submit` against the real NeMo Platform services: each job runs the official engine (data-designer
0.9.1) as a subprocess of the platform. Record counts stay small so the tier stays quick."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run
from tests.nemo_platform.fixtures import GatewayProvider
from tests.nemo_platform.helpers import FAST, SAMPLER_SPEC, dataset_rows, write_spec
from tests.nemo_platform.platform import NemoPlatform

LLM_SPEC = """\
num_records: 2
model_configs:
  - alias: text
    model: mock-model
    provider: {provider}
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {{values: [lamps, chairs]}}
  - name: review
    column_type: llm-text
    prompt: "Write a review about {{{{ topic }}}}"
    model_alias: text
"""

FILESET_SEED_SPEC = """\
num_records: 4
seed_config:
  source: {{seed_type: nmp, path: "default/{fileset}#products.csv"}}
columns:
  - name: label
    column_type: expression
    expr: "{{{{ product }}}}-{{{{ price }}}}"
"""

LOCAL_SEED_SPEC = """\
num_records: 5
seed_config:
  source:
    seed_type: query
    tables:
      products: data/products.csv
      ratings: data/ratings.csv
    query: SELECT p.product, r.rating FROM products p JOIN ratings r USING (product_id)
columns:
  - name: line
    column_type: expression
    expr: "{{ product }} got {{ rating }}"
"""


def test_a_sampler_spec_is_generated_waited_for_and_downloaded(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = nemo_platform.unique("sampler")
    spec = write_spec(tmp_path, SAMPLER_SPEC)
    code, out, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name", name,
                         "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert dataset_rows(tmp_path / "out") == 3
    assert f"job: {name}\nstatus: completed\n" in out


def test_an_llm_spec_runs_through_a_gateway_provider_to_our_server(
    nemo_platform: NemoPlatform, gateway_provider: GatewayProvider, run: Run, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    spec = write_spec(tmp_path, LLM_SPEC.format(provider=gateway_provider.reference))
    before = len(gateway_provider.llm.requests_to("/chat/completions"))
    code, _, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name",
                       nemo_platform.unique("llm"), "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert dataset_rows(tmp_path / "out") == 2
    reviews = pq.read_table(next((tmp_path / "out" / "artifacts" / "dataset").rglob("*.parquet"))).column("review")
    assert all(text.startswith("reply ") for text in reviews.to_pylist())  # our server's deterministic replies
    prompts = [r.user_text for r in gateway_provider.llm.requests_to("/chat/completions")[before:]]
    assert any("Write a review about" in p for p in prompts)


def test_a_fileset_seeded_spec_reads_the_rows_uploaded_with_the_nemo_cli(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    fileset = nemo_platform.unique("catalog")
    csv = tmp_path / "products.csv"
    csv.write_text("product,price\nlamp,10\nchair,25\n", encoding="utf-8")
    nemo_platform.upload(csv, fileset)
    spec = write_spec(tmp_path, FILESET_SEED_SPEC.format(fileset=fileset))
    code, _, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name",
                       nemo_platform.unique("fileset-seed"), "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert dataset_rows(tmp_path / "out") == 4
    table = pq.read_table(next((tmp_path / "out" / "artifacts" / "dataset").rglob("*.parquet")))
    assert set(table.column("label").to_pylist()) <= {"lamp-10", "chair-25"}


@pytest.fixture
def local_seed_spec(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "products.csv").write_text("product_id,product\n1,lamp\n2,chair\n", encoding="utf-8")
    (data / "ratings.csv").write_text("product_id,rating\n1,5\n2,3\n1,4\n", encoding="utf-8")
    return write_spec(tmp_path, LOCAL_SEED_SPEC)


def test_a_local_seed_is_uploaded_and_the_job_reads_it(
    nemo_platform: NemoPlatform, run: Run, local_seed_spec: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    seeds = nemo_platform.unique("seeds")
    code, _, err = run("submit", str(local_seed_spec), "--base-url", nemo_platform.base_url, "--upload-seeds",
                       "--seed-fileset", seeds, "--name", nemo_platform.unique("upload"),
                       "--download", str(tmp_path / "out"), *FAST)  # fmt: skip
    assert code == 0, err
    assert dataset_rows(tmp_path / "out") == 5
    table = pq.read_table(next((tmp_path / "out" / "artifacts" / "dataset").rglob("*.parquet")))
    assert set(table.column("line").to_pylist()) <= {"lamp got 5", "lamp got 4", "chair got 3"}
    listing = nemo_platform.nemo("files", "list", seeds, "--workspace", "default").stdout
    assert ".parquet" in listing


def test_upload_seeds_leaves_the_spec_untouched(nemo_platform: NemoPlatform, run: Run, local_seed_spec: Path) -> None:
    before = local_seed_spec.read_bytes()
    seeds, name = nemo_platform.unique("seeds"), nemo_platform.unique("untouched")
    code, _, err = run("submit", str(local_seed_spec), "--base-url", nemo_platform.base_url, "--upload-seeds",
                       "--seed-fileset", seeds, "--name", name)  # fmt: skip
    assert code == 0, err
    assert local_seed_spec.read_bytes() == before


def test_the_submitted_job_reads_its_seed_from_the_uploaded_fileset(
    nemo_platform: NemoPlatform, run: Run, local_seed_spec: Path
) -> None:
    seeds, name = nemo_platform.unique("seeds"), nemo_platform.unique("names-seed")
    code, _, err = run("submit", str(local_seed_spec), "--base-url", nemo_platform.base_url, "--upload-seeds",
                       "--seed-fileset", seeds, "--name", name)  # fmt: skip
    assert code == 0, err
    job = nemo_platform.get(f"/apis/data-designer/v2/workspaces/default/jobs/create/{name}").json()
    source = job["spec"]["job_config"]["config"]["seed_config"]["source"]
    assert source["seed_type"] == "nmp"
    assert source["path"].startswith(f"default/{seeds}#") and source["path"].endswith(".parquet")
    assert (
        source["path"].split("#", 1)[1] in nemo_platform.nemo("files", "list", seeds, "--workspace", "default").stdout
    )


def test_submit_without_wait_prints_the_job_name_and_created(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    name = nemo_platform.unique("nowait")
    code, out, err = run("submit", str(write_spec(tmp_path, SAMPLER_SPEC)), "--base-url", nemo_platform.base_url,
                         "--name", name)  # fmt: skip
    assert (code, out) == (0, f"job: {name}\nstatus: created\n"), err


def test_a_config_the_service_rejects_exits_1_naming_the_provider(
    nemo_platform: NemoPlatform, run: Run, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, LLM_SPEC.format(provider="default/no-such-provider"))
    code, _, err = run("submit", str(spec), "--base-url", nemo_platform.base_url, "--name",
                       nemo_platform.unique("rejected"))  # fmt: skip
    assert code == 1
    assert "no-such-provider" in err
    assert len(err.strip().splitlines()) == 1
