"""`ddc run` with Hugging Face seeds (`seed_type: hf`), read from the Hub test server over real sockets."""

from __future__ import annotations

import io
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import interrupt_after_first_batch

import ddc
from ddc.engine.hfhub import glob_regex, parse_hub_path
from ddc.errors import RunError
from tests.conftest import Run
from tests.servers.hf_hub import HfHub
from tests.servers.nemo_services import NemoServices

TOKEN = "hf_test_token_5a1c"


def _parquet(table: dict[str, list[object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(table), buffer)
    return buffer.getvalue()


PARTS = {
    "data/part-0.parquet": _parquet({"product": ["lamp", "mug"], "price": [12, 4]}),
    "data/part-1.parquet": _parquet({"product": ["desk"], "price": [140]}),
    "data/part-2.parquet": _parquet({"product": ["pen", "ink", "cup"], "price": [1, 3, 5]}),
    "data/extra/part-9.parquet": _parquet({"product": ["nested"], "price": [0]}),
    "products.csv": b"product,price\nlamp,12\nmug,4\n",
    "README.md": b"# products\n",
}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HfHub]:
    monkeypatch.setenv("DDC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("NMP_BASE_URL", raising=False)
    with HfHub(page_size=2) as server:
        server.add_dataset("shop/products", PARTS, lfs={"data/part-2.parquet"})
        yield server


def _spec(tmp_path: Path, path: str, endpoint: str, *, extra: str = "", sampling: str = "ordered") -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
            num_records: 6
            random_seed: 7
            seed_config:
              source: {{seed_type: hf, path: "{path}", endpoint: "{endpoint}"{extra}}}
              sampling_strategy: {sampling}
            columns:
              - {{name: label, column_type: expression, expr: "{{{{ product | upper }}}}"}}
            """),
        encoding="utf-8",
    )
    return spec


def _products(spec: Path, n: int = 6) -> list[str]:
    return ddc.preview(spec, n).table.column("product").to_pylist()


def test_a_single_file_is_downloaded_and_read_like_a_local_file(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    assert _products(spec, 3) == ["lamp", "mug", "lamp"]


def test_a_glob_reads_every_matching_file_in_path_order(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint)
    assert _products(spec) == ["lamp", "mug", "desk", "pen", "ink", "cup"]


def test_a_double_star_glob_descends_into_folders(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/**/*.parquet", hub.endpoint)
    assert _products(spec, 7)[0] == "nested"  # data/extra/part-9.parquet sorts first


def test_the_listing_follows_every_page(hub: HfHub, tmp_path: Path) -> None:
    _products(_spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint))
    assert len(hub.requests_to("GET", r"/api/datasets/shop/products/tree/main")) == 2  # 4 entries, 2 a page


def test_a_second_run_downloads_nothing(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint)
    first = _products(spec)
    before = len(hub.requests_to("GET", r"/resolve/|/cdn/"))
    assert (_products(spec), before) == (first, 4)  # three files, the large one through the CDN redirect
    assert len(hub.requests_to("GET", r"/resolve/|/cdn/")) == before


def test_a_second_run_of_a_single_file_only_asks_for_its_etag(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    _products(spec)
    _products(spec)
    assert (len(hub.requests_to("HEAD", "/resolve/")), len(hub.requests_to("GET", "/resolve/"))) == (2, 1)


def test_a_file_changed_on_the_hub_is_downloaded_again(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    _products(spec)
    hub.repos[("dataset", "shop/products")].files["products.csv"] = b"product,price\nsofa,900\n"
    assert _products(spec, 2) == ["sofa", "sofa"]


def test_the_run_equals_a_run_of_the_same_files_as_a_local_seed(hub: HfHub, tmp_path: Path) -> None:
    local = tmp_path / "local" / "data"
    local.mkdir(parents=True)
    for name, data in PARTS.items():
        if name.startswith("data/part-"):
            (local / Path(name).name).write_bytes(data)
    remote = _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint, sampling="shuffle")
    out_remote = ddc.run(remote, num_records=50, output_dir=tmp_path / "out-hf")
    text = remote.read_text(encoding="utf-8").replace(
        f'{{seed_type: hf, path: "datasets/shop/products/data/*.parquet", endpoint: "{hub.endpoint}"}}',
        f"{{seed_type: local, path: {local}/*.parquet}}",
    )
    (tmp_path / "local.yaml").write_text(text, encoding="utf-8")
    out_local = ddc.run(tmp_path / "local.yaml", num_records=50, output_dir=tmp_path / "out-local")
    read = (
        sorted(out_remote.path.glob("parquet-files/*.parquet")),
        sorted(out_local.path.glob("parquet-files/*.parquet")),
    )
    assert [p.read_bytes() for p in read[0]] == [p.read_bytes() for p in read[1]]


def test_a_private_dataset_needs_a_token(hub: HfHub, tmp_path: Path) -> None:
    hub.add_dataset("shop/private", {"rows.csv": b"product\nsafe\n"}, access="private", readers={TOKEN})
    with pytest.raises(RunError, match="HTTP 401") as info:
        _products(_spec(tmp_path, "datasets/shop/private/rows.csv", hub.endpoint), 1)
    assert "set HF_TOKEN" in info.value.hint


def test_hf_token_from_the_environment_opens_a_private_dataset(
    hub: HfHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_dataset("shop/private", {"rows.csv": b"product\nsafe\n"}, access="private", readers={TOKEN})
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert _products(_spec(tmp_path, "datasets/shop/private/rows.csv", hub.endpoint), 1) == ["safe"]
    assert hub.requests_to("GET", "/resolve/")[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_token_field_names_an_environment_variable(
    hub: HfHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_dataset("shop/private", {"rows.csv": b"product\nsafe\n"}, access="private", readers={TOKEN})
    monkeypatch.setenv("SHOP_HF_TOKEN", TOKEN)
    spec = _spec(tmp_path, "datasets/shop/private/rows.csv", hub.endpoint, extra=", token: SHOP_HF_TOKEN")
    assert _products(spec, 1) == ["safe"]


def test_a_refused_token_is_never_shown(hub: HfHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add_dataset("shop/gated", {"rows.csv": b"product\nsafe\n"}, access="gated", readers={TOKEN})
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_token_0000")
    with pytest.raises(RunError, match="HTTP 403") as info:
        _products(_spec(tmp_path, "datasets/shop/gated/rows.csv", hub.endpoint), 1)
    assert "hf_wrong_token_0000" not in str(info.value)
    assert "gated" in str(info.value)


def test_a_missing_file_is_named_with_its_spec_position(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/nope.csv", hub.endpoint)
    with pytest.raises(RunError) as info:
        _products(spec, 1)
    assert str(info.value) == (
        f"{spec}:4:33: seed data: datasets/shop/products has no file 'nope.csv' (revision main) "
        "(check seed_config.source.path)"
    )


def test_a_missing_repository_is_named(hub: HfHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(RunError, match="no dataset repository 'datasets/shop/nothing'"):
        _products(_spec(tmp_path, "datasets/shop/nothing/rows.csv", hub.endpoint), 1)


def test_a_glob_without_a_match_lists_what_is_there(hub: HfHub, tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"no file in datasets/shop/products matches 'data/\*\.jsonl'") as info:
        _products(_spec(tmp_path, "datasets/shop/products/data/*.jsonl", hub.endpoint), 1)
    assert info.value.hint == "files under data: data/part-0.parquet, data/part-1.parquet, data/part-2.parquet"


def test_an_unreachable_hub_names_the_endpoint_and_the_alternatives(hub: HfHub, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(RunError, match=f"the Hugging Face Hub at {endpoint} is unreachable") as info:
        _products(_spec(tmp_path, "datasets/shop/products/products.csv", endpoint), 1)
    assert "ddc submit" in info.value.hint


def test_a_download_cut_short_leaves_no_file_in_the_cache(hub: HfHub, tmp_path: Path) -> None:
    hub.truncate.add("products.csv")
    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    with pytest.raises(RunError, match=r"the Hugging Face Hub at \S+ failed"):
        _products(spec, 1)
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    assert _products(spec, 1) == ["lamp"]  # the next run downloads it whole


def test_a_revision_is_read_from_the_path(hub: HfHub, tmp_path: Path) -> None:
    hub.repos[("dataset", "shop/products")].revisions = ("main", "v1")
    _products(_spec(tmp_path, "datasets/shop/products@v1/products.csv", hub.endpoint), 1)
    assert hub.requests_to("GET", "/resolve/")[0].path == "/datasets/shop/products/resolve/v1/products.csv"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("data/*.parquet", "data/a.parquet", True),
        ("data/*.parquet", "data/sub/a.parquet", False),
        ("**/*.parquet", "a.parquet", True),
        ("**/*.parquet", "x/y/a.parquet", True),
        ("data/part-[0-1].csv", "data/part-2.csv", False),
        ("data/?.csv", "data/a.csv", True),
    ],
)
def test_globs_follow_fsspec(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matches


def test_a_path_outside_a_repository_is_refused() -> None:
    with pytest.raises(ValueError, match="datasets/<org>/<repo>/<file or glob>"):
        parse_hub_path("datasets/shop/products")


def test_a_token_variable_that_is_not_set_is_named(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint, extra=", token: SHOP_HF_TOKEN")
    with pytest.raises(RunError, match="names the environment variable SHOP_HF_TOKEN, which is not set"):
        _products(spec, 1)


def test_a_secrets_api_token_is_read_from_nemo_services(
    hub: HfHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_dataset("shop/private", {"rows.csv": b"product\nsafe\n"}, access="private", readers={TOKEN})
    with NemoServices(token="nmp-token") as nemo:
        nemo.secrets[("default", "hf-token")] = TOKEN
        monkeypatch.setenv("NMP_BASE_URL", nemo.base_url)
        monkeypatch.setenv("NMP_ACCESS_TOKEN", "nmp-token")
        spec = _spec(tmp_path, "datasets/shop/private/rows.csv", hub.endpoint, extra=", token: default/hf-token")
        assert _products(spec, 1) == ["safe"]


def test_ddc_run_reports_a_missing_file_in_one_line(hub: HfHub, tmp_path: Path, run: Run) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/nope.csv", hub.endpoint)
    code, out, err = run("run", str(spec), "-o", str(tmp_path / "out"), "--quiet")  # no progress lines
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        f"error: {spec}:4:33: seed data: datasets/shop/products has no file 'nope.csv' (revision main) "
        "(check seed_config.source.path)"
    ]


def test_explain_says_where_the_files_come_from(hub: HfHub, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint)
    (line,) = ddc.validate(spec, modes=("run",)).explanations["run"]
    assert f"downloaded from the Hugging Face Hub at {hub.endpoint} into {tmp_path / 'cache' / 'hf'}" in line


def test_online_validation_finds_the_files_without_downloading_them(hub: HfHub, tmp_path: Path) -> None:
    report = ddc.validate(
        _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint), modes=("run",), online=True
    )
    assert report.ok, [d.format() for d in report.diagnostics]
    assert hub.requests_to("GET", "/resolve/|/cdn/") == []


def test_online_validation_reports_a_missing_file(hub: HfHub, tmp_path: Path) -> None:
    report = ddc.validate(_spec(tmp_path, "datasets/shop/products/nope.csv", hub.endpoint), modes=("run",), online=True)
    assert [(d.code, d.message) for d in report.diagnostics] == [
        ("online-seed", "[online] seed data: datasets/shop/products has no file 'nope.csv' (revision main)")
    ]


def test_an_unreachable_hub_falls_back_to_the_files_an_earlier_run_downloaded(hub: HfHub, tmp_path: Path) -> None:
    endpoint = hub.endpoint
    spec = _spec(tmp_path, "datasets/shop/products/data/*.parquet", endpoint)
    first = ddc.preview(spec, 6)
    hub.stop()
    offline = ddc.preview(spec, 6)
    assert offline.table.equals(first.table)
    (warning,) = offline.warnings
    assert warning.startswith(f"seed data: the Hugging Face Hub at {endpoint} is unreachable")
    assert warning.endswith("; using the copy of datasets/shop/products/data/*.parquet an earlier run downloaded")


def test_resume_after_the_file_changed_on_the_hub_is_refused_naming_its_etag(hub: HfHub, tmp_path: Path) -> None:
    from ddc.engine.runner import run

    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    interrupt_after_first_batch(spec, tmp_path / "out", batch_size=2)
    hub.repos[("dataset", "shop/products")].files["products.csv"] = b"product,price\nsofa,900\nlamp,12\n"
    with pytest.raises(RunError, match=r"seed data changed .*hf://datasets/shop/products@main/products.csv: size"):
        run(spec, output_dir=tmp_path / "out", batch_size=2, resume=True)


def test_resume_after_a_same_size_change_on_the_hub_is_refused_by_etag(hub: HfHub, tmp_path: Path) -> None:
    from ddc.engine.runner import run

    spec = _spec(tmp_path, "datasets/shop/products/products.csv", hub.endpoint)
    interrupt_after_first_batch(spec, tmp_path / "out", batch_size=2)
    hub.repos[("dataset", "shop/products")].files["products.csv"] = b"product,price\nlamp,12\nmug,5\n"
    with pytest.raises(RunError, match=r"products.csv: ETag \w+ -> \w+"):
        run(spec, output_dir=tmp_path / "out", batch_size=2, resume=True)


def test_resume_with_the_hub_files_unchanged_completes_the_run(hub: HfHub, tmp_path: Path) -> None:
    from ddc.engine.runner import run

    spec = _spec(tmp_path, "datasets/shop/products/data/*.parquet", hub.endpoint)
    interrupt_after_first_batch(spec, tmp_path / "out", batch_size=2)
    resumed = run(spec, output_dir=tmp_path / "out", batch_size=2, resume=True)
    assert [f["path"] for f in resumed.metadata["seed_inputs"]["files"]] == [
        f"hf://datasets/shop/products@main/data/part-{i}.parquet" for i in range(3)
    ]
    assert resumed.metadata["actual_num_records"] == 6
