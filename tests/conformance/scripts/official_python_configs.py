"""Run with a conformance python: official Python configs go through ddc's validate, build, run and submit.

argv: a scratch directory. Three inputs, each written with the official ``data_designer.config`` API:
a module whose ``load_config_builder()`` returns a ``DataDesignerConfigBuilder``, the builder object
itself, and the ``--target data-designer`` module ddc builds from it (fed back to ddc). Submission goes
to the NeMo Services test server (which validates the config with the official models installed here).
Prints one JSON line per (input, step): {"case", "step", "status", "detail"}.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import ddc
from tests.servers.nemo_services import NemoServices

TOKEN = "conformance-token"

MODULE = """\
from pathlib import Path

import data_designer.config as dd


def load_config_builder() -> dd.DataDesignerConfigBuilder:
    models = [
        dd.ModelConfig(
            alias="chat",
            model="nvidia/nemotron-3-nano-30b-a3b",
            provider="nvidia",
            inference_parameters=dd.ChatCompletionInferenceParams(max_tokens=64),
        )
    ]
    builder = dd.DataDesignerConfigBuilder(model_configs=models)
    builder.with_seed_dataset(dd.LocalFileSeedSource(path=str(Path(__file__).parent / "people.csv")))
    builder.add_column(
        dd.SamplerColumnConfig(
            name="region",
            sampler_type="category",
            params=dd.CategorySamplerParams(values=["EU", "US", "APAC"], weights=[3, 5, 2]),
        )
    )
    builder.add_column(
        dd.SamplerColumnConfig(name="age", sampler_type="uniform", params=dd.UniformSamplerParams(low=18, high=90))
    )
    builder.add_column(dd.ExpressionColumnConfig(name="greeting", expr="{{ name }} of {{ city }} ({{ region }})"))
    return builder
"""


def steps(source: object, scratch: Path, label: str, base_url: str, skip: tuple[str, ...] = ()) -> list[dict]:
    out = []

    def record(step: str, check) -> None:  # type: ignore[no-untyped-def]
        try:
            detail = check()
            out.append({"case": label, "step": step, "status": "ok" if detail is None else "fail", "detail": detail})
        except Exception as exc:  # report every step, do not stop at the first
            out.append({"case": label, "step": step, "status": "fail", "detail": f"{type(exc).__name__}: {exc}"})

    def validate() -> str | None:
        report = ddc.validate(source)
        return None if report.ok else "; ".join(d.format() for d in report.diagnostics)

    def build() -> str | None:
        result = ddc.build(source, out=scratch / f"{label}_built.py")
        return None if "builder.add_column" in result.text and result.path.is_file() else "no module written"

    def run() -> str | None:
        result = ddc.run(source, num_records=5, output_dir=scratch / "out" / label, seed=7, return_table=True)
        names = result.table.column("greeting").to_pylist()
        return None if result.table.num_rows == 5 and names[0].startswith("Ada of London") else str(names)

    def submit() -> str | None:
        outcome = ddc.submit(source, base_url=base_url, upload_seeds=True, num_records=5, dd_version=version())
        config = outcome.body["spec"]["config"]
        weights = config["columns"][0]["params"]["weights"]
        if config["seed_config"]["source"]["seed_type"] != "nmp":
            return f"seed not uploaded: {config['seed_config']}"
        return None if abs(sum(weights) - 1) < 1e-12 and outcome.job_name else f"weights {weights}"

    for step, check in (("validate", validate), ("build", build), ("run", run), ("submit", submit)):
        if step not in skip:
            record(step, check)
    return out


def version() -> str:
    from importlib.metadata import version as installed

    return installed("data-designer-config")


def main() -> None:
    scratch = Path(sys.argv[1]).resolve()
    (scratch / "people.csv").write_text("name,city\nAda,London\nLin,Taipei\n", encoding="utf-8")
    module = scratch / "official_config.py"
    module.write_text(textwrap.dedent(MODULE), encoding="utf-8")
    os.environ["NMP_ACCESS_TOKEN"] = TOKEN
    os.environ.pop("NMP_BASE_URL", None)
    os.chdir(scratch.parent)  # not the module's folder
    with NemoServices(token=TOKEN) as nemo:
        results = steps(module, scratch, "module", nemo.base_url)
        namespace: dict = {"__file__": str(module), "__name__": "official_config"}
        exec(compile(module.read_text(encoding="utf-8"), str(module), "exec"), namespace)
        results += steps(namespace["load_config_builder"](), scratch, "object", nemo.base_url)
        target = scratch / "dd_target.py"
        ddc.build(module, target="data-designer", out=target)
        results += steps(str(target), scratch, "data-designer-target", nemo.base_url)
        # The official in-memory seed: a DataFrameSeedSource's DataFrame is read in place (and uploaded
        # to a fileset on submit); a module cannot hold it, so there is no build step.
        import data_designer.config as dd
        import pandas as pd

        frame = pd.DataFrame({"name": ["Ada", "Lin"], "city": ["London", "Taipei"]})
        with_frame = namespace["load_config_builder"]()
        with_frame.with_seed_dataset(dd.DataFrameSeedSource(df=frame))
        results += steps(with_frame, scratch, "dataframe-seed", nemo.base_url, skip=("build",))
    for result in results:
        print(json.dumps({**result, "version": version()}), flush=True)


if __name__ == "__main__":
    main()
